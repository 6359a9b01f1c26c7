"""A warm helper launched ahead of the first page (``wait=False``): the page's OCR call reads its hello.

Why a test of its own: launching without waiting moves the check of a broken install from start-up to
the first page, and that page must still say "broken install" (``ToolBroken``, or the ``auto``
engine's fallback to one tesseract process per page), never "this page's OCR failed".
The broken helper is real: a helper pointed at a folder with no traineddata fails its own start.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from sohoa.common.tesseract import RawImage, require_languages
from sohoa.common.tesseract_warm import WarmTesseract
from sohoa.common.tools import ToolBroken
from sohoa.stages.ocr_engine import WarmEngine

pytestmark = pytest.mark.skipif(importlib.util.find_spec("tesserocr") is None, reason="needs tesserocr")
WHITE = RawImage.from_array(np.full((48, 48), 255, dtype=np.uint8))


def _broken_helper(tmp_path: Path) -> WarmTesseract:
    info = dataclasses.replace(require_languages("vie"), tessdata=tmp_path)  # no vie.traineddata there
    return WarmTesseract(info, languages="vie", psm=3)


def test_a_launched_helper_answers_the_first_page(tmp_path: Path) -> None:
    helper = WarmTesseract(require_languages("vie"), languages="vie", psm=3)
    helper.launch()
    try:
        launched = helper.pid
        assert launched is not None
        assert "ocr_page" in helper.recognize(WHITE, dpi=300, timeout_s=60)
        assert helper.pid == launched, "the launched helper was not the one used"
        assert helper.library_version, "the hello was not read"
    finally:
        helper.close()


def test_a_launched_helper_that_never_starts_is_an_install_problem_on_the_first_page(tmp_path: Path) -> None:
    helper = _broken_helper(tmp_path)
    helper.launch()
    try:
        with pytest.raises(ToolBroken):
            helper.recognize(WHITE, dpi=300, timeout_s=60)
    finally:
        helper.close()


def test_auto_falls_back_to_one_tesseract_per_page_when_the_launched_helper_never_starts(tmp_path: Path) -> None:
    engine = WarmEngine("vie", 3, wait=False, fallback=True)
    engine.close()
    engine._warm = _broken_helper(tmp_path)  # the real engine, with a helper that cannot load its model
    engine._warm.launch()
    try:
        assert "ocr_page" in engine.hocr(WHITE, dpi=300, timeout_s=60)
        assert engine._fallback is not None, "the page was not read by the subprocess fallback"
        forced = WarmEngine("vie", 3, wait=False)
        forced.close()
        forced._warm = _broken_helper(tmp_path)
        forced._warm.launch()
        with pytest.raises(ToolBroken):
            forced.hocr(WHITE, dpi=300, timeout_s=60)
        forced.close()
    finally:
        engine.close()
