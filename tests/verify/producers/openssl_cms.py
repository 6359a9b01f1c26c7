"""A signature made the old-fashioned way: a hand-written placeholder increment, a CMS from ``openssl cms``.

Why: it is how many in-house tools sign (reserve ``/Contents``, hash the byte ranges, call OpenSSL,
paste the hex in), and it gives CMS shapes no PDF library makes: no signed attributes at all
(``-noattr``, a bare RSA signature over the content — held out), the ``adbe.pkcs7.sha1`` SubFilter
(the signed content is the SHA-1 digest of the byte ranges, encapsulated), and the legacy
``adbe.x509.rsa_sha1`` (``/Contents`` is a DER OCTET STRING holding a PKCS#1 v1.5 signature, the
certificate in ``/Cert``). The key is read by OpenSSL from the private PEM file (no password at all).

``prepare`` appends one incremental update (classic xref section): the signature dictionary with a
zero-filled ``/Contents`` and a fixed-width ``/ByteRange``, a widget/field, the catalog with the
AcroForm and the page with the widget; ``embed`` writes the DER into the placeholder.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import tempfile
from pathlib import Path

import pikepdf
from asn1crypto import core
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.pki import Identity
from tests.verify.producers.base import KeyFiles, run_tool
from tests.verify.producers.increment import append_increment

BYTERANGE_PLACEHOLDER = b"/ByteRange [0 0000000000 0000000000 0000000000]"
WHEN = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)  # a fixed /M: the placeholder is deterministic


def _text(value: str) -> bytes:
    return b"(" + value.encode("latin-1").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def prepare(data: bytes, *, subfilter: str = "adbe.pkcs7.detached", contents_bytes: int = 12000,
            cert_der: bytes | None = None, field: str = "OpenSSLSig") -> tuple[bytes, tuple[int, int]]:
    """``data`` + a placeholder increment; returns the new bytes and the span of ``<hex>`` in them."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        size = int(pdf.trailer.Size)
        root_ref = pdf.Root.objgen
        page = pdf.pages[0].obj
        page_ref = page.objgen
        sig_num, widget_num = size, size + 1
        widget = f"{widget_num} 0 R".encode()
        annots = page.get("/Annots")
        if annots is not None and annots.is_indirect:
            raise NotImplementedError("an indirect /Annots array is not handled by this placeholder writer")
        old = [a.unparse() for a in annots] if annots is not None else []
        page_copy = pikepdf.Dictionary({k: v for k, v in page.items() if k != "/Annots"})
        page_body = page_copy.unparse()[:-2] + b" /Annots [" + b" ".join([*old, widget]) + b"] >>"
        extra_objects: dict[tuple[int, int], bytes] = {}
        form = pdf.Root.get("/AcroForm")
        if form is not None and form.is_indirect:
            fields = b" ".join(f.unparse() for f in form.get("/Fields", []))
            rest = pikepdf.Dictionary({k: v for k, v in form.items() if k not in ("/Fields", "/SigFlags")})
            extra_objects[form.objgen] = rest.unparse()[:-2] + b" /Fields [" + fields + b" " + widget + \
                b"] /SigFlags 3 >>"
            root_body = None
        else:
            fields = b" ".join(f.unparse() for f in form.get("/Fields", [])) if form is not None else b""
            root_copy = pikepdf.Dictionary({k: v for k, v in pdf.Root.items() if k != "/AcroForm"})
            root_body = root_copy.unparse()[:-2] + b" /AcroForm << /Fields [" + fields + b" " + widget + \
                b"] /SigFlags 3 >> >>"
    contents = b"<" + b"0" * (2 * contents_bytes) + b">"
    cert = b" /Cert <" + cert_der.hex().encode() + b">" if cert_der else b""
    sig = (b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /" + subfilter.encode() + b" " + BYTERANGE_PLACEHOLDER
           + b" /Contents " + contents + cert + b" /M " + _text(WHEN.strftime("D:%Y%m%d%H%M%SZ"))
           + b" /Reason " + _text("openssl cms test") + b" >>")
    widget_body = (f"<< /Type /Annot /Subtype /Widget /FT /Sig /T ({field}) /V {sig_num} 0 R /Rect [0 0 0 0] "
                   f"/F 132 /P {page_ref[0]} {page_ref[1]} R >>").encode()
    objects: dict[tuple[int, int], bytes] = {(sig_num, 0): sig, (widget_num, 0): widget_body,
                                             page_ref: page_body, **extra_objects}
    if root_body is not None:
        objects[root_ref] = root_body
    out = bytearray(append_increment(data, objects))
    sig_at = out.index(b"<< /Type /Sig /Filter /Adobe.PPKLite", len(data))
    start = out.index(contents, sig_at)
    end = start + len(contents)
    ranges = f"/ByteRange [0 {start} {end} {len(out) - end}]".encode().ljust(len(BYTERANGE_PLACEHOLDER))
    at = out.index(BYTERANGE_PLACEHOLDER, sig_at)
    out[at:at + len(BYTERANGE_PLACEHOLDER)] = ranges
    return bytes(out), (start, end)


def signed_bytes(prepared: bytes, span: tuple[int, int]) -> bytes:
    return prepared[:span[0]] + prepared[span[1]:]


def embed(prepared: bytes, span: tuple[int, int], der: bytes) -> bytes:
    hex_der = der.hex().encode()
    room = span[1] - span[0] - 2
    if len(hex_der) > room:
        raise ValueError(f"signature of {len(der)} bytes does not fit the {room // 2}-byte placeholder")
    return prepared[:span[0] + 1] + hex_der.ljust(room, b"0") + prepared[span[1] - 1:]


def cms_der(content: bytes, keys: KeyFiles, *, attrs: bool, md: str, detached: bool) -> bytes:
    with tempfile.TemporaryDirectory(prefix="sohoa-openssl-") as tmp:
        src = Path(tmp) / "content.bin"
        src.write_bytes(content)
        args = ["openssl", "cms", "-sign", "-binary", "-in", str(src), "-signer", str(keys.cert_pem),
                "-inkey", str(keys.key_pem), "-md", md, "-outform", "DER"]
        if keys.chain_pem.stat().st_size:
            args += ["-certfile", str(keys.chain_pem)]
        if not attrs:
            args.append("-noattr")
        if not detached:
            args.append("-nodetach")
        return run_tool(args)


def sign_detached(data: bytes, keys: KeyFiles, *, attrs: bool = True, md: str = "sha256") -> bytes:
    """``adbe.pkcs7.detached`` with a CMS from ``openssl cms -sign`` (``attrs=False``: ``-noattr``)."""
    prepared, span = prepare(data)
    return embed(prepared, span, cms_der(signed_bytes(prepared, span), keys, attrs=attrs, md=md, detached=True))


def sign_pkcs7_sha1(data: bytes, keys: KeyFiles) -> bytes:
    """``adbe.pkcs7.sha1``: the CMS encapsulates the SHA-1 digest of the byte ranges (SHA-1 signer digest too,
    as Acrobat 6-era software wrote it)."""
    prepared, span = prepare(data, subfilter="adbe.pkcs7.sha1")
    digest = hashlib.sha1(signed_bytes(prepared, span)).digest()  # noqa: S324 - the legacy format under test
    return embed(prepared, span, cms_der(digest, keys, attrs=True, md="sha1", detached=False))


def sign_x509_rsa_sha1(data: bytes, ident: Identity) -> bytes:
    """``adbe.x509.rsa_sha1``: PKCS#1 v1.5 over SHA-1 of the byte ranges, DER OCTET STRING, certificate in /Cert."""
    prepared, span = prepare(data, subfilter="adbe.x509.rsa_sha1", contents_bytes=600, cert_der=ident.cert_der)
    key = ident.key
    assert isinstance(key, rsa.RSAPrivateKey), "adbe.x509.rsa_sha1 needs an RSA key"
    value = key.sign(signed_bytes(prepared, span), padding.PKCS1v15(), hashes.SHA1())  # noqa: S303
    return embed(prepared, span, core.OctetString(value).dump())
