"""The Celery side of batches: the app built from settings, the one task, and following a run from the journal.

Why these Celery options: a document task must survive its worker dying. ``acks_late`` acknowledges a
message only after the task returned, ``reject_on_worker_lost`` hands it back when a pool process dies,
and prefetch 1 keeps a worker from hoarding messages it is not working on. On Redis a message whose
worker vanished (SIGKILL, power cut) comes back after the *visibility timeout*; any live worker sweeps
for such messages every ``restore_interval_s``. Delivery is therefore at-least-once; the journal claim
and the content-tagged attach (``runners.batch.runner.process_item``) make it exactly-once in effect.
Progress is followed in the journal rather than a result backend, so ``sohoa batch`` can be stopped and
restarted while the workers go on. A long document's task splits it into page-group tasks on the same
queue, and the last group to finish sends the document's task again to join them (``split.py``): no
chord, no result backend, nothing that a dead worker could leave half-done without its task coming back.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from celery import Celery
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from sohoa.common.errors import SohoaError
from sohoa.common.messages import N_
from sohoa.config.batch import BatchSettings
from sohoa.config.settings import Settings
from sohoa.database.base import utcnow
from sohoa.runners.batch.journal import FINAL, ItemInfo, RunInfo
from sohoa.runners.batch.runner import STALE_HEARTBEATS, ItemOutcome, StopFlag, process_item, worker_records
from sohoa.runners.batch.split import ClusterSplit, process_group_task
from sohoa.runners.batch.split_journal import GroupInfo, SplitJournal

log = logging.getLogger("sohoa.batch")

TASK_NAME = "sohoa.batch.process_item"
GROUP_TASK_NAME = "sohoa.batch.process_group"


class BrokerUnavailable(SohoaError):
    code = "broker_unavailable"
    exit_code = 94
    transient = True
    text = N_("Cannot reach the Celery broker {where}: {detail}")


def broker_url(settings: Settings) -> str:
    """The broker URL: the environment variable named by ``broker_url_env`` when set, else ``broker_url``."""
    batch = settings.batch
    from_env = os.environ.get(batch.broker_url_env, "") if batch.broker_url_env else ""
    return from_env or batch.broker_url


def _describe(url: str) -> str:
    """The broker URL for messages: never its password."""
    from kombu.utils.url import maybe_sanitize_url

    return str(maybe_sanitize_url(url))


SPLIT_POLL_MAX_S = 1800.0


def retry_countdown(state: str, batch: BatchSettings, *, retries: int = 0) -> float | None:
    """Seconds after which a task with this outcome runs again; None: it is finished.

    - ``foreign``: this worker reads another database; leave the task to the right ones.
    - ``retry``: a transient failure.
    - ``busy``: someone holds the claim (a duplicate delivery, or a worker that just died): look again
      once a silent claim would count as stale, so a dead worker's document is never dropped.
    - ``split``: the document waits for its page groups. Its task looks again, sends the groups nobody
      holds once more and joins them when all are done: a group task that died outside its own error
      handling (Celery acknowledges a failed task) once left the document waiting until the batch was
      rerun. The wait doubles from the stale interval up to ``SPLIT_POLL_MAX_S`` (``retries``: the
      task's retries so far), so groups waiting in a long queue are not sent again and again. The last
      group's join task and this one claim the join once between them (``SplitJournal.claim_join``).
    """
    if state == "foreign":
        return max(batch.retry_delay_s, 5.0)
    if state == "retry":
        return batch.retry_delay_s
    if state == "busy":
        return STALE_HEARTBEATS * batch.heartbeat_s
    if state == "split":
        return min(STALE_HEARTBEATS * batch.heartbeat_s * 2 ** min(retries, 16), SPLIT_POLL_MAX_S)
    return None


def make_app(settings: Settings) -> Celery:
    """A Celery app for these settings, with the batch task registered."""
    batch = settings.batch
    options = batch.celery
    app = Celery("sohoa", broker=broker_url(settings), backend=batch.result_backend or None, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=not batch.result_backend,
        task_default_queue=options.queue,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": options.visibility_timeout_s,
                                  "unacked_restore_interval": options.restore_interval_s,
                                  "unacked_restore_throttle": 1},
        worker_max_tasks_per_child=options.max_tasks_per_child or None,
        task_time_limit=options.task_time_limit_s or None,
        worker_hijack_root_logger=False,
        enable_utc=True,
    )

    def retry_for(task: Any, state: str) -> None:
        countdown = retry_countdown(state, batch, retries=int(getattr(task.request, "retries", 0) or 0))
        if countdown is not None:
            raise task.retry(countdown=countdown, max_retries=None)

    @app.task(name=TASK_NAME, bind=True, acks_late=True, reject_on_worker_lost=True)
    def process(self: Any, item_id: int, run_key: str | None = None) -> dict[str, Any]:
        def send(groups: list[GroupInfo]) -> None:
            for group in groups:
                app.send_task(GROUP_TASK_NAME, args=[group.id, run_key], queue=options.queue)

        worker = f"{socket.gethostname()}:{os.getpid()}"
        outcome = process_item(item_id, settings, worker=worker, run_key=run_key,
                               split=ClusterSplit(settings, worker, send))
        retry_for(self, outcome.state)
        return {"state": outcome.state, "pages": outcome.pages}

    @app.task(name=GROUP_TASK_NAME, bind=True, acks_late=True, reject_on_worker_lost=True)
    def process_page_group(self: Any, group_id: int, run_key: str | None = None) -> dict[str, Any]:
        outcome = process_group_task(group_id, settings, worker=f"{socket.gethostname()}:{os.getpid()}",
                                     run_key=run_key)
        if outcome.join and outcome.item_id is not None:  # the last group: the document's task joins them all
            app.send_task(TASK_NAME, args=[outcome.item_id, run_key], queue=options.queue)
        retry_for(self, outcome.state)
        return {"state": outcome.state, "item": outcome.item_id}

    return app


def check_broker(app: Celery, timeout_s: float = 5.0) -> None:
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout_s)
    except (KombuOperationalError, RedisError, OSError) as exc:
        raise BrokerUnavailable(where=_describe(app.conf.broker_url), detail=str(exc).splitlines()[0]) from None


def enqueue(app: Celery, run: RunInfo, items: list[ItemInfo], queue: str) -> int:
    """One task per unfinished document; the run key lets a worker check it reads the same database."""
    sent = 0
    for item in items:
        if item.state not in FINAL:
            app.send_task(TASK_NAME, args=[item.id, run.run_key], queue=queue)
            sent += 1
    return sent


def follow(run: RunInfo, items: list[ItemInfo], settings: Settings, on_outcome: Callable[[ItemOutcome], None],
           stop: StopFlag, *, poll_s: float = 1.0) -> None:
    """Report each document as the workers finish it, until none is queued or running (or we are stopped)."""
    journal = SplitJournal(worker_records(settings))
    open_ids = {i.id for i in items if i.state not in FINAL}
    quiet_since = time.monotonic()
    stopping = False
    while open_ids and not stop.forced.is_set():
        if stop.requested.is_set() and not stopping:
            stopping = True
            journal.set_run_status(run.id, "stopped")  # workers drop this run's tasks that have not started
            log.warning("stopping: documents in progress finish on the workers; queued ones wait for a rerun")
        since = utcnow() - timedelta(seconds=120)  # overlap: worker clocks may differ a little
        changed = [i for i in journal.changed_since(run.id, since) if i.id in open_ids]
        running = 0
        for item in changed:
            if item.state in FINAL:
                open_ids.discard(item.id)
                on_outcome(ItemOutcome(item.id, item.state, pages=item.pages or 0, error_en=item.error_en))
                quiet_since = time.monotonic()
        if stopping:
            running = journal.counts(run.id).get("running", 0) + journal.running_groups(run.id)
            if running == 0:
                return
        if time.monotonic() - quiet_since > 120 and journal.running_groups(run.id):
            quiet_since = time.monotonic()  # a long document's page groups are being worked on
        if time.monotonic() - quiet_since > 120:
            log.warning("no document finished for 2 minutes; is `sohoa worker` running against %s?",
                        _describe(broker_url(settings)))
            quiet_since = time.monotonic()
        stop.forced.wait(poll_s)
