"""Tests of the clean stage on real rendered pages (bench.corpus), small (150 dpi A4) to stay fast.

Sign conventions checked here, once, end to end: ``degrade`` turns the page *clockwise* by
``Degradation.rotation`` and tilts the text *counter-clockwise* by ``Degradation.skew``; clean must answer
with the corrections, i.e. ``rotation == (360 - d.rotation) % 360`` and ``skew == -d.skew``.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

import cv2
import numpy as np
import pytest

import sohoa.stages.clean as clean_module
from bench.corpus import Degradation, SyntheticPage, degrade, font_paths, render_page, sample_lines
from sohoa.common.errors import ProcessingError
from sohoa.config.settings import CleanSettings
from sohoa.stages.clean import clean_page
from sohoa.stages.model import Page

DPI = 150


@pytest.fixture(scope="module")
def text_page() -> SyntheticPage:
    fonts = font_paths()
    assert fonts, "no font with Vietnamese glyphs installed (fonts-liberation2 / fonts-noto-core)"
    return render_page(sample_lines(random.Random(7), 18), font=fonts[0], dpi=DPI)


@pytest.fixture(scope="module")
def blank_paper() -> SyntheticPage:
    return render_page([], font=font_paths()[0], dpi=DPI)


def as_page(sp: SyntheticPage, mode: str = "color") -> Page:
    if mode == "bitonal" or sp.image.mode == "1":
        image = ~np.asarray(sp.image.convert("1"))  # PIL: True = white; Page: True = black
    elif mode == "gray":
        image = np.asarray(sp.image.convert("L"))
    else:
        image = np.asarray(sp.image.convert("RGB"))
    return Page(image=image, dpi=(sp.dpi, sp.dpi), source=Path("test.png"))


def cleaned(sp: SyntheticPage, mode: str = "color", **settings: object) -> Page:
    return clean_page(as_page(sp, mode), CleanSettings(**settings))


def want_rotation(d: Degradation) -> int:
    return (360 - d.rotation) % 360


# --- orientation and skew ---------------------------------------------------------------------


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_quarter_turns_are_undone(text_page: SyntheticPage, rotation: int) -> None:
    d = Degradation(rotation=rotation, noise=6)
    page = cleaned(degrade(text_page, d))
    assert page.rotation == want_rotation(d), f"scan turned {rotation} cw: got correction {page.rotation}"
    assert page.warnings == [], f"cheap detector should be sure on a full page: {page.warnings}"
    assert abs(page.skew) < 0.3, f"no skew applied, measured {page.skew}"


@pytest.mark.parametrize("skew", [3.0, -3.0, 8.0, -8.0, 10.0, -10.0])
def test_skew_is_measured_within_a_third_of_a_degree(text_page: SyntheticPage, skew: float) -> None:
    page = cleaned(degrade(text_page, Degradation(skew=skew, noise=6)))
    assert page.rotation == 0, f"skew {skew} alone must not turn the page (got {page.rotation})"
    assert abs(page.skew - (-skew)) <= 0.3, f"text tilted {skew} ccw: correction {page.skew}, want {-skew}"


@pytest.mark.parametrize(("rotation", "skew"), [(90, 8.0), (180, -3.0), (270, 10.0), (90, -10.0)])
def test_rotation_and_skew_together(text_page: SyntheticPage, rotation: int, skew: float) -> None:
    d = Degradation(rotation=rotation, skew=skew, noise=6, border=60)
    page = cleaned(degrade(text_page, d))
    assert page.rotation == want_rotation(d), f"rot {rotation} + skew {skew}: rotation {page.rotation}"
    assert abs(page.skew + skew) <= 0.3, f"rot {rotation} + skew {skew}: correction {page.skew}"


def _ink(img: np.ndarray) -> np.ndarray:
    return img < 128


@pytest.mark.parametrize(("rotation", "skew"), [(0, 0.0), (90, 4.0), (270, -6.0), (180, 9.0)])
def test_ocr_image_lands_on_the_original_page(text_page: SyntheticPage, rotation: int, skew: float) -> None:
    """The upright OCR copy must coincide with the page as it was rendered, before any damage.

    ``degrade`` tilts about the page centre and turns with the frame, so the correct upright frame is
    exactly the original render: this checks the whole chain (measurement signs, ``upright_matrix``,
    the half-pixel shift for OpenCV) at once.
    """
    page = cleaned(degrade(text_page, Degradation(rotation=rotation, skew=skew)))
    original = np.asarray(text_page.image.convert("L"))
    assert page.ocr_image is not None
    assert page.ocr_image.shape == original.shape, f"upright size {page.ocr_image.shape} vs {original.shape}"
    got, want = _ink(page.ocr_image), _ink(original)
    near = cv2.dilate(want.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    landed = np.count_nonzero(got & near) / max(1, np.count_nonzero(got))
    assert landed > 0.97, f"rot {rotation} skew {skew}: only {landed:.1%} of OCR ink is on the original ink"


# --- the upright matrix contract ---------------------------------------------------------------


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_upright_matrix_maps_pixels_like_a_quarter_turn(rotation: int) -> None:
    """Pixel (x, y) of the source (its centre at x+0.5, y+0.5) lands on the centre of its upright pixel."""
    h, w = 3, 5
    values = np.arange(h * w).reshape(h, w)
    page = Page(image=values.astype(np.uint8), dpi=(300, 300), source=Path("m.png"), rotation=rotation)
    upright = np.rot90(values, k=-rotation // 90)  # np.rot90 turns counter-clockwise for positive k
    assert upright.shape[::-1] == page.upright_size(), f"size for rotation {rotation}"
    m = page.upright_matrix()
    for y in range(h):
        for x in range(w):
            uy, ux = (int(v[0]) for v in np.nonzero(upright == values[y, x]))
            got = m @ np.array([x + 0.5, y + 0.5, 1.0])
            assert np.allclose(got, [ux + 0.5, uy + 0.5]), f"rot {rotation}: ({x},{y}) -> {got}, want ({ux},{uy})"


def test_upright_matrix_skew_turns_counter_clockwise_about_the_centre() -> None:
    page = Page(image=np.zeros((200, 100), np.uint8), dpi=(300, 300), source=Path("m.png"), rotation=90,
                skew=30.0)
    m = page.upright_matrix()
    centre = m @ np.array([50.0, 100.0, 1.0])
    assert np.allclose(centre, [100.0, 50.0]), f"centre must stay the centre, got {centre}"
    # source point below the centre; turned 90 cw it is left of the centre: (-40, 0) in upright offsets
    p = m @ np.array([50.0, 140.0, 1.0]) - centre
    a = math.radians(30.0)
    # a counter-clockwise turn on screen (y down) takes a left point downwards
    assert np.allclose(p, [-40 * math.cos(a), 40 * math.sin(a)]), f"skew direction wrong: {p}"


# --- borders, background, speckles, blank ------------------------------------------------------


def test_dark_border_is_outside_the_content_box_and_white(text_page: SyntheticPage) -> None:
    sp = degrade(text_page, Degradation(border=60))
    b = 60 * DPI // 300  # degrade scales border width with dpi: top/bottom/right b, left b // 2
    source = np.asarray(sp.image.convert("L"))
    assert source[: b - 1].mean() < 60, "precondition: the scan has a dark top border"
    page = clean_page(as_page(sp), CleanSettings())
    h, w = source.shape
    left, top, right, bottom = page.content_box
    assert b // 2 <= left <= b // 2 + 8 and b <= top <= b + 8, f"content box {page.content_box}, border {b}"
    assert w - b - 8 <= right <= w - b and h - b - 8 <= bottom <= h - b, f"content box {page.content_box}"
    ocr = page.ocr_image
    for name, strip in [("top", ocr[:b]), ("bottom", ocr[h - b:]), ("left", ocr[:, : b // 2]),
                        ("right", ocr[:, w - b:])]:
        assert strip.min() == 255, f"{name} border strip not white in ocr_image (min {strip.min()})"
    assert not page.blank, "a text page with a border is not blank"


def test_no_border_means_whole_frame(text_page: SyntheticPage) -> None:
    page = cleaned(degrade(text_page, Degradation(noise=6)))
    h, w = text_page.image.height, text_page.image.width
    assert page.content_box == (0, 0, w, h), f"no border: content box {page.content_box}"


def test_tinted_unevenly_lit_paper_becomes_white_with_dark_ink(text_page: SyntheticPage) -> None:
    sp = degrade(text_page, Degradation(tint=(250, 240, 215), uneven_light=0.35, noise=4))
    page = cleaned(sp)
    ocr = page.ocr_image
    corner = ocr[-60:, -60:]  # darkest corner of the uneven light, no text there
    source_corner = np.asarray(sp.image.convert("L"))[-60:, -60:]
    assert source_corner.mean() < 180, "precondition: the corner is dark in the scan"
    assert corner.mean() > 240, f"paper not normalised to white: corner mean {corner.mean():.0f}"
    original_ink = _ink(np.asarray(text_page.image.convert("L")))
    assert np.median(ocr[original_ink]) < 100, "ink must stay dark after normalisation"


def test_speckles_removed_text_dots_kept(text_page: SyntheticPage) -> None:
    rng = np.random.default_rng(3)
    image = np.asarray(text_page.image.convert("L")).copy()
    h, w = image.shape
    ys, xs = rng.integers(5, h - 5, 400), rng.integers(5, w - 5, 400)
    paper = image[ys, xs] == 255
    ys, xs = ys[paper], xs[paper]
    image[ys, xs] = 0  # single dark pixels: dust
    page = clean_page(Page(image=image, dpi=(DPI, DPI), source=Path("s.png")), CleanSettings())
    assert (page.ocr_image[ys, xs] == 255).mean() > 0.95, "isolated dust pixels must be whitened"
    plain = clean_page(Page(image=np.asarray(text_page.image.convert("L")), dpi=(DPI, DPI),
                            source=Path("t.png")), CleanSettings())
    raw = clean_page(Page(image=np.asarray(text_page.image.convert("L")), dpi=(DPI, DPI),
                          source=Path("t.png")), CleanSettings(despeckle=False))
    kept = np.count_nonzero(_ink(plain.ocr_image)) / np.count_nonzero(_ink(raw.ocr_image))
    assert kept > 0.998, f"despeckling removed {1 - kept:.2%} of real text ink (dots, diacritics?)"


def test_blank_page_with_noise_and_border_is_blank(blank_paper: SyntheticPage) -> None:
    page = cleaned(degrade(blank_paper, Degradation(noise=10, border=60, jpeg_quality=None)))
    assert page.blank, "blank paper with noise and a dark border must be detected blank"
    assert page.rotation == 0 and page.warnings == [], f"no orientation work on a blank page: {page.warnings}"


def test_blank_page_with_dust_and_punch_holes_is_blank(blank_paper: SyntheticPage) -> None:
    image = np.asarray(blank_paper.image.convert("L")).copy()
    h, w = image.shape
    for y in (h // 3, 2 * h // 3):  # two 6 mm punch holes near the left edge
        cv2.circle(image, (round(12 / 25.4 * DPI), y), round(3 / 25.4 * DPI), 20, -1)
    rng = np.random.default_rng(5)
    image[rng.integers(0, h, 300), rng.integers(0, w, 300)] = 0
    page = clean_page(Page(image=image, dpi=(DPI, DPI), source=Path("holes.png")), CleanSettings())
    assert page.blank, "punch holes and dust do not make a page non-blank"


@pytest.mark.parametrize("despeckle", [True, False])
def test_one_line_page_is_not_blank(despeckle: bool) -> None:
    sp = render_page(["Ghi chú: mang theo bản chính để đối chiếu khi nhận kết quả"], font=font_paths()[0], dpi=DPI)
    image = np.asarray(sp.image.convert("L"))
    ratio = np.count_nonzero(image < 128) / image.size
    assert ratio < 0.002, "precondition: one line is under the old ink-ratio rule's threshold"
    page = clean_page(Page(image=image, dpi=(DPI, DPI), source=Path("note.png")), CleanSettings(despeckle=despeckle))
    assert not page.blank, f"a one-line page (ink {ratio:.4f}) must not be called blank and risk being dropped"


def test_text_page_is_not_blank(text_page: SyntheticPage) -> None:
    page = cleaned(degrade(text_page, Degradation(noise=10, border=60)))
    assert not page.blank, "a page of text must not be blank"


# --- input kinds -------------------------------------------------------------------------------


def test_bitonal_input(text_page: SyntheticPage) -> None:
    d = Degradation(rotation=270, skew=-3.0, bitonal=True)
    page = cleaned(degrade(text_page, d), "bitonal")
    assert page.mode == "bitonal", "precondition: bool image"
    assert page.rotation == want_rotation(d), f"bitonal: rotation {page.rotation}"
    assert abs(page.skew - 3.0) <= 0.3, f"bitonal: skew {page.skew}"
    assert page.ocr_image.dtype == np.uint8 and page.ocr_image.shape[::-1] == page.upright_size()


def test_grey_input(text_page: SyntheticPage) -> None:
    d = Degradation(rotation=180, skew=5.0, noise=6)
    page = cleaned(degrade(text_page, d), "gray")
    assert page.mode == "gray", "precondition: grey image"
    assert page.rotation == 180 and abs(page.skew + 5.0) <= 0.3, f"grey: {page.rotation}, {page.skew}"
    assert page.ocr_image.shape[::-1] == page.upright_size()


def test_source_image_untouched_and_timing_recorded(text_page: SyntheticPage) -> None:
    page = as_page(degrade(text_page, Degradation(rotation=90, skew=2.0)))
    before = page.image.copy()
    clean_page(page, CleanSettings())
    assert np.array_equal(page.image, before), "clean must never modify page.image"
    assert page.timings.get("clean", -1) >= 0, "timings['clean'] missing"


def test_unsupported_pixel_type_is_a_typed_error() -> None:
    page = Page(image=np.zeros((20, 20), np.uint16), dpi=(300, 300), source=Path("deep.tif"))
    with pytest.raises(ProcessingError) as info:
        clean_page(page, CleanSettings())
    assert "deep.tif" in str(info.value) and "uint16" in str(info.value), str(info.value)


# --- settings and the OSD fallback -------------------------------------------------------------


def test_switches_turn_measurements_off(text_page: SyntheticPage) -> None:
    sp = degrade(text_page, Degradation(rotation=90, skew=4.0))
    page = cleaned(sp, orientation=False, deskew=False)
    assert page.rotation == 0 and page.skew == 0.0, f"disabled: {page.rotation}, {page.skew}"
    page = cleaned(sp, orientation=False)
    assert page.rotation == 0 and abs(page.skew + 4.0) <= 0.3, f"deskew only: {page.rotation}, {page.skew}"


def test_uncertain_orientation_asks_tesseract_osd(text_page: SyntheticPage,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # make the cheap cue never sure (no real page is this ambiguous on demand); OSD itself is real
    monkeypatch.setattr(clean_module, "MIN_UPDOWN_SCORE", 2.0)
    monkeypatch.setattr(clean_module, "MIN_UPDOWN_SCORE_FEW_LINES", 2.0)
    d = Degradation(rotation=180, skew=2.0)
    page = cleaned(degrade(text_page, d))
    assert any("used Tesseract OSD" in w for w in page.warnings), f"OSD not used: {page.warnings}"
    assert page.rotation == 180, f"OSD answer wrong or misread: {page.rotation}"
    page = cleaned(degrade(text_page, d), orientation_osd_fallback=False)
    assert any("OSD disabled" in w for w in page.warnings), f"no warning without OSD: {page.warnings}"
    assert page.rotation == 180, "the cheap guess is still used when OSD is off"
