"""Ink under the visible stamps: free-space placement vs the fixed corner, on pages we did not lay out for it.

Why: the digitizer's stamp (top left), the organisation's with its seal (top right) and the copy stamp
(top right) must not cover the page's text. For each page the ink under each stamp box (ink pixels /
box pixels, drawn by poppler at the placement resolution) is measured for the fixed corner position and
for ``signing.placement.find_place``, with the sizes of the default appearances; the organisation stamp
is placed after the digitizer's, which it must avoid too. Target: <= 1% ink on 95% of pages.

Pages: the synthetic OCR corpus (mixed fonts, 20 mm margins, degradations but upright), Decree-30 pages
(a header up to the corner; tuning and held-out families) and the bundled sample scans.

    .venv/bin/python -m bench.bench_stamps --pages 40
"""

from __future__ import annotations

import argparse
import io
import time
from pathlib import Path

import numpy as np
from PIL import Image

from bench.corpus import Degradation, degrade, font_paths, render_page, sample_lines
from sohoa.config.signing import APPEARANCE_DEFAULTS, Appearance
from sohoa.signing import rendering
from sohoa.signing.placement import MM, find_place, ink_mask, ink_under
from tests.stages.decree30_pages import HELD_OUT, TUNING
from tests.stages.decree30_pages import render as render_decree30

RESULTS = Path(__file__).parent / "results" / "stamps.md"
SAMPLES = Path(__file__).parents[1] / "samples" / "scans"
ORDER = ("digitizer", "organization", "copy")


def _pages(count: int) -> list[tuple[str, Image.Image, int]]:
    import random

    rng = random.Random(77)
    fonts = font_paths()
    pages: list[tuple[str, Image.Image, int]] = []
    for i in range(count):
        page = render_page(sample_lines(rng, rng.randint(18, 30)), font=fonts[i % len(fonts)], dpi=200,
                           font_pt=rng.choice([11.0, 12.0, 13.0]), margin_mm=rng.choice([15.0, 20.0, 25.0]))
        page = degrade(page, Degradation(noise=rng.choice([0.0, 6.0]), skew=rng.uniform(-1.5, 1.5)), seed=i)
        pages.append((f"synthetic-{i:02d}", page.image, 200))
    for doc in [*TUNING, *HELD_OUT]:
        pages.append((f"decree30-{doc.name}", Image.fromarray(render_decree30(doc)), doc.dpi))
    for path in sorted(SAMPLES.iterdir()):
        with Image.open(path) as img:
            dpi = int(round(img.info.get("dpi", (200, 200))[0])) or 200
            pages.append((f"sample-{path.name}", img.convert("RGB"), dpi))
    return pages


def _pdf(image: Image.Image, dpi: int) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PDF", resolution=float(dpi))
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=40, help="synthetic pages (plus the Decree-30 and samples)")
    args = parser.parse_args()
    looks = {kind: Appearance(kind=kind) for kind in ORDER}  # type: ignore[arg-type]
    fixed: dict[str, list[float]] = {k: [] for k in ORDER}
    free: dict[str, list[float]] = {k: [] for k in ORDER}
    scales: dict[str, list[float]] = {k: [] for k in ORDER}
    seconds: list[float] = []
    worst: list[str] = []
    for name, image, dpi in _pages(args.pages):
        pdf = _pdf(image, dpi)
        grey = rendering.render(pdf, 0)
        if grey is None:
            continue
        width_pt, height_pt = image.width / dpi * 72, image.height / dpi * 72
        page_box = (0.0, 0.0, width_pt, height_pt)
        ink = ink_mask(grey)
        for kind in ORDER:
            look = looks[kind]
            w, h, m = look.width_mm * MM, look.height_mm * MM, look.margin_mm * MM
            left = m if look.corner.endswith("left") else width_pt - m - w
            bottom = height_pt - m - h if look.corner.startswith("top") else m
            fixed[kind].append(ink_under(ink, (left, bottom, left + w, bottom + h), page_box))
            started = time.perf_counter()
            place = find_place(ink, page_box, corner=look.corner, width=w, height=h, margin=m,
                               min_scale=look.min_scale)
            seconds.append(time.perf_counter() - started)
            free[kind].append(place.ink_ratio)
            scales[kind].append(place.scale)
            if place.overlaps:
                worst.append(f"{name} {kind}: {100 * place.ink_ratio:.1f}% at scale {place.scale}")
            if kind == "digitizer":  # the organisation's stamp comes second and must avoid this one
                k = rendering.DPI / 72
                r0, r1 = int((height_pt - place.box[3]) * k), int((height_pt - place.box[1]) * k)
                ink[r0:r1, int(place.box[0] * k):int(place.box[2] * k)] = True
    n = len(fixed["digitizer"])

    def share(values: list[float]) -> str:
        return f"{100.0 * sum(v <= 0.01 for v in values) / len(values):.0f}%"

    def pct(values: list[float], q: float) -> str:
        return f"{100.0 * float(np.percentile(values, q)):.2f}%"

    sizes = ", ".join(f"{k} {APPEARANCE_DEFAULTS[k]['width_mm']:.0f}x{APPEARANCE_DEFAULTS[k]['height_mm']:.0f} mm"
                      for k in ORDER)
    lines = ["# Stamps over ink: free-space placement vs the fixed corner", "",
             f"{n} pages ({args.pages} synthetic, {len(TUNING) + len(HELD_OUT)} Decree-30, the bundled samples); "
             f"ink = grey < 160 at {rendering.DPI} dpi, widened by 1 px; default appearance sizes "
             f"({sizes}).",
             "", "| stamp | placement | pages with <= 1% ink | ink p50 | ink p95 | max | shrunk (scale < 1) |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for kind in ORDER:
        for label, values in (("fixed corner", fixed[kind]), ("free space", free[kind])):
            shrunk = f"{sum(s < 1 for s in scales[kind])}/{n}" if label == "free space" else "-"
            lines.append(f"| {kind} | {label} | {share(values)} | {pct(values, 50)} | {pct(values, 95)} | "
                         f"{100 * max(values):.2f}% | {shrunk} |")
    lines += ["", f"Search time per stamp: median {1000 * float(np.median(seconds)):.1f} ms "
                  f"(the page drawing itself is the rendering cost, once per signature).", "",
              "Stamps that still overlap: " + ("; ".join(worst) if worst else "none"), ""]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
