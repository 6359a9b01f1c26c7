"""The batch journal: one row per batch run, one row per document of a run, with its state and outcome.

Why in the records database: every machine of a cluster already shares it, and the journal must
survive the same crashes as the documents it leads to. It is what makes a batch resumable and its
Celery tasks idempotent:
- a document is *claimed* by one atomic ``UPDATE … WHERE state = 'queued' OR (running and silent)``,
  so a duplicate delivery of the same task finds the row taken and does nothing;
- a running document's row carries a heartbeat; a row silent for longer than the caller's cutoff
  belongs to a dead worker (SIGKILL, power cut) and the next delivery takes it over;
- results are written only by the claim's owner (``WHERE worker = me``), so a worker that was
  presumed dead and comes back cannot overwrite its successor's outcome.
States: queued → running → done | failed | skipped (same content already filed); running → queued
when a worker releases it (stop) or a transient failure waits for another attempt. A long document on
the cluster goes running → split while its page groups are processed (``split_journal.py``), then
split → running again for the join, which only the worker that claims it does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Update,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from sohoa.database.base import Base, UTCDateTime, utcnow
from sohoa.database.engine import translate_errors, writer
from sohoa.records.service import Records

STATES = ("queued", "running", "split", "done", "failed", "skipped")
FINAL = ("done", "failed", "skipped")
RUN_STATES = ("running", "stopped", "finished")


class BatchRun(Base):
    __tablename__ = "batch_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_key: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    manifest: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class ClaimColumns:
    """The columns of a claimable row (a document or a page group): who holds it, since when, how often."""

    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    worker: Mapped[str | None] = mapped_column(String(255))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    seconds: Mapped[float | None] = mapped_column(Float)


class BatchItem(ClaimColumns, Base):
    __tablename__ = "batch_items"
    __table_args__ = (UniqueConstraint("run_id", "item_key", name="uq_batch_items_run_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("batch_runs.id", ondelete="CASCADE"), nullable=False, index=True)
    item_key: Mapped[str] = mapped_column(String(1000), nullable=False)
    line: Mapped[int | None] = mapped_column(Integer)
    inputs: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    content_sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    dossier_code: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    planned_pages: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    state: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    pages: Mapped[int | None] = mapped_column(Integer)
    mean_confidence: Mapped[float | None] = mapped_column(Float)
    low_confidence_pages: Mapped[list[int] | None] = mapped_column(JSON)
    document_id: Mapped[int | None] = mapped_column(Integer)
    output_sha256: Mapped[str | None] = mapped_column(String(64))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_stage: Mapped[str | None] = mapped_column(String(32))
    error_vi: Mapped[str | None] = mapped_column(Text)
    error_en: Mapped[str | None] = mapped_column(Text)
    timings: Mapped[dict[str, float] | None] = mapped_column(JSON)
    # the private folder (on storage every worker mounts) holding this document's page groups while split
    split_dir: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


@dataclass
class ItemSpec:
    """A planned document as the planner hands it to the journal."""

    item_key: str
    inputs: list[str]
    fingerprint: str
    content_sha256: str
    dossier_code: str
    kind: str
    meta: dict[str, Any] = field(default_factory=dict)
    planned_pages: int = 0
    line: int | None = None


@dataclass
class RunInfo:
    id: int
    run_key: str
    source: str
    manifest: str | None
    status: str
    options: dict[str, Any]
    created_at: datetime


@dataclass
class ItemInfo:
    id: int
    run_id: int
    item_key: str
    line: int | None
    inputs: list[str]
    fingerprint: str
    content_sha256: str
    dossier_code: str
    kind: str
    meta: dict[str, Any]
    planned_pages: int
    state: str
    attempts: int
    worker: str | None
    heartbeat_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    seconds: float | None
    pages: int | None
    mean_confidence: float | None
    low_confidence_pages: list[int]
    document_id: int | None
    output_sha256: str | None
    error_code: str | None
    error_stage: str | None
    error_vi: str | None
    error_en: str | None
    timings: dict[str, float]
    split_dir: str | None = None


def _item(row: BatchItem) -> ItemInfo:
    return ItemInfo(
        id=row.id, run_id=row.run_id, item_key=row.item_key, line=row.line, inputs=list(row.inputs),
        fingerprint=row.fingerprint, content_sha256=row.content_sha256, dossier_code=row.dossier_code,
        kind=row.kind, meta=dict(row.meta or {}), planned_pages=row.planned_pages, state=row.state,
        attempts=row.attempts, worker=row.worker, heartbeat_at=row.heartbeat_at, started_at=row.started_at,
        finished_at=row.finished_at, seconds=row.seconds, pages=row.pages, mean_confidence=row.mean_confidence,
        low_confidence_pages=list(row.low_confidence_pages or []), document_id=row.document_id,
        output_sha256=row.output_sha256, error_code=row.error_code, error_stage=row.error_stage,
        error_vi=row.error_vi, error_en=row.error_en, timings=dict(row.timings or {}), split_dir=row.split_dir,
    )


def _run(row: BatchRun) -> RunInfo:
    return RunInfo(row.id, row.run_key, row.source, row.manifest, row.status, dict(row.options), row.created_at)


def claim_update(model: Any, row_id: int, worker: str, stale_after_s: float) -> Update:
    """Take a queued row of ``model`` (an item or a page group), or a running one silent since the cutoff."""
    now = utcnow()
    cutoff = now - timedelta(seconds=stale_after_s)
    return (update(model).where(model.id == row_id, or_(
        model.state == "queued", (model.state == "running") & (model.heartbeat_at < cutoff)))
        .values(state="running", worker=worker, heartbeat_at=now, started_at=now, attempts=model.attempts + 1,
                updated_at=now))


def owned_update(model: Any, row_id: int, worker: str) -> Update:
    """An update of a row only while ``worker`` still holds its claim (how a claim's owner writes)."""
    return update(model).where(model.id == row_id, model.worker == worker, model.state == "running")


_RESULT_FIELDS = ("seconds", "pages", "mean_confidence", "low_confidence_pages", "document_id", "output_sha256",
                  "error_code", "error_stage", "error_vi", "error_en", "timings", "split_dir")


class BatchJournal:
    """Journal operations over an open ``Records`` (same engine, same transaction rules)."""

    def __init__(self, records: Records) -> None:
        self.engine = records.engine
        self.where = records.where

    @contextmanager
    def _tx(self, *, write: bool) -> Iterator[Session]:
        with translate_errors(self.where):
            engine = writer(self.engine) if write else self.engine
            with Session(engine, expire_on_commit=False) as s, s.begin():
                yield s

    # --- runs --------------------------------------------------------------------------------

    def open_run(self, run_key: str, source: str, manifest: str | None, options: dict[str, Any]) -> RunInfo:
        """The run with this key (the same command rerun), created when new; its status becomes running."""
        now = utcnow()
        with self._tx(write=True) as s:
            row = s.execute(select(BatchRun).where(BatchRun.run_key == run_key)).scalar_one_or_none()
            if row is None:
                row = BatchRun(run_key=run_key, source=source, manifest=manifest, status="running",
                               options=options, created_at=now, updated_at=now)
                s.add(row)
            else:
                row.status, row.options, row.updated_at = "running", options, now
            s.flush()
            return _run(row)

    def set_run_status(self, run_id: int, status: str) -> None:
        if status not in RUN_STATES:
            raise ValueError(f"unknown run status {status!r}")
        with self._tx(write=True) as s:
            s.execute(update(BatchRun).where(BatchRun.id == run_id).values(status=status, updated_at=utcnow()))

    def run(self, run_id: int) -> RunInfo | None:
        with self._tx(write=False) as s:
            row = s.get(BatchRun, run_id)
            return None if row is None else _run(row)

    # --- items -------------------------------------------------------------------------------

    def items(self, run_id: int) -> list[ItemInfo]:
        with self._tx(write=False) as s:
            rows = s.execute(select(BatchItem).where(BatchItem.run_id == run_id).order_by(BatchItem.id)).scalars()
            return [_item(r) for r in rows]

    def item(self, item_id: int) -> ItemInfo | None:
        with self._tx(write=False) as s:
            row = s.get(BatchItem, item_id)
            return None if row is None else _item(row)

    def upsert_items(self, run_id: int, specs: Iterable[ItemSpec]) -> list[ItemInfo]:
        """Record the plan. A known item keeps its state unless its content changed (then it is redone)."""
        now = utcnow()
        with self._tx(write=True) as s:
            known = {r.item_key: r for r in s.execute(select(BatchItem).where(BatchItem.run_id == run_id)).scalars()}
            out: list[BatchItem] = []
            for spec in specs:
                row = known.get(spec.item_key)
                if row is None:
                    row = BatchItem(run_id=run_id, item_key=spec.item_key, state="queued", attempts=0,
                                    updated_at=now, planned_pages=spec.planned_pages)
                    s.add(row)
                # an empty fingerprint (migration 0005: stored under an older identity) is not a change
                elif row.dossier_code != spec.dossier_code or (
                        row.fingerprint and row.content_sha256 != spec.content_sha256):
                    row.state, row.attempts, row.worker, row.heartbeat_at = "queued", 0, None, None
                    for name in _RESULT_FIELDS:
                        setattr(row, name, None)
                row.line, row.inputs, row.fingerprint = spec.line, list(spec.inputs), spec.fingerprint
                row.content_sha256, row.dossier_code, row.kind = spec.content_sha256, spec.dossier_code, spec.kind
                row.meta, row.planned_pages, row.updated_at = dict(spec.meta), spec.planned_pages, now
                out.append(row)
            s.flush()
            return [_item(r) for r in out]

    def find_done(self, content_sha256: str, dossier_code: str, *, exclude: int) -> ItemInfo | None:
        """Another item (any run) that already filed the same content in the same dossier."""
        with self._tx(write=False) as s:
            stmt = (select(BatchItem).where(BatchItem.content_sha256 == content_sha256,
                                            BatchItem.dossier_code == dossier_code, BatchItem.state == "done",
                                            BatchItem.id != exclude).order_by(BatchItem.id).limit(1))
            row = s.execute(stmt).scalar_one_or_none()
            return None if row is None else _item(row)

    def reset_failed(self, run_id: int) -> int:
        """``--retry-failed``: failed items go back to the queue with fresh attempts."""
        with self._tx(write=True) as s:
            done = s.execute(update(BatchItem).where(BatchItem.run_id == run_id, BatchItem.state == "failed")
                             .values(state="queued", attempts=0, worker=None, split_dir=None, updated_at=utcnow()))
            return int(done.rowcount or 0)

    def _claim_row(self, model: Any, row_id: int, worker: str, stale_after_s: float) -> Any:
        """The claimed row of ``model`` (an item or a page group), or None when someone else holds it."""
        with self._tx(write=True) as s:
            if not s.execute(claim_update(model, row_id, worker, stale_after_s)).rowcount:
                return None
            row = s.get(model, row_id)
            assert row is not None
            s.refresh(row)
            return row

    def _beat(self, model: Any, row_id: int, worker: str) -> bool:
        now = utcnow()
        with self._tx(write=True) as s:
            return bool(s.execute(owned_update(model, row_id, worker).values(heartbeat_at=now,
                                                                             updated_at=now)).rowcount)

    def claim(self, item_id: int, worker: str, *, stale_after_s: float) -> ItemInfo | None:
        """Take a queued item (or a running one whose worker went silent); None when someone else has it."""
        row = self._claim_row(BatchItem, item_id, worker, stale_after_s)
        return None if row is None else _item(row)

    def heartbeat(self, item_id: int, worker: str) -> bool:
        """Refresh a claim; False when the claim was lost (taken over as stale)."""
        return self._beat(BatchItem, item_id, worker)

    def finish(self, item_id: int, worker: str, state: str, **results: Any) -> bool:
        """Write the outcome of a claim this worker still holds; False (nothing written) otherwise."""
        if state not in STATES:
            raise ValueError(f"unknown item state {state!r}")
        unknown = set(results) - set(_RESULT_FIELDS)
        if unknown:
            raise ValueError(f"unknown item fields {sorted(unknown)}")
        now = utcnow()
        values: dict[str, Any] = {"state": state, "updated_at": now, **results}
        if state in FINAL:
            values["finished_at"] = now
        if state == "queued":
            values["heartbeat_at"] = None
        with self._tx(write=True) as s:
            return bool(s.execute(owned_update(BatchItem, item_id, worker).values(**values)).rowcount)

    def skip(self, item_id: int, *, document_id: int | None, reason_vi: str, reason_en: str) -> None:
        """Mark a not-yet-done item skipped at planning time (its content is already filed)."""
        now = utcnow()
        with self._tx(write=True) as s:
            s.execute(update(BatchItem).where(BatchItem.id == item_id, BatchItem.state.in_(("queued", "failed")))
                      .values(state="skipped", document_id=document_id, error_code="duplicate", error_vi=reason_vi,
                              error_en=reason_en, finished_at=now, updated_at=now))

    def release_all(self, run_id: int, worker_prefix: str) -> int:
        """Hand back every running item of this run held by workers whose id starts with ``worker_prefix``."""
        with self._tx(write=True) as s:
            done = s.execute(update(BatchItem).where(BatchItem.run_id == run_id, BatchItem.state == "running",
                                                     BatchItem.worker.startswith(worker_prefix, autoescape=True))
                             .values(state="queued", heartbeat_at=None, updated_at=utcnow()))
            return int(done.rowcount or 0)

    def changed_since(self, run_id: int, since: datetime) -> list[ItemInfo]:
        """Items of a run updated at or after ``since`` (how a follower sees workers' progress)."""
        with self._tx(write=False) as s:
            stmt = (select(BatchItem).where(BatchItem.run_id == run_id, BatchItem.updated_at >= since)
                    .order_by(BatchItem.id))
            return [_item(r) for r in s.execute(stmt).scalars()]

    def counts(self, run_id: int) -> dict[str, int]:
        with self._tx(write=False) as s:
            rows = s.execute(select(BatchItem.state, func.count()).where(BatchItem.run_id == run_id)
                             .group_by(BatchItem.state)).all()
            return {state: int(n) for state, n in rows}
