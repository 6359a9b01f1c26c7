"""Benchmark that mirrors the counter (issue 14): small documents, one call or one daemon job each.

    .venv/bin/python -m bench.bench_counter [--docs 36] [--workers 2] [--label run-1]

On the held-out corpus of ``bench.counter_corpus`` (never tuned on), in one run, on the same files:
- ``sohoa process`` once per document, no signing (an OCR'd PDF/A, as OCRmyPDF makes), twice: with
  the default engine (``ocr.engine = "auto"``: tesserocr's bundled Tesseract) and with
  ``ocr.engine = "subprocess"`` (the system ``tesseract``, the same binary OCRmyPDF and raw run);
- OCRmyPDF once per document: ``-l vie --rotate-pages --rotate-pages-threshold 2`` (sohoa trusts
  Tesseract OSD from confidence 2, ``stages/clean.py``) ``--deskew --output-type pdfa --jobs W``, no
  ``--clean``; image documents are packed losslessly into one PDF with img2pdf first (not timed);
- raw ``tesseract IMAGE out -l vie`` per page, ``W`` pages at a time: the floor (recognition alone);
- these four interleaved document by document (the order rotates), so load drifts hit all alike;
- then ``sohoa batch`` over the document folders, and ``sohoa watch`` on a drop of the same folders
  (``subfolder`` grouping, dropped before it starts): both file into fresh SQLite records.
Every command runs under a wrapper that is a child subreaper and reports ``RUSAGE_CHILDREN`` (user +
system CPU of every descendant, helpers and pools included). ``os.getloadavg()`` is recorded before
and after each run. Results: ``bench/results/counter.json`` (by label) and ``counter.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from bench.bench_pipeline import MEASURE, pdf_page_texts
from bench.counter_corpus import SEED, CounterDoc, counter_corpus
from bench.counter_report import render, summarise

RESULTS = Path(__file__).resolve().parent / "results"
VENV_BIN = Path(sys.executable).parent
PROCESS_TOOLS = ("sohoa process", "sohoa process (subprocess engine)", "ocrmypdf", "raw tesseract")

class Measured:
    """One command under the wrapper: its wall time, its descendants' CPU, exit code and output."""

    def __init__(self, cmd: list[str], scratch: Path, *, cwd: Path | None = None, env: dict[str, str] | None = None):
        self.report = Path(tempfile.mkstemp(suffix=".json", dir=scratch)[1])
        self.output = self.report.with_suffix(".out")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, "-c", MEASURE, str(self.report), str(self.output), *cmd],
                                     cwd=cwd, env=env)

    def wait(self) -> tuple[int, float, float, str]:
        """(exit code, wall s, CPU s, output)."""
        self.proc.wait()
        wall = time.perf_counter() - self.started
        rc, cpu, _rss = json.loads(self.report.read_text())
        return rc, wall, cpu, self.output.read_text(encoding="utf-8", errors="replace")


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def _config(folder: Path, workers: int, engine: str, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sohoa.toml"
    path.write_text(f'data_dir = "{folder / "var"}"\n[ocr]\nlanguages = "vie"\nworkers = {workers}\n'
                    f'engine = "{engine}"\n{extra}', encoding="utf-8")
    return path


def run_sohoa(doc: CounterDoc, files: list[Path], out: Path, config: Path, workers: int, scratch: Path,
              env: dict[str, str]) -> dict[str, object]:
    cmd = [str(VENV_BIN / "sohoa"), "process", *map(str, files), "-o", str(out), "--json", "-q",
           "--sidecar", str(out.with_suffix(".txt")), "--jobs", str(workers), "--config", str(config)]
    rc, wall, cpu, text = Measured(cmd, scratch, env=env).wait()
    result: dict[str, object] = {"rc": rc, "wall_s": wall, "cpu_s": cpu}
    try:
        data = json.loads(text)
    except ValueError:
        data = {"error": text[-500:]}
    if rc == 0 and out.exists():
        details = data.get("page_details", [])
        result.update(texts=_sidecar(out, len(details)), layer_texts=pdf_page_texts(out, len(details)),
                      timings=data.get("timings", {}),
                      pages_out=len(details), seconds=data.get("seconds"),
                      ocr_reached=[bool(d.get("timings", {}).get("ocr")) for d in details],
                      blank=[bool(d.get("blank")) for d in details], rotation=[d.get("rotation") for d in details],
                      warnings=[w for d in details for w in d.get("warnings", [])])
    else:
        result.update(texts=[""] * len(doc.pages), error=data)
    return result


def run_ocrmypdf(doc: CounterDoc, source: Path, out: Path, workers: int, scratch: Path,
                 env: dict[str, str]) -> dict[str, object]:
    cmd = [str(VENV_BIN / "ocrmypdf"), "-l", "vie", "--rotate-pages", "--rotate-pages-threshold", "2", "--deskew",
           "--output-type", "pdfa", "-j", str(workers), "--tesseract-timeout", "180", "--sidecar",
           str(out.with_suffix(".txt")), "-q", str(source), str(out)]
    rc, wall, cpu, text = Measured(cmd, scratch, env=env).wait()
    if rc != 0 or not out.exists():
        return {"rc": rc, "wall_s": wall, "cpu_s": cpu, "texts": [""] * len(doc.pages), "error": text[-500:]}
    return {"rc": rc, "wall_s": wall, "cpu_s": cpu, "texts": _sidecar(out, len(doc.pages)),
            "layer_texts": pdf_page_texts(out, len(doc.pages)), "ocr_reached": [True] * len(doc.pages)}


def _sidecar(pdf: Path, pages: int) -> list[str]:
    """The tool's own text per page (its reading order; pages split at form feeds), or '' where missing."""
    path = pdf.with_suffix(".txt")
    texts = path.read_text(encoding="utf-8").split("\f") if path.exists() else []
    return (texts + [""] * pages)[:pages]


def run_raw(pages: list[Path], out: Path, workers: int, scratch: Path, env: dict[str, str]) -> dict[str, object]:
    out.mkdir(exist_ok=True)
    started = time.perf_counter()

    def one(page: Path) -> tuple[int, float]:
        rc, _wall, cpu, _text = Measured(["tesseract", str(page), str(out / page.stem), "-l", "vie"], scratch,
                                         env=env).wait()
        return rc, cpu

    with ThreadPoolExecutor(workers) as pool:
        done = list(pool.map(one, pages))
    texts = [(out / f"{p.stem}.txt").read_text(encoding="utf-8") if (out / f"{p.stem}.txt").exists() else ""
             for p in pages]
    return {"rc": max(r for r, _c in done), "wall_s": time.perf_counter() - started,
            "cpu_s": sum(c for _r, c in done), "texts": texts, "ocr_reached": [True] * len(pages)}


def _pack(files: list[Path], target: Path) -> Path:
    """OCRmyPDF's input: the scanner's PDF as it is, images packed losslessly by img2pdf."""
    if len(files) == 1 and files[0].suffix == ".pdf":
        return files[0]
    subprocess.run([str(VENV_BIN / "img2pdf"), *map(str, files), "-o", str(target)], check=True)
    return target


def per_document(docs: list[CounterDoc], src: Path, work: Path, workers: int, env: dict[str, str]
                 ) -> dict[str, list[dict[str, object]]]:
    """The four per-document peers, interleaved document by document (the order rotates)."""
    configs = {"sohoa process": _config(work / "cfg-auto", workers, "auto"),
               "sohoa process (subprocess engine)": _config(work / "cfg-subprocess", workers, "subprocess")}
    scratch = work / "scratch"
    scratch.mkdir()
    runs: dict[str, list[dict[str, object]]] = {t: [] for t in PROCESS_TOOLS}
    (work / "packed").mkdir()
    # One untimed document through each tool first: OCRmyPDF's first call on a machine builds caches
    # (seen at 14 s against 4–6 s after), and no tool should pay a one-off cost in the figures.
    for n, doc in [(-1, docs[0]), *enumerate(docs)]:
        files = sorted((src / doc.name).iterdir())
        packed = _pack(files, work / "packed" / f"{doc.name}.pdf")
        order = PROCESS_TOOLS[max(n, 0) % 4:] + PROCESS_TOOLS[:max(n, 0) % 4]
        for tool in order:
            before = _load()
            out = work / "out" / tool.split()[0] / f"{doc.name}-{len(runs[tool])}.pdf"
            out.parent.mkdir(parents=True, exist_ok=True)
            if tool.startswith("sohoa"):
                result = run_sohoa(doc, files, out, configs[tool], workers, scratch, env)
            elif tool == "ocrmypdf":
                result = run_ocrmypdf(doc, packed, out, workers, scratch, env)
            else:
                result = run_raw(doc.page_files(work / "raw-pages"), work / "raw-out", workers, scratch, env)
            result.update(doc=doc.name, pages=len(doc.pages), load=[before, _load()])
            runs[tool].append(result)
        if n < 0:  # the warm-up document
            print("  warm-up: " + ", ".join(f"{t} {runs[t][0]['wall_s']:.1f}s" for t in PROCESS_TOOLS),
                  file=sys.stderr, flush=True)
            runs = {t: [] for t in PROCESS_TOOLS}
            continue
        print(f"  {n + 1}/{len(docs)} {doc.name} ({len(doc.pages)} p): "
              + ", ".join(f"{t} {runs[t][-1]['wall_s']:.1f}s" for t in PROCESS_TOOLS), file=sys.stderr, flush=True)
    return runs


def run_batch(src: Path, work: Path, workers: int, env: dict[str, str]) -> dict[str, object]:
    config = _config(work, workers, "auto", f'[batch]\ngrouping = "folder"\nworkers = {workers}\n')
    before = _load()
    rc, wall, cpu, text = Measured([str(VENV_BIN / "sohoa"), "batch", str(src), "--json", "-q", "--config",
                                    str(config)], work, cwd=work, env=env).wait()
    summary = json.loads(text[text.index("{"):]) if "{" in text else {"error": text[-500:]}
    return {"rc": rc, "wall_s": summary.get("wall_s", wall), "process_wall_s": wall, "cpu_s": cpu,
            "documents": summary.get("processed"), "failed": summary.get("failed"), "pages": summary.get("pages"),
            "load": [before, _load()]}


def _stamp(line: str) -> float:
    return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()


def run_daemon(src: Path, work: Path, workers: int, count: int, env: dict[str, str]) -> dict[str, object]:
    """``sohoa watch`` on an inbox holding every document folder before it starts; stopped by SIGTERM."""
    inbox = work / "var" / "inbox"
    inbox.parent.mkdir(parents=True)
    shutil.copytree(src, inbox)
    config = _config(work, workers, "auto", "[watch]\nstable_seconds = 0.5\npoll_interval_s = 0.25\n"
                     f"documents_in_parallel = 2\nworkers = {workers}\nqueue_size = 4\nhealth_port = 0\n"
                     '[[watch.folders]]\npath = "inbox"\ngrouping = "subfolder"\nquiet_period_s = 1.0\n')
    before = _load()
    run = Measured([str(VENV_BIN / "sohoa"), "watch", "--config", str(config)], work, cwd=work, env=env)
    finished = re.compile(r" -> dossier \S+, (\d+) page\(s\), [0-9.]+ s, (\w+)")
    seen, progress = 0, time.monotonic()
    while time.monotonic() - progress < 600 and run.proc.poll() is None:  # stuck for 10 min: stop
        log = run.output.read_text(encoding="utf-8", errors="replace") if run.output.exists() else ""
        if len(finished.findall(log)) > seen:
            seen, progress = len(finished.findall(log)), time.monotonic()
        if seen >= count:
            break
        time.sleep(0.5)
    after = _load()
    run.proc.send_signal(signal.SIGTERM)
    rc, process_wall, cpu, log = run.wait()
    lines = log.splitlines()
    ends = [ln for ln in lines if finished.search(ln)]
    outcomes = [finished.search(ln).groups() for ln in ends]  # type: ignore[union-attr]
    first = min((_stamp(ln) for ln in lines if "watching" in ln), default=0.0)
    wall = max(_stamp(ln) for ln in ends) - first if ends and first else process_wall
    return {"rc": rc, "wall_s": wall, "process_wall_s": process_wall, "cpu_s": cpu,
            "documents": sum(1 for _p, o in outcomes if o == "done"),
            "failed": sum(1 for _p, o in outcomes if o != "done"),
            "pages": sum(int(p) for p, o in outcomes if o == "done"), "load": [before, after]}


def tool_versions() -> dict[str, str]:
    system = subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    bundled = subprocess.run([sys.executable, "-c", "import tesserocr;print(tesserocr.tesseract_version().split()[1])"],
                             capture_output=True, text=True).stdout.strip()
    ocrmypdf = subprocess.run([str(VENV_BIN / "ocrmypdf"), "--version"], capture_output=True, text=True).stdout.strip()
    return {"sohoa process": f"tesserocr helper, bundled Tesseract {bundled} (ocr.engine = auto)",
            "sohoa process (subprocess engine)": f"system {system} CLI per page (ocr.engine = subprocess)",
            "ocrmypdf": f"OCRmyPDF {ocrmypdf}, system {system} CLI", "raw tesseract": f"system {system} CLI",
            "sohoa batch": f"as sohoa process (auto, Tesseract {bundled})",
            "sohoa watch": f"as sohoa process (auto, Tesseract {bundled})"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=36)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--label", default="run-1")
    parser.add_argument("--seed", type=int, default=SEED, help="corpus seed (1414: the first held-out run)")
    parser.add_argument("--faces", choices=["seen", "fresh"], default="seen",
                        help="face set of bench.counter_pages.FACE_SETS ('fresh' was held out from all tuning)")
    args = parser.parse_args()
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    root = Path(tempfile.mkdtemp(prefix="sohoa-bench-counter-"))
    started = time.time()
    try:
        docs = counter_corpus(args.docs, seed=args.seed, work=root, faces=args.faces)
        src = root / "src"
        for doc in docs:
            doc.write(src / doc.name)
        print(f"corpus: {len(docs)} documents, {sum(len(d.pages) for d in docs)} pages", file=sys.stderr)
        load_start = _load()
        runs = per_document(docs, src, root / "per-doc", args.workers, env)
        batch = run_batch(src, root / "batch", args.workers, env)
        daemon = run_daemon(src, root / "daemon", args.workers, len(docs), env)
        entry = summarise(docs, runs, batch, daemon)
        entry.update(seed=args.seed, faces=args.faces, workers=args.workers, cores=len(os.sched_getaffinity(0)),
                     versions=tool_versions(),
                     load_start=load_start, load_end=_load(), minutes=round((time.time() - started) / 60, 1),
                     date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    store = RESULTS / "counter.json"
    data = json.loads(store.read_text(encoding="utf-8")) if store.exists() else {}
    data[args.label] = entry
    store.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    report = render(data)
    (RESULTS / "counter.md").write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
