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

import io
import struct
import subprocess
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pikepdf
from PIL import Image, ImageSequence, UnidentifiedImageError

from sohoa.common.errors import (
    InputCorrupt,
    InputEmpty,
    InputEncrypted,
    InputHasText,
    InputMissing,
    InputTooLarge,
    InputTooSmall,
    InputWrongType,
)
from sohoa.common.messages import _
from sohoa.common.natsort import natural_key
from sohoa.common.reasons import foreign
from sohoa.config.settings import IngestSettings
from sohoa.stages.model import EncodedImage, Page

FileKind = Literal["jpeg", "png", "tiff", "bmp", "pdf"]

_MAGIC: list[tuple[bytes, FileKind]] = [
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"BM", "bmp"),
]
_TEXT_OPERATORS = "Tj TJ ' \""
_TIFF_COMPRESSION_G4 = 4

# What Pillow raises on damaged image data besides OSError: found by tests/fuzz (a truncated multi-page
# TIFF gives TypeError "Missing dimensions"; broken tables give struct.error, IndexError, KeyError).
_DECODE_FAILURES = (OSError, EOFError, ValueError, SyntaxError, TypeError, IndexError, KeyError, struct.error,
                    ZeroDivisionError)

# Our own cap (IngestSettings.max_megapixels) is checked from the header before decoding, with a
# message naming the file; Pillow's global bomb guard would fire first with a generic one.
Image.MAX_IMAGE_PIXELS = None


@dataclass(frozen=True)
class PageRef:
    """Where one page comes from; small and picklable so workers can load pages themselves."""

    path: Path
    kind: FileKind
    index: int  # frame (TIFF) or page (PDF) number, from 0
    width: int  # pixels as stored (0 for PDF pages that will be rasterised)
    height: int
    keep_as_is: bool = False  # a PDF page that already has text: copied unchanged, not OCR'd


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
        return _scan_pdf(path, settings, redo_ocr=redo_ocr)
    return _scan_image(path, kind, settings)


def _check_size(path: Path, width: int, height: int, settings: IngestSettings, index: int) -> None:
    if min(width, height) < settings.min_side_px:
        size = _("{width}x{height} px", width=width, height=height)
        detail = _("page {page} ({size})", page=index + 1, size=size) if index else _("the image ({size})", size=size)
        raise InputTooSmall(path=path, detail=detail, limit=f"{settings.min_side_px} px")
    megapixels = width * height / 1e6
    if megapixels > settings.max_megapixels:
        size = _("{width}x{height} px = {mp:.0f} MP", width=width, height=height, mp=megapixels)
        detail = _("page {page}: {reason}", page=index + 1, reason=size) if index else size
        raise InputTooLarge(path=path, detail=detail,
                            limit=f"{settings.max_megapixels:g}")


def _open_image(path: Path) -> Image.Image:
    try:
        return Image.open(path)
    except UnidentifiedImageError:
        raise InputCorrupt(path=path, detail=_("image header cannot be read")) from None
    except _DECODE_FAILURES as exc:
        raise InputCorrupt(path=path, detail=foreign(exc)) from None


def _scan_image(path: Path, kind: FileKind, settings: IngestSettings) -> list[PageRef]:
    refs: list[PageRef] = []
    with _open_image(path) as image:
        try:
            for index, frame in enumerate(ImageSequence.Iterator(image)):
                width, height = frame.size
                _check_size(path, width, height, settings, index)
                refs.append(PageRef(path, kind, index, width, height))
        except _DECODE_FAILURES as exc:
            if not refs:
                raise InputCorrupt(path=path, detail=str(exc)) from None
            raise InputCorrupt(path=path, detail=_("frame {frame}: {reason}", frame=len(refs) + 1,
                                                   reason=foreign(exc))) from None
    return refs


def _open_pdf(path: Path) -> pikepdf.Pdf:
    try:
        pdf = pikepdf.open(path)
    except pikepdf.PasswordError:
        raise InputEncrypted(path=path) from None
    except pikepdf.PdfError as exc:
        raise InputCorrupt(path=path, detail=str(exc).splitlines()[0][:200]) from None
    if pdf.is_encrypted:
        pdf.close()
        raise InputEncrypted(path=path)
    return pdf


def _page_has_text(page: pikepdf.Page) -> bool:
    try:
        return bool(pikepdf.parse_content_stream(page, _TEXT_OPERATORS))
    except pikepdf.PdfError:
        return False


def _scan_pdf(path: Path, settings: IngestSettings, *, redo_ocr: bool) -> list[PageRef]:
    with _open_pdf(path) as pdf:
        try:
            pages = list(pdf.pages)
        except pikepdf.PdfError as exc:
            raise InputCorrupt(path=path, detail=str(exc)[:200]) from None
        if not pages:
            raise InputCorrupt(path=path, detail=_("the PDF has no pages"))
        with_text = [n + 1 for n, page in enumerate(pages) if _page_has_text(page)]
        redo = redo_ocr or settings.text_policy == "redo"
        if with_text and not redo and (settings.text_policy == "refuse" or len(with_text) == len(pages)):
            raise InputHasText(path=path, pages=", ".join(map(str, with_text)))
        keep = set() if redo else set(with_text)
        refs = []
        for index, page in enumerate(pages):
            if index + 1 in keep:
                refs.append(PageRef(path, "pdf", index, 0, 0, keep_as_is=True))
                continue
            _check_box(path, page, settings, index)
            image = _single_page_image(page)
            size = _image_size(image) if image is not None else None
            if size is not None:
                width, height = size
            else:
                box = page.mediabox
                width = round(float(box[2] - box[0]) / 72 * settings.default_dpi)
                height = round(float(box[3] - box[1]) / 72 * settings.default_dpi)
            _check_size(path, width, height, settings, index)
            refs.append(PageRef(path, "pdf", index, width, height))
        return refs


def _image_size(image: pikepdf.Object) -> tuple[int, int] | None:
    """(width, height) of an image XObject, None when its dictionary does not say (it will be rendered)."""
    try:
        width, height = int(image.get("/Width", 0)), int(image.get("/Height", 0))
    except (TypeError, ValueError, pikepdf.PdfError):
        return None
    return (width, height) if width > 0 and height > 0 else None


def _check_box(path: Path, page: pikepdf.Page, settings: IngestSettings, index: int) -> None:
    """A page box that cannot hold a scanned page (or is not a box at all) is refused before any work."""
    try:
        box = page.mediabox
        width_cm = abs(float(box[2]) - float(box[0])) / 72 * 2.54
        height_cm = abs(float(box[3]) - float(box[1])) / 72 * 2.54
    except (pikepdf.PdfError, AttributeError, IndexError, KeyError, TypeError, ValueError):
        raise InputCorrupt(path=path, detail=_("page {page}: the page has no valid MediaBox", page=index + 1)) from None
    if min(width_cm, height_cm) < settings.min_side_cm:
        size = _("{width:.2f} x {height:.2f} cm", width=width_cm, height=height_cm)
        raise InputTooSmall(path=path, detail=_("page {page} ({size})", page=index + 1, size=size),
                            limit=f"{settings.min_side_cm:g} cm")


def _single_page_image(page: pikepdf.Page) -> pikepdf.Object | None:
    """The page's image XObject when the page is just one image drawn once (a scanner's page)."""
    try:
        xobjects = page.resources.get("/XObject", {})
        images = [xobjects[name] for name in xobjects.keys() if xobjects[name].get("/Subtype") == "/Image"]
        draws = [op for _, op in pikepdf.parse_content_stream(page, "Do")]
    except (pikepdf.PdfError, AttributeError, KeyError):
        return None
    if len(images) != 1 or len(draws) != 1 or len(xobjects.keys()) != 1:
        return None
    return images[0]


# --- loading one page (runs in a worker) --------------------------------------------------------


def load_page(ref: PageRef, settings: IngestSettings) -> Page:
    """Decode one page. Raises ``InputCorrupt`` for truncated or undecodable data."""
    if ref.kind == "pdf":
        return _load_pdf_page(ref, settings)
    with _open_image(ref.path) as image:
        try:
            image.seek(ref.index)
            encoded = _passthrough_bytes(ref, image)
            dpi, warning = _dpi_of(image.info.get("dpi"), settings)
            array = to_array(image)
        except _DECODE_FAILURES as exc:
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


def to_array(image: Image.Image) -> np.ndarray:
    """Pillow image → RGB uint8, grey uint8, or bool (True = black), flattening alpha onto white."""
    mode = image.mode
    if mode == "1":
        return ~np.asarray(image, dtype=bool)
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        data = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if mode.startswith("I;16") or data.max() > 255 else 255.0
        return np.clip(data / peak * 255.0 + 0.5, 0, 255).astype(np.uint8)
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        mode = image.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        background.alpha_composite(image.convert("RGBA"))
        rgb = background.convert("RGB")
        # grey+alpha stays grey: the three channels are equal after flattening onto white
        return np.asarray(rgb)[..., 0].copy() if mode.startswith("L") else np.asarray(rgb)
    if mode == "L":
        return np.asarray(image)
    return np.asarray(image.convert("RGB"))


# What pikepdf raises for an image it cannot hand over as pixels although the image is sound: JBIG2
# without jbig2dec, DeviceN/Separation/Lab images it will not transcode, odd bit depths. Such a page is
# rendered by poppler instead. Anything else (a cut or damaged stream) is a damaged scan: refused, so
# the clerk scans again rather than filing half a page.
_UNSUPPORTED_IMAGE = (pikepdf.DependencyError, pikepdf.NotExtractableError, pikepdf.UnsupportedImageTypeError,
                      NotImplementedError)
_IMAGE_FAILURES = (pikepdf.PikepdfError, AttributeError, UnidentifiedImageError, *_DECODE_FAILURES)


def _load_pdf_page(ref: PageRef, settings: IngestSettings) -> Page:
    with _open_pdf(ref.path) as pdf:
        page = pdf.pages[ref.index]
        xobj = _single_page_image(page)
        if xobj is None:
            return _rasterise(ref, settings, dpi=_native_dpi(page) or settings.default_dpi,
                              why="not a single scanned image")
        try:
            return _pdf_image_page(ref, page, xobj)
        except _UNSUPPORTED_IMAGE as exc:
            # Rendering the page is the reference reading of it: poppler handles every colour space
            # and filter a PDF may use. At the image's own resolution, so nothing is lost.
            reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
            return _rasterise(ref, settings, dpi=_native_dpi(page) or settings.default_dpi,
                              why=f"its image cannot be read directly ({reason})")
        except _IMAGE_FAILURES as exc:
            raise InputCorrupt(path=ref.path, detail=_("page {page}: {reason}", page=ref.index + 1,
                                                       reason=foreign(exc))) from None


def _native_dpi(page: pikepdf.Page) -> float | None:
    """The resolution of the page's largest image (long side over long side), form XObjects included."""
    best = 0
    seen: set[tuple[int, int]] = set()

    def walk(resources: pikepdf.Object, depth: int) -> None:
        nonlocal best
        xobjects = resources.get("/XObject") if isinstance(resources, pikepdf.Dictionary) else None
        if not isinstance(xobjects, pikepdf.Dictionary) or depth > 8:
            return
        for name in list(xobjects.keys()):
            xobj = xobjects[name]
            if not isinstance(xobj, pikepdf.Stream) or xobj.objgen in seen:
                continue
            seen.add(xobj.objgen)
            if xobj.get("/Subtype") == "/Image":
                best = max(best, int(xobj.get("/Width", 0)), int(xobj.get("/Height", 0)))
            elif xobj.get("/Subtype") == "/Form":
                walk(xobj.get("/Resources", pikepdf.Dictionary()), depth + 1)

    try:
        walk(page.resources, 0)
        box = page.mediabox
        width_in = abs(float(box[2]) - float(box[0])) / 72
        height_in = abs(float(box[3]) - float(box[1])) / 72
    except (pikepdf.PdfError, AttributeError, KeyError, TypeError, ValueError):
        return None
    if not best or width_in <= 0:
        return None
    dpi = best / max(width_in, height_in)
    return round(min(max(dpi, 150.0), 600.0))


def _pdf_image_page(ref: PageRef, page: pikepdf.Page, xobj: pikepdf.Object) -> Page:
    pdf_image = pikepdf.PdfImage(xobj)
    box = page.mediabox
    width_in, height_in = float(box[2] - box[0]) / 72, float(box[3] - box[1]) / 72
    if (pdf_image.width > pdf_image.height) != (width_in > height_in):
        width_in, height_in = height_in, width_in
    dpi = (pdf_image.width / width_in, pdf_image.height / height_in)
    encoded = None
    filters = [str(f) for f in pdf_image.filters]
    colour_ok = str(xobj.get("/ColorSpace")) in ("/DeviceRGB", "/DeviceGray")
    if filters == ["/DCTDecode"] and colour_ok and pdf_image.bits_per_component == 8:
        components = 3 if str(xobj.get("/ColorSpace")) == "/DeviceRGB" else 1
        encoded = EncodedImage("jpeg", xobj.read_raw_bytes(), pdf_image.width, pdf_image.height, components)
        with Image.open(io.BytesIO(encoded.data)) as decoded:
            array = to_array(decoded)
    else:
        params = xobj.get("/DecodeParms")
        if filters == ["/CCITTFaxDecode"] and params is not None and int(params.get("/K", 0)) < 0:
            encoded = EncodedImage("ccitt_g4", xobj.read_raw_bytes(), pdf_image.width, pdf_image.height, 1,
                                   black_is_1=bool(params.get("/BlackIs1", False)))
        array = to_array(pdf_image.as_pil_image())
    return Page(image=array, dpi=dpi, source=ref.path, source_index=ref.index, encoded=encoded)


def existing_text(ref: PageRef) -> str:
    """The text a kept PDF page already carries (poppler ``pdftotext``), for search and the sidecar."""
    command = ["pdftotext", "-f", str(ref.index + 1), "-l", str(ref.index + 1), "-enc", "UTF-8", str(ref.path), "-"]
    try:
        done = subprocess.run(command, capture_output=True, check=False, timeout=120)
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return ""
    return unicodedata.normalize("NFC", done.stdout.decode("utf-8", "replace")).strip() if done.returncode == 0 else ""


def _rasterise(ref: PageRef, settings: IngestSettings, *, dpi: float, why: str) -> Page:
    """Render one page with poppler's pdftoppm, and say so in the page's warnings."""
    command = ["pdftoppm", "-r", f"{dpi:g}", "-f", str(ref.index + 1), "-l", str(ref.index + 1), "-png",
               str(ref.path)]
    try:
        done = subprocess.run(command, capture_output=True, check=True, timeout=300)
    except FileNotFoundError:
        from sohoa.common.errors import MissingDependency

        raise MissingDependency(what="pdftoppm", detail=_("poppler is not installed"),
                                fix="apt-get install poppler-utils") from None
    except subprocess.CalledProcessError as exc:
        detail = exc.stderr.decode(errors="replace").strip()[:200] or f"pdftoppm exit {exc.returncode}"
        raise InputCorrupt(path=ref.path, detail=_("page {page}: {reason}", page=ref.index + 1,
                                                   reason=foreign(detail))) from None
    except subprocess.TimeoutExpired:
        raise InputCorrupt(path=ref.path, detail=_("page {page}: rendering timed out", page=ref.index + 1)) from None
    if not done.stdout:
        raise InputCorrupt(path=ref.path, detail=_("page {page}: the page cannot be rendered",
                                                   page=ref.index + 1)) from None
    try:
        with Image.open(io.BytesIO(done.stdout)) as image:
            array = to_array(image)
    except (OSError, ValueError, UnidentifiedImageError) as exc:
        raise InputCorrupt(path=ref.path, detail=_("page {page}: {reason}", page=ref.index + 1,
                                                   reason=foreign(exc))) from None
    page = Page(image=array, dpi=(dpi, dpi), source=ref.path, source_index=ref.index)
    page.warnings.append(f"{page.label}: {why}, rendered with pdftoppm at {dpi:g} dpi")
    return page
