"""``sohoa worker``: a Celery worker that runs batch documents with the same stage code as ``sohoa batch``.

Why a command of its own: a cluster node needs nothing but the config (database URL, store path,
broker) and this command; it opens the records database once up front (applying migrations before any
pool process starts), then hands over to Celery. SIGTERM is Celery's warm shutdown: the documents in
progress finish, then the worker exits; SIGKILL loses nothing either (the task is redelivered).
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
from typing import TYPE_CHECKING

from sohoa.common.errors import UsageError
from sohoa.common.messages import _

if TYPE_CHECKING:
    from sohoa.config.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "worker", help="run a Celery worker for `sohoa batch --executor celery` (Redis broker)",
        description="Consumes the [batch.celery] queue: each task is one document (clean, OCR, PDF/A, sign, "
        "attach), or one page group of a long document ([batch] split_pages) or its join. Needs the shared "
        "records database, store path and split folder of the config.")
    parser.add_argument("--concurrency", type=int, default=None, metavar="N",
                        help="documents at once (default [batch.celery] concurrency, 0 = CPU cores)")
    parser.add_argument("--pool", choices=["prefork", "solo", "threads"], default=None,
                        help="prefork (default), or solo (one document at a time, in this process)")
    parser.add_argument("--name", default=None, help="worker node name (default sohoa-<pid>@<host>)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from sohoa.pipeline.executor import default_workers
    from sohoa.records.service import Records
    from sohoa.runners.batch.celery_app import check_broker, make_app

    batch = settings.batch
    concurrency = default_workers(args.concurrency if args.concurrency is not None else batch.celery.concurrency)
    if concurrency < 1:
        raise UsageError(detail=_("--concurrency must be at least 1"))
    pool = args.pool or ("solo" if concurrency == 1 else "prefork")
    with Records.open(settings.records, settings.data_dir):
        pass  # schema current before any task; each pool process opens its own connection
    os.environ["OMP_THREAD_LIMIT"] = "1"
    app = make_app(settings)
    check_broker(app)
    level = "DEBUG" if args.verbose > 1 else "INFO" if not args.quiet else "WARNING"
    logging.getLogger("sohoa").setLevel(level)
    name = args.name or f"sohoa-{os.getpid()}@{socket.gethostname()}"
    argv = ["worker", f"--concurrency={concurrency}", f"--pool={pool}", f"--queues={batch.celery.queue}",
            f"--hostname={name}", f"--loglevel={level}", "--without-gossip", "--without-mingle",
            "--without-heartbeat"]
    app.worker_main(argv)
    return 0
