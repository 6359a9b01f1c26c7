"""Visible signature appearances (Decree 30/2020, Circular 01/2023): where the box goes and what it shows.

Why our own layout on top of pyHanko's stamps: the regulations fix the *corner* of page 1 and the seal's
*actual size*, while pyHanko wants absolute coordinates; and pyHanko's default stamp font (Courier,
not embedded, Latin-only) breaks both PDF/A and Vietnamese names. So we compute the box from the page
size and the configured corner/margins in millimetres, wrap the text to the box with the font's own
metrics, and always draw text with an embedded OpenType font (pyHanko's glyph accumulator, which
writes a ToUnicode map so the stamp text extracts as the same Vietnamese string).
"""

from __future__ import annotations

import functools
import logging
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from fontTools.ttLib import TTFont
from pyhanko.pdf_utils import layout
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.stamp import TextStampStyle

from sohoa.config.signing import Appearance
from sohoa.signing.placement import find_place
from sohoa.signing.pyhanko_compat import FileIdentity, file_identity
from sohoa.signing.stamp_font import stamp_font_factory

# fontTools warns on every subset of tables it cannot subset (FFTM in Liberation fonts): noise for a clerk.
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)
log = logging.getLogger(__name__)

MM = 72.0 / 25.4
_GAP_MM = 2.0
_LEADING = 1.25


@dataclass(frozen=True)
class StampPlan:
    """The box on the page (PDF points, lower-left origin), the final text, and the pyHanko style."""

    page_index: int
    box: tuple[float, float, float, float]
    text: str
    style: TextStampStyle
    scale: float = 1.0  # < 1 when the box shrank to find free space
    ink_ratio: float | None = None  # ink under the box before signing (None: not measured, fixed placement)


@functools.lru_cache(maxsize=8)
def _font_metrics(identity: FileIdentity) -> tuple[dict[int, str], dict[str, int], int]:
    """The font's cmap and advances, once per font file (its identity: a replaced file is read again)."""
    font = TTFont(str(identity[0]), lazy=True)
    cmap = font.getBestCmap() or {}
    widths = {name: adv for name, (adv, _lsb) in font["hmtx"].metrics.items()}
    return dict(cmap), widths, int(font["head"].unitsPerEm)


def missing_glyphs(font: Path, text: str) -> str:
    """Characters of ``text`` (NFC) the font cannot draw; a non-empty answer means boxes on paper."""
    cmap, _, _ = _font_metrics(file_identity(font))
    return "".join(sorted({ch for ch in unicodedata.normalize("NFC", text) if not ch.isspace()
                           and ord(ch) not in cmap}))


def text_width(font: Path, size: float, text: str) -> float:
    cmap, widths, upem = _font_metrics(file_identity(font))
    notdef = widths.get(".notdef", upem // 2)
    return sum(widths.get(cmap.get(ord(ch), ".notdef"), notdef) for ch in text) * size / upem


def wrap(font: Path, size: float, text: str, width: float) -> list[str]:
    """Greedy word wrap of each line to ``width`` points (a single over-long word stays on its line)."""
    lines: list[str] = []
    for paragraph in text.splitlines():
        current = ""
        for word in paragraph.split(" "):
            candidate = f"{current} {word}" if current else word
            if current and text_width(font, size, candidate) > width:
                lines.append(current)
                current = word
            else:
                current = candidate
        lines.append(current)
    return lines


def _rgb(hex_colour: str) -> tuple[float, float, float]:
    value = hex_colour.lstrip("#")
    r, g, b = (int(value[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return (r, g, b)


def place_box(page_box: tuple[float, float, float, float], appearance: Appearance) -> tuple[float, float, float, float]:
    """The stamp's rectangle in the page's corner given by the appearance, ``margin_mm`` from both edges."""
    x0, y0, x1, y1 = page_box
    w, h, m = appearance.width_mm * MM, appearance.height_mm * MM, appearance.margin_mm * MM
    left = x0 + m if appearance.corner.endswith("left") else x1 - m - w
    bottom = y1 - m - h if appearance.corner.startswith("top") else y0 + m
    return (round(left, 2), round(bottom, 2), round(left + w, 2), round(bottom + h, 2))


def seal_size(appearance: Appearance) -> tuple[float, float]:
    """Printed seal size in points: configured width, height by the image's aspect ratio unless set."""
    from PIL import Image

    assert appearance.seal_image is not None
    width = appearance.seal_width_mm * MM
    if appearance.seal_height_mm is not None:
        return width, appearance.seal_height_mm * MM
    with Image.open(appearance.seal_image) as img:
        return width, width * img.height / img.width


def plan_stamp(appearance: Appearance, page_index: int, page_box: tuple[float, float, float, float],
               text: str, ink: np.ndarray | None = None) -> StampPlan:
    """Lay out one visible signature: seal (if any) on the left of the box, wrapped text beside it.

    ``ink``: the page's ink mask (``placement.ink_mask``) for free-space placement; None places the box
    exactly at the corner."""
    scale, ratio = 1.0, None
    if ink is not None and appearance.placement == "free-space":
        found = find_place(ink, page_box, corner=appearance.corner, width=appearance.width_mm * MM,
                           height=appearance.height_mm * MM, margin=appearance.margin_mm * MM,
                           min_scale=appearance.min_scale)
        box, scale, ratio = found.box, found.scale, found.ink_ratio
        if found.overlaps:
            log.warning("no free space for the %s stamp near the %s corner of page %d: %.1f%% of it lies over "
                        "the page's ink", appearance.kind, appearance.corner, page_index + 1, 100 * ratio)
    else:
        box = place_box(page_box, appearance)
    box_w = box[2] - box[0]
    text_left = 0.0
    background = None
    background_layout = layout.SimpleBoxLayoutRule(x_align=layout.AxisAlignment.ALIGN_MIN,
                                                   y_align=layout.AxisAlignment.ALIGN_MID)
    if appearance.kind == "organization" and appearance.seal_image is not None:
        sw, sh = (v * scale for v in seal_size(appearance))
        background = PdfImage(str(appearance.seal_image), box=layout.BoxConstraints(width=sw, height=sh))
        background_layout = layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MIN, y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins(0, 0, 0, 0), inner_content_scaling=layout.InnerScaling.NO_SCALING)
        text_left = sw + _GAP_MM * MM
    size = appearance.font_size * scale
    lines = wrap(appearance.font, size, unicodedata.normalize("NFC", text), max(box_w - text_left - 4, 10))
    final_text = "\n".join(lines)
    text_style = TextBoxStyle(
        font=stamp_font_factory(appearance.font, final_text, int(round(size))),
        font_size=int(round(size)), leading=int(round(size * _LEADING)), text_color=_rgb(appearance.text_color))
    inner = layout.SimpleBoxLayoutRule(
        x_align=layout.AxisAlignment.ALIGN_MIN, y_align=layout.AxisAlignment.ALIGN_MID,
        margins=layout.Margins(left=int(text_left) + 2, right=2, top=2, bottom=2),
        inner_content_scaling=layout.InnerScaling.SHRINK_TO_FIT)
    style = TextStampStyle(
        stamp_text=final_text.replace("%", "%%"), text_box_style=text_style, inner_content_layout=inner,
        border_width=int(appearance.border_width), background=background, background_layout=background_layout,
        background_opacity=1.0, timestamp_format="%Y-%m-%dT%H:%M:%S%z")
    return StampPlan(page_index, box, final_text, style, scale, ratio)
