"""Benchmark: the fixed cost of a small document (issue 14), through the CLI, the batch and the daemon.

Usage: ``.venv/bin/python -m bench.bench_per_document [--docs 16] [--label after]``. Documents of 1–4
A5 pages at 200 dpi (JPEG, the corpus's Vietnamese), each signed B-B by a PKCS#12 test key and filed
in its own dossier (SQLite records), with the same settings in all three runs and 2 page workers:
- ``cli``: one ``sohoa process --sign digitizer --dossier CODE --json`` per document, one after the
  other (what a counter script does); its JSON ``timings`` give the per-document steps;
- ``batch``: ``sohoa batch SRC --workers 2`` over the same documents (folder = document);
- ``daemon``: the same folders dropped in a ``subfolder`` inbox before the daemon starts; from its
  "watching" line to the last attach, steps from ``/metrics`` (``sohoa_watch_stage_seconds``).
Results of each label go to ``bench/results/per-document.json``; ``per-document.md`` is written from it.
Why small documents: the fixed cost per document is what a counter's stream of 1–4 page dossier
components pays; long documents hide it behind OCR.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.bench_batch import make_batch
from tests.durability import WriteCommits
from tests.pki.builder import build_pkis
from tests.services import refused_url
from tests.watch.conftest import P12_ENV, DaemonRun, wait_for

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
STEPS = ("ingest", "pages", "assemble", "pdfa", "write", "sign", "gate", "attach")
PAGE_STAGES = ("load", "clean", "ocr", "prepare")


def _docs(src: Path, count: int) -> list[Path]:
    """``count`` document folders of 1, 2, 3, 4, 1, … pages (named by their dossier code)."""
    made = src / "made"
    for pages in range(1, 5):
        make_batch(made / str(pages), (count + 4 - pages) // 4, pages, seed=pages)
    folders = sorted(made.glob("*/*"), key=lambda p: (p.name, p.parent.name))
    src.joinpath("docs").mkdir()
    out = []
    for n, folder in enumerate(folders, start=1):
        target = src / "docs" / f"000.00.31.H50-240302-{n:04d}"
        shutil.move(folder, target)
        out.append(target)
    shutil.rmtree(made)
    return out


def _cpu_children() -> float:
    usage = os.times()
    return usage.children_user + usage.children_system


def run_cli(docs: list[Path], config: Path, work: Path, env: dict[str, str]) -> dict[str, object]:
    steps: dict[str, list[float]] = {s: [] for s in STEPS}
    walls: list[float] = []
    cpu_before = _cpu_children()
    started = time.perf_counter()
    for doc in docs:
        mark = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "sohoa.cli", "process", *map(str, sorted(doc.iterdir())),
                               "-o", str(work / f"{doc.name}.pdf"), "--sign", "digitizer", "--dossier", doc.name,
                               "--json", "-q", "--config", str(config)], cwd=work, env=env, capture_output=True,
                              text=True, check=False)
        if done.returncode:
            raise SystemExit(f"sohoa process failed ({done.returncode}): {done.stderr[-2000:]}")
        walls.append(time.perf_counter() - mark)
        timings = json.loads(done.stdout).get("timings", {})
        for step in STEPS:
            steps[step].append(float(timings.get(step, 0.0)))
    wall = time.perf_counter() - started
    return {"wall_s": round(wall, 2), "docs_per_min": round(len(docs) / wall * 60, 1),
            "median_doc_s": round(statistics.median(walls), 3),
            "cpu_per_doc_s": round((_cpu_children() - cpu_before) / len(docs), 3),
            "steps_mean_s": {s: round(statistics.mean(v), 4) for s, v in steps.items()}}


def run_batch(docs: list[Path], config_text: str, work: Path, env: dict[str, str]) -> dict[str, object]:
    work.mkdir(parents=True)
    (work / "sohoa.toml").write_text(config_text + '\n[batch]\ngrouping = "folder"\nsign_profiles = ["digitizer"]\n'
                                     'workers = 2\n', encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "sohoa.cli", "batch", str(docs[0].parent), "--json", "-q"],
                          cwd=work, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"sohoa batch failed ({done.returncode}): {done.stderr[-2000:]}")
    summary = json.loads(done.stdout)
    return {"wall_s": round(summary["wall_s"], 2), "docs_per_min": round(len(docs) / summary["wall_s"] * 60, 1)}


def _stamp(line: str) -> float:
    from datetime import datetime

    return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()


def run_daemon(docs: list[Path], pki: object, root: Path) -> dict[str, object]:
    run = DaemonRun(root, pki, [{"path": "inbox", "grouping": "subfolder", "sign_profiles": ["digitizer"]}],
                    {"workers": 2, "documents_in_parallel": 2, "queue_size": 4, "stable_seconds": 0.5})
    run.root.mkdir()
    run.write_config()
    inbox = run.inbox()
    inbox.mkdir(parents=True)
    for doc in docs:
        shutil.copytree(doc, inbox / doc.name)
    run.start()
    wait_for(lambda: len([ln for ln in run.log_text().splitlines() if re.search(r" -> dossier .* done$", ln)])
             >= len(docs), 1800, "all documents filed", run)
    metrics = run.metrics()
    assert run.stop() == 0
    log = run.log_text().splitlines()
    first = min(_stamp(ln) for ln in log if "watching" in ln)
    last = max(_stamp(ln) for ln in log if re.search(r" -> dossier .* done$", ln))
    wall = last - first
    steps = {}
    for step in (*STEPS, *PAGE_STAGES):
        found = re.search(rf'sohoa_watch_stage_seconds_sum{{stage="{step}"}} ([0-9.e+-]+)', metrics)
        steps[step] = round(float(found.group(1)) / len(docs), 4) if found else 0.0
    return {"wall_s": round(wall, 2), "docs_per_min": round(len(docs) / wall * 60, 1), "steps_mean_s": steps}


class _Fsyncs:
    """Counts this process's file and folder fsyncs (``os.fsync``; the page workers write nothing durable)."""

    def __init__(self) -> None:
        self.count = 0
        self._real = os.fsync
        os.fsync = self._fsync

    def _fsync(self, fd: int) -> None:
        self.count += 1
        self._real(fd)

    def close(self) -> None:
        os.fsync = self._real


def run_in_process(docs: list[Path], config_text: str, work: Path, password: str) -> dict[str, object]:
    """The documents through ``run_document_job`` in this process, one warm pool: the daemon's fixed cost.

    Why: wall times on a shared machine move with its load; the CPU this process spends on a document
    (everything but the pages, which are in the workers) is what the daemon's single process pays per
    document, and it moves much less. The first two documents warm the pool and are not counted. The
    job is the daemon's (``audit_with_attach``, and ``common.heap`` after each job, where the code has
    them); fsyncs and the database commits
    that wrote (each one WAL fsync with SQLite's ``synchronous = FULL``: ``tests.durability``) are
    counted per document, and the load average is read before and after.
    """
    from sohoa.config.settings import load_settings
    from sohoa.pipeline.executor import PageExecutor
    from sohoa.pipeline.job import DocumentJob, run_document_job
    from sohoa.records.service import Records

    work.mkdir(parents=True)
    config = work / "sohoa.toml"
    config.write_text(config_text.replace('data_dir = "var"', f'data_dir = "{work / "var"}"'), encoding="utf-8")
    os.environ[P12_ENV] = password
    settings = load_settings(config)
    steps: dict[str, list[float]] = {s: [] for s in STEPS}
    cpu: list[float] = []
    walls: list[float] = []
    fsyncs: list[int] = []
    commits: list[int] = []
    daemon_job = {"audit_with_attach": True} if "audit_with_attach" in DocumentJob.__dataclass_fields__ else {}
    try:
        from sohoa.common.heap import settle_after_job as settle
    except ImportError:  # code from before common.heap
        settle = None
    load_before = os.getloadavg()[0]
    with Records.open(settings.records, settings.data_dir) as records, PageExecutor(2) as executor:
        fsynced, committed = _Fsyncs(), WriteCommits(records.engine)
        try:
            for n, doc in enumerate(docs):
                job = DocumentJob(inputs=sorted(doc.iterdir()), output=work / f"{doc.name}.pdf", dossier_code=doc.name,
                                  sign_profiles=["digitizer"], **daemon_job)  # type: ignore[arg-type]
                mark, mark_cpu = time.perf_counter(), time.process_time()
                before = (fsynced.count, committed.count)
                result = run_document_job(job, settings, records=records, executor=executor)
                if settle is not None:
                    settle()  # as the daemon does after each job (common.heap, where the code has it)
                if n < 2:
                    continue
                walls.append(time.perf_counter() - mark)
                cpu.append(time.process_time() - mark_cpu)
                fsyncs.append(fsynced.count - before[0])
                commits.append(committed.count - before[1])
                for step in STEPS:
                    steps[step].append(float(getattr(result, "timings", {}).get(step, 0.0)))
        finally:
            fsynced.close()
    return {"wall_per_doc_s": round(statistics.mean(walls), 3), "main_cpu_per_doc_s": round(statistics.mean(cpu), 3),
            "fsyncs_per_doc": round(statistics.mean(fsyncs), 2),
            "db_commits_per_doc": round(statistics.mean(commits), 2),
            "load": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "steps_mean_s": {s: round(statistics.mean(v), 4) for s, v in steps.items()}}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=16)
    parser.add_argument("--label", default="after")
    parser.add_argument("--only", choices=["in_process"], help="run only this part (and keep the label's others)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-perdoc-"))
    try:
        pki = build_pkis(root / "pki", refused_url(""))[1]["sohoa"]  # B-B signing fetches nothing
        docs = _docs(root / "src", args.docs)
        pages = sum(len(list(d.iterdir())) for d in docs)
        probe = DaemonRun(root / "probe", pki, [])
        probe.root.mkdir()
        probe.write_config()
        config_text = probe.config.read_text(encoding="utf-8").split("[watch]")[0].replace("workers = 1",
                                                                                           "workers = 2")
        (root / "cli").mkdir()
        config = root / "cli" / "sohoa.toml"
        config.write_text(config_text, encoding="utf-8")
        env = {**os.environ, P12_ENV: pki.signer("digitizer").p12_password, "OMP_THREAD_LIMIT": "1"}
        store = RESULTS / "per-document.json"
        data = json.loads(store.read_text(encoding="utf-8")) if store.exists() else {}
        entry = data.get(args.label, {}) if args.only else {}
        entry.update({"docs": len(docs), "pages": pages, "cores": len(os.sched_getaffinity(0))})
        if not args.only:
            entry.update({"cli": run_cli(docs, config, root / "cli", env),
                          "batch": run_batch(docs, config_text, root / "batch", env),
                          "daemon": run_daemon(docs, pki, root / "daemon")})
        entry["in_process"] = run_in_process(docs, config_text, root / "in-process", env[P12_ENV])
        entry["load_after"] = round(os.getloadavg()[0], 2)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    data[args.label] = entry
    store.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    report = render(data)
    (RESULTS / "per-document.md").write_text(report, encoding="utf-8")
    print(report)
    return 0


def render(data: dict[str, dict]) -> str:
    lines = ["# Per-document cost of small documents (issue 14)", "",
             "Documents of 1–4 A5 pages at 200 dpi (JPEG), OCR `vie`, signed B-B (PKCS#12), filed in SQLite "
             "records; 2 page workers. Written by `python -m bench.bench_per_document --label LABEL`.", "",
             "## Throughput", "", "| label | docs (pages) | CLI docs/min | batch docs/min | daemon docs/min | "
             "daemon / batch | CLI median s/doc | CLI CPU s/doc | load |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for label, e in data.items():
        if "cli" not in e:  # an in-process-only run (--only in_process)
            continue
        cli, batch, daemon = e["cli"], e["batch"], e["daemon"]
        ratio = daemon["docs_per_min"] / batch["docs_per_min"]
        lines.append(f"| {label} | {e['docs']} ({e['pages']}) | {cli['docs_per_min']} | {batch['docs_per_min']}"
                     f" | {daemon['docs_per_min']} | {ratio:.2f} | {cli['median_doc_s']} | {cli['cpu_per_doc_s']}"
                     f" | {e['load_after']} |")
    lines += ["", "## The daemon's fixed cost: one process, one warm pool, documents one after the other", "",
              "CPU of the calling process per document (everything but the pages, which run in the workers), "
              "and its wall time; the first two documents are not counted.", "",
              "| label | main-process CPU s/doc | wall s/doc | sign | gate | attach | assemble + pdfa + write "
              "| fsyncs/doc | DB write commits/doc | load |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for label, e in data.items():
        p = e.get("in_process")
        if p:
            st = p["steps_mean_s"]
            rest = st.get("assemble", 0) + st.get("pdfa", 0) + st.get("write", 0)
            cells = [f"{st[k]:.3f}" for k in ("sign", "gate", "attach")] + [f"{rest:.3f}"]
            if not any(st.values()):  # code from before the step timings
                cells = ["-"] * 4
            load = p.get("load")
            cells += [str(p.get("fsyncs_per_doc", "-")), str(p.get("db_commits_per_doc", "-")),
                      "–".join(str(v) for v in load) if load else str(e.get("load_after", "-"))]
            lines.append(f"| {label} | {p['main_cpu_per_doc_s']:.3f} | {p['wall_per_doc_s']:.3f} | "
                         + " | ".join(cells) + " |")
    timed = {label: e for label, e in data.items()
             if "cli" in e and any(e["cli"]["steps_mean_s"].values())}  # code with timings
    lines += ["", "## Where a document's time goes (mean seconds per document, wall, in the document's process)", "",
              "`pages` is the page pool from first submit to last page back (load, clean, OCR, prepare in the "
              "workers, and in the CLI the pool's start); the daemon's page stages are summed per document.", "",
              "| step | " + " | ".join(f"{label} CLI | {label} daemon" for label in timed) + " |",
              "|---|" + "---:|---:|" * len(timed)]
    for step in (*STEPS, *PAGE_STAGES):
        cells = []
        for e in timed.values():
            cli = e["cli"]["steps_mean_s"].get(step)
            cells += ["-" if cli is None else f"{cli:.3f}", f"{e['daemon']['steps_mean_s'].get(step, 0.0):.3f}"]
        lines.append(f"| {step} | " + " | ".join(cells) + " |")
    lines.append("")
    notes = RESULTS / "per-document-notes.md"  # the reading of these numbers, written by hand
    if notes.exists():
        lines += [notes.read_text(encoding="utf-8").rstrip(), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
