"""Verify the signatures of a returned PDF: DSS-style verdicts, what changed after signing, records match.

Library call (the daemon, the API and ``sohoa verify`` use the same)::

    from sohoa.signing.verify import verify
    report = verify(Path("ket-qua.pdf"), settings.signing, lookup=None, offline=False, lang="vi")
    report.indication        # "TOTAL-PASSED" | "INDETERMINATE" | "TOTAL-FAILED"
    report.sentence("vi")    # one sentence for the clerk
    report.to_dict()         # the stable JSON schema (docs/verify-json-schema.md)

``lookup`` is anything with ``find_by_sha256(sha256) -> IssuedDocument | None`` (the pipeline adapts
``records.service.Records``); ``signing`` never imports ``records``. A file that cannot be read (not a
PDF, truncated, encrypted) raises a ``common.errors.InputError`` subclass naming the file and why.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import Awaitable
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature, read_certification_data
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

from sohoa.common.errors import ConfigError, InputCorrupt, Lang
from sohoa.common.messages import _
from sohoa.common.reasons import foreign
from sohoa.config.signing import SigningSettings
from sohoa.signing.keys import load_certs
from sohoa.signing.pdfinput import LIBRARY_FAILURES, read_pdf
from sohoa.signing.pyhanko_compat import require_tested_pyhanko
from sohoa.signing.verify.ambiguity import repeated_keys
from sohoa.signing.verify.checks import Checker, Embedded, Trust
from sohoa.signing.verify.legacy import judge_skipped, orphan_signatures, skipped_fields
from sohoa.signing.verify.model import (
    CertInfo,
    IssuedDocument,
    IssuedDocumentLookup,
    RecordMatch,
    Revocation,
    SignatureResult,
    VerificationReport,
    no_signature_reason,
)
from sohoa.signing.verify.modifications import ModificationJudge
from sohoa.signing.verify.revisions import RevisionInfo, analyse, revision_ends
from sohoa.signing.verify.verdicts import INDETERMINATE, NO_SIGNATURE, Reason, reason, worst

__all__ = ["CertInfo", "IssuedDocument", "IssuedDocumentLookup", "Reason", "RecordMatch", "Revocation",
           "RevisionInfo", "SignatureResult", "VerificationReport", "load_trust", "verify"]

CERT_SUFFIXES = {".pem", ".crt", ".cer", ".der"}


def load_trust(roots: list[Path], extra: list[Path] = ()) -> Trust:
    """Trust anchors from files or folders (PEM bundles or DER). Self-signed ones become roots, the rest
    (intermediates shipped in a bundle) only help build chains."""
    files: list[Path] = []
    for path in [*roots, *extra]:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in CERT_SUFFIXES and p.is_file()))
        elif path.exists():
            files.append(path)
        else:
            raise ConfigError(path=path, detail=_("trust anchor file or folder not found"))
    try:
        certs = load_certs(files)
    except (ValueError, OSError) as exc:
        raise ConfigError(path=", ".join(map(str, files)),
                          detail=_("unreadable certificate: {reason}", reason=foreign(exc))) from None
    roots_out = [c for c in certs if c.self_signed != "no"]
    others = [c for c in certs if c.self_signed == "no"]
    return Trust(roots_out, others)


def _embedded(reader: PdfFileReader) -> Embedded:
    if "/DSS" not in reader.root:
        return Embedded()
    dss = DocumentSecurityStore.read_dss(reader)
    certs = list(dss.load_certs())
    ocsps = [asn1_ocsp.OCSPResponse.load(ref.get_object().data) for ref in dss.ocsps]
    crls = [asn1_crl.CertificateList.load(ref.get_object().data) for ref in dss.crls]
    return Embedded(certs, ocsps, crls)


def _match(lookup: IssuedDocumentLookup, data: bytes, whole: str, revisions: list[RevisionInfo],
           results: list[SignatureResult]) -> RecordMatch | None:
    found = lookup.find_by_sha256(whole)
    if found is not None:
        return RecordMatch(found, revisions[-1].index if revisions else 0, True, 0)
    for rev in reversed(revisions[:-1]):
        found = lookup.find_by_sha256(rev.sha256)
        if found is not None:
            after = sum(1 for r in results if r.signed_revision > rev.index)
            return RecordMatch(found, rev.index, False, after)
    return None


async def _verify(data: bytes, reader: PdfFileReader, settings: SigningSettings, trust: Trust, *, offline: bool,
                  tz: dt.tzinfo) -> tuple[list[SignatureResult], list[RevisionInfo]]:
    sigs: list[EmbeddedPdfSignature] = list(reader.embedded_signatures)
    try:
        orphans = orphan_signatures(reader, {str(s.field_name) for s in sigs})
    except LIBRARY_FAILURES:
        orphans = []  # a damaged page tree: what pyHanko enumerated is judged
    sigs = sorted([*sigs, *orphans], key=lambda s: _revision_or(s, 1 << 30))
    try:
        certification = read_certification_data(reader)
    except LIBRARY_FAILURES:
        certification = None  # a broken DocMDP dictionary: judged per signature below, as unproven
    permission = int(certification.permission.value) if certification is not None else None
    by_rev: dict[int, list[tuple[str, str]]] = {}
    for sig in sigs:
        kind = "document-timestamp" if sig.sig_object_type == "/DocTimeStamp" else "signature"
        try:
            by_rev.setdefault(sig.signed_revision, []).append((str(sig.field_name), kind))
        except LIBRARY_FAILURES:
            continue  # a byte range that matches no revision: that signature fails on its own below
    try:
        skipped = skipped_fields(reader)
    except LIBRARY_FAILURES:
        skipped = []  # a broken AcroForm: pyHanko's own enumeration above decides what there is
    ends = revision_ends(data, reader)
    for name, sig_obj in skipped:
        end = _range_end(sig_obj)
        rev = next((i for i, e in enumerate(ends) if end is not None and e >= end), None)
        if rev is not None:
            by_rev.setdefault(rev, []).append((name, "signature"))
    revisions = analyse(data, reader, by_rev, certification.permission if certification else None)
    backend = None if offline else AIOHttpFetcherBackend(per_request_timeout=settings.revocation.timeout_s)
    try:
        embedded = _embedded(reader)
    except LIBRARY_FAILURES:
        embedded = Embedded()  # a damaged DSS proves nothing; validation then needs other data
    judge = ModificationJudge(data, reader, revisions, permission)
    checker = Checker(trust, embedded, judge, offline=offline, rule=settings.revocation.source,
                      timeout_s=settings.revocation.timeout_s, backend=backend, tz=tz)
    try:
        ts_results: dict[int, SignatureResult] = {}
        for s in sigs:
            if s.sig_object_type == "/DocTimeStamp":
                ts_results[id(s)] = await _isolated(checker, s, checker.document_timestamp(s, revisions, permission),
                                                    kind="document-timestamp")
        results: list[SignatureResult] = []
        for sig in sigs:
            if id(sig) in ts_results:
                results.append(ts_results[id(sig)])
                continue
            later = [s for s in sigs if id(s) in ts_results
                     and ts_results[id(s)].signed_revision > _revision_or(sig, -1)]
            proofs = [ts_results[id(s)].proven_time for s in later
                      if ts_results[id(s)].indication == "TOTAL-PASSED" and ts_results[id(s)].proven_time]
            results.append(await _isolated(checker, sig, checker.signature(
                sig, revisions=revisions, permission=permission, later_proofs=[p for p in proofs if p is not None],
                doc_lta=bool(later))))
            if sig in orphans:
                results[-1].reasons.append(reason("orphan_field", field=str(sig.field_name)))
        for name, sig_obj in skipped:
            results.append(await judge_skipped(name, sig_obj, data, revisions, checker))
    finally:
        if backend is not None:
            await backend.close()
    results.sort(key=lambda r: r.signed_revision)
    return results, revisions


def _range_end(sig_obj: object) -> int | None:
    try:
        raw = [int(v) for v in sig_obj["/ByteRange"]]  # type: ignore[index]
        return raw[2] + raw[3]
    except LIBRARY_FAILURES:
        return None


def _revision_or(sig: EmbeddedPdfSignature, default: int) -> int:
    try:
        return sig.signed_revision
    except LIBRARY_FAILURES:
        return default


async def _isolated(checker: Checker, sig: EmbeddedPdfSignature, check: Awaitable[SignatureResult], *,
                    kind: str = "signature") -> SignatureResult:
    """One signature's verdict; whatever the libraries raise on it becomes that signature's FORMAT_FAILURE
    (the others are still judged), never an internal error of the whole verification."""
    try:
        return await check
    except LIBRARY_FAILURES as exc:
        result = checker._format_failure(sig, exc)
        result.kind = kind
        return result


def _judge_repeated_keys(reader: PdfFileReader, results: list[SignatureResult]) -> None:
    """A catalog or form with a repeated key fails every signature as malformed (``verify.ambiguity``):
    what each one proves depends on which reader looks. Their own findings stay in their fields."""
    repeated = repeated_keys(reader)
    if not repeated:
        return
    key, offset, _revision = repeated[0]
    ambiguous = reason("repeated_key", key=key, offset=offset)
    for result in results:
        result.indication, result.sub_indication = "TOTAL-FAILED", "FORMAT_FAILURE"
        result.reasons.insert(0, ambiguous)


def verify(path: Path, settings: SigningSettings, *, lookup: IssuedDocumentLookup | None = None,
           offline: bool = False, lang: Lang = "vi", trust: list[Path] | None = None) -> VerificationReport:
    """Verify every signature and document timestamp in ``path``; see the module docstring.

    ``settings`` is the ``[signing]`` section (a full ``Settings`` is accepted too). ``trust`` replaces
    the configured trust anchors (``--trust``). ``offline`` uses only what the file embeds.
    """
    require_tested_pyhanko()
    signing = getattr(settings, "signing", settings)
    assert isinstance(signing, SigningSettings)
    try:
        tz: dt.tzinfo = ZoneInfo(signing.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(path="[signing]", detail=_("unknown time zone {zone!r}", zone=signing.timezone)) from None
    anchors = load_trust(trust) if trust is not None else load_trust(signing.trust.roots, signing.trust.extra_certs)
    data, reader = read_pdf(path)
    whole = hashlib.sha256(data).hexdigest()
    try:
        results, revisions = asyncio.run(_verify(data, reader, signing, anchors, offline=offline, tz=tz))
    except LIBRARY_FAILURES as exc:
        raise InputCorrupt(path=path, detail=foreign(f"{type(exc).__name__}: {exc}"[:300])) from None
    _judge_repeated_keys(reader, results)
    indication = worst([r.indication for r in results])
    if not results:
        sub, reasons = NO_SIGNATURE, [no_signature_reason()]
        indication = INDETERMINATE
    else:
        first = next(r for r in results if r.indication == indication)
        sub, reasons = first.sub_indication, first.reasons[:1]
    record = _match(lookup, data, whole, revisions, results) if lookup is not None else None
    return VerificationReport(path=str(path), sha256=whole, size=len(data), indication=indication,
                              sub_indication=sub, reasons=reasons, signatures=results, revisions=revisions,
                              record=record, records_checked=lookup is not None, offline=offline,
                              verified_at=dt.datetime.now(tz).replace(microsecond=0), lang=lang)
