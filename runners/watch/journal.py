"""The watch-folder job journal: one row per claimed job, its state, attempts and last error.

Why in the records database: the daemon's claim (a rename into the work area) and its journal row
must survive the same crashes as the documents they lead to, and a center already backs this database
up. The work area stays the source of truth for *which* files a job holds; the journal adds what the
files cannot say: attempts (for backoff), the last error, the outcome and when things happened.
States: claimed → processing → done | failed | review | released (stopped; redone at next start).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from sohoa.database.base import Base, UTCDateTime, utcnow
from sohoa.database.engine import translate_errors, writer
from sohoa.records.service import Records

STATES = ("claimed", "processing", "done", "failed", "review", "released")
FINAL = ("done", "failed", "review")


class WatchJob(Base):
    __tablename__ = "watch_jobs"

    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    folder: Mapped[str] = mapped_column(String(255), nullable=False, index=True)
    sources: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    dossier_code: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


@dataclass
class JournalEntry:
    job_id: str
    folder: str
    sources: list[str]
    dossier_code: str | None
    state: str
    attempts: int
    last_error: str | None
    result: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime


def _entry(row: WatchJob) -> JournalEntry:
    return JournalEntry(row.job_id, row.folder, list(row.sources), row.dossier_code, row.state, row.attempts,
                        row.last_error, row.result, row.created_at, row.updated_at)


class Journal:
    """Journal operations over an open ``Records`` (same engine, same transactions rules)."""

    def __init__(self, records: Records) -> None:
        self.engine = records.engine
        self.where = records.where

    def _session(self, *, write: bool) -> Session:
        return Session(writer(self.engine) if write else self.engine, expire_on_commit=False)

    def claim(self, job_id: str, folder: str, sources: list[str], dossier_code: str | None) -> JournalEntry:
        """Record a claim; an existing row (a re-claim after a crash, or the same content again) is kept."""
        now = utcnow()
        with translate_errors(self.where), self._session(write=True) as s, s.begin():
            row = s.get(WatchJob, job_id)
            if row is None:
                row = WatchJob(job_id=job_id, folder=folder, sources=sources, dossier_code=dossier_code,
                               state="claimed", attempts=0, created_at=now, updated_at=now)
                s.add(row)
            elif row.state == "released":
                row.state, row.updated_at = "claimed", now
            s.flush()
            return _entry(row)

    def update(self, job_id: str, *, state: str | None = None, error: str | None = None,
               result: dict[str, Any] | None = None, attempt: bool = False,
               dossier_code: str | None = None) -> JournalEntry | None:
        if state is not None and state not in STATES:
            raise ValueError(f"unknown journal state {state!r}")
        with translate_errors(self.where), self._session(write=True) as s, s.begin():
            row = s.get(WatchJob, job_id)
            if row is None:
                return None
            if state is not None:
                row.state = state
            if error is not None:
                row.last_error = error
            if result is not None:
                row.result = result
            if dossier_code is not None:
                row.dossier_code = dossier_code
            if attempt:
                row.attempts += 1
            row.updated_at = utcnow()
            s.flush()
            return _entry(row)

    def get(self, job_id: str) -> JournalEntry | None:
        with translate_errors(self.where), self._session(write=False) as s:
            row = s.get(WatchJob, job_id)
            return None if row is None else _entry(row)

    def unfinished(self, folder: str | None = None) -> list[JournalEntry]:
        with translate_errors(self.where), self._session(write=False) as s:
            stmt = select(WatchJob).where(WatchJob.state.not_in(FINAL))
            if folder is not None:
                stmt = stmt.where(WatchJob.folder == folder)
            return [_entry(r) for r in s.execute(stmt.order_by(WatchJob.created_at)).scalars()]

    def counts(self) -> dict[str, int]:
        with translate_errors(self.where), self._session(write=False) as s:
            rows = s.execute(select(WatchJob.state, func.count()).group_by(WatchJob.state)).all()
            return {state: int(n) for state, n in rows}
