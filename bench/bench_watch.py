"""Benchmark: daemon end-to-end pages/min against ``sohoa process`` on the same pages, and latency.

Usage: ``.venv/bin/python -m bench.bench_watch [--pages 24] [--workers 2]``. Writes
``bench/results/watch.md`` and prints it. Same settings for both runs (languages ``vie``, signing with
a PKCS#12 test key at B-B, the same page worker count):
- ``process``: one ``sohoa process`` call over all pages (one document, page-parallel: its best case);
- ``daemon``: the same pages as one-page documents (dossier code in each name) already in the inbox
  when the daemon starts; time from the first claim to the last attach, read from the daemon's log,
  plus the latency histogram "file stable → attached" from ``/metrics``.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from bench.corpus import corpus
from tests.pki.builder import build_pkis
from tests.services import refused_url
from tests.watch.conftest import CODE, P12_ENV, DaemonRun, wait_for
from tests.watch.pages import page_image, save

ROOT = Path(__file__).resolve().parents[1]
TEXT = "Giấy tiếp nhận hồ sơ và hẹn trả kết quả\nNguyễn Văn An, phường Đông Lễ"


def _stamp(line: str) -> float:
    return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=24)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--parallel", type=int, default=2, help="documents in parallel in the daemon")
    parser.add_argument("--corpus", action="store_true",
                        help="A4 scans from bench.corpus (300/200 dpi, degraded) instead of small A5 pages")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    pki = build_pkis(root / "pki", refused_url(""))[1]["sohoa"]  # B-B signing fetches nothing
    run = DaemonRun(root / "center", pki, [{"path": "inbox", "sign_profiles": ["digitizer"]}],
                    {"workers": args.workers, "documents_in_parallel": args.parallel, "queue_size": 4,
                     "stable_seconds": 0.5})
    run.root.mkdir()
    run.write_config()
    if args.corpus:
        (root / "pages").mkdir(parents=True)
        pages = []
        for n, synthetic in enumerate(corpus(args.pages)):
            data, suffix = synthetic.encode()
            pages.append(root / "pages" / f"p{n:03d}{suffix}")
            pages[-1].write_bytes(data)
        what = "A4 corpus scans (bench.corpus: 300/200 dpi, JPEG/PNG/G4, degraded)"
    else:
        pages = [save(page_image(f"{TEXT}\nSố {n}", size_mm=(148, 210)), root / "pages" / f"p{n:03d}.jpg")
                 for n in range(args.pages)]
        what = "A5 pages at 200 dpi (JPEG, 3 lines of Vietnamese)"

    # sohoa process: all pages, one call (same config file; its [watch] table is split off below)
    config = root / "process.toml"
    text = run.config.read_text(encoding="utf-8")
    config.write_text(text.split("[watch]")[0].replace("workers = 1", f"workers = {args.workers}"),
                      encoding="utf-8")
    env = {**os.environ, P12_ENV: pki.signer("digitizer").p12_password}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sohoa.cli", "process", *map(str, pages),
                    "-o", str(root / "all.pdf"), "--sign", "digitizer", "--config", str(config)],
                   check=True, env=env, cwd=ROOT)
    process_s = time.perf_counter() - started

    inbox = run.inbox()
    for n, page in enumerate(pages):
        target = inbox / f"{CODE.format(n + 1)}{page.suffix}"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(page.read_bytes())
    run.start()
    wait_for(lambda: len(run.files("inbox", "done")) >= args.pages, 1800, "all pages filed", run)
    metrics = run.metrics()
    assert run.stop() == 0
    lines = [ln for ln in run.log_text().splitlines() if re.search(r" -> dossier .* done$", ln)]
    first_claim = min(_stamp(ln) for ln in run.log_text().splitlines() if "watching" in ln)
    daemon_s = max(_stamp(ln) for ln in lines) - first_claim
    total = float(re.search(r"sohoa_watch_latency_seconds_sum ([0-9.e+]+)", metrics).group(1))
    count = float(re.search(r"sohoa_watch_latency_seconds_count ([0-9.e+]+)", metrics).group(1))
    ppm_process = args.pages / process_s * 60
    ppm_daemon = args.pages / daemon_s * 60
    report = "\n".join([
        "# Watch daemon benchmark", "",
        f"{args.pages} {what}, OCR `vie`, signed B-B (PKCS#12), "
        f"{args.workers} page workers; machine: {os.cpu_count()} cores (shared), load {os.getloadavg()[0]:.1f}.", "",
        "| run | seconds | pages/min |", "|---|---:|---:|",
        f"| `sohoa process` (one call, one {args.pages}-page document, incl. start-up) | {process_s:.1f} | "
        f"{ppm_process:.1f} |",
        f"| daemon ({args.pages} one-page documents, {args.parallel} in parallel, from start to last attach) | "
        f"{daemon_s:.1f} | {ppm_daemon:.1f} |", "",
        f"Ratio daemon / process: **{ppm_daemon / ppm_process:.2f}** (target >= 0.9).", "",
        f"Latency file stable → attached: mean {total / count:.1f} s over {count:.0f} documents (it includes "
        "queueing: all files were stable at once at start-up).", "",
    ])
    out = ROOT / "bench" / "results" / ("watch-a4.md" if args.corpus else "watch.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
