"""Ingest of PDFs as scanners and office MFPs write them: checked without decoding, one page at a time.

A page that is one image drawn once gives up that image without re-encoding (JPEG and G4 bytes pass
through); any other page, and any page whose sound image pikepdf cannot decode (JBIG2 without
jbig2dec, DeviceN/Separation/Lab), is rendered with poppler's ``pdftoppm`` at the resolution of its
largest image (form XObjects included), with a warning on the page. A damaged image is refused.
"""

from __future__ import annotations

import io
import subprocess
import unicodedata
from pathlib import Path

import pikepdf
from PIL import Image, UnidentifiedImageError

from sohoa.common.errors import InputCorrupt, InputEncrypted, InputHasText, InputTooSmall, MissingDependency
from sohoa.common.messages import _
from sohoa.common.reasons import foreign
from sohoa.config.settings import IngestSettings
from sohoa.stages.ingest_base import DECODE_FAILURES, PageRef, check_size, to_array
from sohoa.stages.model import EncodedImage, Page

_TEXT_OPERATORS = "Tj TJ ' \""


def open_pdf(path: Path) -> pikepdf.Pdf:
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


def scan_pdf(path: Path, settings: IngestSettings, *, redo_ocr: bool) -> list[PageRef]:
    with open_pdf(path) as pdf:
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
            check_size(path, width, height, settings, index)
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


# What pikepdf raises for an image it cannot hand over as pixels although the image is sound: JBIG2
# without jbig2dec, DeviceN/Separation/Lab images it will not transcode, odd bit depths. Such a page is
# rendered by poppler instead. Anything else (a cut or damaged stream) is a damaged scan: refused, so
# the clerk scans again rather than filing half a page.
_UNSUPPORTED_IMAGE = (pikepdf.DependencyError, pikepdf.NotExtractableError, pikepdf.UnsupportedImageTypeError,
                      NotImplementedError)
_IMAGE_FAILURES = (pikepdf.PikepdfError, AttributeError, UnidentifiedImageError, *DECODE_FAILURES)


def load_pdf_page(ref: PageRef, settings: IngestSettings) -> Page:
    with open_pdf(ref.path) as pdf:
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
        plain = "/Decode" not in xobj  # an inverting /Decode array would not survive passthrough
        if filters == ["/CCITTFaxDecode"] and params is not None and int(params.get("/K", 0)) < 0 and plain:
            encoded = EncodedImage("ccitt_g4", xobj.read_raw_bytes(), pdf_image.width, pdf_image.height, 1,
                                   black_is_1=bool(params.get("/BlackIs1", False)))
        elif filters == ["/JBIG2Decode"] and plain:
            globals_stream = params.get("/JBIG2Globals") if isinstance(params, pikepdf.Dictionary) else None
            shared = globals_stream.read_bytes() if isinstance(globals_stream, pikepdf.Stream) else b""
            encoded = EncodedImage("jbig2", xobj.read_raw_bytes(), pdf_image.width, pdf_image.height, 1,
                                   jbig2_globals=shared)
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

