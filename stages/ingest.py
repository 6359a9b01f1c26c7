"""Ingest: turn scanner files into ``Page`` values, refusing bad input before any work is done.

Two steps, so that a 200-page job keeps flat memory and a bad file never yields partial output:

- ``scan_inputs(paths, settings)`` runs in the calling process. It checks every file *without decoding
  pixels*: exists, not empty, real type from magic bytes (not the extension), header readable, page
  count, size under the megapixel cap, PDF not encrypted, PDF text policy. It returns cheap
  ``PageRef`` values in natural sort order (``scan2.jpg`` before ``scan10.jpg``).
- ``load_page(ref, settings)`` runs in a worker. It decodes one page into the numpy layout of
  ``stages.model.Page``, normalising 16-bit, CMYK, palette, alpha and 1-bit images, and keeps the
  scanner's own JPEG / CCITT G4 bytes (``Page.encoded``) when they can go into the PDF unchanged.

Image-only PDFs (what scanners write) give up their page image without re-encoding when a page is a
single image; any other page, and any page whose sound image pikepdf cannot decode (JBIG2 without
jbig2dec, DeviceN/Separation/Lab), is rendered with poppler's ``pdftoppm`` at the resolution of its
largest image (form XObjects included), with a warning on the page. A damaged image is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageSequence, UnidentifiedImageError

from sohoa.common.errors import (
    InputCorrupt,
    InputEmpty,
    InputMissing,
    InputWrongType,
)
from sohoa.common.messages import _
from sohoa.common.natsort import natural_key
from sohoa.common.reasons import foreign
from sohoa.config.settings import IngestSettings
from sohoa.stages.ingest_base import DECODE_FAILURES, FileKind, PageRef, check_size, to_array
from sohoa.stages.ingest_pdf import existing_text, load_pdf_page, scan_pdf
from sohoa.stages.model import EncodedImage, Page

__all__ = ["PageRef", "existing_text", "load_page", "scan_inputs", "sniff_kind", "to_array"]

_MAGIC: list[tuple[bytes, FileKind]] = [
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"BM", "bmp"),
]
_TIFF_COMPRESSION_G4 = 4


def sniff_kind(path: Path, head: bytes) -> FileKind:
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if b"%PDF-" in head[:1024]:
        return "pdf"
    raise InputWrongType(path=path, detail=_("unknown file signature"))


def scan_inputs(paths: Sequence[Path], settings: IngestSettings, *, redo_ocr: bool = False) -> list[PageRef]:
    """Check all inputs and list their pages, or raise the typed error for the first bad file."""
    refs: list[PageRef] = []
    for path in sorted((Path(p) for p in paths), key=natural_key):
        refs.extend(_scan_file(path, settings, redo_ocr=redo_ocr))
    return refs


def _scan_file(path: Path, settings: IngestSettings, *, redo_ocr: bool) -> list[PageRef]:
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise InputWrongType(path=path, detail=_("not a regular file"))
        with path.open("rb") as handle:
            head = handle.read(1024)
    except FileNotFoundError:
        raise InputMissing(path=path) from None
    except PermissionError:
        raise InputCorrupt(path=path, detail=_("permission denied")) from None
    if size == 0:
        raise InputEmpty(path=path)
    kind = sniff_kind(path, head)
    if kind == "pdf":
        return scan_pdf(path, settings, redo_ocr=redo_ocr)
    return _scan_image(path, kind, settings)


def _open_image(path: Path) -> Image.Image:
    try:
        return Image.open(path)
    except UnidentifiedImageError:
        raise InputCorrupt(path=path, detail=_("image header cannot be read")) from None
    except DECODE_FAILURES as exc:
        raise InputCorrupt(path=path, detail=foreign(exc)) from None


def _scan_image(path: Path, kind: FileKind, settings: IngestSettings) -> list[PageRef]:
    refs: list[PageRef] = []
    with _open_image(path) as image:
        try:
            for index, frame in enumerate(ImageSequence.Iterator(image)):
                width, height = frame.size
                check_size(path, width, height, settings, index)
                refs.append(PageRef(path, kind, index, width, height))
        except DECODE_FAILURES as exc:
            if not refs:
                raise InputCorrupt(path=path, detail=str(exc)) from None
            raise InputCorrupt(path=path, detail=_("frame {frame}: {reason}", frame=len(refs) + 1,
                                                   reason=foreign(exc))) from None
    return refs


# --- loading one page (runs in a worker) --------------------------------------------------------


def load_page(ref: PageRef, settings: IngestSettings) -> Page:
    """Decode one page. Raises ``InputCorrupt`` for truncated or undecodable data."""
    if ref.kind == "pdf":
        return load_pdf_page(ref, settings)
    with _open_image(ref.path) as image:
        try:
            image.seek(ref.index)
            encoded = _passthrough_bytes(ref, image)
            dpi, warning = _dpi_of(image.info.get("dpi"), settings)
            array = to_array(image)
        except DECODE_FAILURES as exc:
            raise InputCorrupt(path=ref.path, detail=str(exc)) from None
    page = Page(image=array, dpi=dpi, source=ref.path, source_index=ref.index, encoded=encoded)
    if warning:
        page.warnings.append(f"{page.label}: {warning}")
    return page


def _dpi_of(raw: object, settings: IngestSettings) -> tuple[tuple[float, float], str | None]:
    try:
        x, y = (float(v) for v in raw)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return (settings.default_dpi, settings.default_dpi), f"no DPI in file, assumed {settings.default_dpi:g}"
    low, high = settings.min_plausible_dpi, settings.max_plausible_dpi
    if not (low <= x <= high and low <= y <= high):
        return ((settings.default_dpi, settings.default_dpi),
                f"implausible DPI {x:g}x{y:g}, assumed {settings.default_dpi:g}")
    return (x, y), None


def _passthrough_bytes(ref: PageRef, image: Image.Image) -> EncodedImage | None:
    """The scanner's compressed bytes when a PDF can embed them as they are."""
    if ref.kind == "jpeg" and image.mode in ("RGB", "L"):
        components = 3 if image.mode == "RGB" else 1
        return EncodedImage("jpeg", ref.path.read_bytes(), image.width, image.height, components)
    if ref.kind == "tiff" and image.mode == "1":
        tags = image.tag_v2  # type: ignore[attr-defined]
        offsets, counts = tags.get(273), tags.get(279)
        if tags.get(259) != _TIFF_COMPRESSION_G4 or tags.get(266, 1) != 1:
            return None
        if not isinstance(offsets, tuple) or not isinstance(counts, tuple) or len(offsets) != 1:
            return None
        with ref.path.open("rb") as handle:
            handle.seek(offsets[0])
            data = handle.read(counts[0])
        if len(data) != counts[0]:
            return None
        # Photometric 0 = WhiteIsZero: a 1 bit is black.
        return EncodedImage("ccitt_g4", data, image.width, image.height, 1, black_is_1=tags.get(262, 0) == 0)
    return None
