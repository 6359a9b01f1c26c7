"""Decree-30 extraction benchmark: per-field accuracy on tuning and held-out pages, read by real Tesseract.

Why per field and per split: the rules were written against the tuning pages only; the held-out pages
(other fonts, another resolution, skew and noise, other document kinds) say how the rules generalise, and
so do documents set by another producer (LibreOffice Writer from Word-template-shaped HTML, rasterised
by poppler: ``bench/decree30_office.py``).
The OCR languages are reported, since a tone mark lost by OCR is lost for the field too.

    .venv/bin/python -m bench.bench_extract [--languages vie+eng]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench import decree30_office
from sohoa.config.extract import ExtractSettings
from sohoa.config.settings import OcrSettings
from sohoa.stages.extract import FIELDS, extract
from sohoa.stages.model import Page
from sohoa.stages.ocr import ocr_page
from tests.stages.decree30_pages import HELD_OUT, TUNING, render
from tests.stages.test_extract import AGENCIES

RESULTS = Path(__file__).parent / "results" / "extract.md"
# the province's agency list a center would configure: the tests' one plus those of the LibreOffice pages
PROVINCE_AGENCIES = [*AGENCIES, "UBND HUYỆN HẢI LĂNG", "UBND XÃ HẢI SƠN", "SỞ GIAO THÔNG VẬN TẢI"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--languages", nargs="+", default=sorted({OcrSettings().languages, "vie"}),
                        help="OCR language sets to compare in the same run")
    args = parser.parse_args()
    lines = ["# Decree-30 extraction benchmark", "", f"{dt.date.today()} · fields: {', '.join(FIELDS)}", ""]
    with tempfile.TemporaryDirectory(prefix="sohoa-bench-extract-") as tmp:
        pages = _pages(Path(tmp))
    for languages in args.languages:
        lines += _run(languages, pages)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


def _pages(work: Path) -> list[tuple[str, Any, np.ndarray]]:
    """(split, document, page image): our Pillow pages (tuning, held-out) and LibreOffice's (held-out)."""
    pages: list[tuple[str, Any, np.ndarray]] = [("tuning", d, render(d)) for d in TUNING]
    pages += [("held-out", d, render(d)) for d in HELD_OUT]
    pages += [("held-out LibreOffice", d, image) for d, image in decree30_office.render(work)]
    return pages


def _run(languages: str, pages: list[tuple[str, Any, np.ndarray]]) -> list[str]:
    ocr = OcrSettings(languages=languages)
    rows: list[str] = []
    totals: dict[str, list[int]] = {}
    for split, doc, image in pages:
        page = Page(image=image, dpi=(float(doc.dpi), float(doc.dpi)), source=Path(f"{doc.name}.png"))
        started = time.perf_counter()
        read = ocr_page(page, ocr)
        got = extract([(read, (image.shape[1], image.shape[0]))], ExtractSettings(agencies=PROVINCE_AGENCIES),
                      today=dt.date(2026, 12, 1))
        seconds = time.perf_counter() - started
        right = sum(1 for k, v in doc.truth.items() if k in got.fields and got.fields[k].value == v)
        invented = [k for k in got.fields if k not in doc.truth]
        wrong = [f"{k}: {got.fields[k].value!r} ≠ {v!r}" if k in got.fields else f"{k}: missing"
                 for k, v in doc.truth.items() if k not in got.fields or got.fields[k].value != v]
        flagged = [k for k in wrong if k.split(":")[0] in got.needs_review]
        totals.setdefault(split, [0, 0])
        totals[split][0] += right
        totals[split][1] += len(doc.truth)
        rows.append(f"| {split} | {doc.name} | {doc.font}, {doc.dpi} dpi | {right}/{len(doc.truth)} | "
                    f"{len(flagged)}/{len(wrong)} | {len(invented)} | {seconds:.2f} | "
                    f"{'; '.join(wrong) or '-'} |")
    lines = [f"## OCR languages `{languages}`", "",
             "| split | page | font | fields right | wrong ones flagged for review | invented | s (OCR+extract) | "
             "what was wrong |", "|---|---|---|---:|---:|---:|---:|---|", *rows, ""]
    for split, (right, total) in totals.items():
        lines.append(f"- {split}: {right}/{total} fields right ({100.0 * right / total:.0f}%)")
    return [*lines, ""]


if __name__ == "__main__":
    main()
