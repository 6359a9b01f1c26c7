"""Long archival files: is memory flat from 30 to 1,000 pages? Peak RSS of every process, from /proc.

    .venv/bin/python -m bench.bench_long --pages 30 300 1000 --runners process batch

Why: an archival file averages ~400 pages and some run to a thousand (issue 15). Each file here is ONE
multi-page PDF of colour JPEG scans (A4, 200 dpi, corpus pages repeated), as a scanner's archive
export would be. It runs ``sohoa process`` on it, and ``sohoa batch`` on a folder holding it, with no
``--jobs`` (one page worker per core), and reads every process's ``VmHWM`` (the kernel's peak resident
set) from ``/proc`` every 0.2 s: the main process, and each descendant (forkserver, page workers,
their OCR helpers, qpdf). ``ru_maxrss`` is not used: it reports only the largest child, once reaped.
Targets: main ≤ 300 MB and each worker ≤ 500 MB, flat with the page count.
Writes bench/results/long.md and .json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pikepdf
from PIL import Image

from bench.corpus import corpus, font_paths, render_page, sample_lines

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


def _status(pid: int) -> tuple[str, float]:
    """(command name, VmHWM in MB) of a live process; ("", 0) once it is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        fields = dict(line.split(":", 1) for line in lines if ":" in line)
    except (FileNotFoundError, ProcessLookupError):
        return "", 0.0
    hwm = fields.get("VmHWM", "0 kB").split()[0]
    return fields.get("Name", "").strip(), int(hwm) / 1024


def _scans(kind: str) -> list[Image.Image]:
    """12 page images: ``dense`` corpus pages (14-24 lines, rotations, degradations), or ``sparse``
    upright pages of 5 lines (a cover, a form: OCR is quick, so a 1,000-page run fits a session)."""
    if kind == "dense":
        return [page.image for page in corpus(12, seed=7, dpis=(200,))]
    rng = random.Random(7)
    fonts = font_paths()
    return [render_page(sample_lines(rng, 5), font=fonts[n % len(fonts)], dpi=200).image for n in range(12)]


def long_pdf(path: Path, pages: int, kind: str) -> None:
    """One PDF of ``pages`` A4 200-dpi colour JPEG scans (12 page images, repeated)."""
    encoded = []
    for page in _scans(kind):
        image = page.convert("RGB")
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=80, dpi=(200, 200))
        encoded.append((buffer.getvalue(), image.size))
    pdf = pikepdf.new()
    for index in range(pages):
        data, (width, height) = encoded[index % len(encoded)]
        image = pikepdf.Stream(pdf, data, Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image, Width=width,
                               Height=height, ColorSpace=pikepdf.Name.DeviceRGB, BitsPerComponent=8,
                               Filter=pikepdf.Name.DCTDecode)
        w_pt, h_pt = width * 72 / 200, height * 72 / 200
        content = pikepdf.Stream(pdf, f"q {w_pt:.2f} 0 0 {h_pt:.2f} 0 0 cm /Im0 Do Q".encode())
        pdf.pages.append(pikepdf.Page(pikepdf.Dictionary(
            Type=pikepdf.Name.Page, MediaBox=[0, 0, w_pt, h_pt], Contents=pdf.make_indirect(content),
            Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=pdf.make_indirect(image))))))
    pdf.save(path)


def run(args: list[str], cwd: Path) -> dict[str, object]:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "sohoa.cli", *args], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peaks: dict[int, tuple[str, float]] = {}
    main_peak = 0.0
    stop = threading.Event()

    def sample() -> None:
        nonlocal main_peak
        while not stop.is_set():
            main_peak = max(main_peak, _status(proc.pid)[1])
            for kid in _children(proc.pid):
                name, hwm = _status(kid)
                if name:
                    peaks[kid] = (name, max(hwm, peaks.get(kid, ("", 0.0))[1]))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    stop.set()
    sampler.join()
    wall = time.perf_counter() - started
    by_name: dict[str, float] = {}
    for name, hwm in peaks.values():
        by_name[name] = max(by_name.get(name, 0.0), hwm)
    return {"exit_code": proc.returncode, "wall_s": round(wall, 1), "main_peak_mb": round(main_peak, 1),
            "largest_descendant_mb": round(max((h for _, h in peaks.values()), default=0.0), 1),
            "descendant_peaks_mb": {k: round(v, 1) for k, v in sorted(by_name.items())},
            "descendants_seen": len(peaks), "stderr_tail": err.decode("utf-8", "replace")[-600:]}


def bench(pages: int, runner: str, kind: str, work: Path) -> dict[str, object]:
    folder = work / f"{runner}-{kind}-{pages}"
    (folder / "src").mkdir(parents=True)
    source = folder / "src" / f"000.00.31.H50-240115-{pages:04d}.pdf"  # a dossier code: batch files it there
    long_pdf(source, pages, kind)
    if runner == "process":
        result = run(["process", str(source), "-o", str(folder / "out.pdf"), "-q"], folder)
        out = folder / "out.pdf"
    else:
        (folder / "sohoa.toml").write_text('data_dir = "."\n[ocr]\nlanguages = "vie"\n', encoding="utf-8")
        result = run(["batch", str(folder / "src"), "-q"], folder)
        found = sorted(folder.rglob("*.pdf"))
        outs = [p for p in found if p != source and "src" not in p.parts]
        out = outs[0] if outs else folder / "missing.pdf"
    size = out.stat().st_size if out.exists() else 0
    out_pages = len(pikepdf.open(out).pages) if out.exists() else 0
    return {"pages": pages, "runner": runner, "kind": kind, **result, "output_mb": round(size / 2**20, 1),
            "output_pages": out_pages,
            "pages_per_min": round(pages / float(result["wall_s"]) * 60, 1),  # type: ignore[arg-type]
            "load_before": round(os.getloadavg()[0], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, nargs="+", default=[30, 300, 1000])
    parser.add_argument("--runners", nargs="+", choices=["process", "batch"], default=["process", "batch"])
    parser.add_argument("--kind", choices=["dense", "sparse"], default="dense")
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="sohoa-long-") as tmp:
        for pages in args.pages:
            for runner in args.runners:
                row = bench(pages, runner, args.kind, Path(tmp))
                row["label"] = args.label
                rows.append(row)
                print(json.dumps({k: v for k, v in row.items() if k != "stderr_tail"}), flush=True)
    RESULTS.mkdir(exist_ok=True)
    previous = json.loads((RESULTS / "long.json").read_text()) if (RESULTS / "long.json").exists() else []
    if isinstance(previous, dict):  # the first run's format: one row, 400 image files, one Pdf build
        previous = [{**previous, "label": "before groups (400 image files, one in-memory build)"}]
    history = previous + rows
    (RESULTS / "long.json").write_text(json.dumps(history, indent=2, ensure_ascii=False))
    md = ["# Long archival files: memory from 30 to 1,000 pages (bench/bench_long.py)", "",
          "One multi-page PDF of A4 200-dpi colour JPEG scans, no `--jobs` (one page worker per core), "
          f"{len(os.sched_getaffinity(0))} cores. Peak RSS is each process's VmHWM read from /proc every 0.2 s. "
          "Targets (issue 15): main ≤ 300 MB, each worker ≤ 500 MB, flat with the page count.", "",
          "| label | runner | pages kind | pages | exit | wall s | pages/min | main peak MB | largest descendant MB | "
          "peaks by program (MB) | output MB | output pages | load |",
          "|---|---|---|---:|---|---:|---:|---:|---:|---|---:|---:|---:|"]
    for r in history:
        peaks = ", ".join(f"{k} {v}" for k, v in r.get("descendant_peaks_mb", {}).items())
        md.append(f"| {r.get('label', '')} | {r.get('runner', 'process')} | {r.get('kind', 'dense')} | "
                  f"{r['pages']} | {r['exit_code']} | "
                  f"{r['wall_s']} | {r['pages_per_min']} | {r.get('main_peak_mb', r.get('main_peak_rss_mb'))} | "
                  f"{r.get('largest_descendant_mb', r.get('largest_child_peak_rss_mb'))} | {peaks} | "
                  f"{r['output_mb']} | {r.get('output_pages', '')} | {r.get('load_before', '')} |")
    (RESULTS / "long.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
