"""Benchmark of the clean stage on ``bench.corpus``: orientation accuracy, skew error, CPU time, OSD use.

Why CPU time and one OpenCV thread: the pipeline runs one page per worker process, so what a page costs
is CPU seconds on one core; OpenCV's own threads would make wall time look better than the budget really
is (clean must stay under ~0.25 CPU s for an A4/300 dpi colour page, about a fifth of Tesseract's time).

Each page goes through its scanner encoding (JPEG/PNG/G4) and back, so JPEG artefacts are measured too.
Run: ``.venv/bin/python -m bench.bench_clean [N]`` (default 60 pages); writes ``bench/results/clean.md``.
"""

from __future__ import annotations

import io
import random
import statistics
import sys
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from bench.corpus import Degradation, SyntheticPage, corpus, degrade, font_paths, render_page, sample_lines
from sohoa.common.atomic import write_bytes_atomic
from sohoa.config.settings import CleanSettings
from sohoa.stages.clean import clean_page
from sohoa.stages.model import Page

RESULTS = Path(__file__).parent / "results" / "clean.md"


@dataclass
class Row:
    index: int
    dpi: int
    tags: str
    want_rotation: int
    got_rotation: int
    want_skew: float
    got_skew: float
    cpu_ms: float
    osd: bool
    blank: bool

    @property
    def skew_error(self) -> float:
        return abs(self.got_skew - self.want_skew)


def to_page(synthetic: SyntheticPage, index: int) -> Page:
    """Decode the page the way a scanner file would arrive (lossy JPEG included)."""
    data, suffix = synthetic.encode()
    image = Image.open(io.BytesIO(data))
    if image.mode == "1":
        array = ~np.asarray(image)  # PIL: True = white; Page: True = black
    else:
        array = np.asarray(image.convert("RGB"))
    return Page(image=array, dpi=(synthetic.dpi, synthetic.dpi), source=Path(f"corpus{index:03d}{suffix}"))


def hard_set(count: int, *, seed: int = 11) -> list[SyntheticPage]:
    """Harder pages than the corpus: 2-30 lines, 10-16 pt, tight to loose spacing, skew up to +-14 deg,
    any quarter turn, 150/200 dpi (short pages are where the cheap orientation cues run out)."""
    rng = random.Random(seed)
    fonts = font_paths()
    pages: list[SyntheticPage] = []
    while len(pages) < count:
        base = render_page(sample_lines(rng, rng.randint(2, 30)), font=rng.choice(fonts),
                           dpi=rng.choice([150, 200]), font_pt=rng.choice([10.0, 11.0, 12.0, 14.0, 16.0]),
                           line_spacing=rng.choice([1.2, 1.4, 1.6, 2.0]))
        d = Degradation(rotation=rng.choice([0, 90, 180, 270]), skew=rng.uniform(-14, 14),
                        noise=rng.choice([0, 6, 12]), blur=rng.choice([0, 0.8]), border=rng.choice([0, 60]),
                        uneven_light=rng.choice([0, 0.35]), bitonal=rng.random() < 0.15)
        if base.text:
            pages.append(degrade(base, d, seed=len(pages)))
    return pages


def run(count: int, settings: CleanSettings | None = None, *, hard: bool = False) -> list[Row]:
    settings = settings or CleanSettings()
    cv2.setNumThreads(1)
    rows: list[Row] = []
    for index, synthetic in enumerate(hard_set(count) if hard else corpus(count)):
        page = to_page(synthetic, index)
        d = synthetic.degradation
        started = time.process_time()
        clean_page(page, settings)
        cpu = time.process_time() - started
        rows.append(Row(index=index, dpi=synthetic.dpi, tags=",".join(d.tags()) or "clean",
                        want_rotation=(360 - d.rotation) % 360, got_rotation=page.rotation,
                        # degrade tilts the text CCW by d.skew; the correction stored is the opposite
                        want_skew=-d.skew, got_skew=page.skew, cpu_ms=cpu * 1000,
                        osd=any("OSD" in w and "used" in w for w in page.warnings), blank=page.blank))
        print(f"{index:3d} {synthetic.dpi}dpi {rows[-1].tags:32s} rot {rows[-1].want_rotation:3d}->"
              f"{page.rotation:3d} skew {-d.skew:+6.2f}->{page.skew:+6.2f} {cpu * 1000:6.1f} ms "
              f"{'; '.join(page.warnings)}", flush=True)
    return rows


def peak_memory_mb(count: int) -> float | None:
    """Peak bytes allocated (numpy/OpenCV arrays included) while cleaning one A4/300 dpi colour page."""
    for index, synthetic in enumerate(corpus(count)):
        page = to_page(synthetic, index)
        if synthetic.dpi == 300 and page.mode == "color":
            tracemalloc.start()
            clean_page(page, CleanSettings())
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            return peak / 1e6
    return None


def summary(rows: list[Row], peak_mb: float | None = None, hard: list[Row] | None = None) -> str:
    n = len(rows)
    right = sum(r.got_rotation == r.want_rotation for r in rows)
    errors = [r.skew_error for r in rows if r.got_rotation == r.want_rotation]
    cpu300 = [r.cpu_ms for r in rows if r.dpi == 300 and "bitonal" not in r.tags]
    cpu_all = [r.cpu_ms for r in rows]
    lines = [
        "# clean stage benchmark",
        "",
        "Run: `.venv/bin/python -m bench.bench_clean [N]`.",
        "",
        f"Corpus: `bench.corpus.corpus({n})` (seed 2026), pages decoded from their scanner encoding; "
        "one OpenCV thread; CPU time of `clean_page` only.",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| pages | {n} |",
        f"| orientation correct | {right}/{n} ({100 * right / n:.1f}%) |",
        f"| skew error mean / max (deg, correctly oriented pages) | {statistics.fmean(errors):.3f} / "
        f"{max(errors):.3f} |" if errors else "| skew error | n/a |",
        f"| skew error > 0.3 deg | {sum(e > 0.3 for e in errors)} pages |",
        f"| CPU ms/page, all (mean / median / max) | {statistics.fmean(cpu_all):.0f} / "
        f"{statistics.median(cpu_all):.0f} / {max(cpu_all):.0f} |",
        "| CPU ms/page, A4 300 dpi colour/grey (mean / max) | "
        + (f"{statistics.fmean(cpu300):.0f} / {max(cpu300):.0f} |" if cpu300 else "n/a |"),
        f"| Tesseract OSD needed | {sum(r.osd for r in rows)}/{n} |",
        f"| pages marked blank (none are) | {sum(r.blank for r in rows)} |",
        "| peak memory allocated by clean, one A4/300 dpi colour page (MB, image itself ~26 MB, "
        "not counted) | " + (f"{peak_mb:.0f} |" if peak_mb is not None else "n/a |"),
        "",
    ]
    if hard:
        good = [r for r in hard if r.got_rotation == r.want_rotation]
        herr = [r.skew_error for r in good]
        lines += [
            "",
            f"Hard set (`hard_set({len(hard)})`: 2-30 lines, 10-16 pt, skew up to +-14 deg, 150/200 dpi):",
            "",
            "| measure | value |",
            "| --- | --- |",
            f"| orientation correct | {len(good)}/{len(hard)} |",
            f"| skew error mean / max (deg) | {statistics.fmean(herr):.3f} / {max(herr):.3f} |" if herr else "",
            f"| skew error > 0.3 deg | {sum(e > 0.3 for e in herr)} pages |",
            f"| Tesseract OSD needed | {sum(r.osd for r in hard)}/{len(hard)} |",
            f"| pages marked blank (none are) | {sum(r.blank for r in hard)} |",
        ]
    lines += [
        "",
        "Corpus pages:",
        "",
        "| # | dpi | degradations | rotation want→got | skew want→got | CPU ms | OSD |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        mark = "" if r.got_rotation == r.want_rotation else " **wrong**"
        lines.append(f"| {r.index} | {r.dpi} | {r.tags} | {r.want_rotation}→{r.got_rotation}{mark} | "
                     f"{r.want_skew:+.2f}→{r.got_skew:+.2f} | {r.cpu_ms:.0f} | {'yes' if r.osd else ''} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    count = int(argv[0]) if argv else 60
    rows = run(count)
    hard = run(count, hard=True)
    text = summary(rows, peak_memory_mb(min(count, 3)), hard)
    write_bytes_atomic(RESULTS, text.encode("utf-8"), make_parents=True)
    print(text.split("Corpus pages:")[0])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
