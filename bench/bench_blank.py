"""Blank-page detection on blank back pages as scanners make them, against Tesseract reading them.

    .venv/bin/python -m bench.bench_blank [--tesseract-pages 6]

Reports, per split of bench/blank_corpus.py (``tuning`` seeds were used to set the thresholds in
stages/blank.py; ``held-out`` seeds were run only afterwards): blank pages detected, pages with content
wrongly called blank (must be 0), the judgement's own cost and the whole clean stage's cost per page.
The peer is what a pipeline without detection does (OCRmyPDF has none): Tesseract ``vie`` on each blank
page, its time and the words it invents. Writes bench/results/blank.md and .json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
import pytesseract

from bench.blank_corpus import samples
from sohoa.config.settings import CleanSettings
from sohoa.stages.blank import blank_evidence
from sohoa.stages.clean import BACKGROUND_WINDOW_MM, clean_page, paper_level
from sohoa.stages.model import Page

RESULTS = Path(__file__).parent / "results"


def _judge(split: str) -> dict[str, object]:
    rows = []
    for s in samples(split):
        for turn in (0, 1):
            image = np.rot90(np.asarray(s.image), turn).copy()
            grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
            f = 100.0 / s.dpi
            small = cv2.resize(grey, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
            paper = paper_level(small, BACKGROUND_WINDOW_MM / 25.4 * 100.0)
            started = time.perf_counter()
            blank_evidence(small, paper, 100.0)
            judge_s = time.perf_counter() - started
            page = clean_page(Page(image=image, dpi=(s.dpi, s.dpi), source=Path(s.name)), CleanSettings())
            rows.append({"name": s.name, "turn": 90 * turn, "truth": s.blank, "said": page.blank,
                         "defects": list(s.defects), "judge_ms": judge_s * 1000,
                         "clean_ms": page.timings["clean"] * 1000})
    blanks = [r for r in rows if r["truth"]]
    content = [r for r in rows if not r["truth"]]
    return {
        "split": split, "pages": len(rows),
        "blank_detected": sum(r["said"] for r in blanks), "blank_total": len(blanks),
        "false_blank": sum(r["said"] for r in content), "content_total": len(content),
        "missed": sorted({f"{r['name']} ({', '.join(r['defects'])})" for r in blanks if not r["said"]}),
        "judge_ms_mean": statistics.mean(r["judge_ms"] for r in rows),
        "clean_ms_blank_mean": statistics.mean(r["clean_ms"] for r in blanks),
        "clean_ms_blank_max": max(r["clean_ms"] for r in blanks),
    }


def _tesseract(count: int) -> dict[str, object]:
    runs = []
    for s in [s for s in samples("held-out") if s.blank][:count]:
        started = time.perf_counter()
        data = pytesseract.image_to_data(s.image, lang="vie", output_type=pytesseract.Output.DICT)
        words = [w for w in data["text"] if w.strip()]
        runs.append({"name": s.name, "seconds": time.perf_counter() - started, "words": len(words)})
    return {"pages": len(runs), "seconds_mean": statistics.mean(r["seconds"] for r in runs),
            "words_mean": statistics.mean(r["words"] for r in runs), "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tesseract-pages", type=int, default=6)
    args = parser.parse_args()
    splits = [_judge("tuning"), _judge("held-out")]
    peer = _tesseract(args.tesseract_pages)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "blank.json").write_text(json.dumps({"splits": splits, "tesseract": peer}, indent=2))
    lines = ["# Blank-page detection (bench/bench_blank.py)", "",
             "Pages from bench/blank_corpus.py, each upright and turned 90°. Tuning seeds set the thresholds;",
             "held-out seeds (other fonts, 200 and 300 dpi, stronger show-through) were run only afterwards.", "",
             "| split | pages | blank detected | content called blank | judge ms/page | clean ms/blank page "
             "(mean / max) |", "|---|---|---|---|---|---|"]
    for s in splits:
        lines.append(f"| {s['split']} | {s['pages']} | {s['blank_detected']}/{s['blank_total']} | "
                     f"{s['false_blank']}/{s['content_total']} | {s['judge_ms_mean']:.1f} | "
                     f"{s['clean_ms_blank_mean']:.0f} / {s['clean_ms_blank_max']:.0f} |")
    lines += ["", f"Peer, no detection (what OCRmyPDF does): Tesseract `vie` on {peer['pages']} held-out blank "
              f"pages took {peer['seconds_mean']:.2f} s per page and invented {peer['words_mean']:.1f} words "
              "per page; sohoa sends none of the detected ones to OCR.", ""]
    for s in splits:
        if s["missed"]:
            lines.append(f"Missed in {s['split']}: " + "; ".join(s["missed"]))
    (RESULTS / "blank.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
