"""A long archival file on the defaults: fixed worker count, pages/min, peak memory of every process.

    .venv/bin/python -m bench.bench_long --pages 400

Why: a 300-page file once started a worker per page and exhausted the machine (issue 12). This runs one
``sohoa process`` over N corpus pages with no ``--jobs`` (``ocr.workers = 0``: one per core), samples its
process tree every 0.2 s (how many processes, RSS of each), and reports the main process's peak (VmHWM),
the largest worker's peak, the most page workers seen at once, and pages/min. Writes
bench/results/long.md and .json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.bench_pipeline import write_pages
from bench.corpus import corpus

RESULTS = Path(__file__).parent / "results"


def _children(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = Path(f"/proc/{parent}/task").iterdir()
            kids = [int(k) for t in tasks for k in (t / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
        found += kids
        todo += kids
    return found


def _rss_mb(pid: int, field: str = "VmRSS") -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sohoa-long-") as tmp:
        work = Path(tmp)
        scans = write_pages(corpus(12, seed=7), work)
        linked = []
        for index in range(args.pages):
            target = work / f"long-{index + 1:04d}{scans[index % len(scans)].suffix}"
            os.link(scans[index % len(scans)], target)
            linked.append(target)
        probe = ("import sys;from sohoa.cli.main import main;rc=main(sys.argv[1:]);"
                 "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0],"
                 " file=sys.stderr);sys.exit(rc)")
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", probe, "process", *map(str, linked), "-o",
                                 str(work / "long.pdf"), "-q"], stderr=subprocess.PIPE, env=env, cwd=work)
        peaks: dict[int, float] = {}
        most = 0
        stop = threading.Event()

        def sample() -> None:
            nonlocal most
            while not stop.is_set():
                kids = _children(proc.pid)
                most = max(most, len(kids))
                for kid in kids:
                    peaks[kid] = max(peaks.get(kid, 0.0), _rss_mb(kid))
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, err = proc.communicate()
        stop.set()
        sampler.join()
        wall = time.perf_counter() - started
        size = (work / "long.pdf").stat().st_size if (work / "long.pdf").exists() else 0
    main_mb = int(err.decode().strip().splitlines()[-1]) / 1024 if proc.returncode == 0 else None
    report = {"pages": args.pages, "exit_code": proc.returncode, "wall_s": round(wall, 1),
              "pages_per_min": round(args.pages / wall * 60, 1), "cores": len(os.sched_getaffinity(0)),
              "main_peak_rss_mb": main_mb and round(main_mb, 1),
              "largest_child_peak_rss_mb": round(max(peaks.values(), default=0.0), 1),
              "most_descendants_at_once": most, "descendants_seen": len(peaks), "output_mb": round(size / 2**20, 1)}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "long.json").write_text(json.dumps(report, indent=2))
    md = ["# A long file on the defaults (bench/bench_long.py)", "",
          f"`sohoa process` over {args.pages} corpus pages, no `--jobs` (ocr.workers = 0), {report['cores']} cores.",
          "Descendants are the forkserver, the resource tracker, the page workers and their OCR helpers.", "",
          "| pages | exit | wall s | pages/min | main peak RSS MB | largest descendant peak RSS MB | "
          "most descendants at once | output MB |", "|---|---|---|---|---|---|---|---|",
          f"| {args.pages} | {proc.returncode} | {report['wall_s']} | {report['pages_per_min']} | "
          f"{report['main_peak_rss_mb']} | {report['largest_child_peak_rss_mb']} | "
          f"{report['most_descendants_at_once']} | {report['output_mb']} |"]
    (RESULTS / "long.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
