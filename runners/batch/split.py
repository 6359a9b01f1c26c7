"""Long documents on the cluster: split into page-group tasks, each group done once, joined in page order.

Why: a 400-page archival file as one task keeps one core busy while the rest of the cluster waits
(issue 15). A document of more than ``[batch] split_pages`` pages is therefore cut into page groups:
1. the document's task claims the item, counts its pages (every input checked, the same typed errors
   as processing it whole), records the groups in the journal with a private folder for their files
   (``split_journal.plan_groups``), sends one group task each, and hands the item over (``split``);
2. any worker claims a group, processes its pages into ``group-NNNNNN.pdf`` + ``.json`` in that folder
   (fixed names, written atomically: a redone group replaces its files), records the outcome; the one
   that finds every group done sends the document's task again;
3. that task claims the join (only when every group is done, in one statement), joins the groups, signs
   and attaches once (``runner.run_claimed``), records the item done, and only then removes the folder.
A worker killed anywhere loses nothing: its unacknowledged task comes back (visibility timeout), finds
the silent claim stale and redoes that one step; a step already recorded is not done again.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sohoa.common.errors import InternalError, ProcessingError, SohoaError
from sohoa.common.messages import _
from sohoa.config.settings import Settings
from sohoa.database.base import utcnow
from sohoa.pipeline.groups import GroupOutcome, count_pages, process_group
from sohoa.pipeline.result_data import EXTRACT_KINDS
from sohoa.pipeline.run import layout_pages
from sohoa.runners.batch.journal import FINAL, ItemInfo
from sohoa.runners.batch.runner import (
    STALE_HEARTBEATS,
    ItemOutcome,
    fail_claimed,
    heartbeat,
    remove_split_dir,
    run_claimed,
    worker_records,
)
from sohoa.runners.batch.split_journal import GroupInfo, SplitJournal, group_bounds

log = logging.getLogger("sohoa.batch")

SendGroups = Callable[[list[GroupInfo]], None]


@dataclass
class GroupTaskOutcome:
    group_id: int
    item_id: int | None
    state: str  # done | failed | retry | busy | stopped | foreign | gone
    join: bool = False  # every group of the document is done: its task must run again to join them


class ClusterSplit:
    """The split and join steps of one document task (``process_item`` calls them at their points)."""

    def __init__(self, settings: Settings, worker: str, send: SendGroups) -> None:
        self.settings = settings
        self.worker = worker
        self.send = send
        self.records = worker_records(settings)
        self.journal = SplitJournal(self.records)

    def start(self, item: ItemInfo) -> ItemOutcome | None:
        """With the item claimed: split it (None: it is short enough to be processed whole), or join it when
        an earlier attempt split it and every group is done."""
        size = self.settings.batch.split_pages
        if not item.split_dir and (size <= 0 or item.planned_pages <= size):
            return None
        groups = self.journal.groups(item.id) if item.split_dir else []
        if groups and all(g.state == "done" for g in groups):
            return self._join(item, groups)
        pages = count_pages([Path(p) for p in item.inputs], self.settings)
        if size <= 0 or pages <= size:
            return None
        root = self.settings.resolve(self.settings.batch.split_dir)
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        # private and unpredictable (mkdtemp, mode 0700); the journal tells the other workers its name
        fresh = tempfile.mkdtemp(prefix=f"run{item.run_id}-item{item.id}-", dir=root)
        planned = None
        try:
            planned = self.journal.plan_groups(item.id, self.worker, group_bounds(pages, size), fresh)
        finally:
            if planned is None or planned[0] != fresh:
                os.rmdir(fresh)
        if planned is None:
            return ItemOutcome(item.id, "busy")
        folder, groups = planned
        Path(folder).mkdir(mode=0o700, parents=True, exist_ok=True)
        self.send([g for g in groups if g.state != "done"])
        self.journal.hand_over(item.id, self.worker)
        log.info("batch item %s: %d pages split into %d groups", item.item_key, pages, len(groups))
        return ItemOutcome(item.id, "split")

    def resume(self, item: ItemInfo) -> ItemOutcome:
        """The item waits for its groups: join them when all are done, else send again those nobody holds
        (a rerun of the batch, or groups whose tasks were lost: a duplicate is harmless, claims dedupe)."""
        joined = self.journal.claim_join(item.id, self.worker)
        if joined is not None:
            return self._join(joined, self.journal.groups(item.id))
        cutoff = utcnow() - timedelta(seconds=STALE_HEARTBEATS * self.settings.batch.heartbeat_s)
        idle = [g for g in self.journal.groups(item.id)
                if g.state == "queued" or (g.state == "running" and g.heartbeat_at is not None
                                            and g.heartbeat_at < cutoff)]
        if idle:
            self.send(idle)
        return ItemOutcome(item.id, "split")

    def _join(self, item: ItemInfo, groups: list[GroupInfo]) -> ItemOutcome:
        try:
            outcomes = [GroupOutcome.from_json(g.outcome or "") for g in groups]
        except (SohoaError, ValueError, KeyError) as exc:  # a record another version wrote, or damaged
            err = exc if isinstance(exc, SohoaError) else InternalError(detail=f"page group record: {exc!r}")
            return fail_claimed(self.journal, item, self.worker, err, self.settings.batch, 0.0)
        spent = sum(g.seconds or 0.0 for g in groups)
        return run_claimed(self.journal, self.records, item, self.settings, worker=self.worker, groups=outcomes,
                           spent_s=spent)


def finish_split_here(item: ItemInfo, settings: Settings, *, worker: str) -> ItemOutcome:
    """A document a Celery run split, met again by a local run (``sohoa batch`` without ``--executor
    celery``): its groups nobody holds are processed here, one after the other, then it is joined, signed
    and attached as on the cluster. The groups already done are kept; a group a live cluster worker still
    holds leaves the document "busy", and the next run looks again. It used to stay "busy" for ever.
    """
    journal = SplitJournal(worker_records(settings))
    for group in journal.groups(item.id):
        if group.state != "done":
            outcome = process_group_task(group.id, settings, worker=worker)
            if outcome.state in ("failed", "gone"):  # the document failed with it, or was reset meanwhile
                again = journal.item(item.id)
                return ItemOutcome(item.id, again.state if again is not None else "gone")
    outcome = ClusterSplit(settings, worker, send=lambda _groups: None).resume(item)
    return outcome if outcome.state != "split" else ItemOutcome(item.id, "busy")


def process_group_task(group_id: int, settings: Settings, *, worker: str,
                       run_key: str | None = None) -> GroupTaskOutcome:
    """Claim one page group and process it into its document's split folder; safe to call twice."""
    batch = settings.batch
    journal = SplitJournal(worker_records(settings))
    group = journal.group(group_id)
    item = journal.item(group.item_id) if group is not None else None
    run = journal.run(item.run_id) if item is not None else None
    if run_key is not None and (run is None or run.run_key != run_key):
        if group is not None:  # another database's group of the same id: not ours to touch
            log.error("batch group %d of run %s is not in this worker's database; check its config", group_id,
                      run_key[:12])
        return GroupTaskOutcome(group_id, None, "foreign" if group is not None else "gone")
    if group is None or item is None or item.state in FINAL or not item.split_dir:
        return GroupTaskOutcome(group_id, None, "gone")  # the document was reset, redone whole, or finished
    if group.state == "done":  # a duplicate, or a redelivery after the outcome was recorded
        return GroupTaskOutcome(group_id, item.id, "done", join=journal.all_groups_done(item.id))
    if run is None or run.status != "running":
        return GroupTaskOutcome(group_id, item.id, "stopped")
    claimed = journal.claim_group(group_id, worker, stale_after_s=STALE_HEARTBEATS * batch.heartbeat_s)
    if claimed is None:
        again = journal.group(group_id)
        if again is not None and again.state == "done":
            return GroupTaskOutcome(group_id, item.id, "done", join=journal.all_groups_done(item.id))
        return GroupTaskOutcome(group_id, item.id, "busy")
    if claimed.attempts > batch.max_attempts:
        err: SohoaError = ProcessingError(path=item.item_key, stage="worker", detail=_(
            "the worker died on each of {count} attempts", count=claimed.attempts - 1))
        return _group_failed(journal, item, claimed, worker, err, 0.0, batch.max_attempts)
    pages = max(g.first + g.count for g in journal.groups(item.id))
    extracts = settings.extract.enabled and item.kind in EXTRACT_KINDS  # the result data reads some pages' layout
    started = time.perf_counter()
    try:
        with heartbeat(lambda: journal.group_heartbeat(group_id, worker), f"group {group_id}", batch.heartbeat_s):
            outcome = process_group([Path(p) for p in item.inputs], settings, first=claimed.first,
                                    count=claimed.count, folder=Path(item.split_dir),
                                    layout_pages=layout_pages(pages) if extracts else set())
    except SohoaError as err:
        return _group_failed(journal, item, claimed, worker, err, time.perf_counter() - started, batch.max_attempts)
    except Exception as exc:  # noqa: BLE001 - last-resort boundary: one bad group must not stop the worker
        log.exception("unexpected error in batch group %d of %s", group_id, item.item_key)
        err = InternalError(detail=f"{type(exc).__name__}: {exc}")
        return _group_failed(journal, item, claimed, worker, err, time.perf_counter() - started, batch.max_attempts)
    seconds = round(time.perf_counter() - started, 3)
    if not journal.finish_group(group_id, worker, "done", outcome=outcome.to_json(), seconds=seconds):
        # taken over while we worked (we looked dead): the new owner writes the same files and the outcome
        log.warning("batch group %d: claim lost before its outcome was recorded", group_id)
        return GroupTaskOutcome(group_id, item.id, "busy")
    return GroupTaskOutcome(group_id, item.id, "done", join=journal.all_groups_done(item.id))


def _group_failed(journal: SplitJournal, item: ItemInfo, group: GroupInfo, worker: str, err: SohoaError,
                  seconds: float, max_attempts: int) -> GroupTaskOutcome:
    """A transient failure puts the group back in the queue; any other fails the group and its document."""
    retry = err.transient and group.attempts < max_attempts
    journal.finish_group(group.id, worker, "queued" if retry else "failed", seconds=round(seconds, 3),
                         error_code=err.code, error_en=err.message("en"))
    if retry:
        log.warning("batch group %d of %s will be retried: %s", group.id, item.item_key, err.message("en"))
        return GroupTaskOutcome(group.id, item.id, "retry")
    log.warning("batch group %d of %s failed: %s", group.id, item.item_key, err.message("en"))
    if journal.fail_split(item.id, error_code=err.code, error_stage=err.stage, error_vi=err.message("vi"),
                          error_en=err.message("en")):
        remove_split_dir(item)
    return GroupTaskOutcome(group.id, item.id, "failed")
