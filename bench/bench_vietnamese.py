"""Tone marks benchmark: sohoa (each OCR lever on and off) vs OCRmyPDF vs raw Tesseract, same pages.

Pages come from ``bench.vietnamese_corpus``: tuning pages (PIL + Liberation, seed 11) on which the
levers were tuned, and held-out pages (LibreOffice + poppler, Noto/DejaVu/FreeFont, seed 23) that
never were. Every peer reads the same files in one run:

- ``sohoa process`` with a config per lever set (old default ``vie+eng``; ``vie`` alone; + anti-aliased
  bitonal copy; + upscaling (measured, not kept: it made held-out pages worse); + lexicon; + English
  re-read = the new default), warm engine (tesserocr's bundled libtesseract), and the new default
  again with ``ocr.engine = "subprocess"`` (system tesseract);
- ``ocrmypdf -l vie+eng`` and ``-l vie`` (``--rotate-pages --deskew --clean``, as ``bench_pipeline``);
- raw ``tesseract -l vie+eng`` and ``-l vie`` on each image.

Metrics (NFC, whitespace-normalised, over all characters of a group): CER; tone-mark CER = CER minus
the CER of both texts with every mark stripped (so it counts only errors in the marks); WER; word
recall regardless of reading order (multiset of words found / words on the page); recall of the
200 most frequent words of the composed text (``vietnamese_corpus.top_words``).

    .venv/bin/python -m bench.bench_vietnamese --tune 15 --held-out 30 --synthetic 16
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from bench.vietnamese_corpus import VietPage, top_words, vietnamese_corpus
from sohoa.stages.vietnamese import strip_marks

VENV_BIN = Path(sys.executable).parent
RESULTS = Path(__file__).parent / "results"
_PUNCT = ".,:;!?()[]\"'«»“”‘’-–—/…"

SOHOA_CONFIGS: dict[str, dict[str, object]] = {
    "sohoa vie+eng, no levers (old default)": {"languages": "vie+eng", "lexicon": False, "reread_languages": "",
                                               "antialias_bitonal": False, "upscale_to_dpi": 0.0},
    "sohoa vie, no levers": {"languages": "vie", "lexicon": False, "reread_languages": "",
                             "antialias_bitonal": False, "upscale_to_dpi": 0.0},
    "sohoa vie + antialias": {"languages": "vie", "lexicon": False, "reread_languages": "",
                              "antialias_bitonal": True, "upscale_to_dpi": 0.0},
    "sohoa vie + antialias + upscale": {"languages": "vie", "lexicon": False, "reread_languages": "",
                                        "antialias_bitonal": True, "upscale_to_dpi": 300.0},
    "sohoa vie + antialias + lexicon": {"languages": "vie", "lexicon": True, "reread_languages": "",
                                        "antialias_bitonal": True, "upscale_to_dpi": 0.0},
    "sohoa default (all levers)": {},
    "sohoa default, engine=subprocess": {"engine": "subprocess"},
}


def normalise(text: str) -> str:
    import unicodedata

    return " ".join(unicodedata.normalize("NFC", text).split())


def _words(text: str) -> list[str]:
    return [w.strip(_PUNCT) for w in normalise(text).split() if w.strip(_PUNCT)]


def page_counts(truth: str, found: str, top: set[str]) -> dict[str, int]:
    t, f = normalise(truth), normalise(found)
    tw, fw = _words(truth), _words(found)
    have = Counter(fw)
    need = Counter(tw)
    top_need = Counter({w: n for w, n in need.items() if w.lower() in top})
    return {
        "chars": len(t), "char_errors": Levenshtein.distance(t, f),
        "bare_errors": Levenshtein.distance(strip_marks(t), strip_marks(f)),
        "words": len(t.split()), "word_errors": Levenshtein.distance(t.split(), f.split()),
        "bag_words": len(tw), "bag_found": sum((need & have).values()),
        "top_words": sum(top_need.values()), "top_found": sum((top_need & have).values()),
    }


def rates(counts: dict[str, int]) -> dict[str, float]:
    chars = max(1, counts["chars"])
    return {"cer": counts["char_errors"] / chars,
            "tone_cer": (counts["char_errors"] - counts["bare_errors"]) / chars,
            "wer": counts["word_errors"] / max(1, counts["words"]),
            "word_recall": counts["bag_found"] / max(1, counts["bag_words"]),
            "top200_recall": counts["top_found"] / max(1, counts["top_words"])}


def write_scans(pages: list[VietPage], folder: Path) -> list[Path]:
    paths = []
    for i, page in enumerate(pages):
        path = folder / f"page-{i + 1:04d}{'.tif' if page.image.mode == '1' else '.png'}"
        if page.image.mode == "1":
            page.image.save(path, compression="group4", dpi=(page.dpi, page.dpi))
        else:
            page.image.save(path, dpi=(page.dpi, page.dpi))
        paths.append(path)
    return paths


def _toml(overrides: dict[str, object]) -> str:
    lines = ["[ocr]"]
    for key, value in overrides.items():
        lines.append(f"{key} = {json.dumps(value)}" if not isinstance(value, bool) else f"{key} = {str(value).lower()}")
    return "\n".join(lines) + "\n"


def run_sohoa(name: str, overrides: dict[str, object], scans: list[Path], work: Path, env: dict[str, str],
              ) -> tuple[list[str], float]:
    folder = Path(tempfile.mkdtemp(prefix="sohoa-", dir=work))
    config = folder / "sohoa.toml"
    config.write_text(_toml(overrides) + '\n[records]\ndatabase_url = ""\n', encoding="utf-8")
    sidecar = folder / "out.txt"
    started = time.monotonic()
    subprocess.run([str(VENV_BIN / "sohoa"), "process", *map(str, scans), "-o", str(folder / "out.pdf"),
                    "--sidecar", str(sidecar), "--config", str(config), "--jobs", "2", "-q"],
                   check=True, env=env, cwd=folder)
    seconds = time.monotonic() - started
    texts = sidecar.read_text(encoding="utf-8").split("\f")
    return (texts + [""] * len(scans))[: len(scans)], seconds


def run_ocrmypdf(langs: str, scans: list[Path], work: Path, env: dict[str, str]) -> tuple[list[str], float]:
    folder = Path(tempfile.mkdtemp(prefix=f"ocrmypdf-{langs.replace('+', '-')}-", dir=work))
    texts = []
    started = time.monotonic()

    def one(scan: Path) -> str:
        packed = folder / f"{scan.stem}.pdf"
        subprocess.run([str(VENV_BIN / "img2pdf"), str(scan), "-o", str(packed)], check=True, env=env)
        side = folder / f"{scan.stem}.txt"
        subprocess.run([str(VENV_BIN / "ocrmypdf"), "-l", langs, "--rotate-pages", "--deskew", "--clean",
                        "--output-type", "pdf", "-j", "1", "-q", "--sidecar", str(side), str(packed),
                        str(folder / f"{scan.stem}.out.pdf")], check=False, env=env)
        return side.read_text(encoding="utf-8") if side.exists() else ""

    with ThreadPoolExecutor(2) as pool:
        texts = list(pool.map(one, scans))
    return texts, time.monotonic() - started


def run_raw(langs: str, scans: list[Path], env: dict[str, str]) -> tuple[list[str], float]:
    started = time.monotonic()

    def one(scan: Path) -> str:
        proc = subprocess.run(["tesseract", str(scan), "-", "-l", langs], capture_output=True, env=env, check=False)
        return proc.stdout.decode("utf-8", "replace")

    with ThreadPoolExecutor(2) as pool:
        texts = list(pool.map(one, scans))
    return texts, time.monotonic() - started


def versions() -> dict[str, str]:
    out = {}
    system = subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    out["system tesseract (subprocess engine, raw tesseract, OCRmyPDF)"] = system
    try:
        import tesserocr

        out["tesserocr (warm engine)"] = f"tesserocr {tesserocr.__version__}, bundled " + \
            tesserocr.tesseract_version().split("\n")[0]
    except ImportError:
        out["tesserocr (warm engine)"] = "not installed"
    om = subprocess.run([str(VENV_BIN / "ocrmypdf"), "--version"], capture_output=True, text=True).stdout.strip()
    out["ocrmypdf"] = om
    return out


def group_table(results: dict[str, list[dict[str, int]]], pages: list[VietPage], key: str, metric: str) -> list[str]:
    values = sorted({getattr(p, key) for p in pages})
    lines = [f"| peer | {' | '.join(values)} |", "|---|" + "---|" * len(values)]
    for peer, per_page in results.items():
        cells = []
        for value in values:
            total: Counter[str] = Counter()
            for page, counts in zip(pages, per_page, strict=True):
                if getattr(page, key) == value:
                    total.update(counts)
            cells.append(f"{rates(dict(total))[metric]:.2%}")
        lines.append(f"| {peer} | {' | '.join(cells)} |")
    return lines


def summary_table(results: dict[str, list[dict[str, int]]], seconds: dict[str, float]) -> list[str]:
    lines = ["| peer | CER | tone-mark CER | WER | word recall | top-200 recall | wall s |",
             "|---|---|---|---|---|---|---|"]
    for peer, per_page in results.items():
        total: Counter[str] = Counter()
        for counts in per_page:
            total.update(counts)
        r = rates(dict(total))
        lines.append(f"| {peer} | {r['cer']:.2%} | {r['tone_cer']:.2%} | {r['wer']:.2%} | {r['word_recall']:.2%} | "
                     f"{r['top200_recall']:.2%} | {seconds[peer]:.0f} |")
    return lines


def evaluate(pages: list[VietPage], work: Path, *, peers: bool, env: dict[str, str],
             configs: dict[str, dict[str, object]], cache: Path | None = None,
             ) -> tuple[dict[str, list[dict[str, int]]], dict[str, float]]:
    """Every peer's text of every page; with ``cache``, a peer's texts are kept there (JSON) and a
    rerun with the same page count reads them instead of running that peer again."""
    phase = "held" if peers else "tune"
    folder = work / phase
    folder.mkdir()
    scans = write_scans(pages, folder)
    top = set(top_words())
    jobs: dict[str, object] = {name: (run_sohoa, name, overrides, scans, work, env)
                               for name, overrides in configs.items()}
    if peers:
        for langs in ("vie+eng", "vie"):
            jobs[f"ocrmypdf -l {langs}"] = (run_ocrmypdf, langs, scans, work, env)
        for langs in ("vie+eng", "vie"):
            jobs[f"raw tesseract -l {langs}"] = (run_raw, langs, scans, env)
    outputs: dict[str, tuple[list[str], float]] = {}
    for name, (function, *job_args) in jobs.items():  # type: ignore[misc]
        stored = cache / f"{phase}-{len(pages)}-{name.replace('/', '_')}.json" if cache else None
        if stored is not None and stored.exists():
            texts, seconds = json.loads(stored.read_text(encoding="utf-8"))
            outputs[name] = (texts, seconds)
            continue
        print(f"  {name} …", file=sys.stderr, flush=True)
        outputs[name] = function(*job_args)
        if stored is not None:
            stored.write_text(json.dumps(outputs[name], ensure_ascii=False), encoding="utf-8")
    results = {name: [page_counts(p.text, t, top) for p, t in zip(pages, texts, strict=True)]
               for name, (texts, _s) in outputs.items()}
    return results, {name: s for name, (_t, s) in outputs.items()}


def synthetic_check(count: int, work: Path, env: dict[str, str]) -> list[str]:
    """The existing synthetic OCR corpus (``bench.corpus``) through ``sohoa process``: old vs new defaults."""
    from bench.bench_pipeline import write_pages
    from bench.corpus import corpus

    pages = corpus(count)
    folder = work / "synthetic"
    folder.mkdir()
    scans = write_pages(pages, folder)
    lines = [f"## The synthetic OCR corpus (`bench.corpus`, {count} pages, seed 2026): before and after", "",
             "| config | CER | tone-mark CER | WER | wall s |", "|---|---|---|---|---|"]
    top = set(top_words())
    for name in ("sohoa vie+eng, no levers (old default)", "sohoa default (all levers)"):
        texts, seconds = run_sohoa(name + " synthetic", SOHOA_CONFIGS[name], scans, work, env)
        total: Counter[str] = Counter()
        for page, text in zip(pages, texts, strict=True):
            total.update(page_counts(page.text, text, top))
        r = rates(dict(total))
        lines.append(f"| {name} | {r['cer']:.2%} | {r['tone_cer']:.2%} | {r['wer']:.2%} | {seconds:.0f} |")
    return lines + [""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tune", type=int, default=15, help="tuning pages (PIL + Liberation)")
    parser.add_argument("--held-out", type=int, default=30, help="held-out pages (LibreOffice + other fonts)")
    parser.add_argument("--synthetic", type=int, default=16, help="pages of the existing synthetic corpus")
    parser.add_argument("--out", type=Path, default=RESULTS / "vietnamese.md")
    parser.add_argument("--cache", type=Path, help="keep each peer's texts here; a rerun reuses them")
    args = parser.parse_args()
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    report = ["# Vietnamese tone marks benchmark", ""]
    with tempfile.TemporaryDirectory(prefix="sohoa-bench-vi-") as tmp:
        work = Path(tmp)
        for title, held in (("Held-out pages", True), ("Tuning pages", False)):
            count = args.held_out if held else args.tune
            if not count:
                continue
            print(f"{title}: {count} pages", file=sys.stderr, flush=True)
            pages = vietnamese_corpus(count, held_out=held, work=work)
            configs = SOHOA_CONFIGS if held else {k: v for k, v in SOHOA_CONFIGS.items() if "subprocess" not in k}
            results, seconds = evaluate(pages, work, peers=held, env=env, configs=configs, cache=args.cache)
            chars = sum(len(normalise(p.text)) for p in pages)
            report += [f"## {title}: {len(pages)} pages, {chars} characters, renderer "
                       f"{', '.join(sorted({p.renderer for p in pages}))}, fonts "
                       f"{', '.join(sorted({p.font for p in pages}))}", ""]
            report += summary_table(results, seconds) + [""]
            for key, label in (("degradation", "degradation"), ("page_type", "page type"), ("font", "font"),
                               ("renderer", "renderer")):
                for metric, mlabel in (("cer", "CER"), ("tone_cer", "tone-mark CER"), ("wer", "WER")):
                    if key == "renderer" or (key == "font" and metric == "wer"):
                        continue
                    report += [f"{mlabel} by {label}:", ""] + group_table(results, pages, key, metric) + [""]
        if args.synthetic:
            report += synthetic_check(args.synthetic, work, env)
    report += ["## Versions", ""] + [f"- {k}: {v}" for k, v in versions().items()] + [""]
    args.out.write_text("\n".join(report), encoding="utf-8")
    print("\n".join(report))


if __name__ == "__main__":
    main()
