"""The stamp font made cheap per signature (``signing.stamp_font``, ``pyhanko_compat.SubsetCachingAccumulator``).

- the Latin copy shapes Vietnamese text exactly as the whole font does (same glyphs, advances, offsets);
- text outside its blocks gets the whole font;
- the subset is made once per glyph set, pyHanko embeds exactly the cached bytes, and they hold every
  glyph the stamp draws;
- a font file replaced at the same path is read, copied and subset anew (every cache is keyed on it).
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
import uharfbuzz as hb
from fontTools.ttLib import TTFont
from pyhanko.pdf_utils.writer import PdfFileWriter

from sohoa.config.signing import Appearance
from sohoa.signing import pyhanko_compat
from sohoa.signing.appearance import missing_glyphs
from sohoa.signing.pyhanko_compat import SubsetCachingAccumulator, pdf_ready_font
from sohoa.signing.stamp_font import fits_latin, stamp_font, stamp_font_factory

FONT = Appearance().font
TEXTS = ["Ký bởi: Nguyễn Thị Hồng Nhung — Trung tâm Phục vụ hành chính công tỉnh Bắc Ninh",
         "ĐẶNG VĂN ƯỚC; Lê Quý Đôn, Huỳnh Tấn Phát «số 123/QĐ-UBND» 1.500.000 ₫ № 7",
         "Ngày ký: 2026-12-01T20:29:14+07:00 (SAO Y, TRÍCH SAO) ỳ ỷ ỹ ỵ ữ ự ẵ ặ ẩ ậ"]
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _shaped(font: Path, text: str) -> list[tuple[object, ...]]:
    data = font.read_bytes()
    names = TTFont(io.BytesIO(data)).getGlyphOrder()
    buf = hb.Buffer()
    buf.add_str(text)
    buf.guess_segment_properties()
    hb.shape(hb.Font(hb.Face(data)), buf)
    return [(names[info.codepoint], info.cluster, pos.x_advance, pos.y_advance, pos.x_offset, pos.y_offset)
            for info, pos in zip(buf.glyph_infos, buf.glyph_positions, strict=True)]


@pytest.mark.parametrize("text", TEXTS)
def test_the_latin_copy_shapes_vietnamese_as_the_whole_font(text: str) -> None:
    whole, latin = pdf_ready_font(FONT), stamp_font(FONT, text)
    assert latin != whole and latin.stat().st_size < whole.stat().st_size / 2
    assert _shaped(latin, text) == _shaped(whole, text)


def test_text_outside_the_latin_blocks_gets_the_whole_font() -> None:
    text = "Ký bởi: Иван Петров"  # a Cyrillic name (Liberation has the glyphs; the Latin copy does not)
    assert not fits_latin(text) and fits_latin(TEXTS[0])
    assert not missing_glyphs(FONT, text)
    assert stamp_font(FONT, text) == pdf_ready_font(FONT)


def _engine(font: Path, text: str) -> SubsetCachingAccumulator:
    engine = stamp_font_factory(font, text, 9).create_font_engine(PdfFileWriter())
    assert isinstance(engine, SubsetCachingAccumulator)
    for line in text.splitlines():
        engine.shape(line)
    engine.prepare_write()
    return engine


def _embedded(engine: SubsetCachingAccumulator) -> bytes:
    descriptor = engine.cidfont_obj["/FontDescriptor"].get_object()
    return descriptor["/FontFile2"].get_object().data


def test_the_subset_is_made_once_per_glyph_set_and_embedded_as_cached() -> None:
    pyhanko_compat.clear_subset_cache()
    first = _engine(FONT, "Nguyễn Văn An\n2026-12-01T20:29:14+07:00")
    assert len(pyhanko_compat._SUBSETS) == 1
    again = _engine(FONT, "Nguyễn Văn An\n2026-12-02T08:05:37+07:00")  # other digits, same set: all ten kept
    assert len(pyhanko_compat._SUBSETS) == 1, "the second stamp should reuse the subset"
    assert _embedded(first) == _embedded(again) == next(iter(pyhanko_compat._SUBSETS.values()))
    subset = TTFont(io.BytesIO(_embedded(again)))
    order, glyf = subset.getGlyphOrder(), subset["glyf"]
    drawn = [gid for gid in again._glyphs if order[gid] not in ("space", "uni0020")]
    assert drawn and all(glyf[order[gid]].numberOfContours != 0 for gid in drawn)
    _engine(FONT, "Trần Thị Bích\n2026-12-01T20:29:14+07:00")  # other letters: a new subset
    assert len(pyhanko_compat._SUBSETS) == 2


def test_a_font_replaced_at_the_same_path_is_read_again(tmp_path: Path) -> None:
    if not DEJAVU.is_file():
        pytest.skip("fonts-dejavu-core is not installed")
    font = tmp_path / "stamp.ttf"
    shutil.copyfile(FONT, font)
    text = "Nguyễn Văn An\n2026-12-01T20:29:14+07:00"
    before_font, before_subset = stamp_font(font, text), _embedded(_engine(font, text))
    assert missing_glyphs(font, "Ω♔") == "♔"  # Liberation Serif has Omega, not the chess king
    shutil.copyfile(DEJAVU, font)
    stat = font.stat()
    os.utime(font, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # a later mtime, surely
    after_font, after_subset = stamp_font(font, text), _embedded(_engine(font, text))
    assert after_font != before_font and after_subset != before_subset
    assert "DejaVu" in str(TTFont(io.BytesIO(after_subset))["name"].getDebugName(1))
    assert missing_glyphs(font, "Ω♔") == "", "the metrics cache still answered for the old font"
