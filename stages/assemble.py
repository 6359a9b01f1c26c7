"""Assemble: turn prepared pages into one searchable PDF/A-2B (image + invisible text layer).

Two steps, so memory stays flat over a 200-page document: ``prepare_page`` runs in the page worker
while the big numpy image is still there and returns a small, picklable ``PreparedPage`` (compressed
image bytes, placement, text operators); ``build_pdfa`` only stitches those together with pikepdf.

Compression policy (users hurt most on silent lossy recompression and on output larger than input):

============================  =====================================================================
Source page                   What goes into the PDF
============================  =====================================================================
scanner JPEG (grey/RGB)       the ORIGINAL bytes, DCTDecode, never re-encoded; rotation and deskew
                              are done by the placement matrix (``cm`` from ``upright_matrix()``)
CMYK JPEG                     re-encoded from the decoded RGB image as JPEG (``jpeg_quality``):
                              PDF/A with an sRGB output intent must not use DeviceCMYK
bitonal (1-bit)               CCITT G4 (K=-1, one strip from Pillow's group4 TIFF encoder); the
                              scanner's own G4 bytes pass through unchanged when available
lossless sources              by their pixels (``content_kind``): two levels → G4; grey or grey-as-RGB
(PNG, LZW/Deflate TIFF, BMP,  text/forms → 8-bit grey Flate; few colours → Flate; photographic grey or
decoded PDF images)           real colour → JPEG at ``jpeg_quality`` when ``recompress_lossless`` (the
                              default), else Flate. A result larger than the source is reported.
``image_mode = "gray"``       colour pages become grey (JPEG for JPEG sources, else as above)
``image_mode = "bitonal"``    the cleaned ``ocr_image`` (upright frame) binarised with Otsu → G4,
                              placed with an identity matrix
============================  =====================================================================

Never LZW (forbidden by PDF/A), never JBIG2 (no encoder here), never JPX.
The page size is the upright frame at its DPI (100% scale, as Circular 02/2019 asks).
"""

from __future__ import annotations

import io
import os
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Literal

import cv2
import numpy as np
import pikepdf
from PIL import Image

from sohoa.common.errors import OutputError, ProcessingError
from sohoa.common.messages import _
from sohoa.config.settings import OutputSettings
from sohoa.stages import pdfa, textlayer
from sohoa.stages.content_kind import as_grey, content_kind, indexed_png_stream, palette_of
from sohoa.stages.model import DocumentMeta, EncodedImage, Page

Matrix = tuple[float, float, float, float, float, float]
ImageFilter = Literal["DCTDecode", "CCITTFaxDecode", "FlateDecode"]


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
    spool: Path | None = None  # set by ``spool_page``: the bytes live in this one-image PDF, ``data`` is empty


@dataclass(frozen=True)
class PreparedPage:
    """Everything ``build_pdfa`` needs for one page; small and picklable (no numpy arrays)."""

    label: str
    width_pt: float
    height_pt: float
    image: PreparedImage | None  # None only for a page kept as it is (``source_page``)
    placement: Matrix  # maps the image's unit square to page space (PDF ``cm`` operands)
    text_ops: bytes = b""  # BT..ET block using font resource /F0, or b"" when there is no text
    text: str = ""  # OCR text of the page (for the sidecar)
    warnings: tuple[str, ...] = field(default_factory=tuple)
    source_page: tuple[Path, int] | None = None  # (PDF, page index) copied unchanged: it already has text


# --- encoders -------------------------------------------------------------------------------------


def _jpeg(pixels: np.ndarray, quality: int, how: str) -> PreparedImage:
    grey = pixels.ndim == 2
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", quality=quality, optimize=True)
    h, w = pixels.shape[:2]
    return PreparedImage(buf.getvalue(), w, h, "DCTDecode", "DeviceGray" if grey else "DeviceRGB", how=how)


def _flate(pixels: np.ndarray) -> PreparedImage:
    """Lossless: Pillow's PNG encoder gives a zlib stream with per-row predictors (PDF Predictor 15)."""
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG", compress_level=6)
    png = buf.getvalue()
    pos, idat = 8, bytearray()
    while pos < len(png):
        length = int.from_bytes(png[pos:pos + 4], "big")
        kind = png[pos + 4:pos + 8]
        if kind == b"IDAT":
            idat += png[pos + 8:pos + 8 + length]
        pos += 12 + length
    h, w = pixels.shape[:2]
    colors = 1 if pixels.ndim == 2 else 3
    parms = (("Predictor", 15), ("Colors", colors), ("BitsPerComponent", 8), ("Columns", w))
    return PreparedImage(bytes(idat), w, h, "FlateDecode", "DeviceGray" if colors == 1 else "DeviceRGB",
                         decode_parms=parms, how="flate")


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


# --- geometry -------------------------------------------------------------------------------------


def _page_box(page: Page) -> tuple[float, float, tuple[float, float]]:
    uw, uh = page.upright_size()
    dx, dy = page.upright_dpi()
    return uw * 72.0 / dx, uh * 72.0 / dy, (72.0 / dx, 72.0 / dy)


def _as_pdf_matrix(m: np.ndarray) -> Matrix:
    """3x3 column-vector matrix → PDF ``[a b c d e f]`` (x' = a x + c y + e, y' = b x + d y + f)."""
    return (float(m[0, 0]), float(m[1, 0]), float(m[0, 1]), float(m[1, 1]), float(m[0, 2]), float(m[1, 2]))


def source_placement(page: Page) -> Matrix:
    """``cm`` operands drawing the SOURCE image upright: unit square → source px → upright px → points."""
    h, w = page.image.shape[:2]
    _wpt, hpt, (sx, sy) = _page_box(page)
    unit_to_src = np.array([[w, 0.0, 0.0], [0.0, -h, h], [0.0, 0.0, 1.0]])
    upright = np.vstack([page.upright_matrix(), [0.0, 0.0, 1.0]])
    to_pt = np.array([[sx, 0.0, 0.0], [0.0, -sy, hpt], [0.0, 0.0, 1.0]])
    return _as_pdf_matrix(to_pt @ upright @ unit_to_src)


def upright_placement(page: Page) -> Matrix:
    wpt, hpt, _scale = _page_box(page)
    return (wpt, 0.0, 0.0, hpt, 0.0, 0.0)


# --- prepare --------------------------------------------------------------------------------------


def _encode_page(page: Page, settings: OutputSettings) -> tuple[PreparedImage, bool]:
    """The image for ``page`` per the policy in the module docstring; bool = placed in upright frame."""
    h, w = page.image.shape[:2]
    enc = page.encoded if page.encoded and (page.encoded.width, page.encoded.height) == (w, h) else None
    if settings.image_mode == "bitonal":
        if page.ocr_image is not None:
            return _g4(otsu_black(page.ocr_image), "g4-ocr-image"), True
        if page.mode == "bitonal" and enc and enc.codec == "ccitt_g4":
            return _g4_passthrough(enc), False
        return _g4(otsu_black(page.image), "g4-binarised"), False
    if page.mode == "bitonal":
        if enc and enc.codec == "ccitt_g4":
            return _g4_passthrough(enc), False
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
    data, bits = indexed_png_stream(indices, len(palette))
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


def _g4_passthrough(enc: EncodedImage) -> PreparedImage:
    parms: tuple[tuple[str, int | bool], ...] = (("K", -1), ("Columns", enc.width), ("Rows", enc.height))
    if enc.black_is_1:
        parms += (("BlackIs1", True),)
    return PreparedImage(enc.data, enc.width, enc.height, "CCITTFaxDecode", "DeviceGray", bits=1,
                         decode_parms=parms, how="g4-passthrough")


def prepare_page(page: Page, settings: OutputSettings) -> PreparedPage:
    """Compress the page image, work out its placement and the text operators (run in the page worker)."""
    if page.image.ndim not in (2, 3) or (page.image.ndim == 3 and page.image.shape[2] != 3):
        raise ProcessingError(path=page.label, stage="assemble",
                              detail=_("unsupported image shape {shape}", shape=page.image.shape))
    if page.image.dtype not in (np.uint8, np.bool_):
        raise ProcessingError(path=page.label, stage="assemble", detail=_("unsupported pixel type {dtype}",
                                                                                dtype=page.image.dtype))
    wpt, hpt, scale = _page_box(page)
    image, upright = _encode_page(page, settings)
    placement = upright_placement(page) if upright else source_placement(page)
    text_ops, text = b"", ""
    if page.ocr is not None and page.ocr.lines:
        text_ops = textlayer.text_operators(page.ocr.lines, page_height_pt=hpt, scale=scale)
        text = page.ocr.text()
    return PreparedPage(label=page.label, width_pt=wpt, height_pt=hpt, image=image, placement=placement,
                        text_ops=text_ops, text=text, warnings=tuple(page.warnings))


def sidecar_text(pages: Sequence[PreparedPage]) -> str:
    """Plain text of all pages, UTF-8-ready, pages separated by form feed (as OCR tools do)."""
    return "\f".join(p.text for p in pages)


# --- build ----------------------------------------------------------------------------------------


def _producer() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        ours = version("sohoa")
    except PackageNotFoundError:
        ours = "dev"
    return f"sohoa {ours} (pikepdf {pikepdf.__version__})"


def _flate_stream(pdf: pikepdf.Pdf, data: bytes) -> pikepdf.Stream:
    stream = pikepdf.Stream(pdf, zlib.compress(data, 6))
    stream.Filter = pikepdf.Name.FlateDecode
    return stream


_SPOOL_KEY = "/SohoaImage"


def spool_page(prepared: PreparedPage, folder: Path) -> PreparedPage:
    """Move the page's image bytes into a one-image PDF in ``folder``; return the page without them.

    Why: a 200-page document of 1 MB scans must not hold 200 MB of images in the assembling process.
    ``build_pdfa`` copies spooled images as foreign objects, and qpdf reads their bytes from the spool
    file only while writing the output, one stream at a time — memory stays flat with page count.
    """
    if prepared.image is None:
        return prepared
    holder = pikepdf.new()
    holder.Root[_SPOOL_KEY] = _image_xobject(holder, prepared.image)
    fd, name = tempfile.mkstemp(prefix="page-", suffix=".pdf", dir=folder)
    with os.fdopen(fd, "wb") as handle:
        holder.save(handle, compress_streams=False, object_stream_mode=pikepdf.ObjectStreamMode.disable)
    return replace(prepared, image=replace(prepared.image, data=b"", spool=Path(name)))


def _image_xobject(pdf: pikepdf.Pdf, img: PreparedImage, spools: list[pikepdf.Pdf] | None = None) -> pikepdf.Stream:
    if img.spool is not None and spools is not None:
        source = pikepdf.open(img.spool, access_mode=pikepdf.AccessMode.stream)
        spools.append(source)  # must stay open until the output is written (lazy stream data)
        return pdf.copy_foreign(source.Root[_SPOOL_KEY])
    stream = pikepdf.Stream(pdf, img.data)
    stream.Type = pikepdf.Name.XObject
    stream.Subtype = pikepdf.Name.Image
    stream.Width = img.width
    stream.Height = img.height
    base = pikepdf.Name("/" + img.color_space)
    if img.palette:
        entries = len(img.palette) // (3 if img.color_space == "DeviceRGB" else 1)
        stream.ColorSpace = pikepdf.Array([pikepdf.Name.Indexed, base, entries - 1, pikepdf.String(img.palette)])
    else:
        stream.ColorSpace = base
    stream.BitsPerComponent = img.bits
    stream.Filter = pikepdf.Name("/" + img.filter)
    if img.decode_parms:
        stream.DecodeParms = pikepdf.Dictionary({"/" + k: v for k, v in img.decode_parms})
    return pdf.make_indirect(stream)


def kept_page(label: str, source: Path, index: int, text: str) -> PreparedPage:
    """A page that already carries text, copied into the output unchanged (text policy ``skip``)."""
    with pikepdf.open(source) as pdf:
        box = [float(v) for v in pdf.pages[index].mediabox]
    return PreparedPage(label=label, width_pt=box[2] - box[0], height_pt=box[3] - box[1], image=None,
                        placement=(1, 0, 0, 1, 0, 0), text=text, source_page=(source, index))


def _kept_page(prepared: PreparedPage, spools: list[pikepdf.Pdf]) -> pikepdf.Page:
    if prepared.source_page is None:
        raise ProcessingError(path=prepared.label, stage="assemble", detail=_("page has neither image nor source"))
    path, index = prepared.source_page
    source = pikepdf.open(path, access_mode=pikepdf.AccessMode.stream)
    spools.append(source)  # stays open until the output is written
    return source.pages[index]


def _num(value: float) -> str:
    text = f"{value:.5f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def build_pdfa(pages: Sequence[PreparedPage], meta: DocumentMeta, settings: OutputSettings,
               stream: BinaryIO, *, now: datetime | None = None) -> None:
    """Write a complete PDF/A-2B with ``pages`` to ``stream`` (the caller does temp file + os.replace).

    ``now`` fixes the creation/modification dates (tests, reproducible builds); default: local now.
    """
    if not pages:
        raise ProcessingError(path=meta.title or "", stage="assemble", detail=_("no pages to assemble"))
    pdf = pikepdf.new()
    spools: list[pikepdf.Pdf] = []
    try:
        _build(pdf, pages, meta, settings, stream, now, spools)
    finally:
        for source in spools:
            source.close()


def _build(pdf: pikepdf.Pdf, pages: Sequence[PreparedPage], meta: DocumentMeta, settings: OutputSettings,
           stream: BinaryIO, now: datetime | None, spools: list[pikepdf.Pdf]) -> None:
    font: pikepdf.Dictionary | None = None
    for prepared in pages:
        if prepared.source_page is not None or prepared.image is None:
            pdf.pages.append(_kept_page(prepared, spools))
            continue
        image = _image_xobject(pdf, prepared.image, spools)
        resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
        placement = " ".join(_num(v) for v in prepared.placement)
        content = f"q\n{placement} cm\n/Im0 Do\nQ\n".encode("ascii")
        if prepared.text_ops:
            if font is None:
                font = textlayer.add_font(pdf)
            resources.Font = pikepdf.Dictionary(F0=font)
            content += prepared.text_ops
        page = pikepdf.Dictionary(
            Type=pikepdf.Name.Page, MediaBox=[0, 0, round(prepared.width_pt, 3), round(prepared.height_pt, 3)],
            Resources=resources, Contents=pdf.make_indirect(_flate_stream(pdf, content)),
        )
        pdf.pages.append(pikepdf.Page(page))
    pdfa.add_output_intent(pdf)
    info = pdfa.doc_info(meta, creator=settings.creator, producer=_producer(), now=now or datetime.now())
    pdfa.add_metadata(pdf, info)
    try:
        pdf.save(stream, force_version="1.7", compress_streams=False, fix_metadata_version=False,
                 object_stream_mode=pikepdf.ObjectStreamMode.disable, deterministic_id=True)
    except OSError as exc:
        raise OutputError(path=getattr(stream, "name", "<stream>"), detail=exc.strerror or str(exc)) from exc
