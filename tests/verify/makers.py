"""Make the signed test documents of the verification tests (one function per kind of case).

Why pyHanko directly for some cases: production signing (``signing.sign_pdf``) rightly refuses expired
or revoked certificates and always embeds the chain, so those cases are made here with pyHanko's
signer and the same test PKI; a case that needs a proven time before a revocation or an expiry asks the
test TSA over HTTP for a token dated at that time (certomancer's ``X-Certomancer-Fake-Time`` header).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata, PdfSigner, PdfTimeStamper
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator.registry import SimpleCertificateStore

from sohoa.config.signing import SigningSettings
from sohoa.signing import sign_pdf
from tests.pki import FAKE_TIME_HEADER, Identity, TestPki
from tests.verify import forms, updates


@dataclass
class VerifyPki:
    """The session PKI plus what verification tests add to it."""

    pki: TestPki
    revoked_crl: Identity  # revoked, with a CRL distribution point and no OCSP responder
    other: TestPki  # an unrelated PKI whose root nobody trusts

    def asn1(self, ident: Identity) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(ident.cert_der)


def verify_pki(pki: TestPki, unknown: TestPki) -> VerifyPki:
    """The cases' identities: both revoked signers and the untrusted CA are part of ``tests/pki/pki.yml``."""
    return VerifyPki(pki, pki.signer("revoked-crl"), unknown)


def simple_signer(ident: Identity, *, chain: bool = True) -> signers.SimpleSigner:
    key_der = ident.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
    certs = [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in ident.chain] if chain \
        else []
    return signers.SimpleSigner(signing_cert=asn1_x509.Certificate.load(ident.cert_der),
                                signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
                                cert_registry=SimpleCertificateStore.from_certs(certs))


def fixed_tsa(pki: TestPki, moment: dt.datetime) -> HTTPTimeStamper:
    """The test TSA over HTTP, answering as of ``moment`` (certomancer's fake-time header): a chosen proof of time."""
    return HTTPTimeStamper(pki.tsa_url, headers={FAKE_TIME_HEADER: moment.isoformat()})


def hanko_sign(data: bytes, ident: Identity, *, timestamper: object = None, chain: bool = True,
               certify: MDPPerm | None = None, field: str = "Sig1") -> bytes:
    meta = PdfSignatureMetadata(field_name=field, certify=certify is not None,
                                docmdp_permissions=certify or MDPPerm.FILL_FORMS)
    out = io.BytesIO()
    PdfSigner(meta, simple_signer(ident, chain=chain), timestamper=timestamper).sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(data), strict=False), output=out)
    return out.getvalue()


def add_dss(data: bytes, pki: TestPki) -> bytes:
    """Embed the issuing CA, the TSA certificate and both CRLs (validation data for a past time)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    certs = [asn1_x509.Certificate.load(i.cert_der) for i in (pki.intermediate, pki.tsa, pki.root)]
    from asn1crypto import crl as asn1_crl

    crls = [asn1_crl.CertificateList.load(pki.crls[name]) for name in ("root", "intermediate")]
    DocumentSecurityStore.supply_dss_in_writer(writer, None, certs=certs, crls=crls)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _first_page(writer: IncrementalPdfFileWriter) -> tuple[generic.IndirectObject, generic.DictionaryObject]:
    ref = writer.root["/Pages"].raw_get("/Kids")
    kids = ref.get_object() if isinstance(ref, generic.IndirectObject) else ref
    page_ref = kids.raw_get(0)
    return page_ref, page_ref.get_object()


def change_content(data: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    stream = writer.add_object(generic.StreamObject(stream_data=b"0 0 1 rg 100 100 200 50 re f"))
    writer.add_stream_to_page(0, stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def add_page(data: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    contents = writer.add_object(generic.StreamObject(stream_data=b"1 0 0 rg 50 50 100 100 re f"))
    page = generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/Page"),
        generic.NameObject("/MediaBox"): generic.ArrayObject([generic.NumberObject(v) for v in (0, 0, 595, 842)]),
        generic.NameObject("/Resources"): generic.DictionaryObject(),
        generic.NameObject("/Contents"): contents})
    writer.insert_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def add_annotation(data: bytes) -> bytes:
    """A sticky note on page 1, as a reader application would add it."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    page_ref, page = _first_page(writer)
    annot = writer.add_object(generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/Annot"),
        generic.NameObject("/Subtype"): generic.NameObject("/Text"),
        generic.NameObject("/Rect"): generic.ArrayObject([generic.NumberObject(v) for v in (50, 50, 70, 70)]),
        generic.NameObject("/Contents"): generic.TextStringObject("Đã xem"),
        generic.NameObject("/F"): generic.NumberObject(4),
        generic.NameObject("/P"): page_ref}))
    raw = page.raw_get("/Annots") if "/Annots" in page else None
    if isinstance(raw, generic.IndirectObject):
        array = raw.get_object()
        array.append(annot)
        writer.update_container(array)
    else:
        array = generic.ArrayObject(list(raw) if raw is not None else [])
        array.append(annot)
        page[generic.NameObject("/Annots")] = array
        writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def tamper(data: bytes) -> bytes:
    """Flip one bit of the binary comment on line 2: inside the signed range, harmless to the parser."""
    index = data.index(b"\n") + 2
    assert data[index - 1:index] == b"%" and data[index] >= 0x80, "line 2 must be a binary comment"
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1:]


def _doc_timestamp(data: bytes, url: str) -> bytes:
    out = io.BytesIO()
    PdfTimeStamper(HTTPTimeStamper(url)).timestamp_pdf(
        IncrementalPdfFileWriter(io.BytesIO(data), strict=False), "sha256", None, output=out)
    return out.getvalue()


def _sign_production(src: Path, dst: Path, settings: SigningSettings, profile: str, level: str) -> Path:
    sign_pdf(src, dst, profile=profile, settings=settings, level=level)  # type: ignore[arg-type]
    return dst


def make_case(name: str, dst: Path, *, vpki: VerifyPki, src: Path, settings: SigningSettings,
              get: Callable[[str], Path]) -> Path:
    """Write the PDF of case ``name`` to ``dst`` (see test_verify_cases.CASES for the list)."""
    pki = vpki.pki
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    http_tsa = HTTPTimeStamper(pki.tsa_url)
    levels = {"b-b": "B-B", "b-t": "B-T", "b-lt": "B-LT", "b-lta": "B-LTA"}
    if name in levels:
        return _sign_production(src, dst, settings, "organization", levels[name])
    if name == "two":
        return _sign_production(get("b-t"), dst, settings, "digitizer", "B-T")
    base = src.read_bytes()
    makers: dict[str, Callable[[], bytes]] = {
        "unsigned": lambda: base,
        "later-doc-ts": lambda: _doc_timestamp(get("b-t").read_bytes(), pki.tsa_url),
        "expired-no-ts": lambda: hanko_sign(base, pki.signer("expired")),
        "expired-ts": lambda: add_dss(hanko_sign(base, pki.signer("expired"),
                                                 timestamper=fixed_tsa(pki, now - dt.timedelta(days=100))), pki),
        "revoked-no-ts": lambda: hanko_sign(base, pki.signer("revoked")),
        "revoked-ocsp-before": lambda: hanko_sign(base, pki.signer("revoked"), timestamper=http_tsa),
        "revoked-ocsp-after": lambda: hanko_sign(base, pki.signer("revoked"),
                                                 timestamper=fixed_tsa(pki, now - dt.timedelta(days=2))),
        "revoked-crl-before": lambda: hanko_sign(base, vpki.revoked_crl, timestamper=http_tsa),
        "revoked-crl-after": lambda: hanko_sign(base, vpki.revoked_crl,
                                                timestamper=fixed_tsa(pki, now - dt.timedelta(days=2))),
        "untrusted": lambda: hanko_sign(base, vpki.other.signer("organization")),
        "no-intermediate": lambda: hanko_sign(base, pki.signer("digitizer"), chain=False),
        "tampered": lambda: tamper(get("b-b").read_bytes()),
        "content-changed": lambda: change_content(get("b-b").read_bytes()),
        "page-added": lambda: add_page(get("b-b").read_bytes()),
        "annot-approval": lambda: add_annotation(get("b-b").read_bytes()),
        "certified-p2-annot": lambda: add_annotation(hanko_sign(base, pki.signer("organization"),
                                                                certify=MDPPerm.FILL_FORMS)),
        "certified-p3-annot": lambda: add_annotation(hanko_sign(base, pki.signer("organization"),
                                                                certify=MDPPerm.ANNOTATE)),
        "image-replaced": lambda: updates.replace_image(get("b-b").read_bytes()),
        "shadow-hide": lambda: updates.hide_overlay(hanko_sign(updates.with_overlay(base), pki.signer("organization"))),
        "overlay-signed": lambda: hanko_sign(updates.with_overlay(base), pki.signer("organization")),
        "pkcs7-sha1": lambda: updates.as_pkcs7_sha1(hanko_sign(base, pki.signer("organization")),
                                                    pki.signer("organization")),
        "pkcs7-sha1-tampered": lambda: tamper(updates.as_pkcs7_sha1(hanko_sign(base, pki.signer("organization")),
                                                                    pki.signer("organization"))),
        "rsa-sha1": lambda: updates.renamed_subfilter(get("b-b").read_bytes(), b"/adbe.x509.rsa_sha1"),
        "form-approval-filled": lambda: forms.fill(forms.sign_with(
            forms.with_text_field(base, forms.BLANK_RECT), simple_signer(pki.signer("organization"))), "Nguyen Van A"),
        "form-p2-filled": lambda: forms.fill(forms.sign_with(
            forms.with_text_field(base, forms.BLANK_RECT), simple_signer(pki.signer("organization")),
            certify=MDPPerm.FILL_FORMS), "Nguyen Van A"),
        "form-p1-filled": lambda: forms.fill(forms.sign_with(
            forms.with_text_field(base, forms.BLANK_RECT), simple_signer(pki.signer("organization")),
            certify=MDPPerm.NO_CHANGES), "Nguyen Van A"),
        "form-locked-filled": lambda: forms.fill(forms.sign_with(
            forms.with_text_field(base, forms.BLANK_RECT), simple_signer(pki.signer("organization")), lock=["HoTen"]),
            "Nguyen Van A"),
        "form-over-content-filled": lambda: forms.fill(forms.sign_with(
            forms.with_text_field(base, forms.OVER_CONTENT_RECT), simple_signer(pki.signer("organization"))),
            "Nguyen Van A"),
        "catalog-changed": lambda: updates.catalog_page_mode(get("b-b").read_bytes()),
        "truncated": lambda: get("b-lt").read_bytes()[: get("b-lt").stat().st_size // 2],
    }
    if name == "encrypted":
        with pikepdf.open(src) as pdf:
            pdf.save(dst, encryption=pikepdf.Encryption(owner="chủ-sở-hữu", user="người-dùng"))
        return dst
    dst.write_bytes(makers[name]())
    return dst


def common_name(ident: Identity) -> str:
    return str(ident.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)

