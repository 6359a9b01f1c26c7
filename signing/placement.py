"""Put a visible signature in free space near its prescribed corner, never over the page's ink if it can help.

Why: Circular 01/2023 prescribes the corner (top left for the digitizer, top right for the organisation
and for copies), not the exact spot; a box drawn at a fixed offset covers the first lines of many real
pages (a Decree-30 header reaches the top right corner). So the page is drawn as it is before signing
(earlier stamps included, so the second signature avoids the first), its ink is found, and the box is
moved to the nearest place near the corner where it covers (almost) nothing. If no place is free, the
box shrinks step by step down to ``min_scale``; only then does it overlap, at the place with the least
ink, and the caller is told (a warning in the log and in the result).

Positions are searched on a 2 mm grid over the page's half on the corner's side, down to
``search_depth`` of the page height, nearest to the corner first; ink under a box is read from an
integral image, so each position costs four lookups.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sohoa.signing.rendering import DPI

MM = 72.0 / 25.4
INK_LEVEL = 160  # grey below this is ink (text, lines, a seal), above is paper
FREE_RATIO = 0.01  # a box with at most 1% ink under it is in free space
STEP_MM = 2.0
EDGE_MM = 5.0  # printers cannot print closer to the paper's edge
SHRINK_STEPS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4)


@dataclass(frozen=True)
class Placement:
    box: tuple[float, float, float, float]  # PDF points, lower-left origin
    scale: float  # 1.0 = the configured size
    ink_ratio: float  # ink pixels under the box / box pixels
    moved_mm: float  # how far the box moved from the prescribed spot

    @property
    def overlaps(self) -> bool:
        return self.ink_ratio > FREE_RATIO


def ink_mask(grey: np.ndarray) -> np.ndarray:
    """Ink of a page drawn at ``rendering.DPI``, widened by a pixel so boxes keep a little clearance."""
    ink = grey < INK_LEVEL
    grown = ink.copy()
    grown[1:, :] |= ink[:-1, :]
    grown[:-1, :] |= ink[1:, :]
    grown[:, 1:] |= ink[:, :-1]
    grown[:, :-1] |= ink[:, 1:]
    return grown


def ink_under(ink: np.ndarray, box: tuple[float, float, float, float], page_box: tuple[float, float, float, float]
              ) -> float:
    """Share of ink pixels under ``box`` (PDF points) on a page mask drawn from ``page_box``."""
    table = _integral(ink)
    return _ratio(table, *_pixels(box, page_box, ink.shape))


def find_place(ink: np.ndarray, page_box: tuple[float, float, float, float], *, corner: str, width: float,
               height: float, margin: float, min_scale: float = 0.6, search_depth: float = 0.45,
               edge: float = EDGE_MM * MM) -> Placement:
    """The free place nearest ``corner`` for a ``width`` x ``height`` box (points), as module docstring.
    ``margin`` is the preferred distance from the edges; the search may come as close as ``edge``."""
    x0, y0, x1, y1 = page_box
    table = _integral(ink)
    best: Placement | None = None
    best_ink = float("inf")
    for scale in (s for s in SHRINK_STEPS if s >= min_scale - 1e-9):
        w, h = width * scale, height * scale
        home = (x0 + margin if corner.endswith("left") else x1 - margin - w,
                y1 - margin - h if corner.startswith("top") else y0 + margin)
        for left, bottom in _candidates(page_box, home, w, h, min(margin, edge), corner, search_depth):
            box = (left, bottom, left + w, bottom + h)
            ratio = _ratio(table, *_pixels(box, page_box, ink.shape))
            moved = float(np.hypot(left - home[0], bottom - home[1])) / MM
            if ratio <= FREE_RATIO:
                return Placement(_rounded(box), scale, ratio, moved)
            covered = ratio * w * h  # overlapping at last: the least ink covered, whatever the size
            if covered < best_ink - 1e-6:
                best, best_ink = Placement(_rounded(box), scale, ratio, moved), covered
    assert best is not None
    return best


def _candidates(page_box: tuple[float, float, float, float], home: tuple[float, float], w: float, h: float,
                margin: float, corner: str, depth: float) -> list[tuple[float, float]]:
    x0, y0, x1, y1 = page_box
    step = STEP_MM * MM
    page_w, page_h = x1 - x0, y1 - y0
    if corner.endswith("left"):
        xs = np.arange(x0 + margin, max(x0 + margin, x0 + page_w / 2 + page_w * 0.1 - w) + 1e-6, step)
    else:
        xs = np.arange(x1 - margin - w, min(x1 - margin - w, x0 + page_w * 0.4) - 1e-6, -step)
    if corner.startswith("top"):
        ys = np.arange(y1 - margin - h, max(y0 + margin, y1 - page_h * depth - h) - 1e-6, -step)
    else:
        ys = np.arange(y0 + margin, min(y1 - margin - h, y0 + page_h * depth) + 1e-6, step)
    points = [(float(x), float(y)) for x in xs for y in ys]
    points.sort(key=lambda p: (p[0] - home[0]) ** 2 + (p[1] - home[1]) ** 2)
    return [home, *points]  # the prescribed spot first: kept whenever it is free


def _integral(mask: np.ndarray) -> np.ndarray:
    table = np.zeros((mask.shape[0] + 1, mask.shape[1] + 1), np.int64)
    table[1:, 1:] = np.cumsum(np.cumsum(mask, axis=0, dtype=np.int64), axis=1)
    return table


def _pixels(box: tuple[float, float, float, float], page_box: tuple[float, float, float, float],
            shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    scale = DPI / 72.0
    rows, cols = shape[0], shape[1]
    col0 = int(max(0, min(cols, (box[0] - page_box[0]) * scale)))
    col1 = int(max(0, min(cols, np.ceil((box[2] - page_box[0]) * scale))))
    row0 = int(max(0, min(rows, (page_box[3] - box[3]) * scale)))
    row1 = int(max(0, min(rows, np.ceil((page_box[3] - box[1]) * scale))))
    return row0, row1, col0, col1


def _ratio(table: np.ndarray, row0: int, row1: int, col0: int, col1: int) -> float:
    area = (row1 - row0) * (col1 - col0)
    if area <= 0:
        return 1.0
    ink = table[row1, col1] - table[row0, col1] - table[row1, col0] + table[row0, col0]
    return float(ink) / area


def _rounded(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    return (round(box[0], 2), round(box[1], 2), round(box[2], 2), round(box[3], 2))
