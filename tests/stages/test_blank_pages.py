"""Blank pages as scanners make them (bench/blank_corpus.py): detected, and never a page with content.

The hard rule is the second: a page called blank may be dropped (``clean.blank_pages = "drop"``), so a
signature, a seal, one line or a page number must never be called blank, in either split, upright or
sideways. Detection on the held-out split is measured by bench/bench_blank.py, not asserted here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.blank_corpus import samples
from bench.corpus import SENTENCES, Degradation, degrade, font_paths, render_page
from sohoa.config.settings import CleanSettings
from sohoa.stages.clean import clean_page
from sohoa.stages.model import Page

pytestmark = pytest.mark.slow


def _blank(image: np.ndarray, dpi: int, name: str) -> bool:
    page = clean_page(Page(image=image, dpi=(dpi, dpi), source=Path(name)), CleanSettings())
    return page.blank


@pytest.mark.parametrize("split", ["tuning", "held-out"])
def test_no_page_with_content_is_called_blank(split: str) -> None:
    wrong = [f"{s.name} turned {90 * k}" for s in samples(split) if not s.blank for k in (0, 1)
             if _blank(np.rot90(np.asarray(s.image), k).copy(), s.dpi, s.name)]
    assert not wrong, f"content called blank: {wrong}"


def test_every_tuning_blank_page_is_detected() -> None:
    missed = [f"{s.name} {s.defects}" for s in samples("tuning") if s.blank
              if not _blank(np.asarray(s.image), s.dpi, s.name)]
    assert not missed, f"blank pages not detected: {missed}"


@pytest.mark.parametrize("seed", range(6))
def test_degraded_text_pages_are_never_blank(seed: int) -> None:
    fonts = font_paths()
    sp = render_page(SENTENCES[seed * 4:seed * 4 + 6], font=fonts[seed % len(fonts)], dpi=300)
    damaged = degrade(sp, Degradation(noise=8, blur=0.8, jpeg_quality=60, border=40, uneven_light=0.3,
                                      tint=(235, 228, 210), rotation=seed % 4), seed=seed)
    assert not _blank(np.asarray(damaged.image.convert("RGB")), 300, f"text-{seed}")
