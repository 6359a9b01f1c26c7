"""Conformance checker: our output passes; a PDF built to break each clause fails with that clause."""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Callable

import pikepdf
import pytest

from sohoa.stages.conformance import check_pdfa
from tests.stages.test_assemble import build, draw_page, jpeg_page

Mutation = Callable[[pikepdf.Pdf], None]


@pytest.fixture(scope="module")
def good() -> bytes:
    image, ocr = draw_page()
    return build([jpeg_page(image, ocr)])


def _save(pdf: pikepdf.Pdf, **kw: object) -> bytes:
    out = io.BytesIO()
    pdf.save(out, compress_streams=False, preserve_pdfa=False, **kw)
    return out.getvalue()


def _page(pdf: pikepdf.Pdf) -> pikepdf.Dictionary:
    return pdf.pages[0].obj


def _add_content(pdf: pikepdf.Pdf, ops: bytes) -> None:
    page = pdf.pages[0]
    page.contents_add(pikepdf.Stream(pdf, ops), prepend=False)


def _font(pdf: pikepdf.Pdf) -> pikepdf.Dictionary:
    return _page(pdf).Resources.Font.F0


def _visible_helvetica(pdf: pikepdf.Pdf) -> None:
    _page(pdf).Resources.Font.F9 = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                                                      BaseFont=pikepdf.Name.Helvetica,
                                                      Encoding=pikepdf.Name.WinAnsiEncoding)
    _add_content(pdf, b"BT 0 Tr /F9 12 Tf 10 10 Td (visible) Tj ET")


def _image(pdf: pikepdf.Pdf, **extra: object) -> None:
    _page(pdf).Resources.XObject.Im0.update({"/" + key: value for key, value in extra.items()})


def _annotation(pdf: pikepdf.Pdf, **entries: object) -> None:
    annot = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Rect=[10, 10, 100, 40], **entries)
    _page(pdf).Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(annot)]))


def _appearance(pdf: pikepdf.Pdf) -> pikepdf.Dictionary:
    return pikepdf.Dictionary(N=pdf.make_stream(b"", BBox=[0, 0, 90, 30], Subtype=pikepdf.Name.Form))


def _xmp(pdf: pikepdf.Pdf, old: bytes, new: bytes) -> None:
    data = pdf.Root.Metadata.read_bytes()
    assert old in data, f"{old!r} not in our XMP"
    pdf.Root.Metadata.write(data.replace(old, new))


def _gstate(pdf: pikepdf.Pdf, **entries: object) -> None:
    _page(pdf).Resources.ExtGState = pikepdf.Dictionary(GS0=pikepdf.Dictionary(Type=pikepdf.Name.ExtGState,
                                                                               **entries))


MUTATIONS: dict[str, tuple[str, Mutation]] = {
    "external stream": ("6.1.7.1", lambda pdf: _image(pdf, F=pikepdf.String("image.jpg"))),
    "LZW stream": ("6.1.7.2", lambda pdf: setattr(_page(pdf), "Thumb", pdf.make_stream(
        b"\x80\x0b\x60\x50\x22\x0c\x0c\x85\x01", Filter=pikepdf.Name.LZWDecode, Width=1, Height=1))),
    "no output intent": ("6.2.3", lambda pdf: delattr(pdf.Root, "OutputIntents")),
    "0x0 MediaBox": ("6.1.13", lambda pdf: setattr(_page(pdf), "MediaBox", pikepdf.Array([0, 0, 0, 0]))),
    "giant MediaBox": ("6.1.13", lambda pdf: setattr(_page(pdf), "MediaBox", pikepdf.Array([0, 0, 20000, 842]))),
    "intent /N mismatch": ("6.2.3", lambda pdf: setattr(pdf.Root.OutputIntents[0].DestOutputProfile, "N", 4)),
    "CMYK image under sRGB intent": ("6.2.4.3", lambda pdf: _image(pdf, ColorSpace=pikepdf.Name.DeviceCMYK)),
    "CMYK operator": ("6.2.4.3", lambda pdf: _add_content(pdf, b"0 0 0 1 k 0 0 5 5 re f")),
    "transfer function": ("6.2.5", lambda pdf: _gstate(pdf, TR=pikepdf.Name.Identity)),
    "odd blend mode": ("6.2.10", lambda pdf: _gstate(pdf, BM=pikepdf.Name.Foo)),
    "interpolate": ("6.2.8", lambda pdf: _image(pdf, Interpolate=True)),
    "alternates": ("6.2.8", lambda pdf: _image(pdf, Alternates=pikepdf.Array())),
    "PostScript form": ("6.2.9", lambda pdf: setattr(_page(pdf), "PieceInfo", pdf.make_stream(
        b"", Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form, Subtype2=pikepdf.Name.PS,
        BBox=[0, 0, 1, 1]))),
    "visible non-embedded font": ("6.2.11.4.1", _visible_helvetica),
    "wrong CID width": ("6.2.11.5", lambda pdf: setattr(_font(pdf).DescendantFonts[0], "DW", 600)),
    "no ToUnicode": ("6.2.11.7.2", lambda pdf: delattr(_font(pdf), "ToUnicode")),
    "no CIDToGIDMap": ("6.2.11.3.2", lambda pdf: delattr(_font(pdf).DescendantFonts[0], "CIDToGIDMap")),
    "sound annotation": ("6.3.1", lambda pdf: _annotation(pdf, Subtype=pikepdf.Name.Sound, F=4,
                                                          AP=_appearance(pdf))),
    "annotation not printed": ("6.3.2", lambda pdf: _annotation(pdf, Subtype=pikepdf.Name.Square,
                                                                AP=_appearance(pdf))),
    "hidden annotation": ("6.3.2", lambda pdf: _annotation(pdf, Subtype=pikepdf.Name.Square, F=4 | 2,
                                                           AP=_appearance(pdf))),
    "widget without appearance": ("6.3.3", lambda pdf: _annotation(pdf, Subtype=pikepdf.Name.Widget, F=4,
                                                                   FT=pikepdf.Name.Sig)),
    "NeedAppearances": ("6.4.1", lambda pdf: setattr(pdf.Root, "AcroForm", pikepdf.Dictionary(
        Fields=pikepdf.Array(), NeedAppearances=True))),
    "JavaScript open action": ("6.5.1", lambda pdf: setattr(pdf.Root, "OpenAction", pikepdf.Dictionary(
        S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)")))),
    "launch action": ("6.5.1", lambda pdf: setattr(pdf.Root, "OpenAction", pikepdf.Dictionary(
        Type=pikepdf.Name.Action, S=pikepdf.Name.Launch, F=pikepdf.String("cmd.exe")))),
    "page additional actions": ("6.5.2", lambda pdf: setattr(_page(pdf), "AA", pikepdf.Dictionary())),
    "no metadata": ("6.6.2.1", lambda pdf: delattr(pdf.Root, "Metadata")),
    "undeclared XMP property": ("6.6.2.3.1", lambda pdf: _xmp(
        pdf, b"<dc:format>", b"<ex:note xmlns:ex=\"http://example.com/ns/\">x</ex:note><dc:format>")),
    "wrong pdfaid part": ("6.6.4", lambda pdf: _xmp(pdf, b"<pdfaid:part>2<", b"<pdfaid:part>1<")),
    "Info title differs": ("6.6.3", lambda pdf: setattr(pdf.docinfo, "Title", pikepdf.String("Khác"))),
    "Info date differs": ("6.6.3", lambda pdf: setattr(pdf.docinfo, "ModDate",
                                                       pikepdf.String("D:20240620103000+07'00'"))),
    "embedded files": ("6.8", lambda pdf: setattr(pdf.Root, "Names", pikepdf.Dictionary(
        EmbeddedFiles=pikepdf.Dictionary(Names=pikepdf.Array())))),
}


def test_our_output_conforms(good: bytes) -> None:
    assert check_pdfa(good) == [], [str(v) for v in check_pdfa(good)]


@pytest.mark.parametrize("case", sorted(MUTATIONS))
def test_each_clause_is_caught(case: str, good: bytes) -> None:
    clause, mutate = MUTATIONS[case]
    pdf = pikepdf.open(io.BytesIO(good))
    mutate(pdf)
    violations = check_pdfa(_save(pdf))
    assert any(v.clause == clause for v in violations), f"{case}: expected {clause}, got {violations}"


def test_compressed_metadata_is_caught_on_an_open_pdf(good: bytes) -> None:
    # pikepdf decompresses XMP on save, so check the in-memory Pdf (also exercises that input type)
    pdf = pikepdf.open(io.BytesIO(good))
    pdf.Root.Metadata.write(zlib.compress(pdf.Root.Metadata.read_bytes()), filter=pikepdf.Name.FlateDecode)
    assert any(v.clause == "6.6.2.1" for v in check_pdfa(pdf)), check_pdfa(pdf)


def test_invisible_font_need_not_be_embedded(good: bytes) -> None:
    pdf = pikepdf.open(io.BytesIO(good))
    _visible_helvetica(pdf)  # adds the font, then we replace the content with invisible text
    pdf.pages[0].Contents = pdf.make_stream(b"BT 3 Tr /F9 12 Tf 10 10 Td (hidden) Tj ET")
    assert not [v for v in check_pdfa(_save(pdf)) if v.clause == "6.2.11.4.1"]


@pytest.mark.parametrize("case, clause, edit", [
    ("no binary comment", "6.1.2", lambda raw: raw.replace(b"%\xbf\xf7\xa2\xfe", b"%abcd", 1)),
    ("bad header", "6.1.2", lambda raw: b"%PDF-2.0" + raw[8:]),
    ("no ID", "6.1.3", lambda raw: raw.replace(b"/ID [", b"/XD [")),
    ("data after EOF", "6.1.3", lambda raw: raw + b"trailing garbage"),
])
def test_byte_level_clauses(case: str, clause: str, edit: Callable[[bytes], bytes], good: bytes) -> None:
    violations = check_pdfa(edit(good))
    assert any(v.clause == clause for v in violations), f"{case}: expected {clause}, got {violations}"


def test_encryption_is_caught(good: bytes) -> None:
    pdf = pikepdf.open(io.BytesIO(good))
    data = _save(pdf, encryption=pikepdf.Encryption(owner="chủ", user=""))
    assert any(v.clause == "6.1.3" for v in check_pdfa(data))


def test_incremental_update_keeps_conformance(good: bytes) -> None:
    """A hand-written incremental update (new catalog revision, as signers append) stays conforming."""
    catalog = re.search(rb"1 0 obj\n(<<.*?)>>\nendobj", good, re.S)
    prev = int(re.findall(rb"startxref\n(\d+)", good)[-1])
    size = re.findall(rb"/Size (\d+)", good)[-1].decode()
    file_id = re.findall(rb"/ID \[[^\]]*\]", good)[-1]
    assert catalog, "catalog object not found"
    body = b"1 0 obj\n" + catalog.group(1) + b"/Lang (vi-VN) >>\nendobj\n"
    xref_at = len(good) + len(body)
    tail = (f"xref\n0 1\n0000000000 65535 f \n1 1\n{len(good):010d} 00000 n \n"
            f"trailer\n<< /Size {size} /Root 1 0 R /Info 2 0 R /Prev {prev} ").encode() + file_id + (
            f" >>\nstartxref\n{xref_at}\n%%EOF\n").encode()
    data = good + body + tail
    assert str(pikepdf.open(io.BytesIO(data)).Root.Lang) == "vi-VN", "update not applied"
    assert check_pdfa(data) == [], [str(v) for v in check_pdfa(data)]


def test_pyhanko_metadata_rewrite_is_caught(good: bytes) -> None:
    """pyHanko 0.38 rewrites XMP pdf:Producer differently from Info /Producer: a real 6.6.3 break."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(good))
    writer.root["/Lang"] = generic.TextStringObject("vi-VN")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    violations = check_pdfa(out.getvalue())
    assert {v.clause for v in violations} <= {"6.6.3"}, [str(v) for v in violations]
