"""Is this page blank? Judged as a person would: no text line, no stamp, no signature, no drawing.

Why not an ink ratio alone: real blank back pages carry paper texture and recycled-paper flecks, a fold
line, a staple's shadow, scanner edge lines and show-through from the printed side. Each of those once
made a blank page "not blank", and Tesseract then spent 14 s inventing 17 words on it. So marks are
classified on the ~100 dpi analysis copy, after dividing by the local paper level:

- faint marks (lighter than ``INK_LEVEL`` of the paper: show-through, texture) are not ink at all;
- dust and flecks (under ``DUST_MM`` across) are ignored;
- straight thin strokes (a minimum-area rectangle under ``LINE_MAX_WIDTH_MM`` wide and over
  ``LINE_MIN_LENGTH_MM`` long: folds, scanner lines, paper edges) are ignored;
- anything large and two-dimensional (``CONTENT_MIN_MM`` on both sides of its rectangle: a seal, a
  signature, handwriting, a photo) makes the page not blank at once;
- the rest are glyph-like marks; the page has text when at least ``MIN_TEXT_MARKS`` of them stand in
  rows (a mark with two neighbours at the same height), which random specks almost never do.

Cost: one comparison with the clean stage's paper level and one connected-component pass at 100 dpi
(a few milliseconds per A4 page).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

INK_LEVEL = 0.6  # of the local paper brightness; show-through is typically 0.75-0.95
DUST_MM = 0.9
LINE_MAX_WIDTH_MM = 2.5
LINE_MIN_LENGTH_MM = 15.0
CONTENT_MIN_MM = 3.0
CONTENT_MIN_LONG_MM = 8.0
MIN_TEXT_MARKS = 8
ROW_NEIGHBOUR_MM = 8.0
SURELY_TEXT_MARKS = 400  # more glyph-like marks than this: text, no need to look at rows


@dataclass(frozen=True)
class BlankEvidence:
    """What the judgement saw, for reports and tests."""

    blank: bool
    text_marks: int
    marks: int
    content: int  # large two-dimensional marks (seals, signatures, pictures)
    ignored_lines: int


def blank_evidence(small: np.ndarray, paper: np.ndarray, dpi: float,
                   excluded: np.ndarray | None = None) -> BlankEvidence:
    """Judge a grey analysis copy (``dpi`` its resolution, any quarter turn) against its local paper level
    (``stages.clean.paper_level``, which the clean stage has already computed); ``excluded``: scanner border."""
    mm = dpi / 25.4
    ink = (small.astype(np.float32) < INK_LEVEL * np.maximum(paper, 1).astype(np.float32)).astype(np.uint8)
    if excluded is not None and excluded.any():
        ink[excluded] = 0
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(ink, connectivity=8)
    h, w = ink.shape
    x, y, bw, bh = (stats[1:, i] for i in range(4))
    long_side = np.maximum(bw, bh) / mm
    touches = (x == 0) | (y == 0) | (x + bw == w) | (y + bh == h)  # paper edges and shadows
    candidates = np.flatnonzero((long_side >= DUST_MM) & ~touches) + 1
    marks: list[int] = []
    content = lines = 0
    for label in candidates:
        cx, cy, cw, ch = (int(v) for v in stats[label, :4])
        if max(cw, ch) / mm >= min(CONTENT_MIN_LONG_MM, LINE_MIN_LENGTH_MM):
            points = cv2.findNonZero((labels[cy:cy + ch, cx:cx + cw] == label).astype(np.uint8))
            (_, _), (rw, rh), _ = cv2.minAreaRect(points)
            short, longer = sorted((rw / mm, rh / mm))
            if short < LINE_MAX_WIDTH_MM and longer >= LINE_MIN_LENGTH_MM:
                lines += 1
                continue
            if short >= CONTENT_MIN_MM and longer >= CONTENT_MIN_LONG_MM:
                content += 1
                break
        marks.append(label)
        if len(marks) > SURELY_TEXT_MARKS:
            break
    if content or len(marks) > SURELY_TEXT_MARKS:
        return BlankEvidence(False, len(marks), len(marks), content, lines)
    text_marks = 0
    if marks:  # rows of a page scanned sideways are columns: look both ways
        text_marks = max(_marks_in_rows(centroids[marks], stats[marks], mm, axis=axis) for axis in (0, 1))
    return BlankEvidence(text_marks < MIN_TEXT_MARKS, text_marks, len(marks), 0, lines)


def _marks_in_rows(centres: np.ndarray, stats: np.ndarray, mm: float, *, axis: int) -> int:
    """How many marks have at least two neighbours on the same text row (close, at the same height).

    ``axis`` 0: rows run left-right (an upright or upside-down page); 1: they run top-bottom (sideways).
    """
    along, across = (0, 1) if axis == 0 else (1, 0)
    cx, cy = centres[:, along], centres[:, across]
    height = np.maximum(stats[:, 3 if axis == 0 else 2], 1).astype(np.float64)
    dy = np.abs(cy[:, None] - cy[None, :])
    dx = np.abs(cx[:, None] - cx[None, :])
    same_row = (dy <= 0.6 * np.maximum(height[:, None], height[None, :])) & (dx <= ROW_NEIGHBOUR_MM * mm)
    np.fill_diagonal(same_row, False)
    return int(np.count_nonzero(same_row.sum(axis=1) >= 2))
