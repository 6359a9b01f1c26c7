"""Reading order of side-by-side blocks (``stages.reading_order``): on word boxes, and on a drawn Decree-30
header read by the real Tesseract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from bench.corpus import font_paths
from sohoa.config.settings import OcrSettings
from sohoa.stages.model import OcrLine, OcrWord, Page
from sohoa.stages.ocr import make_engine, ocr_page
from sohoa.stages.reading_order import reading_order

H = 30  # word height, px


def _line(y: int, *blocks: tuple[int, str], baseline: tuple[float, float] = (0.0, -6.0)) -> OcrLine:
    """One Tesseract line: (left x, text) per block; letters 20 px wide, words 10 px apart."""
    out = []
    for x, text in blocks:
        for word in text.split():
            out.append(OcrWord(word, (x, y, x + 20 * len(word), y + H), 90.0))
            x += 20 * len(word) + 10
    return OcrLine(words=out, box=(out[0].box[0], y, out[-1].box[2], y + H), baseline=baseline)


def _text(lines: list[OcrLine]) -> list[str]:
    return [" ".join(w.text for w in line.words) for line in lines]


def test_a_header_read_across_two_blocks_comes_back_left_block_then_right_block() -> None:
    lines = [_line(100, (100, "UBND TỈNH"), (900, "CỘNG HÒA")),
             _line(140, (120, "SỞ NỘI VỤ"), (920, "Độc lập")),
             _line(180, (110, "Số: 12"), (880, "Quảng Trị")),
             _line(240, (500, "QUYẾT ĐỊNH"), baseline=(0.0, 0.0))]
    ordered = reading_order(lines)
    assert _text(ordered) == ["UBND TỈNH", "SỞ NỘI VỤ", "Số: 12", "CỘNG HÒA", "Độc lập", "Quảng Trị", "QUYẾT ĐỊNH"]
    before = sorted((w.text, w.box) for ln in lines for w in ln.words)
    assert sorted((w.text, w.box) for ln in ordered for w in ln.words) == before, "a word moved"
    right = ordered[3]
    assert right.box == (900, 100, 900 + 80 + 10 + 60, 130)
    # the same baseline in page space: 6 px above the box bottom at the right block's left edge too
    slope, offset = right.baseline
    assert right.box[3] + offset + slope * (900 - right.box[0]) == pytest.approx(130 - 6.0)


def test_a_sloped_baseline_is_kept_in_page_space_when_a_line_is_split() -> None:
    lines = [_line(100, (100, "UBND TỈNH"), (900, "CỘNG HÒA"), baseline=(0.01, -6.0)),
             _line(140, (120, "SỞ NỘI VỤ"), (920, "Độc lập"))]
    right = reading_order(lines)[2]
    slope, offset = right.baseline
    assert right.box[3] + offset + slope * (950 - right.box[0]) == pytest.approx(130 - 6.0 + 0.01 * (950 - 100))


def test_a_column_short_last_line_and_lines_in_separate_blocks_stay_in_their_column() -> None:
    # Tesseract found the right block's first lines as lines of their own, and listed them first
    lines = [_line(100, (900, "Thư ký")), _line(140, (900, "gửi văn")), _line(100, (100, "Ngày mười")),
             _line(140, (100, "quầy số")), _line(180, (100, "Chị Yến"), (900, "Anh Hồ")),
             _line(220, (100, "theo học."))]
    assert _text(reading_order(lines)) == ["Ngày mười", "quầy số", "Chị Yến", "theo học.",
                                           "Thư ký", "gửi văn", "Anh Hồ"]


def test_columns_that_nearly_touch_on_one_row_are_still_split_where_the_right_block_starts() -> None:
    lines = [_line(100, (100, "Ngày mười"), (600, "Thư ký")),
             _line(140, (165, "quầy số hai nộp hồ sơ đề"), (600, "gửi văn")),  # "đề" ends 15 px before it
             _line(180, (100, "Chị Yến"), (600, "Anh Hồ"))]
    assert _text(reading_order(lines)) == ["Ngày mười", "quầy số hai nộp hồ sơ đề", "Chị Yến",
                                           "Thư ký", "gửi văn", "Anh Hồ"]


def test_a_run_takes_the_row_above_it_whose_gutter_a_speck_closed() -> None:
    first = _line(100, (100, "Thư ký trung"), (390, "_"), (600, "Bản chụp"))  # "_" read in the gutter
    lines = [_line(40, (300, "TIÊU ĐỀ")), first,
             _line(140, (100, "gửi văn"), (600, "thứ tự")), _line(180, (100, "Người cao"), (600, "tuổi già"))]
    assert _text(reading_order(lines)) == ["TIÊU ĐỀ", "Thư ký trung _", "gửi văn", "Người cao",
                                           "Bản chụp", "thứ tự", "tuổi già"]


def test_table_rows_a_single_wide_gap_and_a_title_below_keep_their_order() -> None:
    table = [_line(100 + 40 * n, (100, "1"), (200, "Tờ khai"), (700, "01"), (900, "bản")) for n in range(3)]
    form = [_line(400, (100, "Họ tên:"), (900, "Ký")), _line(440, (100, "Ngày sinh:"))]
    assert reading_order(table + form) == table + form


def _font() -> Path:
    fonts = [p for p in font_paths() if p.name == "DejaVuSans.ttf"]
    if not fonts:
        pytest.skip("DejaVuSans with Vietnamese glyphs is not installed")
    return fonts[0]


def test_tesseract_reads_a_drawn_decree30_header_block_by_block() -> None:
    dpi = 200
    mm = dpi / 25.4
    image = Image.new("L", (round(190 * mm), round(40 * mm)), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(_font()), round(12 / 72 * dpi))
    for x_mm, lines in ((40, ["ỦY BAN NHÂN DÂN", "TỈNH QUẢNG TRỊ", "Số: 363/QĐ"]),
                        (130, ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA", "Độc lập - Tự do", "Quảng Trị, ngày 9"])):
        for n, text in enumerate(lines):
            draw.text((x_mm * mm, (8 + 8 * n) * mm), text, font=font, fill=0, anchor="mt")
    grey = np.asarray(image)
    page = Page(image=grey, dpi=(dpi, dpi), source=Path("header.png"), ocr_image=grey)
    settings = OcrSettings(engine="subprocess")
    engine = make_engine("subprocess", settings.languages, settings.psm)
    try:
        text = ocr_page(page, settings, engine=engine).text()
    finally:
        engine.close()
    assert text.splitlines()[:2] == ["ỦY BAN NHÂN DÂN", "TỈNH QUẢNG TRỊ"], text
    assert text.index("Số: 363/QĐ") < text.index("CỘNG HÒA"), text
