"""Split benchmark: one long archival file through ``sohoa batch --executor celery`` on 2 workers vs 1.

Why this measure (issue 15): a 400-page file as one task keeps one core busy while the cluster waits;
split into page groups (``[batch] split_pages``), every worker takes groups, and only the join, the
signature and the attach stay serial. The target is 2 workers ≥ 1.8× faster than 1 on the same file.
Both configurations split the same way (same groups, same join), so the ratio is the parallelism alone;
``--unsplit`` adds 2 workers with ``split_pages = 0`` (the whole file as one task) for reference.
Wall time is the batch command's own (plan, hash, queue, groups, join, attach, report) on warm workers
(Redis, SQLite records in a fresh data folder per run, as bench_batch). The configurations are
interleaved, and the load average is recorded before and after each run: the machine's 2 cores are
shared with other work, which slows a 2-worker run more than a 1-worker one (both cores are needed).
So each run also records the workers' CPU seconds and the seconds they were runnable but waiting for a
core (``/proc/PID/schedstat`` of each worker's session): "workers busy" near the worker count says the
split kept every worker supplied with work, and "wall without the wait" estimates the run on an idle
machine (wall − wait / workers) — an estimate beside the measurement, never instead of it.
Pages: A5 at 200 dpi, ``--lines`` lines of the corpus's administrative Vietnamese, JPEG.

    .venv/bin/python -m bench.bench_split --pages 400 --out bench/results/split.md
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import tempfile
from pathlib import Path

from bench.bench_batch import publish, run_celery
from bench.corpus import font_paths, render_page, sample_lines

CODE = "000.00.31.H50-240301-0001"


def make_document(src: Path, pages: int, lines: int, seed: int = 11) -> None:
    """One archival file: a folder of ``pages`` scans (``grouping = "folder"``), numbered in natural order."""
    rng = random.Random(seed)
    font = font_paths()[0]
    folder = src / CODE
    folder.mkdir(parents=True)
    for number in range(1, pages + 1):
        text = [f"Hồ sơ lưu trữ, trang {number}", *sample_lines(rng, lines)]
        page = render_page(text, font=font, dpi=200, font_pt=11, size_mm=(148.0, 210.0), margin_mm=12)
        page.image.save(folder / f"trang-{number:04d}.jpg", "JPEG", quality=85, dpi=(200, 200))


# the document's serial steps after its pages: join (assemble), PDF/A check, hash, attach
SERIAL_STEPS = ("assemble", "pdfa", "write", "sign", "gate", "attach")


def timed(src: Path, work: Path, workers: int, split_pages: int) -> dict[str, object]:
    before = os.getloadavg()
    extra = f"split_pages = {split_pages}\n"
    result = run_celery(src, work, workers, extra)
    (report,) = (work / "batch-reports").glob("*.json")
    (item,) = json.loads(report.read_text(encoding="utf-8"))["items"]
    serial = {step: item["timings"][step] for step in SERIAL_STEPS if step in item["timings"]}
    wall, cpu, queued = float(result["wall_s"]), float(result["workers_cpu_s"]), float(result["workers_runqueue_s"])
    return {**result, "workers": workers, "split_pages": split_pages, "serial_s": serial,
            # workers with work (on a core, or waiting for one), out of `workers`: near `workers` means the
            # split kept every worker busy and what is missing went to other processes on the machine
            "workers_busy": round((cpu + queued) / wall, 2),
            # an estimate, not a measurement: the wall time had each worker not waited for a core
            "wall_without_wait_s": round(wall - queued / workers, 1),
            "load_before": [round(v, 2) for v in before], "load_after": [round(v, 2) for v in os.getloadavg()]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=400)
    parser.add_argument("--lines", type=int, default=4, help="text lines per page (OCR work per page)")
    parser.add_argument("--split-pages", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=2, help="rounds; each round runs every configuration once")
    parser.add_argument("--unsplit", action="store_true", help="also 2 workers with split_pages = 0")
    parser.add_argument("--out", type=Path, default=None, help="write a Markdown table here (and .json beside it)")
    args = parser.parse_args()
    configs = [("split_1_worker", 1, args.split_pages), ("split_2_workers", 2, args.split_pages)]
    if args.unsplit:
        configs.append(("unsplit_2_workers", 2, 0))
    root = Path(tempfile.mkdtemp(prefix="sohoa-bench-split-"))
    runs: dict[str, list[dict[str, object]]] = {name: [] for name, _, _ in configs}
    try:
        src = root / "src"
        make_document(src, args.pages, args.lines)
        for round_no in range(args.repeat):
            order = configs if round_no % 2 == 0 else configs[::-1]  # neither always runs first
            for name, workers, split in order:
                runs[name].append(timed(src, root / f"{name}-{round_no}", workers, split))
                print(name, runs[name][-1], flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    # ratios within each round (same minutes, same neighbours' load), then their median
    ratios = [float(one["wall_s"]) / float(two["wall_s"])  # type: ignore[arg-type]
              for one, two in zip(runs["split_1_worker"], runs["split_2_workers"], strict=True)]
    ratio = sorted(ratios)[len(ratios) // 2]
    estimates = [float(one["wall_without_wait_s"]) / float(two["wall_without_wait_s"])  # type: ignore[arg-type]
                 for one, two in zip(runs["split_1_worker"], runs["split_2_workers"], strict=True)]
    estimate = sorted(estimates)[len(estimates) // 2]
    report = {"pages": args.pages, "lines_per_page": args.lines, "split_pages": args.split_pages,
              "cores": len(os.sched_getaffinity(0)), "runs": runs, "speedup_per_round": [round(r, 2) for r in ratios],
              "speedup_median": round(ratio, 2), "target": 1.8, "met": ratio >= 1.8,
              "speedup_without_wait_per_round": [round(r, 2) for r in estimates],
              "speedup_without_wait_median": round(estimate, 2)}
    lines = [f"# Split benchmark ({args.pages}-page file, A5 200 dpi, {args.lines} lines/page, split_pages = "
             f"{args.split_pages}, {report['cores']} cores)", "",
             "| round | run | workers | split_pages | wall s | pages/min | workers' CPU s | waiting for a core s "
             "| workers busy | wall without the wait s (estimate) | serial steps s | load before (1/5/15 min) "
             "| load after |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for round_no in range(args.repeat):
        for name, _, _ in configs:
            r = runs[name][round_no]
            serial = ", ".join(f"{k} {v:.1f}" for k, v in r["serial_s"].items())  # type: ignore[attr-defined]
            lines.append(f"| {round_no + 1} | {name} | {r['workers']} | {r['split_pages']} | {r['wall_s']:.1f} | "
                         f"{r['pages_per_min']:.1f} | {r['workers_cpu_s']} | {r['workers_runqueue_s']} | "
                         f"{r['workers_busy']} | {r['wall_without_wait_s']} | {serial} | {r['load_before']} | "
                         f"{r['load_after']} |")
    lines += ["", f"Speed-up 1 → 2 workers per round: {report['speedup_per_round']} (median {ratio:.2f}x; "
              f"target ≥ 1.8x: {'met' if report['met'] else 'MISSED'}).",
              f"Estimate without the time the workers waited for a core (other processes' load): "
              f"{report['speedup_without_wait_per_round']} (median {estimate:.2f}x) — an estimate, not the target."]
    publish(lines, report, args.out)


if __name__ == "__main__":
    main()
