"""PDFs as office multifunction scanners write them, built byte by byte for the ingest tests.

Why by hand: Debian has no JBIG2 encoder, and our own assembler only writes what it already reads. These
builders use other paths: a JBIG2 stream made of real segments (a generic region coded with MMR, i.e.
the T.6 data Pillow's libtiff writes), a DeviceN image with a PostScript tint transform, a scan nested
inside a form XObject, a non-zero MediaBox origin with /Rotate. The pixels come from Pillow text.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pikepdf
from PIL import Image, ImageDraw, ImageFont

from bench.corpus import font_paths

A4_PT = (595.0, 842.0)
TEXT = ["ỦY BAN NHÂN DÂN TỈNH QUẢNG TRỊ", "Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
        "Số hồ sơ 000.00.31.H50-220906-0001", "Người nộp: Nguyễn Văn Hưởng"]


def text_page(dpi: int = 200) -> Image.Image:
    """An A4 greyscale page with four lines of Vietnamese at 14 pt."""
    width, height = round(A4_PT[0] / 72 * dpi), round(A4_PT[1] / 72 * dpi)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(font_paths()[0]), round(14 / 72 * dpi))
    for n, line in enumerate(TEXT):
        draw.text((round(dpi * 0.9), round(dpi * (1.2 + 0.45 * n))), line, font=font, fill=0)
    return image


def _segment(number: int, kind: int, data: bytes) -> bytes:
    # number, flags (type; 1-byte page association), no referred segments, page 1, data length
    return struct.pack(">IBBBI", number, kind, 0, 1, len(data)) + data


def jbig2_stream(black: np.ndarray, dpi: int) -> bytes:
    """An embedded JBIG2 stream (PDF form: no file header): page information + one MMR generic region."""
    h, w = black.shape
    buf = io.BytesIO()
    Image.fromarray(black).save(buf, format="TIFF", compression="group4", tiffinfo={278: h})
    with Image.open(io.BytesIO(buf.getvalue())) as tif:
        offset, count = tif.tag_v2[273][0], tif.tag_v2[279][0]
    mmr = buf.getvalue()[offset:offset + count]
    ppm = round(dpi / 0.0254)
    page_info = struct.pack(">IIIIBH", w, h, ppm, ppm, 0, 0)
    region = struct.pack(">IIIIB", w, h, 0, 0, 0) + bytes([1]) + mmr  # generic region flags: MMR = 1
    return _segment(0, 48, page_info) + _segment(1, 38, region)


def _one_image_pdf(path: Path, image: pikepdf.Stream | None, pdf: pikepdf.Pdf, *,
                   content: bytes = b"q 595 0 0 842 0 0 cm /Im0 Do Q", box: list[float] | None = None,
                   rotate: int = 0, xobjects: dict | None = None) -> Path:
    resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(xobjects or {"/Im0": image}))
    page = pikepdf.Dictionary(Type=pikepdf.Name.Page, MediaBox=box or [0, 0, *A4_PT], Resources=resources,
                              Contents=pdf.make_stream(content))
    if rotate:
        page.Rotate = rotate
    pdf.pages.append(pikepdf.Page(page))
    pdf.save(path, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return path


def jbig2_pdf(path: Path, dpi: int = 200) -> Path:
    black = np.asarray(text_page(dpi)) < 128
    pdf = pikepdf.new()
    h, w = black.shape
    image = pdf.make_stream(jbig2_stream(black, dpi), Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image,
                            Width=w, Height=h, ColorSpace=pikepdf.Name.DeviceGray, BitsPerComponent=1,
                            Filter=pikepdf.Name.JBIG2Decode)
    return _one_image_pdf(path, image, pdf)


def devicen_pdf(path: Path, dpi: int = 150) -> Path:
    """Two ink channels (cyan, black) in a DeviceN space over DeviceCMYK, as spot-colour MFPs write."""
    ink = 255 - np.asarray(text_page(dpi))
    h, w = ink.shape
    samples = np.dstack([np.zeros_like(ink), ink]).astype(np.uint8).tobytes()
    pdf = pikepdf.new()
    tint = pdf.make_stream(b"{ exch 0 0 4 -1 roll }", FunctionType=4, Domain=[0, 1, 0, 1],
                           Range=[0, 1, 0, 1, 0, 1, 0, 1])
    space = pikepdf.Array([pikepdf.Name.DeviceN, [pikepdf.Name.Cyan, pikepdf.Name.Black],
                           pikepdf.Name.DeviceCMYK, tint])
    image = pdf.make_stream(zlib.compress(samples), Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image,
                            Width=w, Height=h, ColorSpace=space, BitsPerComponent=8,
                            Filter=pikepdf.Name.FlateDecode)
    return _one_image_pdf(path, image, pdf)


def form_xobject_pdf(path: Path, dpi: int = 300) -> Path:
    """The scan drawn through a form XObject, on a MediaBox with a non-zero origin and /Rotate 90."""
    page = text_page(dpi)
    jpeg = io.BytesIO()
    page.save(jpeg, format="JPEG", quality=85)
    pdf = pikepdf.new()
    image = pdf.make_stream(jpeg.getvalue(), Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image,
                            Width=page.width, Height=page.height, ColorSpace=pikepdf.Name.DeviceGray,
                            BitsPerComponent=8, Filter=pikepdf.Name.DCTDecode)
    form = pdf.make_stream(b"q 595 0 0 842 0 0 cm /Im0 Do Q", Type=pikepdf.Name.XObject,
                           Subtype=pikepdf.Name.Form, BBox=[0, 0, *A4_PT],
                           Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image)))
    return _one_image_pdf(path, None, pdf, content=b"q 1 0 0 1 10 20 cm /Fm0 Do Q",
                          box=[10, 20, 10 + A4_PT[0], 20 + A4_PT[1]], xobjects={"/Fm0": form})


def tiny_box_pdf(path: Path) -> Path:
    pdf = pikepdf.new()
    image = pdf.make_stream(b"\xff", Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image, Width=1, Height=1,
                            ColorSpace=pikepdf.Name.DeviceGray, BitsPerComponent=8)
    return _one_image_pdf(path, image, pdf, content=b"q 0 0 0 0 0 0 cm /Im0 Do Q", box=[0, 0, 0, 0])
