"""Validate one signature or document timestamp with pyHanko and turn the facts into a DSS-style verdict.

Why several passes over one signature: pyHanko answers "is it trusted *now*, with this validation
context". A clerk's question is broader, so we ask it in the order DSS does:

1. embedded data only (DSS, CMS-embedded OCSP/CRL), revocation required — the ``--offline`` answer;
2. if revocation data was the only thing missing (a soft-fail pass trusts the chain), the online
   OCSP/CRL services, with the configured timeout, unless offline;
3. if the certificate expired, was revoked, or its revocation data is missing or stale, and a trusted
   timestamp (the signature's own, or a later document timestamp) proves *when* the signature
   existed, the chain again at that proven time (an LTV-enabled old signature stays valid; a
   certificate revoked before that time is TOTAL-FAILED / REVOKED).

Integrity (digest over the byte ranges), the CMS signature value and pyHanko's difference analysis
come from the first pass; later passes skip the difference analysis.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from asn1crypto import x509
from pyhanko.sign.ades.report import AdESIndeterminate, AdESSubIndic
from pyhanko.sign.general import MultivaluedAttributeError, NonexistentAttributeError, find_unique_cms_attribute
from pyhanko.sign.validation import async_validate_pdf_signature, async_validate_pdf_timestamp
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import (
    DocumentTimestampStatus,
    PdfSignatureStatus,
    SignatureCoverageLevel,
    SignatureStatus,
)
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

from sohoa.common.messages import _
from sohoa.common.reasons import foreign
from sohoa.signing.pdfinput import LIBRARY_FAILURES
from sohoa.signing.revocation import level_reached, revocation_policy
from sohoa.signing.verify.model import CertInfo, Revocation, SignatureResult
from sohoa.signing.verify.modifications import ModificationJudge, modification_verdict
from sohoa.signing.verify.revisions import RevisionInfo
from sohoa.signing.verify.verdicts import (
    PASSED,
    RANK,
    Indication,
    Reason,
    indication_for,
    online_note,
    permission_words,
    reason,
)

# Trust problems a proven (timestamped) time can cure by validating the chain at that time.
_TIME_CURABLE = {AdESIndeterminate.OUT_OF_BOUNDS_NO_POE, AdESIndeterminate.REVOKED_NO_POE,
                 AdESIndeterminate.TRY_LATER, AdESIndeterminate.OUT_OF_BOUNDS_NOT_REVOKED}
_PARSE_ERRORS = (SignatureValidationError, *LIBRARY_FAILURES)


@dataclass
class Trust:
    """Trust anchors (self-signed) and helper certificates (intermediates) from the configured bundle/folder."""

    roots: list[x509.Certificate]
    others: list[x509.Certificate] = field(default_factory=list)


@dataclass
class Embedded:
    """Document-wide validation data from the DSS."""

    certs: list[x509.Certificate] = field(default_factory=list)
    ocsps: list = field(default_factory=list)
    crls: list = field(default_factory=list)


def cert_info(cert: x509.Certificate) -> CertInfo:
    subject = cert.subject.native
    usage = cert.key_usage_value
    validity = cert["tbs_certificate"]["validity"]
    return CertInfo(
        subject=cert.subject.human_friendly, common_name=subject.get("common_name"),
        organization=subject.get("organization_name"), issuer=cert.issuer.human_friendly,
        serial=format(cert.serial_number, "x"), not_before=validity["not_before"].native,
        not_after=validity["not_after"].native, key_usage=sorted(usage.native) if usage is not None else [],
        sha256=hashlib.sha256(cert.dump()).hexdigest(), self_signed=cert.self_signed != "no")


def cms_revinfo(sig: EmbeddedPdfSignature) -> tuple[list, list]:
    """OCSP responses and CRLs embedded in the CMS (Adobe revocationInfoArchival signed attribute)."""
    try:
        archival = find_unique_cms_attribute(sig.signer_info["signed_attrs"], "adobe_revocation_info_archival")
    except (MultivaluedAttributeError, NonexistentAttributeError):
        return [], []
    ocsps = list(archival["ocsp"]) if archival["ocsp"].native else []
    crls = list(archival["crl"]) if archival["crl"].native else []
    return ocsps, crls


class Checker:
    """Validation contexts and the per-signature decision; one per document (its DSS), shared backend."""

    def __init__(self, trust: Trust, embedded: Embedded, judge: ModificationJudge, *, offline: bool, rule: str,
                 timeout_s: float, backend: AIOHttpFetcherBackend | None, tz: dt.tzinfo) -> None:
        self.trust, self.embedded, self.judge, self.offline, self.tz = trust, embedded, judge, offline, tz
        self.source = rule  # [signing.revocation] source, applied by signing.revocation.revocation_policy
        self.timeout_s = timeout_s
        self.backend = backend

    def context(self, sig: EmbeddedPdfSignature | None, *, hard: bool, online: bool = False,
                moment: dt.datetime | None = None) -> ValidationContext:
        ocsps, crls = cms_revinfo(sig) if sig is not None else ([], [])
        kwargs: dict = {}
        # at a proven past time, revocation data issued later still speaks for that time (retroactive)
        retroactive = moment is not None
        if hard:
            kwargs["revinfo_policy"] = revocation_policy(self.source, retroactive=retroactive)
        else:
            kwargs.update(revocation_mode="soft-fail", retroactive_revinfo=retroactive)
        if moment is not None:
            kwargs.update(moment=moment, best_signature_time=moment)
        online = online and not self.offline and self.backend is not None
        return ValidationContext(
            trust_roots=self.trust.roots, other_certs=[*self.trust.others, *self.embedded.certs],
            ocsps=[*self.embedded.ocsps, *ocsps], crls=[*self.embedded.crls, *crls],
            allow_fetching=online, fetcher_backend=self.backend if online else None, **kwargs)

    async def _status(self, sig: EmbeddedPdfSignature, vc: ValidationContext, *, skip_diff: bool,
                      ts_vc: ValidationContext | None = None) -> PdfSignatureStatus:
        return await async_validate_pdf_signature(sig, signer_validation_context=vc,
                                                  ts_validation_context=ts_vc or vc, skip_diff=skip_diff)

    def local(self, moment: dt.datetime | None) -> dt.datetime | None:
        return None if moment is None else moment.astimezone(self.tz)

    async def signature(self, sig: EmbeddedPdfSignature, *, revisions: list[RevisionInfo], permission: int | None,
                        later_proofs: list[dt.datetime], doc_lta: bool) -> SignatureResult:
        """The verdict on a regular signature. ``later_proofs``: trusted document-timestamp times covering it."""
        ts_vc = self.context(sig, hard=False, online=True)
        try:
            status = await self._status(sig, self.context(sig, hard=True), skip_diff=False, ts_vc=ts_vc)
        except _PARSE_ERRORS as exc:
            return self._format_failure(sig, exc)
        reasons: list[Reason] = []
        extra: list[Reason] = []
        signer = status.signing_cert
        ts = status.timestamp_validity
        ts_trusted = ts is not None and ts.intact and ts.valid and ts.trusted
        proofs = ([ts.timestamp] if ts_trusted else []) + later_proofs
        proven = min(proofs) if proofs else None
        if ts is not None and not ts_trusted:
            extra.append(reason("timestamp_untrusted"))
        ocsps, crls = cms_revinfo(sig)
        revocation = Revocation("not-checked", embedded_ocsp=len(self.embedded.ocsps) + len(ocsps),
                                embedded_crl=len(self.embedded.crls) + len(crls))
        revocation.sources = [s for s, n in (("dss", len(self.embedded.ocsps) + len(self.embedded.crls)),
                                             ("cms", len(ocsps) + len(crls))) if n]
        embedded_any = bool(revocation.sources)
        sub: str | None = None
        final = status
        validated_at: dt.datetime | None = dt.datetime.now(dt.UTC)
        if not status.intact:
            sub = "HASH_FAILURE"
        elif not status.valid:
            sub = "SIG_CRYPTO_FAILURE"
        else:
            final, indic, validated_at = await self._trust(sig, status, proven, revocation, extra)
            sub = indic.standard_name if indic is not None else None
            if sub == "REVOKED_NO_POE" and proven is not None and final.revocation_details is not None \
                    and final.revocation_details.revocation_date <= proven:
                sub = "REVOKED"
        fields = self._fields(signer, final, proven, sig)
        if sub is not None:
            reasons.append(reason(sub, **fields))
        sub, mod_note = self._with_modifications(sig, status, sub, reasons)
        if sub is None:
            reasons.append(reason("ok"))
        reasons.extend(extra)
        reasons.extend(mod_note)
        if permission is not None and sig.docmdp_level is not None:
            reasons.append(reason("certified", permission=permission_words(permission)))
        if ts is None and status.signer_reported_dt is not None:
            reasons.append(reason("claimed_time_only", claimed_time=self.local(status.signer_reported_dt)))
        level = level_reached(timestamped=ts is not None, revocation_data=embedded_any, archived=doc_lta)
        path = final.validation_path
        chain = [cert_info(c) for c in path.iter_certs(include_root=True)][::-1] if path is not None else \
            [cert_info(signer)]
        return SignatureResult(
            field_name=sig.field_name, kind="signature", indication=indication_for(sub), sub_indication=sub,
            reasons=reasons, signer=cert_info(signer), chain=chain,
            trust_anchor=path.trust_anchor.authority.name.human_friendly if path is not None else None,
            claimed_time=self.local(status.signer_reported_dt), proven_time=self.local(proven),
            timestamp_authority=ts.signing_cert.subject.human_friendly if ts is not None else None,
            revocation=revocation, intact=status.intact, crypto_valid=status.valid,
            digest_algorithm=status.md_algorithm, signature_algorithm=status.pkcs7_signature_mechanism,
            coverage=status.coverage.name if status.coverage is not None else None,
            modification_level=status.modification_level.name if status.modification_level is not None else None,
            certification=permission if sig.docmdp_level is not None else None,
            signed_revision=sig.signed_revision, level=level, validation_time=self.local(validated_at))

    async def _trust(self, sig: EmbeddedPdfSignature, status: PdfSignatureStatus, proven: dt.datetime | None,
                     revocation: Revocation, extra: list[Reason]
                     ) -> tuple[PdfSignatureStatus, AdESSubIndic | None, dt.datetime | None]:
        """Passes 1-3 of the module docstring: the final status, its trust problem, the validation time."""
        now = dt.datetime.now(dt.UTC)
        indic = status.trust_problem_indic
        if indic == AdESIndeterminate.CERTIFICATE_CHAIN_GENERAL_FAILURE:
            soft = await self._status(sig, self.context(sig, hard=False), skip_diff=True)
            if soft.trusted:  # only revocation data was missing
                indic = AdESIndeterminate.TRY_LATER
                if not self.offline and self.backend is not None:
                    online = await self._status(sig, self.context(sig, hard=True, online=True), skip_diff=True)
                    if online.trust_problem_indic != AdESIndeterminate.CERTIFICATE_CHAIN_GENERAL_FAILURE:
                        status, indic = online, online.trust_problem_indic
                    if online.trusted or online.revoked:
                        revocation.sources.append("online")
                        extra.append(reason("revocation_online"))
            elif soft.trust_problem_indic not in (None, AdESIndeterminate.CERTIFICATE_CHAIN_GENERAL_FAILURE):
                status, indic = soft, soft.trust_problem_indic  # the more specific problem (expired, ...)
        if indic is None:
            revocation.status = "good"
            return status, None, now
        if indic in _TIME_CURABLE and proven is not None:
            revoked_at = status.revocation_details.revocation_date if status.revocation_details else None
            if revoked_at is not None and revoked_at <= proven:
                revocation.status, revocation.revoked_at = "revoked", self.local(revoked_at)
                return status, indic, now
            past = await self._status(sig, self.context(sig, hard=True, online=True, moment=proven), skip_diff=True)
            if past.trusted:
                revocation.status = "good"
                expired = status.signing_cert["tbs_certificate"]["validity"]["not_after"].native
                if revoked_at is not None:
                    revocation.revoked_at = self.local(revoked_at)
                    extra.insert(0, reason("revoked_after_proven_time", revoked_at=self.local(revoked_at),
                                           proven_time=self.local(proven)))
                elif expired < now:
                    extra.insert(0, reason("expired_after_proven_time", not_after=self.local(expired),
                                           proven_time=self.local(proven)))
                else:
                    extra.insert(0, reason("validated_at_proven_time", proven_time=self.local(proven)))
                return past, None, proven
        if status.revocation_details is not None:
            revocation.status, revocation.revoked_at = "revoked", self.local(status.revocation_details.revocation_date)
        elif indic == AdESIndeterminate.TRY_LATER:
            revocation.status = "unknown"
        return status, indic, now

    def _fields(self, signer: x509.Certificate, status: SignatureStatus, proven: dt.datetime | None,
                sig: EmbeddedPdfSignature) -> dict:
        validity = signer["tbs_certificate"]["validity"]
        details = status.revocation_details
        return {"not_after": self.local(validity["not_after"].native),
                "not_before": self.local(validity["not_before"].native),
                "revoked_at": self.local(details.revocation_date) if details else None,
                "proven_time": self.local(proven) if proven else None, "issuer": signer.issuer.human_friendly,
                "online": online_note(self.offline),
                "detail": f"{status.trust_problem_indic.standard_name}" if status.trust_problem_indic else ""}

    def _with_modifications(self, sig: EmbeddedPdfSignature, status: PdfSignatureStatus | DocumentTimestampStatus,
                            sub: str | None, reasons: list[Reason]) -> tuple[str | None, list[Reason]]:
        """The sub-indication after judging later changes (a graver verdict wins and leads the reasons)."""
        mod_reason, notes = self._modifications(sig, status)
        if mod_reason is not None and RANK[indication_for(mod_reason[0])] > RANK[indication_for(sub)]:
            reasons.insert(0, mod_reason[1])
            return mod_reason[0], notes
        if mod_reason is not None:
            reasons.append(mod_reason[1])
        return sub, notes

    def _modifications(self, sig: EmbeddedPdfSignature, status: PdfSignatureStatus | DocumentTimestampStatus
                       ) -> tuple[tuple[str, Reason] | None, list[Reason]]:
        """A (sub-indication, reason) if the file changed in a way not allowed or not explained, plus notes."""
        coverage = status.coverage
        if coverage is None or coverage < SignatureCoverageLevel.ENTIRE_REVISION:
            detail = _("the signature does not cover a whole revision")
            return ("FORMAT_FAILURE", reason("FORMAT_FAILURE", detail=detail)), []
        found = self.judge.judge(sig.signed_revision, status.diff_result, status.docmdp_ok)
        return modification_verdict(found)

    def _format_failure(self, sig: EmbeddedPdfSignature, exc: Exception) -> SignatureResult:
        indic = getattr(exc, "ades_subindication", None)
        sub = indic.standard_name if indic is not None else "FORMAT_FAILURE"
        detail = foreign(f"{type(exc).__name__}: {exc}"[:300])
        try:
            signer = cert_info(sig.signer_cert)
        except _PARSE_ERRORS:
            signer = None
        try:
            revision = sig.signed_revision
        except _PARSE_ERRORS:
            revision = -1  # a byte range that matches no revision
        return SignatureResult(
            field_name=str(sig.field_name), kind="signature", indication=indication_for(sub),
            sub_indication=sub, reasons=[reason(sub, detail=detail)], signer=signer, chain=[signer] if signer else [],
            trust_anchor=None, claimed_time=None, proven_time=None, timestamp_authority=None,
            revocation=Revocation("not-checked"), intact=False, crypto_valid=False, digest_algorithm=None,
            signature_algorithm=None, coverage=None, modification_level=None, certification=None,
            signed_revision=revision, level=None, validation_time=None)

    async def _trusted_without_revocation(self, sig: EmbeddedPdfSignature) -> bool:
        """Whether the timestamp's chain is trusted when revocation is not asked about at all (embedded
        responses about other certificates must not turn "unknown" into "invalid chain")."""
        bare = ValidationContext(trust_roots=self.trust.roots, other_certs=[*self.trust.others, *self.embedded.certs],
                                 revocation_mode="soft-fail", allow_fetching=False)
        try:
            return bool((await async_validate_pdf_timestamp(sig, validation_context=bare)).trusted)
        except _PARSE_ERRORS:
            return False

    async def document_timestamp(self, sig: EmbeddedPdfSignature, revisions: list[RevisionInfo],
                                 permission: int | None) -> SignatureResult:
        """A document timestamp (B-LTA): intact, trusted TSA, nothing disallowed appended after it."""
        vc = self.context(None, hard=False, online=True)
        try:
            status = await async_validate_pdf_timestamp(sig, validation_context=vc)
        except _PARSE_ERRORS as exc:
            result = self._format_failure(sig, exc)
            result.kind = "document-timestamp"
            return result
        sub: str | None = None
        if not status.intact:
            sub = "HASH_FAILURE"
        elif not status.valid:
            sub = "SIG_CRYPTO_FAILURE"
        elif status.trust_problem_indic is not None:
            sub = status.trust_problem_indic.standard_name
            if status.trust_problem_indic == AdESIndeterminate.CERTIFICATE_CHAIN_GENERAL_FAILURE \
                    and await self._trusted_without_revocation(sig):
                sub = "TRY_LATER"  # the TSA's chain holds; only its revocation status is unknown
        tsa = status.signing_cert
        reasons = [reason(sub, issuer=tsa.issuer.human_friendly, detail=sub, online=online_note(self.offline))] \
            if sub else []
        sub, mod_note = self._with_modifications(sig, status, sub, reasons)
        if sub is None:
            reasons.append(reason("ok_timestamp"))
        reasons.extend(note for note in mod_note if note.code == "rendered_same")
        indication: Indication = indication_for(sub) if sub else PASSED
        path = status.validation_path
        return SignatureResult(
            field_name=sig.field_name, kind="document-timestamp", indication=indication, sub_indication=sub,
            reasons=reasons, signer=cert_info(tsa),
            chain=[cert_info(c) for c in path.iter_certs(include_root=True)][::-1] if path else [cert_info(tsa)],
            trust_anchor=path.trust_anchor.authority.name.human_friendly if path is not None else None,
            claimed_time=None, proven_time=self.local(status.timestamp), timestamp_authority=tsa.subject.human_friendly,
            revocation=Revocation("good" if status.trusted else "not-checked"), intact=status.intact,
            crypto_valid=status.valid, digest_algorithm=status.md_algorithm,
            signature_algorithm=status.pkcs7_signature_mechanism,
            coverage=status.coverage.name if status.coverage is not None else None,
            modification_level=status.modification_level.name if status.modification_level is not None else None,
            certification=None, signed_revision=sig.signed_revision, level=None,
            validation_time=self.local(dt.datetime.now(dt.UTC)))
