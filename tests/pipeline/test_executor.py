"""The page pool: bounded by the cores (a 300-page file once started 300 workers), and no orphans."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sohoa.pipeline.executor import page_workers


def test_page_workers_never_exceed_the_cores() -> None:
    cores = len(os.sched_getaffinity(0))
    assert page_workers(0, 300) == min(cores, 300)
    assert page_workers(0, 1) == 1


def test_page_workers_follow_the_configured_count_but_not_beyond_the_pages() -> None:
    assert page_workers(3, 300) == 3
    assert page_workers(8, 2) == 2
    assert page_workers(0, 0) == 1


PARENT = """
import os, sys, time
from sohoa.pipeline.executor import PageExecutor

def where(_):
    return os.getpid(), os.getppid()

if __name__ == "__main__":
    pool = PageExecutor(2)
    pids = set(pool.map(where, range(8)))
    print(" ".join(str(p) for pair in pids for p in pair), flush=True)
    time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return "\nState:\tZ" not in status  # a zombie waits only for its (adopting) reaper


def test_a_killed_parent_leaves_no_pool_behind(tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    parent = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline()
        children = {int(p) for p in line.split()} - {parent.pid}
        assert len(children) >= 2, f"expected the forkserver and workers, got {line!r}"
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(_alive(p) for p in children):
            time.sleep(0.1)
        survivors = sorted(p for p in children if _alive(p))
        for pid in survivors:
            os.kill(pid, signal.SIGKILL)
        assert not survivors, f"processes {survivors} outlived their killed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
