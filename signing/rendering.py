"""Render a page as it stood in the signed revision and as it stands now, and compare what a reader sees.

Why: an incremental update can change what a page shows without touching its content stream — a
replaced font or image, an overlay made invisible, a form field drawn over text (the "shadow"
attacks). pyHanko's difference analysis reasons about objects; when it cannot justify an update, the
decisive question is whether the page *looks* different. DSS answers it the same way: render both
revisions at a low resolution and compare the pixels, leaving out the areas of widgets and annotations
the signer allowed to be added.

Rendering is poppler's ``pdftoppm`` in a child process (a hostile file may crash or hang a renderer;
the child dies with us and has a timeout), the PDF on its stdin, one greyscale PGM on its stdout. It
runs only when a later revision touches a page, so the common case (no update, or only validation data
and timestamps) costs nothing.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from sohoa.common.lifeline import die_with_parent
from sohoa.common.tools import ToolInfo, probe_tool

DPI = 50  # an A4 page is 413 x 585 pixels: a changed digit at 10 pt still moves dozens of pixels
INK_DELTA = 48  # grey levels; anti-aliasing of the same drawing by the same renderer is identical
MIN_PIXELS = 4  # fewer differing pixels than this is not a visible difference
TIMEOUT_S = 30.0

Rect = tuple[float, float, float, float]  # PDF user space: x0, y0, x1, y1


@dataclass(frozen=True)
class PageBox:
    """What pdftoppm shows of a page: its crop box and rotation."""

    x0: float
    y0: float
    x1: float
    y1: float
    rotate: int = 0


@lru_cache(maxsize=1)
def _pdftoppm() -> ToolInfo:
    return probe_tool("pdftoppm", apt_package="poppler-utils", version_args=("-v",))


def render(pdf: bytes | Path, page: int, *, hide_annotations: bool = False) -> np.ndarray | None:
    """Page ``page`` (0-based) of ``pdf`` (its bytes, or a file poppler reads itself: a long document
    is never piped whole) as a greyscale array, or None when poppler cannot draw it (a page that
    cannot be drawn proves nothing either way)."""
    args = [str(_pdftoppm().path), "-r", str(DPI), "-gray", "-f", str(page + 1), "-l", str(page + 1),
            "-singlefile", "-q"]
    if hide_annotations:
        args.append("-hide-annotations")
    args.append(str(pdf.absolute()) if isinstance(pdf, Path) else "-")
    try:
        proc = subprocess.run(args, input=None if isinstance(pdf, Path) else pdf, capture_output=True,
                              timeout=TIMEOUT_S, check=False,
                              preexec_fn=die_with_parent)  # noqa: PLW1509 - only a prctl call
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    return _read_pgm(proc.stdout)


def _read_pgm(data: bytes) -> np.ndarray | None:
    """A binary PGM (P5, 8 bits) as an array; None for anything else."""
    fields: list[bytes] = []
    pos = 0
    while len(fields) < 4:
        while pos < len(data) and data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.find(b"\n", pos) + 1 or len(data)
            continue
        end = pos
        while end < len(data) and not data[end:end + 1].isspace():
            end += 1
        if end == pos:
            return None
        fields.append(data[pos:end])
        pos = end
    if fields[0] != b"P5" or fields[3] != b"255":
        return None
    width, height = int(fields[1]), int(fields[2])
    pixels = data[pos + 1:pos + 1 + width * height]
    if len(pixels) != width * height:
        return None
    return np.frombuffer(pixels, np.uint8).reshape(height, width)


def to_pixels(rect: Rect, box: PageBox, shape: tuple[int, int], margin: int = 2) -> tuple[int, int, int, int]:
    """A user-space rectangle as (row0, row1, col0, col1) on the rendered page, widened by ``margin``."""
    scale = DPI / 72.0
    xs = sorted(((rect[0] - box.x0) * scale, (rect[2] - box.x0) * scale))
    ys = sorted(((box.y1 - rect[1]) * scale, (box.y1 - rect[3]) * scale))
    width, height = (box.x1 - box.x0) * scale, (box.y1 - box.y0) * scale
    rotate = box.rotate % 360  # pdftoppm turns the page clockwise by /Rotate
    if rotate == 90:
        xs, ys = [height - ys[1], height - ys[0]], xs
    elif rotate == 180:
        xs, ys = [width - xs[1], width - xs[0]], [height - ys[1], height - ys[0]]
    elif rotate == 270:
        xs, ys = ys, [width - xs[1], width - xs[0]]
    rows, cols = shape
    row0, row1 = max(0, int(ys[0]) - margin), min(rows, int(ys[1] + 1) + margin)
    col0, col1 = max(0, int(xs[0]) - margin), min(cols, int(xs[1] + 1) + margin)
    return row0, row1, col0, col1


def differing_pixels(before: np.ndarray, after: np.ndarray, box: PageBox, masks: list[Rect]) -> int:
    """How many pixels outside ``masks`` differ visibly; a changed page size counts as all of them."""
    if before.shape != after.shape:
        return int(max(before.size, after.size))
    changed = np.abs(before.astype(np.int16) - after.astype(np.int16)) > INK_DELTA
    for rect in masks:
        row0, row1, col0, col1 = to_pixels(rect, box, before.shape)
        changed[row0:row1, col0:col1] = False
    return int(changed.sum())


def has_ink(image: np.ndarray, rect: Rect, box: PageBox, *, shrink: float = 0.15, fraction: float = 0.01) -> bool:
    """Whether page content lies inside ``rect`` (its border excluded: a form's box lines are not text)."""
    row0, row1, col0, col1 = to_pixels(rect, box, image.shape, margin=0)
    dr, dc = int((row1 - row0) * shrink), int((col1 - col0) * shrink)
    area = image[row0 + dr:row1 - dr, col0 + dc:col1 - dc]
    if area.size == 0:
        return False
    return float((area < 255 - INK_DELTA).mean()) > fraction
