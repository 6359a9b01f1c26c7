"""Signatures pyHanko's PDF layer skips: ``adbe.pkcs7.sha1`` (checked here) and formats nobody should use.

Why: pyHanko enumerates only the PAdES/CAdES sub-filters (``adbe.pkcs7.detached``, ``ETSI.CAdES.detached``,
``ETSI.RFC3161``) and silently ignores the rest, so a document signed by an older Adobe or Windows
tool in the ``adbe.pkcs7.sha1`` format would come out "no digital signature" — and a forged extra
signature in an unknown format would go unmentioned. Here every filled signature field pyHanko passed
over gets a verdict:

- ``adbe.pkcs7.sha1``: the CMS *encapsulates* the SHA-1 digest of the signed byte ranges. We compare
  that digest with the file, check the CMS signature value and the certificate chain with pyHanko's
  generic CMS validator, and judge later revisions like any other signature. The document's integrity
  then rests on SHA-1, which is broken for collisions: at best INDETERMINATE /
  CRYPTO_CONSTRAINTS_FAILURE_NO_POE, as DSS's default policy decides.
- ``adbe.x509.rsa_sha1`` (a bare PKCS#1 signature with the certificate beside it, deprecated by PDF 2.0)
  and unknown sub-filters: FORMAT_FAILURE with a plain sentence naming the format.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from asn1crypto import cms
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESIndeterminate
from pyhanko.sign.fields import SigSeedSubFilter, enumerate_sig_fields
from pyhanko.sign.validation.generic_cms import async_validate_cms_signature
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import SignatureStatus

from sohoa.common.reasons import foreign
from sohoa.signing.pdfinput import LIBRARY_FAILURES
from sohoa.signing.verify.checks import Checker, cert_info
from sohoa.signing.verify.model import Revocation, SignatureResult
from sohoa.signing.verify.modifications import modification_verdict
from sohoa.signing.verify.revisions import RevisionInfo, page_refs
from sohoa.signing.verify.verdicts import RANK, Reason, indication_for, reason

PKCS7_SHA1 = "/adbe.pkcs7.sha1"
RSA_SHA1 = "/adbe.x509.rsa_sha1"
KNOWN = frozenset(s.value for s in SigSeedSubFilter)


def orphan_signatures(reader: PdfFileReader, known: set[str]) -> list[EmbeddedPdfSignature]:
    """Filled signature widgets on the pages that the form (``/AcroForm /Fields``) does not list.

    Why: poppler's ``pdfsig -add-signature`` on a file that already has a form writes its field this way,
    and poppler shows it as a signature while pyHanko's enumeration (the form's fields) never sees it;
    a verifier that says nothing about a signature another reader displays is not trustworthy."""
    found: list[EmbeddedPdfSignature] = []
    seen: set[tuple[int, int]] = set()
    for index in range(len(page_refs(reader.get_historical_resolver(reader.xrefs.total_revisions - 1)))):
        page, _ref = reader.find_page_for_modification(index)
        annots = page.get_object().get("/Annots")
        annots = annots.get_object() if isinstance(annots, generic.IndirectObject) else annots
        if not isinstance(annots, generic.ArrayObject):
            continue
        for i in range(len(annots)):
            raw = annots.raw_get(i)
            widget = annots[i]
            if not isinstance(widget, generic.DictionaryObject) or widget.get("/Subtype") != "/Widget":
                continue
            holder = widget if "/V" in widget or "/Parent" not in widget else widget["/Parent"]
            name = str(holder.get("/T", ""))
            key = (raw.idnum, raw.generation) if isinstance(raw, generic.IndirectObject) else (-1, i)
            if key in seen or holder.get("/FT") != "/Sig" or "/V" not in holder or name in known:
                continue
            seen.add(key)
            if isinstance(holder["/V"], generic.DictionaryObject) and \
                    str(holder["/V"].get("/SubFilter", "")) in KNOWN:
                found.append(EmbeddedPdfSignature(reader, holder, name or f"(page {index + 1})"))
    return found


def skipped_fields(reader: PdfFileReader) -> list[tuple[str, generic.DictionaryObject]]:
    """(field name, signature dictionary) of every filled signature field pyHanko does not validate."""
    out: list[tuple[str, generic.DictionaryObject]] = []
    for name, sig_obj, _field in enumerate_sig_fields(reader, filled_status=True):
        value = sig_obj.get_object()
        if isinstance(value, generic.DictionaryObject) and str(value.get("/SubFilter", "")) not in KNOWN:
            out.append((str(name), value))
    return out


async def judge_skipped(name: str, sig_obj: generic.DictionaryObject, data: bytes, revisions: list[RevisionInfo],
                        checker: Checker) -> SignatureResult:
    """The verdict on one signature field of a format pyHanko skips (see the module docstring)."""
    subfilter = str(sig_obj.get("/SubFilter", "?"))
    try:
        ranges = _byte_range(sig_obj, len(data))
    except LIBRARY_FAILURES as exc:
        detail = foreign(f"{type(exc).__name__}: {exc}"[:300])
        return _result(name, "FORMAT_FAILURE", [reason("FORMAT_FAILURE", detail=detail)])
    end = ranges[-1][0] + ranges[-1][1]
    revision = next((r.index for r in revisions if r.end >= end), -1)
    if subfilter != PKCS7_SHA1:
        code = "legacy_rsa_sha1" if subfilter == RSA_SHA1 else "unknown_subfilter"
        return _result(name, "FORMAT_FAILURE", [reason(code, subfilter=subfilter.lstrip("/"))], revision=revision)
    try:
        info = cms.ContentInfo.load(bytes(sig_obj["/Contents"]), strict=False)
        signed_data = info["content"]
        embedded_digest = signed_data["encap_content_info"]["content"].native
    except LIBRARY_FAILURES as exc:
        detail = foreign(f"{type(exc).__name__}: {exc}"[:300])
        return _result(name, "FORMAT_FAILURE", [reason("FORMAT_FAILURE", detail=detail)], revision=revision)
    digest = hashlib.sha1(b"".join(data[start:start + length] for start, length in ranges),  # noqa: S324
                          usedforsecurity=False).digest()
    if embedded_digest != digest:
        return _result(name, "HASH_FAILURE", [reason("HASH_FAILURE")], revision=revision)
    try:
        status = await async_validate_cms_signature(signed_data, status_cls=SignatureStatus,
                                                    validation_context=checker.context(None, hard=True))
        if status.trust_problem_indic == AdESIndeterminate.CERTIFICATE_CHAIN_GENERAL_FAILURE and not checker.offline:
            status = await async_validate_cms_signature(  # revocation data missing: ask the OCSP/CRL services
                signed_data, status_cls=SignatureStatus, validation_context=checker.context(None, hard=True,
                                                                                            online=True))
    except LIBRARY_FAILURES as exc:
        detail = foreign(f"{type(exc).__name__}: {exc}"[:300])
        return _result(name, "FORMAT_FAILURE", [reason("FORMAT_FAILURE", detail=detail)], revision=revision)
    return _verdict(name, status, revision, checker)


def _byte_range(sig_obj: generic.DictionaryObject, size: int) -> list[tuple[int, int]]:
    raw = [int(v) for v in sig_obj["/ByteRange"]]
    if len(raw) != 4 or any(v < 0 for v in raw) or raw[0] != 0 or raw[0] + raw[1] > raw[2] or raw[2] + raw[3] > size:
        raise ValueError(f"odd /ByteRange {raw}")
    return [(raw[0], raw[1]), (raw[2], raw[3])]


def _verdict(name: str, status: SignatureStatus, revision: int, checker: Checker) -> SignatureResult:
    signer = status.signing_cert
    if not status.intact:
        sub: str | None = "HASH_FAILURE"
    elif not status.valid:
        sub = "SIG_CRYPTO_FAILURE"
    elif status.trust_problem_indic is not None:
        sub = status.trust_problem_indic.standard_name
    else:
        sub = "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"  # the document digest is SHA-1
    if sub == "CRYPTO_CONSTRAINTS_FAILURE":
        sub = "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"  # no timestamp proves it was made while SHA-1 was accepted
    reasons: list[Reason] = [reason(sub if sub != "CRYPTO_CONSTRAINTS_FAILURE_NO_POE" else "legacy_pkcs7_sha1",
                                    issuer=signer.issuer.human_friendly, detail=sub)]
    if sub != "CRYPTO_CONSTRAINTS_FAILURE_NO_POE":
        reasons.append(reason("legacy_pkcs7_sha1"))
    found = checker.judge.judge(revision, None, None)
    failing, notes = modification_verdict(found)
    if failing is not None and RANK[indication_for(failing[0])] > RANK[indication_for(sub)]:
        sub = failing[0]
        reasons.insert(0, failing[1])
    reasons.extend(notes)
    path = status.validation_path
    chain = [cert_info(c) for c in path.iter_certs(include_root=True)][::-1] if path is not None else \
        [cert_info(signer)]
    return SignatureResult(
        field_name=name, kind="signature", indication=indication_for(sub), sub_indication=sub, reasons=reasons,
        signer=cert_info(signer), chain=chain,
        trust_anchor=path.trust_anchor.authority.name.human_friendly if path is not None else None,
        claimed_time=checker.local(status.signer_reported_dt) if hasattr(status, "signer_reported_dt") else None,
        proven_time=None, timestamp_authority=None, revocation=Revocation("good" if status.trusted else "unknown"),
        intact=status.intact, crypto_valid=status.valid, digest_algorithm="sha1",
        signature_algorithm=status.pkcs7_signature_mechanism, coverage=None, modification_level=None,
        certification=None, signed_revision=revision, level=None,
        validation_time=checker.local(dt.datetime.now(dt.UTC)))


def _result(name: str, sub: str, reasons: list[Reason], *, revision: int = -1, **extra: Any) -> SignatureResult:
    return SignatureResult(
        field_name=name, kind="signature", indication=indication_for(sub), sub_indication=sub, reasons=reasons,
        signer=None, chain=[], trust_anchor=None, claimed_time=None, proven_time=None, timestamp_authority=None,
        revocation=Revocation("not-checked"), intact=False, crypto_valid=False, digest_algorithm=None,
        signature_algorithm=None, coverage=None, modification_level=None, certification=None,
        signed_revision=revision, level=None, validation_time=None, **extra)
