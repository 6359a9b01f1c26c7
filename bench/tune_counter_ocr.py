"""OCR tuning on the counter corpus's TUNING split: sohoa's page path (as ``sohoa process`` runs it) vs raw
Tesseract (and OCRmyPDF once), CER per page family and damage.

Why a script of its own: ``bench.bench_counter`` measures the held-out corpus end to end (timing, the
daemon, the batch); tuning needs only the text of each page, many times over, with one setting changed.
The pages are ``counter_corpus(N, seed=S, faces="seen")`` for tuning seeds (77, 78, 79, any below 1000):
never the held-out seeds (1414, 2718) nor the fresh faces, which this script refuses.

Each page goes through ``pipeline.pages.process_page`` (ingest → clean → orientation → OCR; the text
``sohoa process --sidecar`` writes for it) with the default settings plus ``--set section.key=value``
overrides, ``ocr.engine = "subprocess"`` by default (the system tesseract, the one raw and OCRmyPDF run).

    .venv/bin/python -m bench.tune_counter_ocr generate --seed 77 --count 40
    .venv/bin/python -m bench.tune_counter_ocr run --seed 77 --label base
    .venv/bin/python -m bench.tune_counter_ocr run --seed 77 --label no-aa --set ocr.antialias_bitonal=false
    .venv/bin/python -m bench.tune_counter_ocr raw --seed 77
    .venv/bin/python -m bench.tune_counter_ocr report --seed 77 base no-aa raw
    .venv/bin/python -m bench.tune_counter_ocr others   # the other benchmarks' tuning pages, as --seed 0
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import tomllib
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench.bench_pipeline import error_rates

HELD_OUT_SEEDS = {1414, 2718}
WORK = Path(os.environ.get("SOHOA_TUNE_WORK", "/work/tune-counter"))
VENV_BIN = Path(sys.executable).parent


def _folder(seed: int) -> Path:
    if seed in HELD_OUT_SEEDS or seed >= 1000:
        raise SystemExit(f"seed {seed} is held out: tune on seeds below 1000 only")
    return WORK / f"seed{seed}"


def generate(seed: int, count: int) -> None:
    """Draw the corpus once; the documents' files, one file per page, and the truth go under WORK."""
    from bench.counter_corpus import counter_corpus

    folder = _folder(seed)
    docs = counter_corpus(count, seed=seed, faces="seen", dpis=(200, 300, 300))
    pages = []
    for doc in docs:
        files = doc.write(folder / "docs" / doc.name)
        singles = doc.page_files(folder / "pages")
        for n, page in enumerate(doc.pages):
            pages.append({"doc": doc.name, "fmt": doc.fmt, "n": n, "files": [str(f) for f in files],
                          "single": str(singles[n]), "family": page.family, "face": page.face,
                          "tags": page.tags, "dpi": page.dpi, "truth": page.text})
    (folder / "pages.json").write_text(json.dumps(pages, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"{len(docs)} documents, {len(pages)} pages in {folder}")


def generate_others(count: int) -> None:
    """The other benchmarks' tuning pages under WORK/seed0 in the same layout, to check a change does not
    hurt them: ``bench.vietnamese_corpus`` tuning split (PIL + Liberation, seed 11) and ``bench.corpus``
    (seed 2026). Family = which corpus, face = the font, tags = the damage."""
    from bench.corpus import corpus
    from bench.vietnamese_corpus import vietnamese_corpus

    folder = WORK / "seed0"
    (folder / "pages").mkdir(parents=True, exist_ok=True)
    pages = []
    for n, page in enumerate(vietnamese_corpus(count, held_out=False, work=folder)):
        path = folder / "pages" / f"vi-{n:03d}{'.tif' if page.image.mode == '1' else '.png'}"
        if page.image.mode == "1":
            page.image.save(path, compression="group4", dpi=(page.dpi, page.dpi))
        else:
            page.image.save(path, dpi=(page.dpi, page.dpi))
        pages.append({"doc": f"vi-{n:03d}", "fmt": path.suffix, "n": 0, "files": [str(path)], "single": str(path),
                      "family": "vietnamese tuning", "face": page.font, "tags": [page.degradation],
                      "dpi": page.dpi, "truth": page.text})
    for n, synthetic in enumerate(corpus(count)):
        data, suffix = synthetic.encode()
        path = folder / "pages" / f"corpus-{n:03d}{suffix}"
        path.write_bytes(data)
        pages.append({"doc": f"corpus-{n:03d}", "fmt": suffix, "n": 0, "files": [str(path)], "single": str(path),
                      "family": "corpus 2026", "face": synthetic.font.name, "tags": [], "dpi": synthetic.dpi,
                      "truth": synthetic.text})
    (folder / "pages.json").write_text(json.dumps(pages, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"{len(pages)} pages in {folder}")


def _settings(overrides: list[str]) -> object:
    from sohoa.config.settings import Settings

    data: dict[str, dict[str, object]] = {"ocr": {"engine": "subprocess", "workers": 1}}
    for item in overrides:
        key, _sep, value = item.partition("=")
        section, name = key.split(".", 1)
        data.setdefault(section, {})[name] = tomllib.loads(f"v = {value}")["v"]
    return Settings.model_validate(data)


def _one_doc(job: tuple[list[str], object, int]) -> list[str]:
    from sohoa.pipeline.pages import process_page
    from sohoa.stages.ingest import scan_inputs

    files, settings, _count = job
    refs = scan_inputs([Path(f) for f in files], settings.ingest)  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory(prefix="sohoa-tune-") as spool:
        return [process_page((ref, settings, Path(spool), False)).report.text for ref in refs]


def run(seed: int, label: str, overrides: list[str], only: str | None) -> None:
    folder = _folder(seed)
    pages = json.loads((folder / "pages.json").read_text(encoding="utf-8"))
    settings = _settings(overrides)
    docs: dict[str, list[str]] = {}
    for p in pages:
        if only is None or any(p2["family"] == only for p2 in pages if p2["doc"] == p["doc"]):
            docs.setdefault(p["doc"], p["files"])
    os.environ["OMP_THREAD_LIMIT"] = "1"
    with ProcessPoolExecutor(int(os.environ.get("TUNE_WORKERS", "2"))) as pool:
        texts = dict(zip(docs, pool.map(_one_doc, [(f, settings, 0) for f in docs.values()]), strict=True))
    out = [texts[p["doc"]][p["n"]] if p["doc"] in texts and p["n"] < len(texts[p["doc"]]) else None
           for p in pages]
    (folder / f"run-{label}.json").write_text(json.dumps({"overrides": overrides, "texts": out},
                                                         ensure_ascii=False), encoding="utf-8")
    report(seed, [label])


def raw(seed: int) -> None:
    """Raw ``tesseract PAGE out -l vie`` per page file: the floor."""
    folder = _folder(seed)
    pages = json.loads((folder / "pages.json").read_text(encoding="utf-8"))
    env = dict(os.environ, OMP_THREAD_LIMIT="1")

    def one(page: dict[str, object]) -> str:
        done = subprocess.run(["tesseract", str(page["single"]), "-", "-l", "vie"], capture_output=True, env=env)
        return done.stdout.decode("utf-8", "replace")

    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(2) as pool:
        out = list(pool.map(one, pages))
    (folder / "run-raw.json").write_text(json.dumps({"overrides": ["raw tesseract -l vie"], "texts": out},
                                                    ensure_ascii=False), encoding="utf-8")
    report(seed, ["raw"])


def ocrmypdf(seed: int) -> None:
    """OCRmyPDF on each document's files, as ``bench.bench_counter`` runs it, sidecar split at form feeds."""
    folder = _folder(seed)
    pages = json.loads((folder / "pages.json").read_text(encoding="utf-8"))
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    bench_bin = Path(os.environ.get("OCRMYPDF_BIN", VENV_BIN))  # the venv setup.sh --bench filled
    binary, img2pdf = bench_bin / "ocrmypdf", bench_bin / "img2pdf"
    docs: dict[str, list[str]] = {}
    for p in pages:
        docs.setdefault(p["doc"], p["files"])

    def one(item: tuple[str, list[str]]) -> list[str]:
        name, files = item
        out = folder / "ocrmypdf" / f"{name}.pdf"
        out.parent.mkdir(exist_ok=True)
        source = files[0]
        if len(files) > 1:  # one image per page: OCRmyPDF takes one input, so join them (img2pdf, lossless)
            source = str(out.with_suffix(".in.pdf"))
            subprocess.run([str(img2pdf), *files, "-o", source], check=True, env=env)
        subprocess.run([str(binary), "-l", "vie", "--rotate-pages", "--rotate-pages-threshold", "2", "--deskew",
                        "--output-type", "pdfa", "-j", "1", "--sidecar", str(out.with_suffix(".txt")), "-q",
                        source, str(out)], env=env, capture_output=True)
        side = out.with_suffix(".txt")
        return side.read_text(encoding="utf-8").split("\f") if side.exists() else []

    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(2) as pool:
        texts = dict(zip(docs, pool.map(one, docs.items()), strict=True))
    out = [texts[p["doc"]][p["n"]] if p["n"] < len(texts[p["doc"]]) else "" for p in pages]
    (folder / "run-ocrmypdf.json").write_text(json.dumps({"overrides": ["ocrmypdf"], "texts": out},
                                                         ensure_ascii=False), encoding="utf-8")
    report(seed, ["ocrmypdf"])


def _table(title: str, rows: dict[str, dict[str, list[float]]], labels: list[str]) -> list[str]:
    keys = sorted({k for label in labels for k in rows[label]})
    counts = {k: max(len(rows[label].get(k, [])) for label in labels) for k in keys}
    lines = [f"{title}:", "", "| run | " + " | ".join(f"{k} (n={counts[k]})" for k in keys) + " |",
             "|---|" + "---:|" * len(keys)]
    for label in labels:
        cells = []
        for k in keys:
            v = rows[label].get(k, [])
            cells.append(f"{100 * statistics.mean(v):.2f}% / {100 * statistics.median(v):.2f}%" if v else "-")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def report(seeds: int | list[int], labels: list[str], worst: int = 0) -> str:
    seed_list = [seeds] if isinstance(seeds, int) else seeds
    overall: dict[str, dict[str, list[float]]] = {label: defaultdict(list) for label in labels}
    family: dict[str, dict[str, list[float]]] = {label: defaultdict(list) for label in labels}
    damage: dict[str, dict[str, list[float]]] = {label: defaultdict(list) for label in labels}
    face: dict[str, dict[str, list[float]]] = {label: defaultdict(list) for label in labels}
    per_page: list[tuple[float, str]] = []
    for seed in seed_list:
        folder = _folder(seed)
        pages = json.loads((folder / "pages.json").read_text(encoding="utf-8"))
        for label in labels:
            texts = json.loads((folder / f"run-{label}.json").read_text(encoding="utf-8"))["texts"]
            for p, text in zip(pages, texts, strict=True):
                if p["family"] == "blank" or text is None:
                    continue
                c = error_rates(p["truth"], text)[0]
                overall[label]["all"].append(c)
                family[label][p["family"]].append(c)
                face[label][p["face"]].append(c)
                for tag in p["tags"] or ["clean"]:
                    damage[label][tag].append(c)
                if label == labels[-1]:
                    per_page.append((c, f"seed {seed} {p['doc'][-4:]} p{p['n'] + 1} {p['family']} {p['face']} "
                                        f"{' '.join(p['tags'])}"))
    lines = [*_table("CER all pages (mean / median)", overall, labels), *_table("CER by family", family, labels),
             *_table("CER by damage", damage, labels), *_table("CER by face", face, labels)]
    if worst:
        lines += [f"worst pages ({labels[-1]}):"] + [f"  {c:.3f} {d}" for c, d in sorted(per_page)[-worst:]]
    text = "\n".join(lines)
    print(text)
    return text


def show(seed: int, label: str, doc: str, n: int) -> None:
    folder = _folder(seed)
    pages = json.loads((folder / "pages.json").read_text(encoding="utf-8"))
    texts = json.loads((folder / f"run-{label}.json").read_text(encoding="utf-8"))["texts"]
    for p, text in zip(pages, texts, strict=True):
        if p["doc"].endswith(doc) and p["n"] == n - 1:
            print(p["single"], p["family"], p["face"], p["tags"], f"CER {error_rates(p['truth'], text)[0]:.3f}")
            print("--- truth\n" + p["truth"] + "\n--- " + label + "\n" + text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--seed", type=int, default=77)
    g.add_argument("--count", type=int, default=40)
    sub.add_parser("others", help="the other benchmarks' tuning pages, as seed 0").add_argument(
        "--count", type=int, default=15)
    r = sub.add_parser("run")
    r.add_argument("--seed", type=int, default=77)
    r.add_argument("--label", required=True)
    r.add_argument("--set", action="append", default=[], help="section.key=TOML value")
    r.add_argument("--only", help="only the documents holding a page of this family")
    for name in ("raw", "ocrmypdf"):
        sub.add_parser(name).add_argument("--seed", type=int, default=77)
    p = sub.add_parser("report")
    p.add_argument("--seed", type=int, action="append")
    p.add_argument("--worst", type=int, default=0)
    p.add_argument("labels", nargs="+")
    s = sub.add_parser("show")
    s.add_argument("--seed", type=int, default=77)
    s.add_argument("label")
    s.add_argument("doc")
    s.add_argument("page", type=int)
    args = parser.parse_args()
    if args.cmd == "generate":
        generate(args.seed, args.count)
    elif args.cmd == "others":
        generate_others(args.count)
    elif args.cmd == "run":
        run(args.seed, args.label, args.set, args.only)
    elif args.cmd in ("raw", "ocrmypdf"):
        (raw if args.cmd == "raw" else ocrmypdf)(args.seed)
    elif args.cmd == "report":
        report(args.seed or [77], args.labels, args.worst)
    else:
        show(args.seed, args.label, args.doc, args.page)


if __name__ == "__main__":
    main()
