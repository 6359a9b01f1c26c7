"""Stamps go to free space near their corner (issue 16): moved, then shrunk, and only then over the ink."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pikepdf

from sohoa.config.settings import OutputSettings
from sohoa.config.signing import SigningSettings
from sohoa.signing import rendering, sign_pdf
from sohoa.signing.placement import MM, find_place, ink_mask, ink_under
from sohoa.signing.rendering import DPI
from sohoa.stages.assemble import build_pdfa, prepare_page
from sohoa.stages.model import DocumentMeta, Page

A4 = (0.0, 0.0, 595.0, 842.0)
A4_EXACT = (0.0, 0.0, 827 / 100 * 72, 1169 / 100 * 72)  # the page the signing test builds
SHAPE = (round(842 * DPI / 72), round(595 * DPI / 72))


def _ink(*blocks: tuple[float, float, float, float]) -> np.ndarray:
    """A page mask with ink in each (x0, y0, x1, y1) block, in PDF points."""
    mask = np.zeros(SHAPE, bool)
    k = DPI / 72
    for x0, y0, x1, y1 in blocks:
        mask[int((842 - y1) * k):int((842 - y0) * k), int(x0 * k):int(x1 * k)] = True
    return mask


def test_an_empty_corner_keeps_the_prescribed_spot() -> None:
    place = find_place(_ink(), A4, corner="top-right", width=100 * MM, height=40 * MM, margin=8 * MM)
    assert place.scale == 1.0 and place.ink_ratio == 0.0 and place.moved_mm < 0.01
    assert abs(place.box[2] - (595 - 8 * MM)) < 0.5 and abs(place.box[3] - (842 - 8 * MM)) < 0.5


def test_a_header_in_the_corner_moves_the_stamp_to_free_space() -> None:
    header = (330.0, 760.0, 570.0, 820.0)  # a motto and date block reaching the top right corner
    ink = _ink(header, (60.0, 60.0, 535.0, 640.0))
    place = find_place(ink, A4, corner="top-right", width=60 * MM, height=16 * MM, margin=8 * MM)
    assert place.ink_ratio <= 0.01 and not place.overlaps
    assert ink_under(ink, place.box, A4) == place.ink_ratio
    assert place.box[0] >= 595 * 0.4 - 1, "the stamp left its half of the page"


def test_no_room_shrinks_then_overlaps_with_the_least_ink() -> None:
    full = _ink((0.0, 0.0, 595.0, 842.0))
    place = find_place(full, A4, corner="top-left", width=75 * MM, height=16 * MM, margin=8 * MM, min_scale=0.6)
    assert place.overlaps and place.scale == 0.6
    band = _ink((0.0, 0.0, 595.0, 770.0))  # text from 72 pt down: a 25 mm band stays free at the top
    place = find_place(band, A4, corner="top-left", width=75 * MM, height=40 * MM, margin=8 * MM, min_scale=0.4)
    assert not place.overlaps and place.scale < 1.0, "it should have shrunk into the free band"


def test_signing_puts_both_stamps_beside_a_header(tmp_path: Path, signing_settings: SigningSettings) -> None:
    """A real page with a header block in the top right and text in the top left: the digitizer's and
    the organisation's stamps land on free paper (measured again on the signed file's drawing), and the
    second avoids the first."""
    image = np.full((1169, 827, 3), 255, np.uint8)  # A4 at 100 dpi
    image[40:140, 420:790] = 30  # the motto and date, up to the top right corner
    image[40:110, 40:300] = 30  # the agency and number, top left
    image[300:1100, 80:750] = 60  # the body
    out = io.BytesIO()
    settings = OutputSettings()
    build_pdfa([prepare_page(Page(image=image, dpi=(100.0, 100.0), source=Path("p.png")), settings)],
               DocumentMeta(title="Quyết định"), settings, out)
    src, mid, dst = tmp_path / "a.pdf", tmp_path / "b.pdf", tmp_path / "c.pdf"
    src.write_bytes(out.getvalue())
    first = sign_pdf(src, mid, profile="digitizer", settings=signing_settings, level="B-B")
    second = sign_pdf(mid, dst, profile="organization", settings=signing_settings, level="B-B")
    assert first.stamp_ink is not None and first.stamp_ink <= 0.01, first
    assert second.stamp_ink is not None and second.stamp_ink <= 0.01, second
    with pikepdf.open(dst) as pdf:
        rects = [[float(v) for v in a.Rect] for a in pdf.pages[0].Annots if a.get("/FT") == "/Sig"]
    assert len(rects) == 2
    (a0, a1, a2, a3), (b0, b1, b2, b3) = rects
    assert a2 <= b0 or b2 <= a0 or a3 <= b1 or b3 <= a1, f"the stamps overlap: {rects}"
    unsigned = ink_mask(rendering.render(src.read_bytes(), 0))
    for rect in rects:
        assert ink_under(unsigned, tuple(rect), A4_EXACT) <= 0.011, rect
