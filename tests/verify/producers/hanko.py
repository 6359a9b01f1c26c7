"""pyHanko with the options sohoa's own signing never uses: other digests, no chain, the old SubFilter,
certification levels, a B-T timestamp from the test TSA, and a visible field that existed before signing.

Why: sohoa signs with one fixed profile (SHA-256, full chain, ETSI.CAdES.detached, approval signatures),
so its verifier was only ever tuned on those. Another pyHanko user (or a product built on it) makes
files that differ exactly in these knobs; each one is a branch of the verifier to exercise.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter
from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata, PdfSigner
from pyhanko.sign.timestamps import HTTPTimeStamper

from tests.pki import Identity, TestPki
from tests.verify.makers import simple_signer


def sign(data: bytes, ident: Identity, *, md: str = "sha256", chain: bool = True,
         subfilter: SigSeedSubFilter = SigSeedSubFilter.PADES, tsa_url: str | None = None,
         certify: MDPPerm | None = None, field: str = "HankoSig") -> bytes:
    """One incremental signature with pyHanko; ``certify`` makes it a certification (DocMDP) signature."""
    meta = PdfSignatureMetadata(field_name=field, md_algorithm=md, subfilter=subfilter,
                                certify=certify is not None, docmdp_permissions=certify or MDPPerm.FILL_FORMS)
    timestamper = HTTPTimeStamper(tsa_url) if tsa_url else None
    out = io.BytesIO()
    PdfSigner(meta, simple_signer(ident, chain=chain), timestamper=timestamper).sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(data), strict=False), output=out)
    return out.getvalue()


def add_visible_field(data: bytes, name: str = "KyDuyet", box: tuple[int, int, int, int] = (350, 700, 560, 780)) \
        -> bytes:
    """An empty visible signature field on page 1, as a form designer leaves it for the signer."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    fields.append_signature_field(writer, fields.SigFieldSpec(name, on_page=0, box=box))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def sign_existing_visible(data: bytes, ident: Identity, name: str = "KyDuyet") -> bytes:
    """Fill the pre-existing visible field ``name`` (pyHanko draws its default stamp into it)."""
    return sign(add_visible_field(data, name), ident, field=name)


NAMES = ["hanko-sha384-bt", "hanko-sha512-nochain", "hanko-pkcs7-detached", "hanko-certify-p1", "hanko-certify-p2",
         "hanko-certify-p3", "hanko-visible-field", "hanko-ecdsa"]


def variants(pki: TestPki) -> dict[str, Callable[[bytes], bytes]]:
    """Named pyHanko signers for ``cases``: name → callable(data) -> bytes."""
    org, dig = pki.signer("organization"), pki.signer("digitizer")
    return {
        "hanko-sha384-bt": lambda d: sign(d, org, md="sha384", tsa_url=pki.tsa_url),
        "hanko-sha512-nochain": lambda d: sign(d, dig, md="sha512", chain=False),
        "hanko-pkcs7-detached": lambda d: sign(d, org, subfilter=SigSeedSubFilter.ADOBE_PKCS7_DETACHED),
        "hanko-certify-p1": lambda d: sign(d, org, certify=MDPPerm.NO_CHANGES),
        "hanko-certify-p2": lambda d: sign(d, org, certify=MDPPerm.FILL_FORMS),
        "hanko-certify-p3": lambda d: sign(d, org, certify=MDPPerm.ANNOTATE),
        "hanko-visible-field": lambda d: sign_existing_visible(d, dig),
        "hanko-ecdsa": lambda d: sign(d, pki.signer("ecdsa"), md="sha384"),
    }
