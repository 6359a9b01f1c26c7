"""Page image encoding: what goes into the PDF for one page, per the policy in ``stages.assemble``.

Why apart: the policy (passthrough of the scanner's JPEG and G4 bytes, content-decided encoding for
lossless sources, the image modes) is its own concern; assemble only places the result on the page.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from PIL import Image

from sohoa.common.errors import ProcessingError
from sohoa.common.messages import _
from sohoa.config.settings import OutputSettings
from sohoa.stages.content_kind import as_grey, content_kind, palette_of
from sohoa.stages.model import EncodedImage, Page

ImageFilter = Literal["DCTDecode", "CCITTFaxDecode", "FlateDecode", "JBIG2Decode"]


@dataclass(frozen=True)
class PreparedImage:
    """Encoded image bytes plus what the PDF image dictionary needs to decode them."""

    data: bytes
    width: int
    height: int
    filter: ImageFilter
    color_space: Literal["DeviceRGB", "DeviceGray"]
    bits: int = 8
    decode_parms: tuple[tuple[str, int | bool], ...] = ()
    how: str = ""  # e.g. "jpeg-passthrough", for reports and tests
    palette: bytes = b""  # set: an /Indexed image over ``color_space`` with these entries
    jbig2_globals: bytes = b""  # set: a /JBIG2Globals stream for a passed-through JBIG2 image
    spool: Path | None = None  # set by ``spool_page``: the bytes live in this one-image PDF, ``data`` is empty


# --- encoders -------------------------------------------------------------------------------------


def _jpeg(pixels: np.ndarray, quality: int, how: str) -> PreparedImage:
    grey = pixels.ndim == 2
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", quality=quality, optimize=True)
    h, w = pixels.shape[:2]
    return PreparedImage(buf.getvalue(), w, h, "DCTDecode", "DeviceGray" if grey else "DeviceRGB", how=how)


# zlib level of lossless 8-bit pages. On a 300-dpi A4 scan of textured paper level 3 wrote 6.6 MB in 0.5 s
# where 6 wrote 6.8 MB in 1.4 s (an 8-bit palette: +3 % for 3.4x less time than level 9): noise does not
# compress better for trying harder, and a counter pays the time on every PNG or TIFF page (issue 14).
ZLIB_LEVEL = 3


def _png_idat(image: Image.Image, **options: object) -> bytes:
    """Pillow's PNG encoder gives a zlib stream with per-row predictors (PDF Predictor 15): its IDAT data."""
    buf = io.BytesIO()
    image.save(buf, format="PNG", **options)
    png, pos, idat = buf.getvalue(), 8, bytearray()
    while pos < len(png):
        length = int.from_bytes(png[pos:pos + 4], "big")
        if png[pos + 4:pos + 8] == b"IDAT":
            idat += png[pos + 8:pos + 8 + length]
        pos += 12 + length
    return bytes(idat)


def _flate(pixels: np.ndarray) -> PreparedImage:
    """Lossless 8-bit grey or RGB."""
    h, w = pixels.shape[:2]
    colors = 1 if pixels.ndim == 2 else 3
    parms = (("Predictor", 15), ("Colors", colors), ("BitsPerComponent", 8), ("Columns", w))
    return PreparedImage(_png_idat(Image.fromarray(pixels), compress_level=ZLIB_LEVEL), w, h, "FlateDecode",
                         "DeviceGray" if colors == 1 else "DeviceRGB", decode_parms=parms, how="flate")


def _indexed_png_stream(indices: np.ndarray, colours: int) -> tuple[bytes, int]:
    """Palette indices packed at 1, 2, 4 or 8 bits with PNG row predictors; (data, bits)."""
    bits = next(b for b in (1, 2, 4, 8) if colours <= 1 << b)
    image = Image.fromarray(indices, mode="L").convert("P")
    image.putpalette([v for n in range(256) for v in (n, n, n)])
    # few grey levels (a text page): its runs compress much better for trying harder, and cheaply
    return _png_idat(image, bits=bits, compress_level=9 if bits <= 4 else ZLIB_LEVEL), bits


def _g4(black: np.ndarray, how: str = "g4") -> PreparedImage:
    """CCITT G4 of a boolean image (True = black), one strip so the bytes are one valid G4 stream."""
    h, w = black.shape
    buf = io.BytesIO()
    # libtiff's fax coder writes 1 bits as black runs whatever the photometric tag says, so ink goes
    # in as 1; the stream then decodes black with PDF's default BlackIs1=false (checked by rendering).
    Image.fromarray(black).save(buf, format="TIFF", compression="group4", tiffinfo={278: h})
    with Image.open(io.BytesIO(buf.getvalue())) as tif:
        offsets, counts = tif.tag_v2[273], tif.tag_v2[279]
    if len(offsets) != 1:
        raise ProcessingError(path="", stage="assemble",
                              detail=_("G4 encoder wrote {count} strips", count=len(offsets)))
    data = buf.getvalue()[offsets[0]:offsets[0] + counts[0]]
    parms = (("K", -1), ("Columns", w), ("Rows", h))
    return PreparedImage(data, w, h, "CCITTFaxDecode", "DeviceGray", bits=1, decode_parms=parms, how=how)


def otsu_black(grey: np.ndarray) -> np.ndarray:
    """Boolean "ink" mask of a grey image by Otsu's threshold (already-bitonal input is returned as is)."""
    if grey.dtype == bool:
        return grey
    grey = _grey(grey)
    threshold, _ = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return grey <= threshold


def _grey(pixels: np.ndarray) -> np.ndarray:
    return pixels if pixels.ndim == 2 else np.asarray(Image.fromarray(pixels).convert("L"))


def encode_page(page: Page, settings: OutputSettings) -> tuple[PreparedImage, bool]:
    """The image for ``page`` per the policy in the module docstring; bool = placed in upright frame."""
    h, w = page.image.shape[:2]
    enc = page.encoded if page.encoded and (page.encoded.width, page.encoded.height) == (w, h) else None
    if settings.image_mode == "bitonal":
        if page.ocr_image is not None:
            return _g4(otsu_black(page.ocr_image), "g4-ocr-image"), True
        if page.mode == "bitonal" and enc and enc.codec in ("ccitt_g4", "jbig2"):
            return _bitonal_passthrough(enc), False
        return _g4(otsu_black(page.image), "g4-binarised"), False
    if page.mode == "bitonal":
        if enc and enc.codec in ("ccitt_g4", "jbig2"):
            return _bitonal_passthrough(enc), False
        return _g4(page.image), False
    want_grey = settings.image_mode == "gray"
    if enc and enc.codec == "jpeg":
        if enc.components == 4:
            pixels = _grey(page.image) if want_grey else page.image
            return _jpeg(pixels, settings.jpeg_quality, "jpeg-from-cmyk"), False
        if enc.components == 1 or not want_grey:
            space = "DeviceGray" if enc.components == 1 else "DeviceRGB"
            return PreparedImage(enc.data, w, h, "DCTDecode", space, how="jpeg-passthrough"), False
        return _jpeg(_grey(page.image), settings.jpeg_quality, "jpeg-grey"), False
    return _encode_lossless(page, settings, want_grey), False


def _encode_lossless(page: Page, settings: OutputSettings, want_grey: bool) -> PreparedImage:
    """A lossless source (PNG, LZW/Deflate TIFF, BMP, a decoded PDF image) by what its pixels hold."""
    kind = content_kind(page.image)
    if kind == "bitonal":
        return _g4(otsu_black(as_grey(page.image)), "g4-two-level")
    if kind in ("grey-text", "grey-photo") or want_grey:
        pixels = _grey(page.image) if kind in ("colour", "few-colour") else as_grey(page.image)
        if kind == "grey-text" or not settings.recompress_lossless:
            return _report_growth(page, _indexed_or_flate(pixels), "grey text")
        return _report_growth(page, _jpeg(pixels, settings.jpeg_quality, "jpeg-grey-from-lossless"), "grey photo")
    if kind == "few-colour" or not settings.recompress_lossless:
        return _report_growth(page, _indexed_or_flate(page.image), "few colours")
    return _report_growth(page, _jpeg(page.image, settings.jpeg_quality, "jpeg-from-lossless"), "colour")


def _indexed_or_flate(pixels: np.ndarray) -> PreparedImage:
    """Lossless; a palette image keeps its palette (4-bit indices for 16 greys: half the bytes of 8-bit)."""
    found = palette_of(pixels)
    plain = _flate(pixels)
    if found is None:
        return plain
    indices, palette = found
    data, bits = _indexed_png_stream(indices, len(palette))
    if len(data) >= len(plain.data):
        return plain
    h, w = pixels.shape[:2]
    parms = (("Predictor", 15), ("Colors", 1), ("BitsPerComponent", bits), ("Columns", w))
    return PreparedImage(data, w, h, "FlateDecode", "DeviceGray" if pixels.ndim == 2 else "DeviceRGB", bits=bits,
                         decode_parms=parms, how=f"flate-indexed-{bits}bit", palette=palette.tobytes())


def _report_growth(page: Page, image: PreparedImage, kind: str) -> PreparedImage:
    """Never a page image larger than its source file without saying why (in the page's warnings)."""
    try:
        source = page.source.stat().st_size
    except OSError:
        return image
    if len(image.data) <= source:
        return image
    page.warnings.append(f"{page.label}: page image {len(image.data) // 1024} KB ({image.how}, {kind}) is "
                         f"larger than the source file ({source // 1024} KB): kept for PDF/A compatibility")
    return image


def _bitonal_passthrough(enc: EncodedImage) -> PreparedImage:
    """The scanner's own bitonal bytes, unchanged: CCITT G4 or JBIG2 (lossless as the MFP wrote it)."""
    if enc.codec == "jbig2":
        return PreparedImage(enc.data, enc.width, enc.height, "JBIG2Decode", "DeviceGray", bits=1,
                             how="jbig2-passthrough", jbig2_globals=enc.jbig2_globals)
    return _g4_passthrough(enc)


def _g4_passthrough(enc: EncodedImage) -> PreparedImage:
    parms: tuple[tuple[str, int | bool], ...] = (("K", -1), ("Columns", enc.width), ("Rows", enc.height))
    if enc.black_is_1:
        parms += (("BlackIs1", True),)
    return PreparedImage(enc.data, enc.width, enc.height, "CCITTFaxDecode", "DeviceGray", bits=1,
                         decode_parms=parms, how="g4-passthrough")
