"""Benchmark: how long ``sohoa --help`` and friends take before they do anything (issue 14).

Usage: ``.venv/bin/python -m bench.bench_startup [--runs 21] [--label after]``. Each command runs
``--runs`` times as a fresh process (the installed ``sohoa`` script, as a clerk types it); the median
wall time is kept, with the number of modules imported and which heavy libraries were among them
(read from ``python -X importtime``). Results of each label are kept in ``bench/results/startup.json``
so one file shows before and after; ``bench/results/startup.md`` is written from it and printed.
Why the median of many runs: one cold run includes the page cache filling; the clerk types the
command again and again.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
SCRIPT = Path(sys.executable).with_name("sohoa")
COMMANDS = [["--help"], ["process", "--help"], ["watch", "--help"], ["verify", "--help"], ["dossier", "list", "--help"]]
HEAVY = ("pyhanko", "sqlalchemy", "fastapi", "celery", "alembic", "pydantic", "cv2", "numpy", "pikepdf", "rich")


def _time(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([str(SCRIPT), *argv], check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _imports(argv: list[str]) -> tuple[int, list[str]]:
    """Modules imported by one run, and the heavy top-level packages among them."""
    done = subprocess.run([sys.executable, "-X", "importtime", str(SCRIPT), *argv], check=True, cwd=ROOT,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    names = [line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")]
    names = [n for n in names if n != "package"]
    tops = {n.split(".")[0] for n in names}
    return len(names), [h for h in HEAVY if h in tops]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--label", default="after", help="name of this measurement (before / after)")
    args = parser.parse_args()
    store = RESULTS / "startup.json"
    data = json.loads(store.read_text(encoding="utf-8")) if store.exists() else {}
    python = statistics.median(_python_start() for _ in range(args.runs))
    rows = {}
    for argv in COMMANDS:
        count, heavy = _imports(argv)
        rows[" ".join(argv)] = {"median_s": round(_time(argv, args.runs), 4), "modules": count, "heavy": heavy}
    data[args.label] = {"runs": args.runs, "python_s": round(python, 4), "commands": rows,
                        "load": round(os.getloadavg()[0], 2), "cores": os.cpu_count()}
    store.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    report = _render(data)
    (RESULTS / "startup.md").write_text(report, encoding="utf-8")
    print(report)
    return 0


def _python_start() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - started


def _render(data: dict[str, dict]) -> str:
    labels = list(data)
    lines = ["# Start-up benchmark (issue 14)", "",
             "Wall time of the installed `sohoa` script as a fresh process, median of N runs; `modules` is the "
             "number of modules imported (`python -X importtime`), `heavy` the large libraries among them. "
             "Written by `python -m bench.bench_startup --label LABEL`.", ""]
    for label in labels:
        entry = data[label]
        lines += [f"## {label}", "",
                  f"{entry['runs']} runs each; bare `python -c pass` {entry['python_s'] * 1000:.0f} ms; "
                  f"{entry['cores']} cores, load {entry['load']}.", "",
                  "| command | median | modules | heavy libraries imported |", "|---|---:|---:|---|"]
        for name, row in entry["commands"].items():
            lines.append(f"| `sohoa {name}` | {row['median_s'] * 1000:.0f} ms | {row['modules']} | "
                         f"{', '.join(row['heavy']) or '-'} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
