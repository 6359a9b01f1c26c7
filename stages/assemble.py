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
                              scanner's own G4 or JBIG2 bytes pass through unchanged when available
lossless sources              by their pixels (``content_kind``): two levels → G4; grey or grey-as-RGB
(PNG, LZW/Deflate TIFF, BMP,  text/forms → 8-bit grey Flate; few colours → Flate; photographic grey or
decoded PDF images)           real colour → JPEG at ``jpeg_quality`` when ``recompress_lossless`` (the
                              default), else Flate. A result larger than the source is reported.
``image_mode = "gray"``       colour pages become grey (JPEG for JPEG sources, else as above)
``image_mode = "bitonal"``    the cleaned ``ocr_image`` (upright frame) binarised with Otsu → G4,
                              placed with an identity matrix
============================  =====================================================================

Never LZW (forbidden by PDF/A), JBIG2 only as the scanner wrote it (passed through with its global
segments; there is no encoder here), never JPX.
The page size is the upright frame at its DPI (100% scale, as Circular 02/2019 asks).
"""

from __future__ import annotations

import os
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pikepdf

from sohoa.common.errors import OutputError, ProcessingError
from sohoa.common.messages import _
from sohoa.config.settings import OutputSettings
from sohoa.stages import pdfa, textlayer
from sohoa.stages.encode import PreparedImage, encode_page
from sohoa.stages.model import DocumentMeta, Page

Matrix = tuple[float, float, float, float, float, float]
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


def prepare_page(page: Page, settings: OutputSettings) -> PreparedPage:
    """Compress the page image, work out its placement and the text operators (run in the page worker)."""
    if page.image.ndim not in (2, 3) or (page.image.ndim == 3 and page.image.shape[2] != 3):
        raise ProcessingError(path=page.label, stage="assemble",
                              detail=_("unsupported image shape {shape}", shape=page.image.shape))
    if page.image.dtype not in (np.uint8, np.bool_):
        raise ProcessingError(path=page.label, stage="assemble", detail=_("unsupported pixel type {dtype}",
                                                                                dtype=page.image.dtype))
    wpt, hpt, scale = _page_box(page)
    image, upright = encode_page(page, settings)
    placement = upright_placement(page) if upright else source_placement(page)
    text_ops, text = b"", ""
    if page.ocr is not None and page.ocr.lines:
        text_ops = textlayer.text_operators(page.ocr.lines, page_height_pt=hpt, scale=scale)
        text = page.ocr.text()
    return PreparedPage(label=page.label, width_pt=wpt, height_pt=hpt, image=image, placement=placement,
                        text_ops=text_ops, text=text, warnings=tuple(page.warnings))


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
    if img.jbig2_globals:
        shared = pdf.make_indirect(pikepdf.Stream(pdf, img.jbig2_globals))
        stream.DecodeParms = pikepdf.Dictionary(JBIG2Globals=shared)
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
    _write(pages, stream, label=meta.title or "", document=(meta, settings, now))


def build_group(pages: Sequence[PreparedPage], stream: BinaryIO, *, label: str = "") -> None:
    """Write ``pages`` as a plain PDF (images, text layer, one shared font): a page group of a long document.

    Why: pikepdf holds every copied image in memory until it saves, so a 1,000-page document built in
    one ``Pdf`` needs all its images at once (~1.75 MB a page for a colour A4 scan). A group of pages
    costs only its own images; ``stages.join`` then streams the groups into the PDF/A with qpdf.
    """
    _write(pages, stream, label=label, document=None)


def _write(pages: Sequence[PreparedPage], stream: BinaryIO, *, label: str,
           document: tuple[DocumentMeta, OutputSettings, datetime | None] | None) -> None:
    if not pages:
        raise ProcessingError(path=label, stage="assemble", detail=_("no pages to assemble"))
    pdf = pikepdf.new()
    spools: list[pikepdf.Pdf] = []
    try:
        _add_pages(pdf, pages, spools)
        if document is not None:
            meta, settings, now = document
            add_document_parts(pdf, meta, settings, now=now)
        save_pdf(pdf, stream)
    finally:
        for source in spools:
            source.close()


def add_document_parts(pdf: pikepdf.Pdf, meta: DocumentMeta, settings: OutputSettings, *,
                       now: datetime | None = None) -> None:
    """What makes a PDF a PDF/A-2B beyond its pages: the sRGB output intent, XMP and Info (they agree)."""
    pdfa.add_output_intent(pdf)
    info = pdfa.doc_info(meta, creator=settings.creator, producer=_producer(), now=now or datetime.now())
    pdfa.add_metadata(pdf, info)


def save_pdf(pdf: pikepdf.Pdf, stream: BinaryIO) -> None:
    """Save as every sohoa PDF is saved: PDF 1.7, no object streams, streams as built, a stable /ID."""
    try:
        pdf.save(stream, force_version="1.7", compress_streams=False, fix_metadata_version=False,
                 object_stream_mode=pikepdf.ObjectStreamMode.disable, deterministic_id=True)
    except OSError as exc:
        raise OutputError(path=getattr(stream, "name", "<stream>"), detail=exc.strerror or str(exc)) from exc


def _add_pages(pdf: pikepdf.Pdf, pages: Sequence[PreparedPage], spools: list[pikepdf.Pdf]) -> None:
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
