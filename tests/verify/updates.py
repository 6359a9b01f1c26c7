"""Incremental updates appended after a signature that pyHanko's rules cannot justify by themselves.

Why: these are the cases where the verdict depends on evidence beyond object bookkeeping — an update
that replaces an image the page draws (visibly different: TOTAL-FAILED), an overlay made invisible to
reveal content hidden under it (a shadow "hide" attack: TOTAL-FAILED), and a harmless-looking catalog
change that no rule explains and that changes nothing on the pages (INDETERMINATE, not a forgery).
Also a signature in the legacy ``adbe.pkcs7.sha1`` format, which pyHanko's PDF layer skips.
"""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from tests.pki import Identity

OVERLAY_RECT = (150, 380, 350, 480)  # over the dark block the test page draws (x 86-504, y 337-517 pt)


def _write(writer: IncrementalPdfFileWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _first_page(writer: IncrementalPdfFileWriter) -> tuple[generic.IndirectObject, generic.DictionaryObject]:
    kids = writer.root["/Pages"]["/Kids"]
    ref = kids.raw_get(0)
    return ref, ref.get_object()


def with_overlay(data: bytes) -> bytes:
    """Before signing: a white square annotation drawn over part of the page's content (the content under
    it is what a shadow attack later reveals)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    page_ref, page = _first_page(writer)
    x0, y0, x1, y1 = OVERLAY_RECT
    appearance = writer.add_object(generic.StreamObject({
        generic.NameObject("/Type"): generic.NameObject("/XObject"),
        generic.NameObject("/Subtype"): generic.NameObject("/Form"),
        generic.NameObject("/BBox"): generic.ArrayObject([generic.NumberObject(v) for v in (0, 0, x1 - x0, y1 - y0)]),
    }, stream_data=f"1 g 0 0 {x1 - x0} {y1 - y0} re f".encode()))
    annot = writer.add_object(generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/Annot"),
        generic.NameObject("/Subtype"): generic.NameObject("/Square"),
        generic.NameObject("/Rect"): generic.ArrayObject([generic.NumberObject(v) for v in OVERLAY_RECT]),
        generic.NameObject("/F"): generic.NumberObject(4),
        generic.NameObject("/P"): page_ref,
        generic.NameObject("/AP"): generic.DictionaryObject({generic.NameObject("/N"): appearance}),
    }))
    page[generic.NameObject("/Annots")] = generic.ArrayObject([annot])
    writer.update_container(page)
    return _write(writer)


def hide_overlay(data: bytes) -> bytes:
    """After signing: set the overlay's Hidden flag, so the content signed under it shows."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    _, page = _first_page(writer)
    annots = page["/Annots"]
    ref = next(annots.raw_get(i) for i in range(len(annots)) if annots[i].get("/Subtype") == "/Square")
    annot = ref.get_object()
    annot[generic.NameObject("/F")] = generic.NumberObject(2)
    writer.mark_update(ref)
    return _write(writer)


def replace_image(data: bytes) -> bytes:
    """After signing: the page's image replaced by a blank one of the same size (content stream untouched)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    _, page = _first_page(writer)
    xobjects = page["/Resources"]["/XObject"]
    name = next(iter(xobjects))
    ref = xobjects.raw_get(name)
    image = ref.get_object()
    width, height = int(image["/Width"]), int(image["/Height"])
    blank = generic.StreamObject({
        generic.NameObject("/Type"): generic.NameObject("/XObject"),
        generic.NameObject("/Subtype"): generic.NameObject("/Image"),
        generic.NameObject("/Width"): generic.NumberObject(width),
        generic.NameObject("/Height"): generic.NumberObject(height),
        generic.NameObject("/ColorSpace"): generic.NameObject("/DeviceGray"),
        generic.NameObject("/BitsPerComponent"): generic.NumberObject(8),
    }, stream_data=b"\xff" * (width * height))
    blank.compress()
    writer.objects[(ref.generation, ref.idnum)] = blank  # the same object number, new content
    return _write(writer)


def catalog_page_mode(data: bytes) -> bytes:
    """After signing: the catalog asks viewers to open the outline panel — changes nothing on a page, and
    no difference-analysis rule covers it."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    writer.root[generic.NameObject("/PageMode")] = generic.NameObject("/UseOutlines")
    writer.update_root()
    return _write(writer)


def as_pkcs7_sha1(signed: bytes, ident: Identity) -> bytes:
    """Re-sign the first signature of ``signed`` in the legacy ``adbe.pkcs7.sha1`` format, as old Adobe and
    Windows tools did: the same placeholder and byte ranges, the sub-filter renamed (padded with spaces),
    and a CMS that *encapsulates* the SHA-1 digest of the ranges (``openssl cms -sign -nodetach -md sha1``,
    SHA-1 throughout as those tools signed)."""
    data = renamed_subfilter(signed, b"/adbe.pkcs7.sha1")
    at = data.index(b"/SubFilter /adbe.pkcs7.sha1")
    before = data.rfind(b"/ByteRange", 0, at)
    start = before if before >= 0 and at - before < 400 else data.index(b"/ByteRange", at)
    a, b, c, d = (int(v) for v in data[data.index(b"[", start) + 1:data.index(b"]", start)].split())
    digest = hashlib.sha1(data[a:a + b] + data[c:c + d], usedforsecurity=False).digest()
    with tempfile.TemporaryDirectory() as tmp:
        content, chain = Path(tmp) / "digest.bin", Path(tmp) / "chain.pem"
        content.write_bytes(digest)
        chain.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in ident.chain))
        der = subprocess.run(["openssl", "cms", "-sign", "-nodetach", "-binary", "-md", "sha1", "-outform", "DER",
                              "-signer", str(ident.cert_pem), "-inkey", str(ident.key_pem), "-certfile", str(chain),
                              "-in", str(content)], capture_output=True, check=True).stdout
    room = c - (a + b) - 2  # hex digits between < and >
    hexed = der.hex().encode()
    assert len(hexed) <= room, "the CMS does not fit the placeholder"
    return data[:a + b + 1] + hexed + b"0" * (room - len(hexed)) + data[c - 1:]


def renamed_subfilter(signed: bytes, subfilter: bytes) -> bytes:
    """The first signature's sub-filter renamed in place (padded with spaces): a format pyHanko skips."""
    found = re.search(rb"/SubFilter\s*(/(?:ETSI\.CAdES|adbe\.pkcs7)\.detached)", signed)
    assert found is not None, "no PAdES sub-filter to rename"
    old = found.group(1)
    assert len(subfilter) <= len(old)
    return signed[:found.start(1)] + subfilter + b" " * (len(old) - len(subfilter)) + signed[found.end(1):]
