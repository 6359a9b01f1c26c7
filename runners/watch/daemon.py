"""``sohoa watch``: the watch-folder daemon that runs all day at a center.

Shape (threads in one process, page work in the shared ``PageExecutor`` worker processes):
- the main thread scans inboxes (woken early by observers, otherwise every ``poll_interval_s`` while
  files are pending and every ``rescan_interval_s`` regardless), claims ready units — journal row,
  then rename into the work area — and queues them, unless the backlog is full (back-pressure:
  files simply wait in the inbox); it also pings the systemd watchdog and the health heartbeat;
- ``documents_in_parallel`` worker threads run each job (``runners.watch.jobs.run_job``, which calls
  ``run_document_job``), then release sources to done/failed/needs-review and journal the outcome;
  transient failures (database, TSA, disk) are retried with exponential backoff;
- start-up recovery requeues every job left in a work area; SIGTERM/SIGINT stops claiming, lets
  running jobs finish within ``stop_timeout_s``, leaves the rest claimed (``released``) and exits 0;
- ``health_port = "any"`` lets the kernel pick the health port (bind port 0, so nothing can take it
  between choosing and listening); the bound port goes to ``health_port_file`` and the start-up log.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from sohoa.common.atomic import copy_atomic, write_bytes_atomic
from sohoa.common.errors import ConfigError, SohoaError
from sohoa.common.heap import settle_after_job
from sohoa.common.messages import _
from sohoa.config.settings import Settings
from sohoa.config.watch import WatchSettings
from sohoa.pipeline.executor import PageExecutor, default_workers
from sohoa.records.service import Records
from sohoa.runners.watch.crash import ENV as CRASH_ENV
from sohoa.runners.watch.crash import armed, crash_point
from sohoa.runners.watch.jobs import (
    DocOutcome,
    DocPlan,
    failure,
    load_marker,
    now_local,
    open_check,
    plan_documents,
    run_job,
)
from sohoa.runners.watch.journal import Journal
from sohoa.watch_folders import spool
from sohoa.watch_folders.health import HealthServer, Metrics
from sohoa.watch_folders.observers import Observers
from sohoa.watch_folders.scanner import Inbox, Unit
from sohoa.watch_folders.sdnotify import Notifier

log = logging.getLogger("sohoa.watch")


@dataclass
class Task:
    claim: spool.Claim
    inbox: Inbox
    stable_at: float | None  # monotonic; None for jobs recovered at start-up
    attempts: int = 0
    not_before: float = 0.0


class Daemon:
    def __init__(self, settings: Settings, watch: WatchSettings) -> None:
        self.settings = settings
        self.watch = watch
        pattern = settings.records.dossier_code_pattern
        self.inboxes = [Inbox(f, settings.resolve(f.path), watch, pattern) for f in watch.folders]
        self.folder_settings = {inbox.folder.label(): self._settings_for(inbox) for inbox in self.inboxes}
        self.metrics = Metrics()
        self.stop = threading.Event()
        self.wake = threading.Event()
        self.queue: queue.Queue[Task | None] = queue.Queue()
        self.delayed: list[Task] = []
        self.in_flight: dict[str, Task] = {}
        self.lock = threading.Lock()
        self.notifier = Notifier()
        self.observers = Observers(self.wake, watch.poll_interval_s)
        self.health: HealthServer | None = None
        self.records: Records | None = None
        self.journal: Journal | None = None
        self.executor: PageExecutor | None = None
        self.threads: list[threading.Thread] = []
        self.port_file = settings.resolve(Path(watch.health_port_file)) if watch.health_port_file else None

    def _settings_for(self, inbox: Inbox) -> Settings:
        copy = self.settings.model_copy(deep=True)
        if inbox.folder.ocr_languages:
            copy.ocr.languages = inbox.folder.ocr_languages
        if inbox.folder.image_mode:
            copy.output.image_mode = inbox.folder.image_mode
        return copy

    # --- lifecycle -----------------------------------------------------------------------------

    def run(self) -> int:
        if not self.inboxes:
            raise ConfigError(path=self.settings.source or "default.toml", detail=_("[watch] folders is empty"))
        self.records = Records.open(self.settings.records, self.settings.data_dir)
        self.journal = Journal(self.records)
        self.executor = PageExecutor(default_workers(self.watch.workers or self.settings.ocr.workers))
        # workers and OCR helpers start now, from this long-lived thread, while the first files settle
        self.executor.warm(self._settings_for(self.inboxes[0]).ocr, self.executor.workers)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        self._recover()
        for inbox in self.inboxes:
            self.observers.watch(inbox.path, polling=inbox.folder.polling)
        if self.watch.health_port:
            port = 0 if self.watch.health_port == "any" else self.watch.health_port  # 0: the kernel picks
            self.health = HealthServer(self.watch.health_host, port, self.metrics, self._status,
                                       heartbeat_timeout_s=max(30.0, 10 * self.watch.poll_interval_s))
            self.health.start()
            if self.port_file:
                write_bytes_atomic(self.port_file, f"{self.health.port}\n".encode())
        for number in range(self.watch.documents_in_parallel):
            thread = threading.Thread(target=self._worker, name=f"doc-worker-{number}", daemon=True)
            thread.start()
            self.threads.append(thread)
        self.metrics.up.set(1)
        port = self.health.port if self.health else 0
        log.info("watching %d folder(s) (%s); health on %s:%s", len(self.inboxes),
                 ", ".join(f"{i.path} [{o}]" for i, o in zip(self.inboxes, self.observers.kinds(), strict=True)),
                 self.watch.health_host, port)
        if armed():
            log.warning("test hook %s=%s: this daemon will SIGKILL itself at that step", CRASH_ENV, armed())
        self.notifier.ready(f"watching {len(self.inboxes)} folder(s)")
        try:
            self._loop()
        finally:
            self._shutdown()
        return 0

    def _forget_port_file(self) -> None:
        if self.port_file and self.health:
            self.port_file.unlink(missing_ok=True)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        log.warning("signal %s: no new files; finishing running documents", signal.Signals(signum).name)
        self.stop.set()
        self.wake.set()

    def _loop(self) -> None:
        ping_every = Notifier.watchdog_interval()
        last_ping = 0.0
        next_rescan = 0.0
        while not self.stop.is_set():
            now = time.monotonic()
            if self.health:
                self.health.beat()
            if ping_every and now - last_ping >= ping_every:
                self.notifier.watchdog()
                last_ping = now
            self._release_due(now)
            woke = self.wake.is_set()
            self.wake.clear()
            pending = any(len(i.tracker) for i in self.inboxes)
            if woke or pending or now >= next_rescan:
                self._scan(now)
                if now >= next_rescan:
                    next_rescan = now + self.watch.rescan_interval_s
            self._update_gauges(now)
            self.wake.wait(self.watch.poll_interval_s)

    def _shutdown(self) -> None:
        self.notifier.stopping()
        self.metrics.up.set(0)
        self.observers.stop()
        for _thread in self.threads:
            self.queue.put(None)
        deadline = time.monotonic() + self.watch.stop_timeout_s
        for thread in self.threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        stuck = [t for t in self.threads if t.is_alive()]
        if stuck:
            with self.lock:
                running = list(self.in_flight)
            for job_id in running:
                self._journal(job_id, state="released")
            log.warning("stopped with %d document(s) unfinished; they stay claimed and are redone at the next "
                        "start", len(running))
            self._forget_port_file()
            logging.shutdown()
            sys.stdout.flush()
            os._exit(0)  # worker threads cannot be interrupted mid-OCR; the work area keeps their jobs
        if self.health:
            self.health.stop()
            self._forget_port_file()
        if self.executor:
            self.executor.close()
        if self.records:
            self.records.close()
        log.info("stopped")

    # --- recovery and claiming -----------------------------------------------------------------

    def _recover(self) -> None:
        assert self.journal is not None
        alive: set[str] = set()
        for inbox in self.inboxes:
            inbox.ensure_dirs()
            for claim in spool.pending(inbox.work, inbox.path):
                if not any((claim.src / rel).exists() for rel in claim.sources):
                    # Killed after its sources were released (the journal already holds the outcome) but
                    # before the work folder was removed: only the clean-up is left. Re-running it would
                    # report the sources as missing.
                    spool.finish(claim)
                    continue
                self.journal.claim(claim.job_id, claim.folder, claim.sources, claim.dossier_code)
                alive.add(claim.job_id)
                self.queue.put(Task(claim, inbox, None))
        for entry in self.journal.unfinished():
            if entry.job_id not in alive:  # claimed in the journal but never renamed: still in the inbox
                self.journal.update(entry.job_id, state="released")
        if alive:
            log.warning("resuming %d job(s) left in the work area", len(alive))

    def _backlog(self) -> int:
        with self.lock:
            return self.queue.qsize() + len(self.in_flight) + len(self.delayed)

    def _scan(self, now: float) -> None:
        for inbox in self.inboxes:
            folder_settings = self.folder_settings[inbox.folder.label()]
            for unit in inbox.scan(now, lambda p, s=folder_settings: open_check(p, s)):
                if self.stop.is_set() or self._backlog() >= self.watch.queue_size + self.watch.documents_in_parallel:
                    return  # back-pressure: the rest waits in the inbox
                self._claim(inbox, unit)

    def _claim(self, inbox: Inbox, unit: Unit) -> None:
        assert self.journal is not None
        try:
            job_id = spool.content_id(unit.sources)
            rels = [unit.relative(p) for p in unit.sources]
            entry = self.journal.claim(job_id, inbox.folder.label(), rels, unit.dossier_code)
            claim = spool.claim(unit, inbox.work, job_id, now_local(self.settings))
        except FileNotFoundError:
            return  # taken away meanwhile (the scanner software, a clerk); nothing to do
        except SohoaError as err:
            log.warning("%s: not claimed yet (%s); will retry", unit.name, err.message("en"))
            return
        crash_point("claimed")
        for path in unit.sources:
            inbox.tracker.forget(path)
        label = inbox.folder.label()
        self.metrics.files_seen.labels(label).inc(len(unit.sources))
        if entry.state == "done":  # the same content was already filed: never twice
            note = spool.note_text(_("Same content as an already filed job ({job}).", job=job_id))
            done = inbox.folder.sub(inbox.path, inbox.folder.done_dir)
            spool.release_to(claim, done, note=(".duplicate.txt", note), delete=inbox.folder.done_action == "delete")
            spool.finish(claim)
            log.info("%s: %s is a duplicate of an attached job; moved to done", label, unit.name)
            return
        self.queue.put(Task(claim, inbox, unit.stable_at))

    # --- workers -------------------------------------------------------------------------------

    def _worker(self) -> None:
        while True:
            task = self.queue.get()
            if task is None:
                return
            if self.stop.is_set():
                self._journal(task.claim.job_id, state="released")
                continue
            with self.lock:
                self.in_flight[task.claim.job_id] = task
            try:
                self._work(task)
            finally:
                with self.lock:
                    self.in_flight.pop(task.claim.job_id, None)

    def _journal(self, job_id: str, **changes: object) -> int | None:
        """Journal update that never raises: the work area already holds the truth."""
        assert self.journal is not None
        try:
            entry = self.journal.update(job_id, **changes)  # type: ignore[arg-type]
            return entry.attempts if entry else None
        except SohoaError as err:
            log.warning("journal not updated for %s: %s", job_id, err.message("en"))
            return None

    def _work(self, task: Task) -> None:
        assert self.records is not None and self.executor is not None
        claim, inbox = task.claim, task.inbox
        folder_settings = self.folder_settings[inbox.folder.label()]
        attempts = max(task.attempts + 1, self._journal(claim.job_id, state="processing", attempt=True) or 0)
        task.attempts = attempts
        try:
            results = run_job(claim, inbox.folder, folder_settings, self.watch.cover_sheet, records=self.records,
                              executor=self.executor)
        except SohoaError as err:  # transient: run_job turns permanent failures into outcomes
            if attempts < self.watch.max_attempts:
                delay = min(self.watch.retry_max_s, self.watch.retry_base_s * 2 ** (attempts - 1))
                log.warning("%s: %s; retry %d/%d in %.0f s", claim.name, err.message("en"), attempts,
                            self.watch.max_attempts - 1, delay)
                self._journal(claim.job_id, state="claimed", error=f"{err.code}: {err.message('en')}")
                self.metrics.retries.labels(inbox.folder.label()).inc()
                task.not_before = time.monotonic() + delay
                with self.lock:
                    self.delayed.append(task)
                return
            results = self._give_up(task, err)
        self._release(task, results)
        settle_after_job()  # the first jobs' imports and caches stay out of later collections (common.heap)

    def _give_up(self, task: Task, err: SohoaError) -> list[tuple[DocPlan, DocOutcome]]:
        claim = task.claim
        plans = plan_documents(claim, task.inbox.folder, self.folder_settings[task.inbox.folder.label()],
                               self.watch.cover_sheet)
        results = []
        for plan in plans:
            results.append((plan, load_marker(claim, plan.number) or failure(err, plan.dossier_code)))
        return results

    def _release(self, task: Task, results: list[tuple[DocPlan, DocOutcome]]) -> None:
        claim, folder = task.claim, task.inbox.folder
        label = folder.label()
        when = now_local(self.settings)
        states = {o.outcome for _, o in results}
        state = "done" if "done" in states else ("review" if "review" in states else "failed")
        summary = {"documents": [{"name": p.name, "outcome": o.outcome, "dossier": o.dossier_code, "sha256": o.sha256,
                                  "document_id": o.document_id, "pages": o.pages, "error": o.code or None,
                                  "stage": o.stage or None, "reason_vi": o.vi or None, "reason_en": o.en or None}
                                 for p, o in results]}
        self._journal(claim.job_id, state=state, result=summary)
        for plan, outcome in results:
            sources = plan.sources if len(results) > 1 else None
            name = plan.name
            if outcome.outcome == "done":
                spool.release_to(claim, folder.sub(task.inbox.path, folder.done_dir), sources, name=name,
                                 delete=folder.done_action == "delete")
                self.metrics.files_done.labels(label).inc(len(plan.sources))
                self.metrics.pages.labels(label).inc(outcome.pages)
                for stage, seconds in outcome.timings.items():
                    self.metrics.stage_seconds.labels(stage).observe(seconds)
                if task.stable_at is not None:
                    self.metrics.latency.observe(time.monotonic() - task.stable_at)
                self._copy_output(task, plan, outcome)
            elif outcome.outcome == "failed":
                vi, en = (m.replace(f"{claim.src}/", "") for m in (outcome.vi, outcome.en))  # name, not work path
                text = spool.error_text(name, stage=outcome.stage, code=outcome.code, vi=vi, en=en, when=when,
                                        job_id=claim.job_id)
                spool.release_to(claim, folder.sub(task.inbox.path, folder.failed_dir), sources, name=name,
                                 note=(".error.txt", text))
                self.metrics.files_failed.labels(label).inc(len(plan.sources))
            else:
                text = spool.review_text(name, reason_vi=outcome.vi, reason_en=outcome.en, when=when,
                                         job_id=claim.job_id)
                spool.release_to(claim, folder.sub(task.inbox.path, folder.review_dir), sources, name=name,
                                 note=(".review.txt", text))
                self.metrics.files_review.labels(label).inc(len(plan.sources))
            self.metrics.documents.labels(label, outcome.outcome).inc()
            reason = "" if outcome.outcome == "done" else f" ({outcome.en})"
            log.info("%s: %s -> dossier %s, %d page(s), %.1f s, %s%s", label, name, outcome.dossier_code or "-",
                     outcome.pages, outcome.seconds, outcome.outcome, reason,
                     extra={"fields": {"folder": label, "document": name, "dossier": outcome.dossier_code,
                                       "pages": outcome.pages, "seconds": outcome.seconds,
                                       "result": outcome.outcome, "error": outcome.code or None,
                                       "timings": outcome.timings, "job": claim.job_id}})
        crash_point("released")
        spool.finish(claim)

    def _copy_output(self, task: Task, plan: DocPlan, outcome: DocOutcome) -> None:
        folder = task.inbox.folder
        output = task.claim.workdir / f"doc-{plan.number}.pdf"
        if folder.output_dir is None or not output.exists():
            return
        target_dir = folder.sub(task.inbox.path, folder.output_dir)
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / f"{outcome.dossier_code or 'ho-so'}-{Path(plan.name).stem}.pdf"
        with output.open("rb") as src:
            copy_atomic(src, target)  # the output folder may be on another file system

    # --- bookkeeping ---------------------------------------------------------------------------

    def _release_due(self, now: float) -> None:
        with self.lock:
            due = [t for t in self.delayed if t.not_before <= now]
            self.delayed = [t for t in self.delayed if t.not_before > now]
        for task in due:
            self.queue.put(task)

    def _update_gauges(self, now: float) -> None:
        self.metrics.queue_depth.set(self.queue.qsize() + len(self.delayed))
        with self.lock:
            self.metrics.in_flight.set(len(self.in_flight))
        self.metrics.oldest_waiting.set(max((i.oldest_waiting(now) for i in self.inboxes), default=0.0))

    def _status(self) -> dict[str, object]:
        with self.lock:
            in_flight = len(self.in_flight)
        return {"status": "stopping" if self.stop.is_set() else "ok",
                "folders": [str(i.path) for i in self.inboxes], "observers": self.observers.kinds(),
                "queue_depth": self.queue.qsize() + len(self.delayed), "in_flight": in_flight,
                "workers": self.executor.workers if self.executor else 0}
