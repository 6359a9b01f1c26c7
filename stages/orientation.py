"""Cheap page geometry from a low-resolution ink map: skew angle, text-line axis, up/down cue, OSD fallback.

Why a separate module: ``clean`` owns the images, this module only owns *measurements* on a small binary
ink map (about 100 dpi), so it stays testable and fast. Everything here runs on ink-pixel coordinates,
not on rotated images: projecting a few tens of thousands of points onto a tilted axis and counting them
(``np.bincount``) costs far less than rotating a picture for every candidate angle.

Conventions (see ``stages.model``): image y points down; an angle ``t`` here is the *tilt of the text*,
counter-clockwise positive as seen on screen. The correction that ``Page.skew`` stores is ``-t``.
A quarter turn does not change a tilt angle, so the tilt can be measured before the turn is known: the
search tries both axes (text lines horizontal, or vertical after a 90/270 turn) with the same angles.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

# Points used for the projection search. More points do not sharpen the peak once lines are sampled
# densely; fewer keep the coarse search within a few milliseconds.
MAX_POINTS = 40_000
COARSE_STEP = 0.5  # degrees
FINE_STEP = 0.05  # degrees, searched +-COARSE_STEP around the coarse optimum


@dataclass(frozen=True)
class LineGeometry:
    """Where the text lines run: ``tilt`` in degrees (CCW positive) and which way (``vertical``)."""

    tilt: float
    vertical: bool  # True: lines run top-bottom in the analysed frame (page turned 90 or 270)
    axis_ratio: float  # line-profile sharpness of the chosen axis over the other one (>1; 1 = no idea)
    profile: np.ndarray  # ink counts across the lines at the best angle (1 bin = 1 analysis pixel)


@dataclass(frozen=True)
class UpDown:
    """Whether the text's heavy side (ascenders, capitals, Vietnamese marks above) comes first."""

    score: float  # (mass before the line cores - mass after) / both; >0: tops come first
    lines: int  # number of text lines that contributed


def ink_points(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates (float32, centred on the image) of at most ``MAX_POINTS`` ink pixels, evenly thinned."""
    ys, xs = np.nonzero(ink)
    step = max(1, math.ceil(len(xs) / MAX_POINTS))
    h, w = ink.shape
    xs = xs[::step].astype(np.float32) - w / 2
    ys = ys[::step].astype(np.float32) - h / 2
    return xs, ys


def _profile(xs: np.ndarray, ys: np.ndarray, angle_deg: float, vertical: bool) -> np.ndarray:
    """Ink counts along the normal of lines tilted by ``angle_deg`` (horizontal or vertical lines)."""
    a = math.radians(angle_deg)
    ca, sa = math.cos(a), math.sin(a)
    # horizontal line tilted CCW by a: direction (cos a, -sin a), normal coordinate x sin a + y cos a;
    # vertical line tilted CCW by a: direction (sin a, cos a), normal coordinate x cos a - y sin a.
    coord = xs * sa + ys * ca if not vertical else xs * ca - ys * sa
    idx = np.floor(coord - coord.min()).astype(np.int64) if len(coord) else np.zeros(0, np.int64)
    return np.bincount(idx).astype(np.float64)


def _sharpness(profile: np.ndarray) -> float:
    """Postl's criterion: squared steps between neighbouring bins, large when lines and gaps alternate."""
    if profile.size < 2:
        return 0.0
    d = np.diff(profile)
    return float(np.dot(d, d))


def _search(xs: np.ndarray, ys: np.ndarray, vertical: bool, angles: np.ndarray) -> np.ndarray:
    return np.array([_sharpness(_profile(xs, ys, float(a), vertical)) for a in angles])


def _parabolic_peak(angles: np.ndarray, scores: np.ndarray) -> float:
    """Sub-step position of the maximum (a parabola through the best sample and its neighbours)."""
    i = int(np.argmax(scores))
    if 0 < i < len(scores) - 1:
        y0, y1, y2 = scores[i - 1], scores[i], scores[i + 1]
        denom = y0 - 2 * y1 + y2
        if denom < 0:
            offset = 0.5 * (y0 - y2) / denom
            return float(angles[i] + offset * (angles[1] - angles[0]))
    return float(angles[i])


def line_geometry(ink: np.ndarray, max_tilt: float, *, try_vertical: bool = True) -> LineGeometry | None:
    """Find the tilt and axis of the text lines in a binary ink map, or None when there is no ink.

    Coarse search over +-``max_tilt`` on both axes, then a fine search on the winning axis only.
    """
    xs, ys = ink_points(ink)
    if len(xs) < 50:
        return None
    limit = max(max_tilt, COARSE_STEP)
    coarse = np.arange(-limit, limit + 1e-9, COARSE_STEP)
    horiz = _search(xs, ys, False, coarse)
    vert = _search(xs, ys, True, coarse) if try_vertical else np.zeros_like(horiz)
    vertical = bool(vert.max() > horiz.max())
    best, other = (vert, horiz) if vertical else (horiz, vert)
    centre = float(coarse[int(np.argmax(best))])
    fine = np.arange(centre - COARSE_STEP, centre + COARSE_STEP + 1e-9, FINE_STEP)
    fine_scores = _search(xs, ys, vertical, fine)
    tilt = _parabolic_peak(fine, fine_scores)
    tilt = float(np.clip(tilt, -limit, limit))
    # the fine optimum, not the coarse one: a coarse step off the true tilt blurs thin lines more than it
    # blurs the other axis (dominated by margins), which would understate how sure the axis is
    peak = max(float(fine_scores.max()), float(best.max()))
    ratio = peak / float(other.max()) if other.max() > 0 else float("inf")
    return LineGeometry(tilt=tilt, vertical=vertical, axis_ratio=ratio,
                        profile=_profile(xs, ys, tilt, vertical))


def up_down(profile: np.ndarray, *, min_line_bins: int = 3, core: float = 0.4) -> UpDown:
    """Compare ink just before and just after the dense core of every text line.

    Upright Latin script, and Vietnamese even more (capitals, ascenders b d đ h k l t, and the tone and
    vowel marks sit *above* the x-height; only g p q y and the dot below reach under the baseline), has
    clearly more ink above the core band than below it. Bins run top→bottom (horizontal lines) or
    left→right (vertical lines), so a positive score means "tops come first".
    """
    if profile.size == 0:
        return UpDown(0.0, 0)
    on = profile > max(1.0, 0.04 * float(profile.max()))
    edges = np.flatnonzero(np.diff(np.concatenate(([0], on.astype(np.int8), [0]))))
    before = after = 0.0
    lines = 0
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        seg = profile[start:stop]
        if seg.size < min_line_bins:
            continue
        core_bins = np.flatnonzero(seg >= core * seg.max())
        c0, c1 = int(core_bins[0]), int(core_bins[-1])
        before += float(seg[:c0].sum())
        after += float(seg[c1 + 1:].sum())
        lines += 1
    total = before + after
    return UpDown((before - after) / total if total > 0 else 0.0, lines)


def quarter_turn(vertical: bool, tops_first: bool) -> int:
    """Clockwise turn (0/90/180/270) that makes the page upright, from the line axis and up/down cue.

    Horizontal lines with tops first: upright. Horizontal, tops last: upside down (180). Vertical lines
    whose tops face right (last): the page was turned 90 clockwise, so undo with 270; tops left: 90.
    """
    if not vertical:
        return 0 if tops_first else 180
    return 90 if tops_first else 270


def osd_rotation(grey: np.ndarray, *, timeout_s: float) -> tuple[int, float] | None:
    """Tesseract OSD's clockwise correction (0/90/180/270) and its confidence, or None when it has none.

    Runs the ``tesseract`` binary on a small copy; ``OMP_THREAD_LIMIT=1`` is set (unless the caller set
    it) so OSD does not compete for every core with the page-parallel workers.
    """
    import pytesseract

    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    try:
        result = pytesseract.image_to_osd(grey, config="--psm 0", output_type=pytesseract.Output.DICT,
                                          timeout=timeout_s)
    except (pytesseract.TesseractError, RuntimeError, ValueError):
        # TesseractError: "Too few characters" and friends; RuntimeError: the timeout; ValueError: an
        # output pytesseract cannot parse. All mean "OSD has no answer" for this page.
        return None
    rotate = int(result.get("rotate", 0)) % 360
    if rotate not in (0, 90, 180, 270):
        return None
    return rotate, float(result.get("orientation_conf", 0.0))
