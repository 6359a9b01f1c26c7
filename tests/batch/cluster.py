"""Real ``sohoa worker`` processes for the cluster tests: started in their own session, logged to a file.

Why a session each: a test kills a worker with SIGKILL and must then see whether anything it started
(its OCR helper) outlived it; the session id names exactly the processes that worker started
(``tests.watch.outcomes.session_processes``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def start_worker(folder: Path, name: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    log = (folder / f"{name}.log").open("wb")
    return subprocess.Popen([sys.executable, "-m", "sohoa.cli", "worker", "--concurrency", "1",
                             "--name", f"{name}@test"], cwd=folder, env=env, stdout=log, stderr=log,
                            start_new_session=True)


def wait_ready(folder: Path, names: list[str], procs: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if all("ready." in (folder / f"{n}.log").read_text(errors="replace") for n in names):
            return
        for name, proc in zip(names, procs, strict=True):
            assert proc.poll() is None, f"worker {name} exited: {(folder / f'{name}.log').read_text()[-3000:]}"
        time.sleep(0.1)
    raise AssertionError("workers not ready within 120 s")


def stop_worker(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def start_batch(folder: Path, src: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """``sohoa batch SRC --executor celery --json`` as a user starts it; the caller reads its summary."""
    return subprocess.Popen([sys.executable, "-m", "sohoa.cli", "batch", str(src), "--executor", "celery", "--json"],
                            cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
