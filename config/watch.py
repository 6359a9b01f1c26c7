"""Watch-folder daemon settings: which folders, how their files become documents, how the daemon runs.

Why per folder: a center has one inbox per counter or scanner, and each one means something different
(dossier components at reception, results at the return desk, a network share polled because inotify
never fires on SMB/NFS). Everything a center might change is here, documented in ``default.toml``.
Relative folder paths are taken under ``data_dir`` (``Settings.resolve``); ``done``/``failed``/
``needs-review``/work folders are relative to their inbox unless absolute.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Grouping = Literal["file", "subfolder", "batch", "cover_sheet"]

DEFAULT_IGNORE = [".*", "*.tmp", "*.part", "*.crdownload", "~$*", "Thumbs.db", "desktop.ini"]
DEFAULT_SIDECAR_KEYS = ["dossier_code", "ma_ho_so", "maHoSo", "MaHoSo", "mahoso", "code", "dossier"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WatchFolder(_Model):
    """One watched inbox."""

    path: Path = Field(description="The inbox folder; relative to data_dir")
    name: str = Field("", description="Label in logs and metrics; empty = the folder's own name")
    kind: Literal["component", "result", "copy"] = Field(
        "component", description="Document kind when attaching: dossier component, result, or electronic copy")
    sign_profiles: list[str] = Field(default_factory=list,
                                     description="Signing profiles applied in order; empty = not signed")
    ocr_languages: str = Field("", description="Tesseract languages for this folder; empty = [ocr] languages")
    image_mode: Literal["", "color", "gray", "bitonal"] = Field("", description="'' = [output] image_mode")
    grouping: Grouping = Field(
        "file", description="file: one file = one document; subfolder: one subfolder = one document; "
        "batch: files arriving together (quiet period) = one document; cover_sheet: a batch split at "
        "QR cover sheets, which also name the dossier")
    quiet_period_s: float = Field(10.0, ge=0, description="batch/cover_sheet/subfolder: no new file for this "
                                  "long closes the batch")
    polling: bool = Field(False, description="Poll the folder instead of native events (SMB/NFS shares)")
    dossier_code_pattern: str = Field(
        "", description="Regular expression finding the dossier code in a file or folder name (first match; "
        "a group named 'code' if present); empty = the [records] dossier_code_pattern")
    sidecar_json: bool = Field(True, description="Read <name>.json (or dossier.json in a subfolder) for the "
                               "dossier code and metadata")
    default_dossier_code: str = Field("", description="Dossier for documents without a code; empty = needs review")
    cover_sheet: Literal["keep", "drop"] = Field("drop", description="Keep the QR cover sheet as the "
                                                 "document's first page, or drop it")
    done_action: Literal["move", "delete"] = Field("move", description="Sources after a document is attached")
    done_dir: Path = Field(Path("done"), description="Relative to the inbox")
    failed_dir: Path = Field(Path("failed"), description="Relative to the inbox")
    review_dir: Path = Field(Path("needs-review"), description="Relative to the inbox")
    work_dir: Path = Field(Path(".sohoa-work"), description="Claimed files wait here; relative to the inbox, "
                           "same file system (claims are renames)")
    output_dir: Path | None = Field(None, description="Also keep a copy of each signed PDF here; "
                                    "None = only in the records store")
    digitized_by: str = Field("", description="Recorded as 'digitized by'; empty = the service user@host")

    @field_validator("dossier_code_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        if value:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return value

    def label(self) -> str:
        return self.name or self.path.name or str(self.path)

    def sub(self, inbox: Path, part: Path) -> Path:
        return part if part.is_absolute() else inbox / part


class CoverSheetSettings(_Model):
    keys: list[str] = Field(default_factory=lambda: list(DEFAULT_SIDECAR_KEYS),
                            description="Payload keys (JSON or key=value) that hold the dossier code, in order")
    delimiters: str = Field("|;\t\n", description="Field separators tried for delimited payloads")
    region: float = Field(0.5, gt=0, le=1, description="Share of width/height of the upper-left area "
                          "searched first (the QR sits upper-left on receipts)")
    min_dpi: float = Field(150.0, gt=0, description="Pages are scaled to at least this before decoding")


class WatchSettings(_Model):
    folders: list[WatchFolder] = Field(default_factory=lambda: [WatchFolder(path=Path("inbox"))],
                                       description="Watched inboxes; the default is one demo inbox under data_dir")
    stable_seconds: float = Field(3.0, ge=0, description="A file is taken when its size and mtime have not "
                                  "changed for this long (and it opens cleanly)")
    unreadable_grace_s: float = Field(60.0, ge=0, description="A stable file that still does not open "
                                      "after this long is a bad file (failed/), not a slow writer")
    poll_interval_s: float = Field(1.0, gt=0, description="Polling observer period and stability tick")
    rescan_interval_s: float = Field(60.0, gt=0, description="Full rescan of every inbox (safety net)")
    ignore: list[str] = Field(default_factory=lambda: list(DEFAULT_IGNORE),
                              description="Name patterns (fnmatch) never taken as input")
    documents_in_parallel: int = Field(2, ge=1, description="Documents processed at once (threads)")
    workers: int = Field(0, ge=0, description="Page worker processes (warm OCR engines); 0 = [ocr] workers")
    queue_size: int = Field(8, ge=1, description="Documents waiting for a worker; beyond it the daemon "
                            "stops claiming (back-pressure) and files stay in the inbox")
    max_attempts: int = Field(5, ge=1, description="Tries of a transient failure before the file is failed")
    retry_base_s: float = Field(5.0, ge=0, description="First retry delay; doubles per attempt")
    retry_max_s: float = Field(300.0, ge=0)
    stop_timeout_s: float = Field(60.0, ge=0, description="On SIGTERM/SIGINT, wait this long for running "
                                  "documents; unfinished ones are released and redone at the next start")
    health_host: str = Field("127.0.0.1", description="Health/metrics HTTP address (keep it local)")
    health_port: Annotated[int, Field(ge=0, le=65535)] | Literal["any"] = Field(
        9477, description='Health/metrics port; 0 = no HTTP server; "any" = a free port the system picks at start '
        "(find it in health_port_file or the start-up log line)")
    health_port_file: str = Field("", description="Once the health server listens, its port is written to this "
                                  "file (relative: under data_dir); empty = no file")
    cover_sheet: CoverSheetSettings = CoverSheetSettings()

    @model_validator(mode="after")
    def _unique_paths(self) -> WatchSettings:
        seen = [str(f.path) for f in self.folders]
        if len(seen) != len(set(seen)):
            raise ValueError("each watched folder path may appear only once")
        return self
