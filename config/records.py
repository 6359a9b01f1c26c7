"""Records settings: where dossiers and documents live, and the rules for dossier codes.

Why these are settings: a one-counter commune runs on the embedded SQLite file under ``data_dir``,
while a provincial center points ``database_url`` at its PostgreSQL server; dossier code rules come
from national circulars that have changed before (and provinces add their own prefixes), so the
pattern and the format used to make new codes are not hard-coded.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Circular 01/2018/TT-VPCP art. 19: <unit code>-YYMMDD-NNNN; unit code = dot-separated groups of 0-9A-Z.
DEFAULT_CODE_PATTERN = r"(?P<unit>[0-9A-Z]+(?:\.[0-9A-Z]+)*)-(?P<date>[0-9]{6})-(?P<seq>[0-9]{4})"


class RecordsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    database_url: str = Field(
        "",
        description="SQLAlchemy URL; empty = embedded SQLite at <data_dir>/sohoa.db. "
        "PostgreSQL: postgresql://user@host:5432/sohoa (psycopg 3; password via PGPASSWORD or ~/.pgpass)",
    )
    store_path: Path = Field(Path("store"), description="Content-addressed PDF store; relative to data_dir")
    dossier_code_pattern: str = Field(
        DEFAULT_CODE_PATTERN,
        description="Regular expression (full match) with named groups unit, date (YYMMDD) and seq",
    )
    dossier_code_example: str = Field("000.00.31.H50-220906-0001", description="Shown in error messages")
    unit_code_max_length: int = Field(35, ge=1, description="Decision 20/2020/QĐ-TTg: at most 35 characters")
    sequence_digits: int = Field(4, ge=1, le=9, description="Digits of the daily sequence number in new codes")
    default_unit_code: str = Field("", description="Unit code used by `dossier create` without --unit; empty = none")
    unknown_dossier: Literal["create", "refuse"] = Field(
        "create", description="Attaching to a dossier that does not exist: create it, or refuse the document"
    )
    timezone: str = Field("Asia/Ho_Chi_Minh", description="Local time zone: the date part of new dossier codes")
    auto_upgrade: bool = Field(
        True, description="Apply pending database migrations when opening; set false where a DBA runs `db upgrade`"
    )
    sqlite_busy_timeout_s: float = Field(30.0, gt=0, description="How long a writer waits for the SQLite lock")
    connect_timeout_s: int = Field(10, ge=1, description="PostgreSQL connection timeout")
    search_limit: int = Field(20, ge=1, le=1000, description="Default number of search hits")
    snippet_chars: int = Field(160, ge=40, le=2000, description="Length of a search snippet")
    stale_temp_minutes: int = Field(
        60, ge=1, description="`store check` treats temp files older than this as left by a crash"
    )

    @field_validator("dossier_code_pattern")
    @classmethod
    def _pattern_compiles(cls, value: str) -> str:
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        missing = {"unit", "date", "seq"} - set(compiled.groupindex)
        if missing:
            raise ValueError(f"the pattern needs named groups {sorted(missing)}")
        return value

    def url(self, data_dir: Path) -> str:
        """The database URL, defaulting to the embedded SQLite file under ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(data_dir / 'sohoa.db').as_posix()}"

    def store_dir(self, data_dir: Path) -> Path:
        return self.store_path if self.store_path.is_absolute() else data_dir / self.store_path
