"""The journal of split documents: one row per page group, claimed, heart-beaten and finished like an item.

Why the same rules as documents: a page-group task is delivered at least once (acks_late, redelivery
after the visibility timeout), so the only thing that makes a group count once is its row:
- a group is *claimed* by one atomic ``UPDATE … WHERE state = 'queued' OR (running and silent)``; a
  duplicate delivery finds it taken (or done) and does nothing;
- its outcome (the ``GroupOutcome`` JSON) is written only by the claim's owner, so a worker presumed
  dead that comes back cannot overwrite its successor's;
- the join claims the *document* (``split → running``) in one statement that also checks that every
  group is done, so two last groups finishing together start one join, and a join never starts early.
The group files themselves are written under fixed names in the document's private folder
(``batch_items.split_dir``): a redone group replaces its file, it never adds a second one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    delete,
    exists,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from sohoa.database.base import Base, UTCDateTime, utcnow
from sohoa.runners.batch.journal import BatchItem, BatchJournal, ClaimColumns, ItemInfo, owned_update

GROUP_STATES = ("queued", "running", "done", "failed")


class BatchGroup(ClaimColumns, Base):
    __tablename__ = "batch_groups"
    __table_args__ = (UniqueConstraint("item_id", "first_page", name="uq_batch_groups_item_first"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("batch_items.id", ondelete="CASCADE"), nullable=False,
                                         index=True)
    first_page: Mapped[int] = mapped_column(Integer, nullable=False)
    page_count: Mapped[int] = mapped_column(Integer, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    outcome: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_en: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


@dataclass
class GroupInfo:
    id: int
    item_id: int
    first: int
    count: int
    state: str
    attempts: int
    worker: str | None
    heartbeat_at: datetime | None
    seconds: float | None
    outcome: str | None
    error_code: str | None
    error_en: str | None


def _group(row: BatchGroup) -> GroupInfo:
    return GroupInfo(id=row.id, item_id=row.item_id, first=row.first_page, count=row.page_count, state=row.state,
                     attempts=row.attempts, worker=row.worker, heartbeat_at=row.heartbeat_at, seconds=row.seconds,
                     outcome=row.outcome, error_code=row.error_code, error_en=row.error_en)


def group_bounds(pages: int, size: int) -> list[tuple[int, int]]:
    """``(first, count)`` of each group: as few groups as keep each within ``size`` pages, of equal sizes
    (± 1 page), so no short last group leaves a worker idle at the end while another works on a full one."""
    if pages <= 0 or size <= 0:
        return []
    groups = -(-pages // size)
    base, extra = divmod(pages, groups)
    bounds: list[tuple[int, int]] = []
    first = 0
    for number in range(groups):
        count = base + (1 if number < extra else 0)
        bounds.append((first, count))
        first += count
    return bounds


class SplitJournal(BatchJournal):
    """The batch journal plus the page groups of split documents (same engine, same transaction rules)."""

    def plan_groups(self, item_id: int, worker: str, bounds: Sequence[tuple[int, int]],
                    folder: str) -> tuple[str, list[GroupInfo]] | None:
        """Record the groups of an item this worker has claimed; None when the claim was lost.

        An item planned before (its splitter died before handing it over) keeps its folder and its groups
        (done ones are not redone); groups of another layout (``split_pages`` changed, or the item was reset
        and lost its folder) are replaced. Returns the folder in use, which is ``folder`` only when new.
        """
        now = utcnow()
        with self._tx(write=True) as s:
            item = s.get(BatchItem, item_id, with_for_update=True)
            if item is None or item.state != "running" or item.worker != worker:
                return None
            rows = list(s.execute(select(BatchGroup).where(BatchGroup.item_id == item_id)).scalars())
            if item.split_dir is None or sorted((r.first_page, r.page_count) for r in rows) != sorted(bounds):
                s.execute(delete(BatchGroup).where(BatchGroup.item_id == item_id))
                item.split_dir = item.split_dir or folder
                rows = [BatchGroup(item_id=item_id, first_page=first, page_count=count, state="queued", attempts=0,
                                   updated_at=now) for first, count in bounds]
                s.add_all(rows)
            item.updated_at = now
            s.flush()
            return item.split_dir, [_group(r) for r in sorted(rows, key=lambda r: r.first_page)]

    def hand_over(self, item_id: int, worker: str) -> bool:
        """The splitter's claim ends: the item waits in ``split`` for its groups (attempts count joins anew)."""
        with self._tx(write=True) as s:
            done = s.execute(update(BatchItem).where(BatchItem.id == item_id, BatchItem.worker == worker,
                                                     BatchItem.state == "running")
                             .values(state="split", heartbeat_at=None, attempts=0, updated_at=utcnow()))
            return bool(done.rowcount)

    def groups(self, item_id: int) -> list[GroupInfo]:
        with self._tx(write=False) as s:
            rows = s.execute(select(BatchGroup).where(BatchGroup.item_id == item_id)
                             .order_by(BatchGroup.first_page)).scalars()
            return [_group(r) for r in rows]

    def group(self, group_id: int) -> GroupInfo | None:
        with self._tx(write=False) as s:
            row = s.get(BatchGroup, group_id)
            return None if row is None else _group(row)

    def claim_group(self, group_id: int, worker: str, *, stale_after_s: float) -> GroupInfo | None:
        """Take a queued group (or a running one whose worker went silent); None when someone else has it."""
        row = self._claim_row(BatchGroup, group_id, worker, stale_after_s)
        return None if row is None else _group(row)

    def group_heartbeat(self, group_id: int, worker: str) -> bool:
        return self._beat(BatchGroup, group_id, worker)

    def finish_group(self, group_id: int, worker: str, state: str, *, outcome: str | None = None,
                     seconds: float | None = None, error_code: str | None = None,
                     error_en: str | None = None) -> bool:
        """Write the outcome of a group claim this worker still holds; False (nothing written) otherwise."""
        if state not in GROUP_STATES:
            raise ValueError(f"unknown group state {state!r}")
        now = utcnow()
        values: dict[str, object] = {"state": state, "updated_at": now, "outcome": outcome, "seconds": seconds,
                                     "error_code": error_code, "error_en": error_en}
        if state in ("done", "failed"):
            values["finished_at"] = now
        if state == "queued":
            values["heartbeat_at"] = None
        with self._tx(write=True) as s:
            return bool(s.execute(owned_update(BatchGroup, group_id, worker).values(**values)).rowcount)

    def all_groups_done(self, item_id: int) -> bool:
        with self._tx(write=False) as s:
            left = s.execute(select(func.count()).select_from(BatchGroup)
                             .where(BatchGroup.item_id == item_id, BatchGroup.state != "done")).scalar_one()
            total = s.execute(select(func.count()).select_from(BatchGroup)
                              .where(BatchGroup.item_id == item_id)).scalar_one()
            return bool(total) and not left

    def claim_join(self, item_id: int, worker: str) -> ItemInfo | None:
        """``split → running`` for the join, only when every group of the item is done; None otherwise."""
        now = utcnow()
        pending = exists().where(BatchGroup.item_id == item_id, BatchGroup.state != "done")
        with self._tx(write=True) as s:
            stmt = (update(BatchItem).where(and_(BatchItem.id == item_id, BatchItem.state == "split", ~pending))
                    .values(state="running", worker=worker, heartbeat_at=now, attempts=BatchItem.attempts + 1,
                            updated_at=now))
            if not s.execute(stmt).rowcount:
                return None
        return self.item(item_id)

    def fail_split(self, item_id: int, *, error_code: str, error_stage: str | None, error_vi: str,
                   error_en: str) -> bool:
        """A group failed for good: so does its document (whoever holds it: nobody, or its splitter)."""
        now = utcnow()
        with self._tx(write=True) as s:
            done = s.execute(update(BatchItem).where(BatchItem.id == item_id,
                                                     BatchItem.state.in_(("split", "running")))
                             .values(state="failed", error_code=error_code, error_stage=error_stage,
                                     error_vi=error_vi, error_en=error_en, finished_at=now, updated_at=now))
            return bool(done.rowcount)

    def running_groups(self, run_id: int) -> int:
        """Groups of this run being processed now (a stopping follower waits for them too)."""
        with self._tx(write=False) as s:
            return int(s.execute(select(func.count()).select_from(BatchGroup).join(
                BatchItem, BatchItem.id == BatchGroup.item_id).where(
                BatchItem.run_id == run_id, BatchGroup.state == "running")).scalar_one())
