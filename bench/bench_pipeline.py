"""Pipeline benchmark: ``sohoa process`` vs OCRmyPDF vs raw Tesseract on the same synthetic scans, one run.

    .venv/bin/python -m bench.bench_pipeline --pages 24 [--long 200]

Peers (same pages, same run, same machine):
- ``sohoa process`` on all page files as one document (CLI, one process, page-parallel workers);
- ``ocrmypdf -l vie+eng --rotate-pages --deskew --clean --output-type pdfa`` on the same pages packed
  losslessly into one image-only PDF (img2pdf);
- raw ``tesseract -l vie+eng`` on each unprocessed image (the floor: recognition alone).

Reported per peer: pages/min (wall), CPU s/page (all descendant processes, from rusage), character
and word error rate vs ground truth (NFC, whitespace collapsed), the same split by degradation tag,
bytes/page, peak RSS of the largest process, and pages whose OCR failed or came back empty (OCRmyPDF
skips a page that times out and still exits 0: such pages count as failures). ``--long N`` also runs
``sohoa process`` on an N-page document to show memory stays flat. Results go to
``bench/results/pipeline.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from bench.corpus import SyntheticPage, corpus

RESULTS = Path(__file__).resolve().parent / "results"
VENV_BIN = Path(sys.executable).parent


@dataclass
class PeerRun:
    name: str
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    output_bytes: int = 0
    page_bytes: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    exit_code: int = 0


def normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def error_rates(truth: str, found: str) -> tuple[float, float]:
    t, f = normalise(truth), normalise(found)
    cer = Levenshtein.distance(t, f) / max(1, len(t))
    tw, fw = t.split(), f.split()
    wer = Levenshtein.distance(tw, fw) / max(1, len(tw))
    return cer, wer


# The wrapper makes itself a child subreaper, so worker processes that outlive their parent (a
# forkserver's children, a warm OCR helper) are re-parented to it and reaped here: their CPU time then
# counts in RUSAGE_CHILDREN like everyone else's. Arguments: report file, output file, command; a
# SIGTERM is passed on to the command (bench_counter stops the daemon that way).
MEASURE = (
    "import ctypes,json,os,resource,signal,subprocess,sys\n"
    "ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)\n"
    "out = open(sys.argv[2], 'wb')\n"
    "p = subprocess.Popen(sys.argv[3:], stdout=out, stderr=subprocess.STDOUT if sys.argv[2] != os.devnull else None)\n"
    "signal.signal(signal.SIGTERM, lambda *_: p.send_signal(signal.SIGTERM))\n"
    "rc = p.wait()\n"
    "while True:\n"
    "    try:\n"
    "        os.wait()\n"
    "    except ChildProcessError:\n"
    "        break\n"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "open(sys.argv[1], 'w').write(json.dumps([rc, u.ru_utime + u.ru_stime, u.ru_maxrss]))\n"
)


def run_measured(name: str, commands: list[list[str]], *, parallel: int = 1, env: dict[str, str] | None = None,
                 ) -> PeerRun:
    """Run commands (``parallel`` at a time), each under a wrapper that reports its descendants' CPU
    time and the peak RSS of the largest one, so peers never see each other's numbers."""
    started = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="measure-"))

    def one(item: tuple[int, list[str]]) -> tuple[int, float, float]:
        index, cmd = item
        report = scratch / f"{index}.json"
        subprocess.run([sys.executable, "-c", MEASURE, str(report), os.devnull, *cmd], env=env, check=False)
        rc, cpu, rss_kb = json.loads(report.read_text())
        if rc != 0:
            print(f"  {name}: command {index} exited {rc}", file=sys.stderr)
        return rc, cpu, rss_kb / 1024

    with ThreadPoolExecutor(parallel) as pool:
        results = list(pool.map(one, enumerate(commands)))
    shutil.rmtree(scratch, ignore_errors=True)
    return PeerRun(name=name, wall_s=time.perf_counter() - started, cpu_s=sum(r[1] for r in results),
                   peak_rss_mb=max(r[2] for r in results), exit_code=max(r[0] for r in results))


def pdf_page_bytes(pdf: Path) -> list[int]:
    """Compressed bytes each page's images and content streams take in ``pdf`` (shared objects once)."""
    import pikepdf

    sizes: list[int] = []
    with pikepdf.open(pdf) as doc:
        for page in doc.pages:
            total = sum(len(c.read_raw_bytes()) for c in ([page.Contents] if isinstance(page.Contents, pikepdf.Stream)
                                                          else list(page.Contents)))
            xobjects = page.resources.get("/XObject", {})
            total += sum(len(xobjects[name].read_raw_bytes()) for name in xobjects.keys())
            sizes.append(total)
    return sizes


def pdf_page_texts(pdf: Path, count: int) -> list[str]:
    texts = []
    for n in range(1, count + 1):
        done = subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), "-enc", "UTF-8", str(pdf), "-"],
                              capture_output=True, check=False)
        texts.append(done.stdout.decode("utf-8", "replace") if done.returncode == 0 else "")
    return texts


def write_pages(pages: list[SyntheticPage], folder: Path) -> list[Path]:
    paths = []
    for index, page in enumerate(pages):
        data, suffix = page.encode()
        path = folder / f"page-{index + 1:04d}{suffix}"
        path.write_bytes(data)
        paths.append(path)
    return paths


def bench(count: int, workers: int, long_pages: int, timeout: int) -> dict[str, object]:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    pages = corpus(count)
    work = Path(tempfile.mkdtemp(prefix="sohoa-bench-"))
    try:
        scans = write_pages(pages, work)
        input_bytes = sum(p.stat().st_size for p in scans)
        runs: list[PeerRun] = []

        out = work / "sohoa.pdf"
        sohoa = run_measured("sohoa process", [[str(VENV_BIN / "sohoa"), "process", *map(str, scans), "-o", str(out),
                                                "--jobs", str(workers), "-q"]], env=env)
        sohoa.output_bytes = out.stat().st_size if out.exists() else 0
        sohoa.texts = pdf_page_texts(out, count) if out.exists() else [""] * count
        sohoa.page_bytes = pdf_page_bytes(out) if out.exists() else []
        runs.append(sohoa)

        packed = work / "input.pdf"
        subprocess.run([str(VENV_BIN / "img2pdf"), *map(str, scans), "-o", str(packed)], check=True)
        out = work / "ocrmypdf.pdf"
        ocrmypdf = run_measured("ocrmypdf", [[str(VENV_BIN / "ocrmypdf"), "-l", "vie+eng", "--rotate-pages",
                                              "--deskew", "--clean", "--output-type", "pdfa", "-j", str(workers),
                                              "--tesseract-timeout", str(timeout), "-q", str(packed), str(out)]],
                                env=env)
        ocrmypdf.output_bytes = out.stat().st_size if out.exists() else 0
        ocrmypdf.texts = pdf_page_texts(out, count) if out.exists() else [""] * count
        ocrmypdf.page_bytes = pdf_page_bytes(out) if out.exists() else []
        runs.append(ocrmypdf)

        raw_out = work / "raw"
        raw_out.mkdir()
        raw = run_measured("raw tesseract", [["tesseract", str(p), str(raw_out / p.stem), "-l", "vie+eng"]
                                             for p in scans], parallel=workers, env=env)
        raw.texts = [(raw_out / f"{p.stem}.txt").read_text(encoding="utf-8") if (raw_out / f"{p.stem}.txt").exists()
                     else "" for p in scans]
        runs.append(raw)

        report: dict[str, object] = {"pages": count, "workers": workers, "input_bytes_per_page": input_bytes // count,
                                     "peers": {}, "bytes_by_source": bytes_by_source(scans, runs)}
        for run in runs:
            report["peers"][run.name] = summarise(run, pages)  # type: ignore[index]
        if long_pages:
            report["long_document"] = long_document(long_pages, workers, work, env)
        return report
    finally:
        shutil.rmtree(work, ignore_errors=True)


def bytes_by_source(scans: list[Path], runs: list[PeerRun]) -> dict[str, dict[str, int]]:
    """Mean bytes/page per kind of scan: input, and each peer's page images + content in its PDF."""
    kinds = {".jpg": "jpeg scans", ".png": "lossless colour scans", ".tif": "bitonal scans"}
    table: dict[str, dict[str, int]] = {}
    for suffix, kind in kinds.items():
        indexes = [i for i, p in enumerate(scans) if p.suffix == suffix]
        if not indexes:
            continue
        row = {"pages": len(indexes), "input": sum(scans[i].stat().st_size for i in indexes) // len(indexes)}
        for run in runs:
            if run.page_bytes:
                row[run.name] = sum(run.page_bytes[i] for i in indexes) // len(indexes)
        table[kind] = row
    return table


def summarise(run: PeerRun, pages: list[SyntheticPage]) -> dict[str, object]:
    per_tag: dict[str, list[float]] = defaultdict(list)
    cers, wers, failed = [], [], 0
    for page, text in zip(pages, run.texts, strict=True):
        cer, wer = error_rates(page.text, text)
        cers.append(cer)
        wers.append(wer)
        if not normalise(text):
            failed += 1
        tags = page.degradation.tags() or ["clean"]
        if page.dpi < 300:
            tags.append("200dpi")
        for tag in tags:
            per_tag[tag].append(cer)
    count = len(pages)
    return {
        "pages_per_min": round(count / run.wall_s * 60, 1),
        "cpu_s_per_page": round(run.cpu_s / count, 2),
        "cer": round(sum(cers) / count, 4),
        "wer": round(sum(wers) / count, 4),
        "cer_by_tag": {tag: round(sum(v) / len(v), 4) for tag, v in sorted(per_tag.items())},
        "bytes_per_page": run.output_bytes // count if run.output_bytes else None,
        "peak_rss_mb": round(run.peak_rss_mb, 1),
        "failed_or_empty_pages": failed,
        "exit_code": run.exit_code,
    }


def long_document(count: int, workers: int, work: Path, env: dict[str, str]) -> dict[str, object]:
    """Peak RSS of one ``sohoa process`` run over ``count`` pages (memory must not grow with length)."""
    folder = work / "long"
    folder.mkdir()
    scans = write_pages(corpus(min(count, 12), seed=7), folder)
    linked = []
    for index in range(count):
        source = scans[index % len(scans)]
        target = folder / f"long-{index + 1:04d}{source.suffix}"
        os.link(source, target)
        linked.append(target)
    out = work / "long.pdf"
    # VmHWM, not ru_maxrss: Linux carries the parent's high-water mark across fork+exec into ru_maxrss,
    # and this benchmark process is large (it rendered the corpus).
    probe = ("import sys;from sohoa.cli.main import main;rc=main(sys.argv[1:]);"
             "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0], file=sys.stderr);"
             "sys.exit(rc)")
    cmd = [str(VENV_BIN / "python"), "-c", probe, "process", *map(str, linked), "-o", str(out),
           "--jobs", str(workers), "-q"]
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, env=env, check=False)
    wall = time.perf_counter() - started
    main_rss = int(done.stderr.decode().strip().splitlines()[-1]) / 1024 if done.returncode == 0 else None
    return {"pages": count, "exit_code": done.returncode, "wall_s": round(wall, 1),
            "main_process_peak_rss_mb": main_rss and round(main_rss, 1),
            "bytes_per_page": out.stat().st_size // count if out.exists() else None}


def to_markdown(report: dict[str, object]) -> str:
    peers: dict[str, dict[str, object]] = report["peers"]  # type: ignore[assignment]
    lines = [f"# Pipeline benchmark — {report['pages']} synthetic pages, {report['workers']} workers",
             "", f"Input: {report['input_bytes_per_page']} bytes/page on average.", "",
             "| peer | pages/min | CPU s/page | CER | WER | bytes/page | peak RSS MB | failed/empty pages |",
             "|---|---|---|---|---|---|---|---|"]
    for name, s in peers.items():
        lines.append(f"| {name} | {s['pages_per_min']} | {s['cpu_s_per_page']} | {s['cer']:.2%} | {s['wer']:.2%} | "
                     f"{s['bytes_per_page'] or '-'} | {s['peak_rss_mb']} | {s['failed_or_empty_pages']} |")
    tags = sorted({t for s in peers.values() for t in s["cer_by_tag"]})  # type: ignore[attr-defined]
    lines += ["", "CER by degradation tag:", "", "| peer | " + " | ".join(tags) + " |",
              "|---|" + "---|" * len(tags)]
    for name, s in peers.items():
        by_tag = s["cer_by_tag"]
        lines.append(f"| {name} | " + " | ".join(f"{by_tag[t]:.2%}" if t in by_tag else "-" for t in tags) + " |")
    if "sohoa process" in peers and "ocrmypdf" in peers and "raw tesseract" in peers:
        so, om, raw = peers["sohoa process"], peers["ocrmypdf"], peers["raw tesseract"]
        lines += ["", "Ratios (sohoa vs peer):", "",
                  f"- CPU s/page vs raw tesseract: {so['cpu_s_per_page'] / max(raw['cpu_s_per_page'], 1e-9):.2f}x "
                  "(target <= 2x)",
                  f"- throughput vs OCRmyPDF: {so['pages_per_min'] / max(om['pages_per_min'], 1e-9):.2f}x "
                  "(target >= 4x)",
                  f"- CER vs OCRmyPDF: {so['cer'] / max(om['cer'], 1e-9):.2f}x (target <= 0.5x)"]
        if so["bytes_per_page"] and om["bytes_per_page"]:
            ratio = so["bytes_per_page"] / om["bytes_per_page"]
            lines.append(f"- bytes/page vs OCRmyPDF: {ratio:.2f}x (target <= 0.5x)")
    by_source = report.get("bytes_by_source") or {}
    if by_source:
        names = [n for n in peers if any(n in row for row in by_source.values())]
        lines += ["", "Bytes/page by kind of scan (page images + content streams):", "",
                  "| scans | pages | input | " + " | ".join(names) + " |", "|---|---|---|" + "---|" * len(names)]
        for kind, row in by_source.items():
            lines.append(f"| {kind} | {row['pages']} | {row['input']} | "
                         + " | ".join(str(row.get(n, "-")) for n in names) + " |")
    if "long_document" in report:
        lines += ["", f"Long document: {json.dumps(report['long_document'])}"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=24)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--long", type=int, default=0, help="also run an N-page document for memory")
    parser.add_argument("--timeout", type=int, default=180, help="per-page OCR timeout given to OCRmyPDF")
    args = parser.parse_args()
    report = bench(args.pages, args.workers, args.long, args.timeout)
    report["machine"] = {"cores": os.cpu_count(), "date": time.strftime("%Y-%m-%d")}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "pipeline.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    markdown = to_markdown(report)
    (RESULTS / "pipeline.md").write_text(markdown, encoding="utf-8")
    print(markdown)


if __name__ == "__main__":
    main()
