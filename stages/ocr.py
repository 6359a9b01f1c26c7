"""OCR stage: a cleaned, upright page image → words with boxes, confidences and line baselines.

Both engines return hOCR, parsed by ``stages.hocr`` (one parser: switching engine cannot change the
shape of the result). Each word then passes ``WordFixer``: the lexicon correction from Tesseract's
character alternatives (``stages.ocr_lexicon``) and the English re-read of words that are not
Vietnamese syllables. The image Tesseract reads is prepared first (``stages.ocr_prepare``).

Failure policy: a page that times out or that Tesseract cannot read comes back as
``PageOcr(failed=reason)`` with no words (the page keeps its image; the document is still produced).
A missing tesseract binary or language file is not a page problem: ``MissingDependency`` is raised,
before any page, by ``get_engine``.

Engines (``OcrEngine``, in ``stages.ocr_engine``, which imports no image library so that the helper
can start before this module is imported): ``SubprocessEngine`` starts ``tesseract`` per page;
``WarmEngine`` keeps the model loaded in a helper process per worker.
"""

from __future__ import annotations

import logging
import time
import xml.etree.ElementTree as ET

import cv2
import numpy as np

from sohoa.common.errors import ProcessingError
from sohoa.common.messages import _
from sohoa.common.tesseract import RawImage, TesseractFailed, TesseractTimeout
from sohoa.config.settings import OcrSettings
from sohoa.stages.hocr import parse_hocr
from sohoa.stages.model import OcrLine, Page, PageOcr
from sohoa.stages.ocr_engine import (  # noqa: F401 - the engines are part of this stage's interface
    EngineKind,
    OcrEngine,
    SubprocessEngine,
    WarmEngine,
    get_engine,
    make_engine,
)
from sohoa.stages.ocr_lexicon import correct_word
from sohoa.stages.ocr_prepare import CHOICE_VARIABLES, prepare_ocr_image
from sohoa.stages.reading_order import reading_order
from sohoa.stages.vietnamese import is_valid_syllable

log = logging.getLogger(__name__)

def ocr_page(page: Page, settings: OcrSettings, *, engine: OcrEngine | None = None) -> PageOcr:
    """Recognise ``page.ocr_image``; boxes come back in upright-frame pixels of ``page``.

    Never raises for a page-level failure (timeout, Tesseract error, unreadable output): the result
    then has ``failed`` set and no words. Raises ``MissingDependency`` when Tesseract or a language
    is not installed, ``ProcessingError`` when the page has no usable OCR image (a pipeline bug).
    """
    started = time.perf_counter()
    full = _ocr_input(page)
    engine = engine or get_engine(settings)
    upright_w, upright_h = page.upright_size()
    scale = (upright_w / full.shape[1], upright_h / full.shape[0])
    area = text_area(full, dpi=max(page.upright_dpi()) / scale[0])
    left, top = (area[0], area[1]) if area else (0, 0)
    image = np.ascontiguousarray(full[area[1]:area[3], area[0]:area[2]]) if area else full
    dpi_x, dpi_y = page.upright_dpi()
    dpi = max(1, round((dpi_x / scale[0] + dpi_y / scale[1]) / 2))
    image, factor = prepare_ocr_image(image, dpi=dpi, upscale_to_dpi=settings.upscale_to_dpi,
                                      antialias=settings.antialias_bitonal and page.mode == "bitonal")
    dpi = max(1, round(dpi * factor))
    lines: list[OcrLine] = []
    failed: str | None = None
    fixer = WordFixer(engine, image, dpi=dpi, settings=settings,
                      deadline=time.monotonic() + settings.page_timeout_s)
    try:
        text = engine.hocr(RawImage.from_array(image), dpi=dpi, timeout_s=settings.page_timeout_s,
                           variables=CHOICE_VARIABLES if settings.lexicon else None)
        lines = parse_hocr(text, scale=(scale[0] / factor, scale[1] / factor),
                           origin=(left * factor, top * factor), on_word=fixer)
        if settings.block_order:
            lines = reading_order(lines)
    except TesseractTimeout:
        failed = f"timeout: OCR took longer than {settings.page_timeout_s:g} s"
    except TesseractFailed as exc:
        failed = str(exc)
    except ET.ParseError as exc:
        failed = f"unreadable hOCR from tesseract: {exc}"
    if failed:
        log.warning("OCR failed on %s: %s", page.label, failed)
    return PageOcr(lines=lines, languages=engine.languages, seconds=time.perf_counter() - started,
                   failed=failed)


REREAD_PSM = 7  # one text line: the word crop alone
REREAD_MAX_WORDS = 40  # per page: the re-read costs one recognition per word
REREAD_TIMEOUT_S = 10.0


class WordFixer:
    """``parse_hocr``'s word hook: the lexicon correction, then the re-read of foreign words."""

    def __init__(self, engine: OcrEngine, image: np.ndarray, *, dpi: int, settings: OcrSettings,
                 deadline: float | None = None) -> None:
        """``deadline`` (monotonic): no re-read starts after it, so a page stays near its time limit."""
        self.engine, self.image, self.dpi, self.settings = engine, image, dpi, settings
        self.deadline = deadline
        self.rereads = 0
        self.corrected = 0

    def __call__(self, text: str, box: tuple[int, int, int, int], confidence: float,
                 choices: list[list[tuple[str, float]]]) -> tuple[str, float]:
        if self.settings.lexicon and choices:
            fixed = correct_word(text, choices)
            if fixed.changes:
                self.corrected += 1
                log.debug("lexicon: %s -> %s", text, fixed.text)
                return fixed.text, confidence
        if (self.settings.reread_languages and confidence < self.settings.reread_below
                and self.rereads < REREAD_MAX_WORDS and _foreign_looking(text)
                and (self.deadline is None or time.monotonic() < self.deadline)):
            self.rereads += 1
            other = self._reread(box)
            log.debug("re-read: %s (%.0f) -> %s", text, confidence, other)
            if other is not None and other[1] > confidence:
                return other
        return text, confidence

    def _reread(self, box: tuple[int, int, int, int]) -> tuple[str, float] | None:
        left, top, right, bottom = box
        pad = max(4, (bottom - top) // 3)
        h, w = self.image.shape[:2]
        crop = np.ascontiguousarray(self.image[max(0, top - pad):min(h, bottom + pad),
                                               max(0, left - pad):min(w, right + pad)])
        if crop.size == 0:
            return None
        try:
            left_s = REREAD_TIMEOUT_S if self.deadline is None else self.deadline - time.monotonic()
            text = self.engine.hocr(RawImage.from_array(crop), dpi=self.dpi,
                                    timeout_s=max(0.5, min(REREAD_TIMEOUT_S, left_s)),
                                    languages=self.settings.reread_languages, psm=REREAD_PSM)
            words = [w for line in parse_hocr(text) for w in line.words]
        except (TesseractTimeout, TesseractFailed, ET.ParseError):
            return None
        if len(words) != 1:
            return None  # split or empty: the crop did not hold one word
        return words[0].text, words[0].confidence


def _foreign_looking(word: str) -> bool:
    """A word worth reading in English: Latin letters, no Vietnamese-only letter, not a syllable."""
    core = word.strip(".,:;!?()[]\"'«»“”-–—/…")
    if len(core) < 2 or not core.isalpha() or any(ord(ch) > 0x7F for ch in core):
        return False
    return not is_valid_syllable(core)


# OCR runs on the page's inked area only when that saves at least this share of the pixels: Tesseract's
# layout analysis costs per pixel, and a page with one stamp and two lines should not pay a full page.
CROP_MIN_SAVING = 0.3
CROP_MARGIN_MM = 6.0


def text_area(image: np.ndarray, *, dpi: float) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) around every mark bigger than dust, with a margin; None: use the page."""
    h, w = image.shape[:2]
    f = min(1.0, 100.0 / max(dpi, 1.0))
    grey = image if image.dtype != bool else np.where(image, np.uint8(0), np.uint8(255))
    if grey.ndim == 3:
        grey = cv2.cvtColor(grey, cv2.COLOR_RGB2GRAY)
    # INTER_AREA keeps thin strokes as grey, so the threshold is generous; only specks are dropped
    small = cv2.resize(grey, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    _, _, stats, _ = cv2.connectedComponentsWithStats((small < 200).astype(np.uint8), connectivity=8)
    keep = np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] >= 3) + 1
    if keep.size == 0:
        return None
    xs, ys = stats[keep, cv2.CC_STAT_LEFT], stats[keep, cv2.CC_STAT_TOP]
    x, y = int(xs.min()), int(ys.min())
    bw = int((xs + stats[keep, cv2.CC_STAT_WIDTH]).max()) - x
    bh = int((ys + stats[keep, cv2.CC_STAT_HEIGHT]).max()) - y
    margin = CROP_MARGIN_MM / 25.4 * dpi
    left, top = max(0, int(x / f - margin)), max(0, int(y / f - margin))
    right, bottom = min(w, int((x + bw) / f + margin)), min(h, int((y + bh) / f + margin))
    if (right - left) * (bottom - top) > (1 - CROP_MIN_SAVING) * w * h:
        return None
    return (left, top, right, bottom)


def _ocr_input(page: Page) -> np.ndarray:
    """The image to recognise: the clean stage's ``ocr_image``, or the scan itself when already upright."""
    image = page.ocr_image
    if image is None:
        if page.rotation or page.skew:
            raise ProcessingError(path=page.label, stage="ocr",
                                  detail=_("no OCR image for a rotated/skewed page (the clean stage must run first)"))
        image = page.image  # upright already: the scan is the upright frame, no copy needed
    ok = (image.dtype == bool and image.ndim == 2) or (
        image.dtype == np.uint8 and (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)))
    if not ok or min(image.shape[:2]) == 0:
        raise ProcessingError(path=page.label, stage="ocr",
                              detail=_("unsupported OCR image {dtype} {shape}", dtype=image.dtype, shape=image.shape))
    return image
