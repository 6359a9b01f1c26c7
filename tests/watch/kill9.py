"""The kill -9 scenarios of test_kill9.py: daemons killed at each step of a job, and at random times.

Why a module of its own: the scenarios are started in the background by ``tests/watch/conftest.py`` as
the watch tests begin (they mostly wait — files settling, processes starting — so they overlap the
end-to-end tests instead of adding their wall time), and test_kill9.py reads their outcomes.

For every step (``SOHOA_TEST_CRASH_AT``, runners/watch/crash.py) the daemon — real process, real OCR, a
real page-worker pool, PKCS#12 signing, SQLite records — gets two scans, kills itself with SIGKILL the
first time a job reaches the step, and is restarted without the hook (pages inline: only the killed run
needs the pool whose survival is checked). The random scenario kills the whole process group five
times at random moments with 40 scans and two documents in flight. Each scenario returns an
``Outcome``; exceptions are kept in it (with the daemon's log, the test reports them).
"""

from __future__ import annotations

import os
import random
import signal
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sohoa.runners.watch.crash import ENV, STEPS
from tests.pki import TestPki
from tests.watch.conftest import DaemonRun, wait_for
from tests.watch.outcomes import drop_valid, session_processes

SCANS = ((1, ".jpg"), (2, ".png"))
FORMATS = (".jpg", ".png", ".tif", ".pdf")
ORPHAN_GRACE_S = 2.0  # helpers notice a dead parent within a second (PR_SET_PDEATHSIG, pipe EOF)


@dataclass
class Outcome:
    run: DaemonRun
    sources: set[str] = field(default_factory=set)
    exit_code: int | None = None  # of the run with the hook
    survivors: list[str] = field(default_factory=list)
    stop_code: int | None = None  # of the restarted run, stopped with SIGTERM
    error: str = ""


def crash_and_recover(step: str, root: Path, pki: TestPki) -> Outcome:
    run = DaemonRun(root, pki, [{"path": "inbox", "sign_profiles": ["digitizer"]}],
                    {"stable_seconds": 0.5, "documents_in_parallel": 1, "workers": 2})
    outcome = Outcome(run)
    try:
        root.mkdir(parents=True)
        inbox = run.inbox()
        inbox.mkdir(parents=True)
        outcome.sources = {drop_valid(inbox, number, suffix).name for number, suffix in SCANS}
        run.env_extra = {ENV: step}
        run.start(wait=False)
        assert run.proc is not None
        outcome.exit_code = run.proc.wait(timeout=240)
        deadline = time.monotonic() + ORPHAN_GRACE_S
        while (left := session_processes(run.proc.pid)) and time.monotonic() < deadline:
            time.sleep(0.2)
        outcome.survivors = left
        if left:  # ours to clean up: they stayed in the dead daemon's process group
            os.killpg(run.proc.pid, signal.SIGKILL)
        run.env_extra = {}
        run.watch["workers"] = 1  # the restart only recovers: inline pages (a one-core center) spare a pool start
        run.write_config()
        run.start()
        work = inbox / ".sohoa-work"
        wait_for(lambda: len(run.files("inbox", "done")) >= len(SCANS) and not any(work.iterdir()), 240,
                 "both scans filed after the restart", run)
        outcome.stop_code = run.stop()
    except Exception as exc:  # noqa: BLE001 - test_kill9.py reports it, with the daemon's log
        outcome.error = f"{type(exc).__name__}: {exc}"
    return outcome


def random_kills(root: Path, pki: TestPki) -> Outcome:
    """40 scans, two documents in flight, kill -9 of the whole process group (as systemd kills a unit)
    five times at random moments after the daemon is up, restarting it each time."""
    run = DaemonRun(root, pki, [{"path": "inbox", "sign_profiles": ["digitizer"]}],
                    {"stable_seconds": 0.5, "documents_in_parallel": 2})
    outcome = Outcome(run)
    try:
        root.mkdir(parents=True)
        inbox = run.inbox()
        inbox.mkdir(parents=True)
        for number in range(1, 41):
            sidecar = number % 8 == 0
            outcome.sources.add(drop_valid(inbox, number, FORMATS[number % 4], sidecar=sidecar).name)
            if sidecar:
                outcome.sources.add(f"scan-{number:03d}.json")
        rng = random.Random(6)
        run.start()
        for _kill in range(5):
            time.sleep(rng.uniform(0.5, 4.0))
            run.kill9()
            run.start()
        work = inbox / ".sohoa-work"
        wait_for(lambda: len(run.files("inbox", "done")) >= len(outcome.sources) and not any(work.iterdir()), 300,
                 "all 40 files filed after the crashes", run)
        outcome.stop_code = run.stop()
    except Exception as exc:  # noqa: BLE001 - test_kill9.py reports it, with the daemon's log
        outcome.error = f"{type(exc).__name__}: {exc}"
    return outcome


def start_scenarios(pki: TestPki, root: Path) -> tuple[ThreadPoolExecutor, dict[str, Future[Outcome]]]:
    """Every step's scenario by step name and the random kills as ``"random"``, all running at once."""
    pool = ThreadPoolExecutor(max_workers=len(STEPS) + 1, thread_name_prefix="kill9")
    futures = {step: pool.submit(crash_and_recover, step, root / step, pki) for step in STEPS}
    futures["random"] = pool.submit(random_kills, root / "random", pki)
    return pool, futures
