"""The clean stage: find how a scan must turn to be upright, and make the grey copy Tesseract reads.

Why this shape: the page image itself is never touched (assemble embeds the scanner's bytes and places
them with ``Page.upright_matrix()``); clean only *measures* (``rotation``, ``skew``, ``content_box``,
``blank``) and builds ``ocr_image`` in the upright frame. All measurements run on one ~100 dpi copy, so the
full-resolution work is a handful of single-pass OpenCV calls (grey conversion, one warp, one divide, one
connected-component pass): about a tenth of Tesseract's own time. Tesseract OSD, which costs several
times more, is only asked when the cheap cues disagree or are weak.

Memory: besides ``page.image`` at most two full-resolution 8-bit planes and one label plane live at once;
the grey source copy is dropped as soon as it has been warped.
"""

from __future__ import annotations

import math
import time

import cv2
import numpy as np

from sohoa.common.errors import ProcessingError
from sohoa.common.messages import _
from sohoa.config.settings import CleanSettings
from sohoa.stages.blank import blank_evidence
from sohoa.stages.model import Page
from sohoa.stages.orientation import line_geometry, osd_rotation, quarter_turn, up_down

# Analysis resolution: text lines (~17 px pitch at 12 pt) and the marks above them stay visible, and a
# full A4 page is under a megapixel, so the projection search takes milliseconds.
ANALYSIS_DPI = 100.0
# Tesseract OSD wants characters around 20 px tall; 150 dpi gives that for 10-13 pt text.
OSD_DPI = 150.0
OSD_TIMEOUT_S = 15.0
# Confidence needed to trust the cheap orientation cues (measured on bench.corpus, see bench_clean.py):
# line-axis sharpness ratio between the two axes, up/down asymmetry, and lines that voted.
MIN_AXIS_RATIO = 1.5
MIN_UPDOWN_SCORE = 0.12
MIN_LINES = 3
# With only one or two lines the up/down cue must be clearly stronger to be trusted on its own.
MIN_UPDOWN_SCORE_FEW_LINES = 0.3
# OSD answers below this confidence lose to the cheap guess (a wrong 180 on a two-line page was seen at 0.9;
# clear pages score well above 5).
OSD_MIN_CONFIDENCE = 2.0
# Tilts below this are not corrected: resampling would blur the OCR copy for no gain.
MIN_SKEW_DEGREES = 0.1
# A pixel is ink in the analysis copy when darker than this share of the local paper brightness.
INK_RATIO = 0.75
# Dark scanner border: darker than this share of the paper, touching the frame edge, and running along
# at least this share of that edge (a text glyph cut by the edge never does).
BORDER_DARKNESS = 0.45
BORDER_MIN_RUN = 0.10
# Dark spots up to this diameter (mm) are dust, not text: a full stop or a Vietnamese dot below at
# 10 pt is about 0.35 mm wide.
SPECKLE_MAX_MM = 0.2
# Background (paper) estimate: a max filter wider than the thickest strokes, then a wide blur.
BACKGROUND_WINDOW_MM = 4.0
DARK_LEVEL = 128  # in the normalised OCR copy, ink is darker than this


def clean_page(page: Page, settings: CleanSettings) -> Page:
    """Set ``rotation``, ``skew``, ``content_box``, ``ocr_image``, ``blank``, ``warnings`` on ``page``.

    ``page.image`` is read, never modified. Returns the same ``page`` for chaining.
    """
    started = time.perf_counter()
    grey = _to_grey(page)
    h, w = grey.shape
    dpi = float(max(page.dpi)) if max(page.dpi) > 0 else 300.0
    f = min(1.0, ANALYSIS_DPI / dpi)
    small = cv2.resize(grey, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)

    border = _border_mask(small) if settings.remove_borders else np.zeros(small.shape, bool)
    # one paper-level estimate serves the ink map and the blank-page judgement
    paper = paper_level(small, BACKGROUND_WINDOW_MM / 25.4 * f * dpi)
    ink = _ink_map(small, paper, border)

    page.rotation, page.skew = 0, 0.0
    # Blank first: a blank back page needs no orientation work (Tesseract OSD on paper grain is slow).
    page.blank = blank_evidence(small, paper, f * dpi, border).blank
    if (not page.blank and (settings.orientation or settings.deskew)
            and int(np.count_nonzero(ink)) >= 200):
        _measure_geometry(page, grey, ink, settings, dpi)
    del ink
    if settings.colour_dropout and page.image.ndim == 3 and page.image.shape[2] == 3 and not page.blank:
        # the OCR copy only: orientation and the blank judgement above saw the seal and the signature
        grey = colour_dropout(page.image, dpi)

    matrix = page.upright_matrix()
    uw, uh = page.upright_size()
    ocr = _warp(grey, matrix, (uw, uh), page.rotation, page.skew)
    if np.shares_memory(ocr, page.image):  # upright grey scan: the "warp" is the scan itself
        ocr = ocr.copy()
    del grey

    small_matrix = matrix.copy()
    small_matrix[:, 2] *= f
    sw, sh = max(1, round(uw * f)), max(1, round(uh * f))
    small_up = _warp(small, small_matrix, (sw, sh), page.rotation, page.skew)
    # outside the scanned frame (corners uncovered by deskewing) is not paper either
    border_up = _warp(border.astype(np.uint8) * 255, small_matrix, (sw, sh), page.rotation, page.skew,
                      fill=255, nearest=True) > 0

    page.content_box = _content_box(border_up, f, (uw, uh))
    if settings.normalize_background and page.mode != "bitonal":
        _normalise_background(ocr, small_up, border_up, f * dpi)
    if border_up.any():
        _paint_border_white(ocr, border_up)
    if settings.despeckle:
        _despeckle(ocr, dpi)
    page.ocr_image = ocr
    page.timings["clean"] = time.perf_counter() - started
    return page


def _to_grey(page: Page) -> np.ndarray:
    """A full-resolution uint8 grey copy of the source image (dark ink, light paper)."""
    img = page.image
    if img.dtype == bool:
        return np.where(img, np.uint8(0), np.uint8(255))
    if img.dtype != np.uint8:
        raise ProcessingError(path=page.label, stage="clean",
                              detail=_("unsupported pixel type {dtype} (expected 8-bit or bitonal)", dtype=img.dtype))
    if img.ndim == 2:
        return img
    if img.ndim == 3 and img.shape[2] == 3:
        return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    if img.ndim == 3 and img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_RGBA2GRAY)
    raise ProcessingError(path=page.label, stage="clean", detail=_("unsupported image shape {shape}", shape=img.shape))


# Colour dropout: a pixel is a coloured stroke when it is red (CIELAB a* over DROPOUT_CHROMA: seal ink)
# or blue / violet (b* under -DROPOUT_CHROMA: ballpoint), and darker than paper (L* under DROPOUT_MAX_L).
# Black toner with JPEG colour noise stays within +-15; cream and yellowed paper, even where a scanner's
# uneven light darkens it, is yellow (b* > 0, a* near 0), so it is never taken for a stroke.
DROPOUT_CHROMA = 20.0
DROPOUT_MAX_L = 80.0  # percent
DROPOUT_EDGE_MM = 0.35  # the stroke's blended edge, taken with it ...
DROPOUT_EDGE_CHROMA = 8.0  # ... where it still leans red or blue this much, or is lighter than text
DROPOUT_KEEP_DARK = 110  # neutral pixels darker than this are black text (under the seal too): kept
# Only strokes of a *mark* go: a connected coloured stroke at least this long (a seal's ring, a signature's
# loops, a ruled line), and what lies in its box (the seal's own lettering). A letter of coloured print
# ("KHẨN" in red, a form's blue labels) is 2-6 mm in both directions: it stays, and is read.
DROPOUT_MARK_MM = 7.0
MARK_ANALYSIS_DPI = 150.0  # strokes are measured this coarse (at 100 dpi a 0.3 mm pen line breaks up)


def colour_dropout(rgb: np.ndarray, dpi: float) -> np.ndarray:
    """Grey copy of an RGB page in which coloured strokes and their edges take the grey of the paper
    around them and neutral ink keeps its grey (a colour page only; for a while it holds a few more
    full-resolution planes than the rest of the stage).

    Why: Tesseract reads the text under a red seal and a blue signature (the signer's title on a
    Decree-30 page) as part of the seal's strokes, and drops it; scanners' "colour dropout" does this
    in hardware. Only the copy Tesseract reads changes. Edges go too: a faded stroke left as a grey
    outline is read as junk letters, while the whole dark stroke was ignored as a picture.
    """
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)
    a = lab[..., 1].astype(np.int16) - 128
    b = lab[..., 2].astype(np.int16) - 128
    stroke = ((a > DROPOUT_CHROMA) | (b < -DROPOUT_CHROMA)) & (lab[..., 0] < round(DROPOUT_MAX_L * 255 / 100))
    tinged = (a > DROPOUT_EDGE_CHROMA) | (b < -DROPOUT_EDGE_CHROMA)
    del lab, a, b
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if not stroke.any():
        return grey
    marks = coloured_marks(stroke, dpi)
    stroke &= marks
    tinged &= marks
    if not stroke.any():
        return grey
    r = max(1, round(DROPOUT_EDGE_MM / 25.4 * dpi))
    near = cv2.dilate(stroke.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    drop = (near > 0) & (stroke | tinged | (grey >= DROPOUT_KEEP_DARK))
    del near, stroke, tinged
    # filled with the paper around them, not white: on paper a scanner's uneven light made grey, a white
    # stroke would be an outline Tesseract reads (and the background normalisation would take it for paper)
    grey[drop] = 0
    f = min(1.0, ANALYSIS_DPI / dpi)
    h, w = grey.shape
    small = cv2.resize(grey, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    paper = cv2.resize(paper_level(small, BACKGROUND_WINDOW_MM / 25.4 * f * dpi), (w, h),
                       interpolation=cv2.INTER_LINEAR)
    grey[drop] = paper[drop]
    return grey


def coloured_marks(stroke: np.ndarray, dpi: float) -> np.ndarray:
    """Where the coloured strokes belong to a mark (``DROPOUT_MARK_MM``): the boxes of those strokes,
    padded by half a millimetre. Measured on a copy at ``MARK_ANALYSIS_DPI`` where a pixel is a stroke
    when most of it was, so neighbouring letters do not merge into one long stroke."""
    f = min(1.0, MARK_ANALYSIS_DPI / dpi)
    h, w = stroke.shape
    small = cv2.resize(stroke.view(np.uint8) * np.uint8(255), (max(1, round(w * f)), max(1, round(h * f))),
                       interpolation=cv2.INTER_AREA) > 127
    _count, _labels, stats, _centres = cv2.connectedComponentsWithStats(small.view(np.uint8), connectivity=8)
    longest = DROPOUT_MARK_MM / 25.4 * dpi * f
    pad = max(1, round(0.5 / 25.4 * dpi))
    marks = np.zeros((h, w), dtype=bool)
    for x, y, bw, bh, _area in stats[1:]:
        if max(bw, bh) >= longest:
            marks[max(0, int(y / f) - pad):min(h, int((y + bh) / f) + pad),
                  max(0, int(x / f) - pad):min(w, int((x + bw) / f) + pad)] = True
    return marks


def _odd(n: float) -> int:
    k = max(3, int(round(n)))
    return k if k % 2 else k + 1


def paper_level(small: np.ndarray, window_px: float) -> np.ndarray:
    """Local paper brightness: max filter (erases strokes thinner than the window), then smoothed."""
    k = _odd(window_px)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    bg = cv2.dilate(small, kernel)
    return cv2.blur(bg, (k, k))


def _border_mask(small: np.ndarray) -> np.ndarray:
    """Dark regions connected to the frame edge and running along a good part of it (scanner lid/bed)."""
    h, w = small.shape
    dark = (small < BORDER_DARKNESS * _percentile_u8(small, 90)).astype(np.uint8)
    # a border reaches the frame edge: most clean scans stop here, before labelling the text
    if not (dark[0].any() or dark[-1].any() or dark[:, 0].any() or dark[:, -1].any()):
        return np.zeros(small.shape, bool)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=4)
    x, y, bw, bh = (stats[:, i] for i in range(4))
    touches_tb = (y == 0) | (y + bh == h)
    touches_lr = (x == 0) | (x + bw == w)
    keep = ((bw >= BORDER_MIN_RUN * w) & touches_tb) | ((bh >= BORDER_MIN_RUN * h) & touches_lr)
    keep[0] = False
    if not keep.any():
        return np.zeros(small.shape, bool)
    mask = keep.astype(np.uint8)[labels]
    # the border's soft inner edge (scanner shadow, blur) is not ink either
    return cv2.dilate(mask, np.ones((3, 3), np.uint8)) > 0


def _percentile_u8(img: np.ndarray, q: float) -> float:
    """Percentile of a uint8 image from its histogram (a sort of a megapixel costs ten times more)."""
    counts = np.bincount(img.ravel(), minlength=256)
    return float(np.searchsorted(np.cumsum(counts), q / 100 * img.size))


def _ink_map(small: np.ndarray, bg: np.ndarray, border: np.ndarray) -> np.ndarray:
    """Binary ink map of the analysis copy, relative to the local paper level (survives uneven light)."""
    ink = small.astype(np.float32) < INK_RATIO * bg.astype(np.float32)
    ink[border] = False
    return _drop_edge_touching(ink)


def _drop_edge_touching(ink: np.ndarray) -> np.ndarray:
    """Remove ink connected to the frame edge: paper edges and shadows, not text (text keeps a margin).

    A long paper edge (darker paper against a white lid) would otherwise pass for a text line and
    outvote a short text on the line axis.
    """
    n, labels = cv2.connectedComponents(ink.astype(np.uint8), connectivity=8)
    if n <= 1:
        return ink
    touching = np.zeros(n, bool)
    for edge in (labels[0], labels[-1], labels[:, 0], labels[:, -1]):
        touching[edge] = True
    touching[0] = False
    if not touching.any():
        return ink
    return ink & ~touching[labels]


def _measure_geometry(page: Page, grey: np.ndarray, ink: np.ndarray, settings: CleanSettings,
                      dpi: float) -> None:
    """Set ``page.rotation`` and ``page.skew`` from the ink map; ask OSD only when the cues are weak."""
    max_tilt = settings.max_skew_degrees if settings.deskew else 0.0
    geom = line_geometry(ink, max_tilt, try_vertical=settings.orientation)
    if geom is None:
        return
    if settings.deskew and abs(geom.tilt) >= MIN_SKEW_DEGREES:
        page.skew = round(-geom.tilt, 2)
    if not settings.orientation:
        return
    cue = up_down(geom.profile)
    page.rotation = quarter_turn(geom.vertical, cue.score > 0)
    strong = ((cue.lines >= MIN_LINES and abs(cue.score) >= MIN_UPDOWN_SCORE)
              or (cue.lines >= 1 and abs(cue.score) >= MIN_UPDOWN_SCORE_FEW_LINES))
    sure = geom.axis_ratio >= MIN_AXIS_RATIO and strong
    if sure:
        return
    if not settings.orientation_osd_fallback:
        page.warnings.append(f"orientation uncertain, guessed {page.rotation} degrees (OSD disabled)")
        return
    g = min(1.0, OSD_DPI / dpi)
    h, w = grey.shape
    osd_copy = cv2.resize(grey, (max(1, round(w * g)), max(1, round(h * g))), interpolation=cv2.INTER_AREA)
    answer = osd_rotation(osd_copy, timeout_s=OSD_TIMEOUT_S)
    if answer is None:
        page.warnings.append(f"orientation uncertain, Tesseract OSD had no answer, guessed {page.rotation} degrees")
    elif answer[1] < OSD_MIN_CONFIDENCE:
        page.warnings.append(f"orientation uncertain, Tesseract OSD unsure ({answer[0]} degrees, confidence "
                             f"{answer[1]:.1f}), guessed {page.rotation} degrees")
    else:
        page.rotation = answer[0]
        page.warnings.append("orientation uncertain, used Tesseract OSD")


def _warp(img: np.ndarray, matrix: np.ndarray, size: tuple[int, int], rotation: int, skew: float,
          *, fill: int = 255, nearest: bool = False) -> np.ndarray:
    """``img`` in the upright frame. Quarter turns alone are exact pixel moves (no resampling).

    ``upright_matrix`` maps pixel *edges* (pixel i spans [i, i+1)); OpenCV's ``warpAffine`` works on pixel
    *centres*, so the matrix is shifted by half a pixel on both sides to land on the same pixels.
    """
    if skew == 0.0:
        return np.ascontiguousarray(np.rot90(img, k=-(rotation // 90)))
    m = matrix.astype(np.float64).copy()
    m[:, 2] += m[:, :2] @ np.array([0.5, 0.5]) - 0.5
    flags = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    return cv2.warpAffine(img, m, size, flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=fill)


def _content_box(border_up: np.ndarray, f: float, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The paper's box in upright pixels: rows and columns that are mostly not scanner border."""
    uw, uh = size
    if not border_up.any():
        return (0, 0, uw, uh)
    rows = np.flatnonzero(border_up.mean(axis=1) < 0.5)
    cols = np.flatnonzero(border_up.mean(axis=0) < 0.5)
    if rows.size == 0 or cols.size == 0:
        return (0, 0, uw, uh)
    left = min(uw, math.ceil(cols[0] / f))
    top = min(uh, math.ceil(rows[0] / f))
    right = max(left, min(uw, math.floor((cols[-1] + 1) / f)))
    bottom = max(top, min(uh, math.floor((rows[-1] + 1) / f)))
    return (left, top, right, bottom)


def _normalise_background(ocr: np.ndarray, small_up: np.ndarray, border_up: np.ndarray, dpi: float) -> None:
    """Divide by the paper level, in place: tinted paper and uneven light become white, ink stays dark."""
    small_up = small_up.copy()
    if border_up.any():
        small_up[border_up] = np.uint8(_percentile_u8(small_up[~border_up], 50) if (~border_up).any() else 255)
    bg = paper_level(small_up, BACKGROUND_WINDOW_MM / 25.4 * dpi)
    np.maximum(bg, 1, out=bg)
    full = cv2.resize(bg, (ocr.shape[1], ocr.shape[0]), interpolation=cv2.INTER_LINEAR)
    cv2.divide(ocr, full, dst=ocr, scale=255)


def _paint_border_white(ocr: np.ndarray, border_up: np.ndarray) -> None:
    mask = cv2.resize(border_up.astype(np.uint8), (ocr.shape[1], ocr.shape[0]), interpolation=cv2.INTER_NEAREST)
    ocr[mask > 0] = 255


def _despeckle(ocr: np.ndarray, dpi: float) -> None:
    """Whiten dust in place: isolated dark dots up to ``SPECKLE_MAX_MM`` across."""
    diameter = SPECKLE_MAX_MM / 25.4 * dpi
    max_area = max(1, int(diameter * diameter))
    _, dark = cv2.threshold(ocr, DARK_LEVEL - 1, 1, cv2.THRESH_BINARY_INV)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    del dark
    small = stats[:, cv2.CC_STAT_AREA] <= max_area
    small[0] = False  # the background label is not dust
    if small.any():
        ocr[small[labels]] = 255
