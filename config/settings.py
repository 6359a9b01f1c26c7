"""One typed settings model, loaded from TOML.

Why one model: every command, the daemon and the workers read the same file, so a typo is caught
at start-up with the key's path in the message instead of surfacing hours later in a worker.
Resolution order (``load_settings``): an explicit ``--config FILE``; else ``sohoa.toml`` in the current
folder; else the built-in defaults, which keep all data under ``./var/``.
Sections owned by other packages (signing, records, watch) live in their own modules here.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sohoa.common.errors import ConfigError
from sohoa.common.messages import _
from sohoa.common.reasons import validation_problems
from sohoa.config.batch import BatchSettings
from sohoa.config.extract import ExtractSettings
from sohoa.config.records import RecordsSettings
from sohoa.config.signing import SigningSettings
from sohoa.config.watch import WatchSettings
from sohoa.config.web import WebSettings


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IngestSettings(_Section):
    default_dpi: float = Field(300.0, gt=0, description="DPI assumed when a scan has none or an implausible one")
    min_plausible_dpi: float = Field(70.0, gt=0)
    max_plausible_dpi: float = Field(1200.0, gt=0)
    max_megapixels: float = Field(200.0, gt=0, description="Pages above this are refused (decompression bombs)")
    min_side_px: int = Field(50, ge=1, description="Images with a side under this many pixels are refused")
    min_side_cm: float = Field(1.0, gt=0, description="PDF pages with a side under this are refused")
    text_policy: Literal["skip", "refuse", "redo"] = Field(
        "skip", description="PDF pages that already carry text: keep them as they are and OCR only the "
        "others (a PDF whose every page has text is refused), refuse the file, or redo all OCR (--redo-ocr)"
    )


class CleanSettings(_Section):
    orientation: bool = True
    orientation_osd_fallback: bool = True
    deskew: bool = True
    max_skew_degrees: float = Field(15.0, ge=0, le=45)
    remove_borders: bool = True
    despeckle: bool = True
    normalize_background: bool = True
    colour_dropout: bool = Field(True, description="The OCR copy of a colour page turns bright coloured "
                                 "marks (red seal, blue signature: strokes >= 7 mm) light; black text and "
                                 "coloured print stay")
    blank_pages: Literal["keep", "drop", "mark"] = "keep"


class OcrSettings(_Section):
    languages: str = Field("vie", description="Tesseract languages; vie alone keeps faint tone marks "
                           "(vie+eng lets the English model win on them, bench/results/vietnamese.md)")
    engine: Literal["auto", "subprocess", "tesserocr"] = Field(
        "auto", description="auto = warm tesserocr engine when installed, else one tesseract process per page"
    )
    page_timeout_s: float = Field(180.0, gt=0)
    workers: int = Field(0, ge=0, description="OCR worker processes; 0 = number of CPU cores")
    in_process_pages: int = Field(4, ge=0, description="sohoa process reads a document of at most this many "
                                  "pages in threads of its own (one OCR helper each) instead of starting worker "
                                  "processes; 0 = always worker processes")
    psm: int = Field(3, ge=0, le=13, description="Tesseract page segmentation mode")
    low_confidence: float = Field(60.0, ge=0, le=100, description="Mean word confidence under which a page is flagged")
    lexicon: bool = Field(True, description="Replace a word that is not a Vietnamese syllable by the syllable "
                          "made of Tesseract's per-character alternatives, when there is one")
    reread_languages: str = Field("eng", description="Languages that re-read a low-confidence word that is "
                                  "not a Vietnamese syllable (English words inside Vietnamese text); empty = off")
    reread_below: float = Field(95.0, ge=0, le=100, description="Word confidence under which the re-read is tried")
    antialias_bitonal: bool = Field(True, description="OCR a bitonal page from a softened grey copy: printer "
                                    "halftone dots become solid strokes (1.2 px), a solid page's edges soft (0.4 px)")
    block_order: bool = Field(True, description="Lines Tesseract read across a white gutter (a Decree-30 "
                              "header's two blocks, two short columns) are split there and read left block, "
                              "then right block")
    upscale_to_dpi: float = Field(0.0, ge=0, description="Pages scanned below this DPI are enlarged to it "
                                  "for OCR (small text); 0 = never (the default: it helped the tuning pages "
                                  "but not the held-out ones)")


class OutputSettings(_Section):
    image_mode: Literal["color", "gray", "bitonal"] = Field(
        "color", description="Page image kept in the PDF; bitonal is for text-only archives"
    )
    jpeg_quality: int = Field(75, ge=10, le=100)
    recompress_lossless: bool = Field(
        True, description="Lossless colour/grey scans become JPEG; false keeps them lossless (Flate)"
    )
    sidecar_text: bool = False
    title_from_first_line: bool = False
    creator: str = "sohoa"
    group_pages: int = Field(
        50, ge=1, le=10000,
        description="Pages assembled together in memory; a longer document is written in groups joined by qpdf",
    )


class Settings(_Section):
    data_dir: Path = Path("var")
    log_format: Literal["text", "json"] = "text"
    language: Literal["vi", "en"] = "vi"
    ingest: IngestSettings = IngestSettings()
    clean: CleanSettings = CleanSettings()
    ocr: OcrSettings = OcrSettings()
    output: OutputSettings = OutputSettings()
    signing: SigningSettings = SigningSettings()
    records: RecordsSettings = RecordsSettings()
    watch: WatchSettings = WatchSettings()
    web: WebSettings = WebSettings()
    batch: BatchSettings = BatchSettings()
    extract: ExtractSettings = ExtractSettings()

    source: Path | None = Field(None, exclude=True, description="The file these settings came from, if any")

    def resolve(self, path: Path) -> Path:
        """A path from the config, relative paths taken under ``data_dir``."""
        return path if path.is_absolute() else self.data_dir / path


DEFAULT_CONFIG_NAME = "sohoa.toml"


def load_settings(path: Path | None = None, *, cwd: Path | None = None) -> Settings:
    """Load settings from ``path``, else ``./sohoa.toml``, else built-in defaults."""
    if path is None:
        candidate = (cwd or Path.cwd()) / DEFAULT_CONFIG_NAME
        if not candidate.exists():
            return Settings()
        path = candidate
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path=path, detail=_("file not found")) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(path=path, detail=str(exc)) from None
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(path=path, detail=validation_problems(exc.errors())) from None
    settings.source = path
    if not settings.data_dir.is_absolute():
        settings.data_dir = (path.parent / settings.data_dir).resolve()
    return settings
