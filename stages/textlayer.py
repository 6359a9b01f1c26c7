"""Invisible OCR text layer: a glyphless embedded font and the text operators that place words.

Why a glyphless font: the text layer must never *draw* anything (the scan is the visible page), yet
PDF/A wants every font embedded with widths that match the font program, and readers need a ToUnicode
map so copy/paste and search give correct Vietnamese. A tiny TrueType with one empty glyph of fixed
advance, used through a Type0/Identity-H font whose codes are the Unicode BMP values, satisfies all of
that in a few hundred bytes and covers every Vietnamese letter (NFC precomposed or not).

Geometry: words arrive in *upright pixels* (y down). Each word is placed at its box's left edge on the
line baseline, with font size = line height and horizontal scaling ``Tz`` chosen so the word's
advance equals its box width. Between words of a line we emit one space glyph stretched to the gap,
so text extraction sees a real space (not a guess from the gap) and highlight boxes sit on the words.
"""

from __future__ import annotations

import io
import struct
import unicodedata
import zlib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import pikepdf

from sohoa.stages.model import OcrLine

if TYPE_CHECKING:
    from fontTools.ttLib import TTFont

UNITS_PER_EM = 1000
GLYPH_ADVANCE = 500  # font units; also the PDF width (1000-unit text space) of every CID
ASCENT = 800
DESCENT = -200
DESCENT_FRACTION = -DESCENT / UNITS_PER_EM  # baseline above box bottom when OCR gives no baseline
REPLACEMENT = 0xFFFD
FONT_NAME = "SohoaGlyphless"
_FIXED_TIMESTAMP = 3_786_825_600  # 2024-01-01 in seconds since 1904 (TrueType epoch): stable bytes


GLYPHLESS_FILE = Path(__file__).with_name("glyphless.ttf")


@lru_cache(maxsize=1)
def glyphless_font() -> bytes:
    """TrueType program with ``.notdef`` and one empty glyph, both ``GLYPH_ADVANCE`` wide.

    Read from the file shipped beside this module, which ``build_glyphless_font`` wrote: building it
    imports fontTools' table modules, ~80 ms of every ``sohoa process`` call that does not sign
    (issue 14). ``tests/stages/test_assemble.py`` checks the file is what the builder makes.
    """
    try:
        return GLYPHLESS_FILE.read_bytes()
    except OSError:  # an installation without its package data: build it (slower, same bytes)
        return build_glyphless_font()


def build_glyphless_font() -> bytes:
    """The glyphless font built with fontTools; timestamps are fixed so the bytes are identical on
    every run (reproducible output, stable hashes in tests). After changing it, write it again:
    ``python -c "from sohoa.stages import textlayer as t; t.GLYPHLESS_FILE.write_bytes(t.build_glyphless_font())"``.
    """
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    names = [".notdef", "blank"]
    fb = FontBuilder(UNITS_PER_EM, isTTF=True)
    fb.setupGlyphOrder(names)
    fb.setupCharacterMap({0x20: "blank"})
    empty = TTGlyphPen(None).glyph()
    fb.setupGlyf({name: empty for name in names})
    fb.setupHorizontalMetrics({name: (GLYPH_ADVANCE, 0) for name in names})
    fb.setupHorizontalHeader(ascent=ASCENT, descent=DESCENT)
    fb.setupNameTable({"familyName": FONT_NAME, "styleName": "Regular"})
    fb.setupOS2(sTypoAscender=ASCENT, sTypoDescender=DESCENT, usWinAscent=ASCENT, usWinDescent=-DESCENT,
                fsType=0)
    fb.setupPost()
    fb.setupHead(unitsPerEm=UNITS_PER_EM, created=_FIXED_TIMESTAMP, modified=_FIXED_TIMESTAMP)
    font = fb.font
    font.recalcTimestamp = False
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue()


@lru_cache(maxsize=1)
def cid_to_gid_map() -> bytes:
    """Every CID 0..65535 → GID 1 (the blank glyph), never GID 0 (.notdef), 2 bytes big-endian each."""
    return b"\x00\x01" * 65536


@lru_cache(maxsize=1)
def to_unicode_cmap() -> bytes:
    """ToUnicode CMap: code = Unicode BMP value, for every code except surrogates and C0 controls.

    Ranges stay within one high byte (a CMap rule for incrementing ranges) and blocks hold at most 100
    entries (the CMap format limit).
    """
    ranges: list[str] = []
    for high in range(256):
        if 0xD8 <= high <= 0xDF:  # surrogate halves are not characters
            continue
        low_start = 0x20 if high == 0 else 0x00
        start = (high << 8) | low_start
        end = (high << 8) | 0xFF
        ranges.append(f"<{start:04X}> <{end:04X}> <{start:04X}>")
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        "<0000> <FFFF>",
        "endcodespacerange",
    ]
    for i in range(0, len(ranges), 100):
        block = ranges[i:i + 100]
        lines.append(f"{len(block)} beginbfrange")
        lines.extend(block)
        lines.append("endbfrange")
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end", ""]
    return "\n".join(lines).encode("ascii")


def encode_text(text: str) -> bytes:
    """Codes (2 bytes each, big-endian) for ``text`` after NFC: BMP value; non-BMP → U+FFFD; controls dropped."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        cp = ord(ch)
        if cp < 0x20 or 0x7F <= cp < 0xA0:
            continue
        if cp > 0xFFFF or 0xD800 <= cp <= 0xDFFF:
            cp = REPLACEMENT
        out += cp.to_bytes(2, "big")
    return bytes(out)


def _num(value: float) -> str:
    """Compact decimal for content streams (no exponent, at most 3 decimals)."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _baseline_y(line: OcrLine, x: float) -> float:
    """Baseline (upright px, y down) at ``x``: Tesseract's (slope, offset) from the line box's bottom-left.

    ``(0.0, 0.0)`` is the model's "not given" default, so we fall back to a descent fraction of the
    line height above the box bottom (matches the font's descent, so extraction boxes fit the line).
    """
    left, top, _right, bottom = line.box
    slope, offset = line.baseline
    if slope == 0.0 and offset == 0.0:
        return bottom - DESCENT_FRACTION * (bottom - top)
    return bottom + offset + slope * (x - left)


def text_operators(lines: Iterable[OcrLine], *, page_height_pt: float, scale: tuple[float, float],
                   font_resource: str = "/F0") -> bytes:
    """Content-stream bytes drawing ``lines`` invisibly (render mode 3) in PDF page space.

    ``scale`` converts upright pixels to points (72/dpi per axis). Returns ``b""`` when no word has
    text, so callers can skip the font resource entirely.
    """
    sx, sy = scale
    ops: list[str] = []
    unit = GLYPH_ADVANCE / 1000.0  # advance of one glyph at font size 1, before Tz
    for line in lines:
        words = [(w, encode_text(w.text)) for w in line.words]
        words = [(w, codes) for w, codes in words if codes]
        if not words:
            continue
        size = max(1.0, (line.box[3] - line.box[1]) * sy)
        ops.append(f"{font_resource} {_num(size)} Tf")
        for index, (word, codes) in enumerate(words):
            left, _top, right, _bottom = word.box
            x_pt = left * sx
            y_pt = page_height_pt - _baseline_y(line, left) * sy
            width_pt = max(0.1, (right - left) * sx)
            tz = 100.0 * width_pt / (len(codes) // 2 * unit * size)
            ops.append(f"1 0 0 1 {_num(x_pt)} {_num(y_pt)} Tm {_num(tz)} Tz <{codes.hex().upper()}> Tj")
            if index + 1 < len(words):
                gap_pt = max(0.0, words[index + 1][0].box[0] - right) * sx
                space_tz = max(1.0, 100.0 * gap_pt / (unit * size))
                ops.append(f"{_num(space_tz)} Tz <0020> Tj")
    if not ops:
        return b""
    body = "\n".join(ops)
    # q/Q keeps render mode 3 from leaking into content appended to the page later
    return f"q\nBT\n3 Tr\n{body}\nET\nQ\n".encode("ascii")


def add_font(pdf: pikepdf.Pdf) -> pikepdf.Dictionary:
    """Create the Type0 glyphless font objects in ``pdf`` once; pages share the returned indirect font."""
    program = glyphless_font()
    font_file = pikepdf.Stream(pdf, zlib.compress(program, 9))
    font_file.Filter = pikepdf.Name.FlateDecode
    font_file.Length1 = len(program)
    descriptor = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.FontDescriptor, FontName=pikepdf.Name("/" + FONT_NAME), Flags=4,
        FontBBox=[0, DESCENT, GLYPH_ADVANCE, ASCENT], ItalicAngle=0, Ascent=ASCENT, Descent=DESCENT,
        CapHeight=ASCENT, StemV=80, FontFile2=pdf.make_indirect(font_file),
    ))
    gid_map = pikepdf.Stream(pdf, zlib.compress(cid_to_gid_map(), 9))
    gid_map.Filter = pikepdf.Name.FlateDecode
    cid_font = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.CIDFontType2, BaseFont=pikepdf.Name("/" + FONT_NAME),
        CIDSystemInfo=pikepdf.Dictionary(Registry=pikepdf.String("Adobe"), Ordering=pikepdf.String("Identity"),
                                         Supplement=0),
        FontDescriptor=descriptor, DW=GLYPH_ADVANCE, CIDToGIDMap=pdf.make_indirect(gid_map),
    ))
    cmap = pikepdf.Stream(pdf, zlib.compress(to_unicode_cmap(), 9))
    cmap.Filter = pikepdf.Name.FlateDecode
    return pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type0, BaseFont=pikepdf.Name("/" + FONT_NAME),
        Encoding=pikepdf.Name("/Identity-H"), DescendantFonts=[cid_font], ToUnicode=pdf.make_indirect(cmap),
    ))


# --- width checks (PDF/A 6.2.11.5), used by stages.conformance -------------------------------------

_SPOT = 16  # glyphs checked per font: enough to catch a wrong W array, cheap on 200-page files


def _program(font: pikepdf.Object) -> TTFont | None:
    from fontTools.ttLib import TTFont, TTLibError

    descriptor = font.get("/FontDescriptor")
    if not isinstance(descriptor, pikepdf.Dictionary) or not isinstance(descriptor.get("/FontFile2"),
                                                                      pikepdf.Stream):
        return None
    try:
        return TTFont(io.BytesIO(descriptor.FontFile2.read_bytes()), lazy=True)
    except (TTLibError, pikepdf.PdfError, ValueError, KeyError, struct.error):
        return None


def _advance(program: TTFont, gid: int) -> float | None:
    order = program.getGlyphOrder()
    if not 0 <= gid < len(order):
        return None
    return program["hmtx"][order[gid]][0] * 1000.0 / program["head"].unitsPerEm


def _cid_widths(font: pikepdf.Object) -> dict[int, float]:
    """Explicit widths from a CIDFont ``/W`` array (both ``c [w...]`` and ``c1 c2 w`` forms)."""
    widths: dict[int, float] = {}
    items = list(font.get("/W", []))
    i = 0
    while i < len(items) and len(widths) < _SPOT:
        first = int(items[i])
        if i + 1 < len(items) and isinstance(items[i + 1], pikepdf.Array):
            for k, w in enumerate(items[i + 1]):
                widths[first + k] = float(w)
            i += 2
        elif i + 2 < len(items):
            for cid in range(first, min(int(items[i + 1]), first + _SPOT) + 1):
                widths[cid] = float(items[i + 2])
            i += 3
        else:
            break
    return widths


def cid_width_problem(font: pikepdf.Object) -> str | None:
    """Compare a few ``/W``/``/DW`` widths of an embedded CIDFontType2 with the program's ``hmtx``."""
    program = _program(font)
    if program is None or font.get("/Subtype") != pikepdf.Name.CIDFontType2:
        return None
    gid_map = font.get("/CIDToGIDMap")
    table = gid_map.read_bytes() if isinstance(gid_map, pikepdf.Stream) else None
    widths = _cid_widths(font)
    default = float(font.get("/DW", 1000))
    if table is not None:  # with an explicit map, probe a few default-width CIDs: space, A, a, à, ạ
        for cid in (0x20, 0x41, 0x61, 0xE0, 0x1EA1):
            widths.setdefault(cid, default)
    for cid, width in list(widths.items())[:_SPOT]:
        gid = cid if table is None else (int.from_bytes(table[2 * cid:2 * cid + 2], "big")
                                         if 2 * cid + 2 <= len(table) else 0)
        if gid == 0 and cid not in _cid_widths(font):
            continue  # CID not in the font: the default width is not a claim about a glyph
        actual = _advance(program, gid)
        if actual is not None and abs(actual - width) > 1.0:
            return f"CID {cid} width {width:g} differs from the embedded glyph's {actual:g}"
    return None


def simple_width_problem(font: pikepdf.Object) -> str | None:
    """Compare ``/Widths`` of an embedded simple TrueType font with ``hmtx`` via its (3,0)/(1,0) cmap."""
    program = _program(font)
    if program is None or "/Widths" not in font:
        return None
    first = int(font.get("/FirstChar", 0))
    cmap = None
    for table in program["cmap"].tables:
        if (table.platformID, table.platEncID) in ((3, 0), (1, 0)):
            cmap = table.cmap
            break
    if cmap is None:
        return None
    order = {name: gid for gid, name in enumerate(program.getGlyphOrder())}
    checked = 0
    for index, width in enumerate(font.Widths):
        code = first + index
        name = cmap.get(code) or cmap.get(0xF000 + code)
        if name is None or float(width) == 0:
            continue
        actual = _advance(program, order.get(name, -1))
        if actual is not None and abs(actual - float(width)) > 1.0:
            return f"code {code} width {float(width):g} differs from the embedded glyph's {actual:g}"
        checked += 1
        if checked >= _SPOT:
            break
    return None
