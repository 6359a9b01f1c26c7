"""Batch digitization: plan → journal → run every document (local pool or Celery workers) → report.

Why this shape: the journal in the records database is the single source of truth, so the same
document code (``process_item``) runs in a local worker process or in a Celery task, and either way a
document is claimed atomically, heart-beaten while it runs, and finished only by its owner. That is
what turns at-least-once delivery into exactly-once filing:
- a duplicate task finds the row claimed (or done) and does nothing;
- a task redelivered after its worker was SIGKILLed takes over the silent claim; if the dead worker had
  already attached the PDF, the records show it (``extra.batch_content``) and nothing is attached twice;
- a rerun of the same command plans the same run, skips what is done (by content hash), and retries
  failures only with ``--retry-failed``.
Stopping (SIGINT) marks the run ``stopped``: documents in progress finish, queued ones are left queued
(Celery tasks for a stopped run are acknowledged and dropped), and the next run picks them up.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from sohoa.common.errors import InputError, InternalError, ProcessingError, SohoaError
from sohoa.common.hashing import content_identity
from sohoa.common.messages import _, bilingual
from sohoa.config.batch import BatchSettings
from sohoa.config.settings import Settings
from sohoa.pipeline.executor import PageExecutor
from sohoa.pipeline.job import DocumentJob, run_document_job
from sohoa.records.errors import DossierNotFound
from sohoa.records.service import Records
from sohoa.runners.batch.journal import FINAL, BatchJournal, ItemInfo, ItemSpec, RunInfo
from sohoa.runners.batch.manifest import Plan, PlannedDoc
from sohoa.runners.batch.stop import StopFlag  # noqa: F401 - part of the runner's interface
from sohoa.stages.ingest import scan_inputs

if TYPE_CHECKING:
    from sohoa.pipeline.groups import GroupOutcome
    from sohoa.runners.batch.split import ClusterSplit

log = logging.getLogger("sohoa.batch")

STALE_HEARTBEATS = 4  # a claim silent for this many heartbeats belongs to a dead worker


def low_confidence_threshold(settings: Settings) -> float:
    batch = settings.batch
    return batch.low_confidence if batch.low_confidence >= 0 else settings.ocr.low_confidence


# --- planning into the journal ---------------------------------------------------------------------


def run_key(plan: Plan, batch: BatchSettings) -> str:
    """The same command on the same source is the same run (so a rerun resumes it)."""
    parts = [str(plan.source), str(plan.manifest or ""), batch.grouping]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def _fingerprint(inputs: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in inputs:
        st = path.stat()
        digest.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _spec(doc: PlannedDoc, settings: Settings, known: dict[str, ItemInfo]) -> ItemSpec:
    """The document's content identity (reused from the journal when size and mtime did not change)."""
    fingerprint = _fingerprint(doc.inputs)
    old = known.get(doc.key)
    if old is not None and old.fingerprint == fingerprint:
        content, pages = old.content_sha256, old.planned_pages
    else:
        content = content_identity(doc.inputs)
        try:
            pages = len(scan_inputs(doc.inputs, settings.ingest))
        except InputError:
            pages = 0  # the run reports the typed error for this document
    meta = {"title": doc.title, "doc_number": doc.doc_number,
            "issue_date": doc.issue_date.isoformat() if doc.issue_date else None,
            "issuing_agency": doc.issuing_agency, "digitized_by": doc.digitized_by,
            "sign_profiles": list(doc.sign_profiles)}
    return ItemSpec(item_key=doc.key, inputs=[str(p) for p in doc.inputs], fingerprint=fingerprint,
                    content_sha256=content, dossier_code=doc.dossier_code, kind=doc.kind, meta=meta,
                    planned_pages=pages, line=doc.line)


def prepare_run(plan: Plan, settings: Settings, records: Records, *, retry_failed: bool,
                options: dict[str, object]) -> tuple[RunInfo, list[ItemInfo]]:
    """Record the plan in the journal; mark as skipped what another item already filed."""
    batch = settings.batch
    journal = BatchJournal(records)
    run = journal.open_run(run_key(plan, batch), str(plan.source), str(plan.manifest) if plan.manifest else None,
                           options)
    known = {i.item_key: i for i in journal.items(run.id)}
    items = journal.upsert_items(run.id, [_spec(d, settings, known) for d in plan.docs])
    if retry_failed:
        journal.reset_failed(run.id)
    first: dict[tuple[str, str], ItemInfo] = {}
    for item in items:
        twin = first.setdefault((item.content_sha256, item.dossier_code), item)
        if item.state not in ("queued", "failed"):
            continue
        if twin is item:
            twin = journal.find_done(item.content_sha256, item.dossier_code, exclude=item.id) or item
        if twin is not item:  # the same scan twice (a copy in another folder): file it once
            vi, en = bilingual(_("same content as {item} (run {run})", item=twin.item_key, run=twin.run_id))
            journal.skip(item.id, document_id=twin.document_id, reason_vi=vi, reason_en=en)
    wanted = {i.id for i in items}
    return run, [i for i in journal.items(run.id) if i.id in wanted]


# --- one document, wherever it runs ----------------------------------------------------------------


@dataclass
class ItemOutcome:
    item_id: int
    state: str  # done | failed | skipped | retry | busy | stopped | foreign
    pages: int = 0
    error_en: str | None = None
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)


_records: dict[tuple[int, str], Records] = {}


def worker_records(settings: Settings) -> Records:
    """This process's records connection (one per process: engines must not cross a fork)."""
    key = (os.getpid(), settings.records.url(settings.data_dir))
    if key not in _records:
        _records[key] = Records.open(settings.records, settings.data_dir)
    return _records[key]


@contextmanager
def heartbeat(refresh: Callable[[], bool], what: str, every_s: float) -> Iterator[None]:
    """Call ``refresh`` (a journal heartbeat of a claim) every ``every_s`` while the block runs."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every_s):
            try:
                if not refresh():
                    log.warning("batch %s: claim lost (taken over as stale)", what)
                    return
            except SohoaError as err:  # a database blip: the next beat tries again
                log.warning("batch %s: heartbeat failed: %s", what, err)

    thread = threading.Thread(target=beat, name=f"heartbeat-{what}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _already_filed(records: Records, item: ItemInfo) -> int | None:
    """A document this item attached in an earlier attempt that died before the journal said so."""
    try:
        docs = records.documents(item.dossier_code)
    except DossierNotFound:
        return None
    for doc in docs:
        if doc.extra.get("batch_content") == item.content_sha256 and doc.extra.get("batch_item") == item.item_key:
            return doc.id
    return None


def _job(item: ItemInfo, output: Path) -> DocumentJob:
    meta = item.meta
    issued = date.fromisoformat(meta["issue_date"]) if meta.get("issue_date") else None
    return DocumentJob(
        inputs=[Path(p) for p in item.inputs], output=output, dossier_code=item.dossier_code, kind=item.kind,
        title=meta.get("title"), doc_number=meta.get("doc_number"), issue_date=issued,
        issuing_agency=meta.get("issuing_agency"),
        digitized_by=meta.get("digitized_by") or f"sohoa-batch@{socket.gethostname()}",
        sign_profiles=list(meta.get("sign_profiles") or []),
        extra={"batch_run": item.run_id, "batch_item": item.item_key, "batch_content": item.content_sha256},
    )


def process_item(item_id: int, settings: Settings, *, worker: str, executor: PageExecutor | None = None,
                 run_key: str | None = None, split: ClusterSplit | None = None) -> ItemOutcome:
    """Claim one journal item and run it through ``run_document_job``; safe to call twice for one item.

    ``run_key`` (Celery tasks carry it) proves the item id belongs to this worker's database: a worker
    configured with another database answers ``foreign`` instead of touching an unrelated row.
    ``split`` (Celery tasks carry it): a long document is split into page-group tasks instead, and a
    document whose groups are all done is joined, signed and attached here (``runners/batch/split.py``).
    """
    batch = settings.batch
    records = worker_records(settings)
    journal = BatchJournal(records)
    current = journal.item(item_id)
    run = journal.run(current.run_id) if current is not None else None
    if run_key is not None and (run is None or run.run_key != run_key):
        log.error("batch item %d of run %s is not in this worker's database %s; check its config", item_id,
                  run_key[:12], records.where)
        return ItemOutcome(item_id, "foreign")
    if current is None or current.state in FINAL:
        return ItemOutcome(item_id, current.state if current else "skipped")
    if run is None or run.status != "running":
        return ItemOutcome(item_id, "stopped")
    if current.state == "split":  # its page groups are out: join them when all are done, else wait for them
        if split is None:  # a local rerun of a document a cluster split: its groups are done here
            from sohoa.runners.batch.split import finish_split_here

            return finish_split_here(current, settings, worker=worker)
        return split.resume(current)
    item = journal.claim(item_id, worker, stale_after_s=STALE_HEARTBEATS * batch.heartbeat_s)
    if item is None:
        return ItemOutcome(item_id, "busy")
    if item.attempts > batch.max_attempts:  # its workers keep dying (a poison document): stop trying
        err = ProcessingError(path=item.item_key, stage="worker",
                              detail=_("the worker died on each of {count} attempts", count=item.attempts - 1))
        return fail_claimed(journal, item, worker, err, batch, 0.0)
    if current.started_at is not None or item.attempts > 1:
        filed = _already_filed(records, item)
        if filed is not None:
            log.info("batch item %s was filed by an earlier attempt (document %d)", item.item_key, filed)
            if journal.finish(item_id, worker, "done", document_id=filed, pages=item.planned_pages):
                remove_split_dir(item)
            return ItemOutcome(item_id, "done", pages=item.planned_pages)
    if split is not None:
        try:
            outcome = split.start(item)
        except SohoaError as err:  # its inputs cannot be read: the same typed error as processing it whole
            return fail_claimed(journal, item, worker, err, batch, 0.0)
        except Exception as exc:  # noqa: BLE001 - last-resort boundary, as around the job below
            log.exception("unexpected error splitting batch item %s", item.item_key)
            return fail_claimed(journal, item, worker, InternalError(detail=f"{type(exc).__name__}: {exc}"), batch, 0.0)
        if outcome is not None:
            return outcome
    return run_claimed(journal, records, item, settings, worker=worker, executor=executor)


def run_claimed(journal: BatchJournal, records: Records, item: ItemInfo, settings: Settings, *, worker: str,
                executor: PageExecutor | None = None, groups: list[GroupOutcome] | None = None,
                spent_s: float = 0.0) -> ItemOutcome:
    """The claimed item through ``run_document_job`` (from its inputs, or joining its done ``groups``),
    signed and attached once, and its outcome written to the journal. ``spent_s``: the groups' seconds."""
    batch = settings.batch
    item_id = item.id
    workdir = settings.resolve(batch.work_dir) / str(item.run_id)
    workdir.mkdir(parents=True, exist_ok=True)
    output = workdir / f"item-{item.id}.pdf"
    started = time.perf_counter()
    threshold = low_confidence_threshold(settings)
    try:
        with heartbeat(lambda: journal.heartbeat(item_id, worker), f"item {item_id}", batch.heartbeat_s):
            result = run_document_job(_job(item, output), settings, records=records,
                                      executor=executor or PageExecutor(1), workdir=workdir, groups=groups)
    except SohoaError as err:
        return fail_claimed(journal, item, worker, err, batch, time.perf_counter() - started)
    except Exception as exc:  # noqa: BLE001 - last-resort boundary: one bad document must not stop the batch
        log.exception("unexpected error in batch item %s", item.item_key)
        err = InternalError(detail=f"{type(exc).__name__}: {exc}")
        return fail_claimed(journal, item, worker, err, batch, time.perf_counter() - started)
    finally:
        output.unlink(missing_ok=True)  # the store holds the filed copy
    seconds = time.perf_counter() - started + spent_s
    timings: dict[str, float] = {}
    for page in result.process.pages:
        for stage, spent in page.timings.items():
            timings[stage] = round(timings.get(stage, 0.0) + spent, 3)
    timings.update({step: round(spent, 3) for step, spent in result.timings.items()})  # ingest … attach
    processed = result.process
    doc_id = result.attached.document.id if result.attached else None
    if journal.finish(item_id, worker, "done", seconds=round(seconds, 3), pages=processed.page_count,
                      mean_confidence=processed.mean_confidence,
                      low_confidence_pages=processed.low_confidence_pages(threshold), document_id=doc_id,
                      output_sha256=result.sha256, error_code=None, error_stage=None, error_vi=None,
                      error_en=None, timings=timings):
        remove_split_dir(item)  # the groups were only needed until the joined document was filed and recorded
    return ItemOutcome(item_id, "done", pages=processed.page_count, seconds=seconds, timings=timings)


def fail_claimed(journal: BatchJournal, item: ItemInfo, worker: str, err: SohoaError, batch: BatchSettings,
                 seconds: float) -> ItemOutcome:
    """The claimed item's failure: queued again when transient and attempts remain, else failed for good."""
    retry = err.transient and item.attempts < batch.max_attempts
    written = journal.finish(item.id, worker, "queued" if retry else "failed", seconds=round(seconds, 3),
                             error_code=err.code, error_stage=err.stage, error_vi=err.message("vi"),
                             error_en=err.message("en"))
    if written and not retry:
        remove_split_dir(item)  # a rerun with --retry-failed splits it anew
    log.warning("batch item %s %s: %s", item.item_key, "will be retried" if retry else "failed", err.message("en"))
    return ItemOutcome(item.id, "retry" if retry else "failed", error_en=err.message("en"), seconds=seconds)


def remove_split_dir(item: ItemInfo) -> None:
    """The private folder of a split document's page groups, once nothing needs them any more."""
    if item.split_dir:
        shutil.rmtree(item.split_dir, ignore_errors=True)


# --- the local executor: documents in parallel worker processes --------------------------------------

_local: dict[str, object] = {}


def _init_local(settings: Settings, prefix: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the terminal's Ctrl-C is the parent's to handle
    os.environ["OMP_THREAD_LIMIT"] = "1"
    _local["settings"] = settings
    _local["worker"] = f"{prefix}{os.getpid()}"


def _local_item(item_id: int) -> ItemOutcome:
    settings = _local["settings"]
    assert isinstance(settings, Settings)
    return process_item(item_id, settings, worker=str(_local["worker"]))


def run_local(run: RunInfo, items: list[ItemInfo], settings: Settings, workers: int,
              on_outcome: Callable[[ItemOutcome], None], stop: StopFlag) -> None:
    """Run the unfinished items, ``workers`` documents at a time, each in its own process."""
    journal = BatchJournal(worker_records(settings))
    prefix = f"{socket.gethostname()}:{os.getpid()}:"
    todo = deque(i.id for i in items if i.state not in FINAL)
    context = multiprocessing.get_context("forkserver")

    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_local,
                                   initargs=(settings, prefix))

    pool = new_pool()
    running: dict[Future[ItemOutcome], int] = {}
    try:
        while (todo or running) and not stop.forced.is_set():
            while todo and len(running) < workers and not stop.requested.is_set():
                item_id = todo.popleft()
                running[pool.submit(_local_item, item_id)] = item_id
            if not running:
                break
            finished, _ = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in finished:
                item_id = running.pop(future)
                try:
                    outcome = future.result()
                except BrokenProcessPool:  # a worker died (out of memory, native crash): redo its documents
                    log.warning("a batch worker process died; its documents are queued again")
                    todo.extend([item_id, *running.values()])
                    running.clear()
                    pool.shutdown(wait=False, cancel_futures=True)
                    journal.release_all(run.id, prefix)
                    pool = new_pool()
                    break
                if outcome.state == "retry":
                    todo.append(item_id)
                on_outcome(outcome)
    finally:
        if stop.forced.is_set():
            _kill_busy(journal, run, prefix)
        pool.shutdown(wait=not stop.forced.is_set(), cancel_futures=True)
        released = journal.release_all(run.id, prefix)
        if released:
            log.warning("%d document(s) in progress were released; a rerun redoes them", released)


def _kill_busy(journal: BatchJournal, run: RunInfo, prefix: str) -> None:
    """Second Ctrl-C: end the worker processes holding documents (their claims name their pids)."""
    for item in journal.items(run.id):
        if item.state == "running" and item.worker and item.worker.startswith(prefix):
            with suppress(ProcessLookupError, ValueError):
                os.kill(int(item.worker.rsplit(":", 1)[1]), signal.SIGTERM)
