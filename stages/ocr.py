"""OCR stage: a cleaned, upright page image → words with boxes, confidences and line baselines.

Why hOCR for both engines: it is the one Tesseract output that carries word boxes, word confidences
*and* each line's baseline (which assemble uses to lay the invisible text along the printed line), and
the CLI and the in-memory API produce the same markup, so one parser serves both engines and switching
engine can never change the shape of the result.

Failure policy: a page that times out or that Tesseract cannot read comes back as
``PageOcr(failed=reason)`` with no words (the page keeps its image; the document is still produced).
A missing tesseract binary or language file is not a page problem: ``MissingDependency`` is raised,
before any page, by ``get_engine``.

Engines (``OcrEngine``): ``SubprocessEngine`` starts ``tesseract`` per page; ``WarmEngine`` keeps the
model loaded in a helper process per worker (see ``common.tesseract_warm`` and ``bench/bench_ocr_engine.py``
for why it is the default when tesserocr is installed).
"""

from __future__ import annotations

import atexit
import importlib.util
import logging
import os
import re
import threading
import time
import unicodedata
import xml.etree.ElementTree as ET
from typing import ClassVar, Literal

import cv2
import numpy as np

from sohoa.common.errors import MissingDependency, ProcessingError
from sohoa.common.messages import _
from sohoa.common.tesseract import (
    RawImage,
    TesseractFailed,
    TesseractTimeout,
    require_languages,
    run_cli,
)
from sohoa.common.tesseract_warm import WarmTesseract
from sohoa.config.settings import OcrSettings
from sohoa.stages.model import OcrLine, OcrWord, Page, PageOcr

log = logging.getLogger(__name__)

EngineKind = Literal["auto", "subprocess", "tesserocr"]


class OcrEngine:
    """Turns one page's pixels into hOCR. Languages and PSM are fixed per engine (the model is loaded once)."""

    kind: ClassVar[str] = "base"

    def __init__(self, languages: str, psm: int, *, binary: str = "tesseract") -> None:
        self.info = require_languages(languages, binary)  # MissingDependency here, before any page
        self.languages = languages
        self.psm = psm

    @property
    def version(self) -> str:
        """The Tesseract version that reads the pages (for reports and ``sohoa doctor``)."""
        return self.info.tool.version_text

    def hocr(self, image: RawImage, *, dpi: int, timeout_s: float) -> str:
        raise NotImplementedError

    def close(self) -> None:
        """Release processes held by the engine; it restarts them if used again."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(languages={self.languages!r}, psm={self.psm})"


class SubprocessEngine(OcrEngine):
    """One ``tesseract`` process per page: reloads the model every page, but shares nothing."""

    kind = "subprocess"

    def hocr(self, image: RawImage, *, dpi: int, timeout_s: float) -> str:
        return run_cli(self.info, image, languages=self.languages, psm=self.psm, dpi=dpi, timeout_s=timeout_s)


class WarmEngine(OcrEngine):
    """The model stays loaded in a helper process (tesserocr); a page over its deadline kills the helper."""

    kind = "tesserocr"

    def __init__(self, languages: str, psm: int, *, binary: str = "tesseract",
                 kill_grace_s: float | None = None) -> None:
        super().__init__(languages, psm, binary=binary)
        self._warm = WarmTesseract(self.info, languages=languages, psm=psm, kill_grace_s=kill_grace_s)
        self._warm.start()

    @property
    def helper_pid(self) -> int | None:
        return self._warm.pid

    @property
    def version(self) -> str:
        return self._warm.library_version or "?"  # tesserocr's bundled libtesseract, not the system's

    def hocr(self, image: RawImage, *, dpi: int, timeout_s: float) -> str:
        return self._warm.recognize(image, dpi=dpi, timeout_s=timeout_s)

    def close(self) -> None:
        self._warm.close()


def make_engine(kind: EngineKind, languages: str, psm: int) -> OcrEngine:
    """A new engine. ``auto`` = warm when tesserocr is installed and starts, else one process per page."""
    if kind == "subprocess":
        return SubprocessEngine(languages, psm)
    if kind == "tesserocr":
        return WarmEngine(languages, psm)
    if importlib.util.find_spec("tesserocr") is None:
        return SubprocessEngine(languages, psm)
    try:
        return WarmEngine(languages, psm)
    except MissingDependency as exc:
        if exc.code != "tool_broken":
            raise  # tesseract itself or a language is missing: the subprocess engine would fail too
        log.warning("warm OCR engine unavailable, using one tesseract process per page: %s", exc)
        return SubprocessEngine(languages, psm)


_engines: dict[tuple[int, str, str, int], OcrEngine] = {}
_engines_lock = threading.Lock()


def get_engine(settings: OcrSettings) -> OcrEngine:
    """This process's engine for these settings, created on first use (workers keep it warm).

    Keyed by process id so a worker forked from a parent that already had an engine builds its own
    instead of sharing the parent's helper pipes.
    """
    # ``engine`` is read defensively until OcrSettings carries it (auto | subprocess | tesserocr).
    kind: EngineKind = getattr(settings, "engine", "auto")
    key = (os.getpid(), kind, settings.languages, settings.psm)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = make_engine(kind, settings.languages, settings.psm)
    return engine


@atexit.register
def _close_engines() -> None:
    for (pid, *_rest), engine in list(_engines.items()):
        if pid == os.getpid():
            engine.close()


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
    lines: list[OcrLine] = []
    failed: str | None = None
    try:
        text = engine.hocr(RawImage.from_array(image), dpi=dpi, timeout_s=settings.page_timeout_s)
        lines = parse_hocr(text, scale=scale, origin=(left, top))
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


# --- hOCR → typed lines --------------------------------------------------------------------------

_LINE_CLASSES = frozenset({"ocr_line", "ocr_textfloat", "ocr_header", "ocr_caption"})
_PAGE_START = re.compile(r"<div\s+class=['\"]ocr_page['\"]")


def _title(element: ET.Element) -> dict[str, list[str]]:
    """hOCR properties: ``"bbox 1 2 3 4; x_wconf 96"`` → ``{"bbox": [...], "x_wconf": ["96"]}``."""
    props: dict[str, list[str]] = {}
    for part in element.get("title", "").split(";"):
        fields = part.split()
        if fields:
            props[fields[0]] = fields[1:]
    return props


def _box(props: dict[str, list[str]], scale: tuple[float, float],
         offset: tuple[int, int] = (0, 0)) -> tuple[int, int, int, int] | None:
    values = props.get("bbox")
    if not values or len(values) != 4:
        return None
    dx, dy = offset
    left, top, right, bottom = (int(v) for v in values)
    sx, sy = scale
    return (round((left + dx) * sx), round((top + dy) * sy), round((right + dx) * sx), round((bottom + dy) * sy))


def parse_hocr(text: str, *, scale: tuple[float, float] = (1.0, 1.0),
               origin: tuple[int, int] = (0, 0)) -> list[OcrLine]:
    """Lines of non-empty NFC words from Tesseract hOCR (a whole document or the page ``div`` alone).

    ``origin`` is where the recognised crop sits in the OCR image; ``scale`` then multiplies every
    coordinate (OCR image pixels → upright-frame pixels).
    """
    start = _PAGE_START.search(text)
    if start is None:
        return []
    end = text.rfind("</body>")
    root = ET.fromstring("<root>" + text[start.start():end if end > start.start() else len(text)] + "</root>")
    lines: list[OcrLine] = []
    for element in root.iter():
        if element.get("class") not in _LINE_CLASSES:
            continue
        words: list[OcrWord] = []
        for span in element.iter():
            if span.get("class") != "ocrx_word":
                continue
            word = unicodedata.normalize("NFC", "".join(span.itertext())).strip()
            props = _title(span)
            box = _box(props, scale, origin)
            if not word or box is None:
                continue
            confidence = float(props.get("x_wconf", ["0"])[0])
            words.append(OcrWord(text=word, box=box, confidence=min(100.0, max(0.0, confidence))))
        line_props = _title(element)
        line_box = _box(line_props, scale, origin)
        if not words or line_box is None:
            continue
        slope, offset = 0.0, 0.0
        if len(line_props.get("baseline", [])) == 2:
            slope = float(line_props["baseline"][0]) * scale[1] / scale[0]
            offset = float(line_props["baseline"][1]) * scale[1]
        lines.append(OcrLine(words=words, box=line_box, baseline=(slope, offset)))
    return lines
