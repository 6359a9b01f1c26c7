"""Typed results of a verification: per certificate, per signature, per document, and the records seam.

Why plain dataclasses with ``to_dict``: the same values feed the terminal line, the JSON (a documented,
stable schema — docs/verify-json-schema.md) and the HTML report; the daemon and the API get them as
Python objects without parsing text.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

from sohoa.common.messages import Lang, _, ngettext
from sohoa.signing.verify.revisions import RevisionInfo
from sohoa.signing.verify.verdicts import Indication, Reason, reason

SCHEMA_VERSION = 1


def iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds")


@dataclass(frozen=True)
class IssuedDocument:
    """What the center's records know about a document it issued (filled by the records adapter)."""

    dossier_code: str
    document_id: int | str
    title: str | None
    kind: str | None
    issued_at: dt.datetime | None


class IssuedDocumentLookup(Protocol):
    """The seam to the records store: ``records.service.Records`` is adapted to it by the pipeline."""

    def find_by_sha256(self, sha256: str) -> IssuedDocument | None: ...


@dataclass(frozen=True)
class CertInfo:
    subject: str
    common_name: str | None
    organization: str | None
    issuer: str
    serial: str  # hex
    not_before: dt.datetime
    not_after: dt.datetime
    key_usage: list[str]
    sha256: str
    self_signed: bool

    def to_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "common_name": self.common_name, "organization": self.organization,
                "issuer": self.issuer, "serial": self.serial, "not_before": iso(self.not_before),
                "not_after": iso(self.not_after), "key_usage": self.key_usage, "sha256": self.sha256,
                "self_signed": self.self_signed}


@dataclass
class Revocation:
    status: str  # "good" | "revoked" | "unknown" | "not-checked"
    sources: list[str] = field(default_factory=list)  # "dss", "cms", "online"
    revoked_at: dt.datetime | None = None
    embedded_ocsp: int = 0
    embedded_crl: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "sources": self.sources, "revoked_at": iso(self.revoked_at),
                "embedded_ocsp": self.embedded_ocsp, "embedded_crl": self.embedded_crl}


@dataclass
class SignatureResult:
    """The verdict on one signature or document timestamp, with everything that led to it."""

    field_name: str
    kind: str  # "signature" | "document-timestamp"
    indication: Indication
    sub_indication: str | None
    reasons: list[Reason]
    signer: CertInfo | None
    chain: list[CertInfo]
    trust_anchor: str | None
    claimed_time: dt.datetime | None
    proven_time: dt.datetime | None
    timestamp_authority: str | None
    revocation: Revocation
    intact: bool
    crypto_valid: bool
    digest_algorithm: str | None
    signature_algorithm: str | None
    coverage: str | None
    modification_level: str | None
    certification: int | None  # DocMDP P value of a certifying signature
    signed_revision: int
    level: str | None  # "B-B" | "B-T" | "B-LT" | "B-LTA" for signatures, None for timestamps
    validation_time: dt.datetime | None

    def sentence(self, lang: Lang = "vi") -> str:
        return self.reasons[0].text(lang) if self.reasons else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field_name, "kind": self.kind, "indication": self.indication,
            "sub_indication": self.sub_indication, "reasons": [r.to_dict() for r in self.reasons],
            "signer": self.signer.to_dict() if self.signer else None,
            "chain": [c.to_dict() for c in self.chain], "trust_anchor": self.trust_anchor,
            "claimed_time": iso(self.claimed_time), "proven_time": iso(self.proven_time),
            "timestamp_authority": self.timestamp_authority, "revocation": self.revocation.to_dict(),
            "integrity": {"intact": self.intact, "crypto_valid": self.crypto_valid,
                          "digest_algorithm": self.digest_algorithm, "signature_algorithm": self.signature_algorithm},
            "coverage": self.coverage, "modification_level": self.modification_level,
            "certification_permission": self.certification, "signed_revision": self.signed_revision,
            "pades_level": self.level, "validation_time": iso(self.validation_time),
        }


@dataclass(frozen=True)
class RecordMatch:
    document: IssuedDocument
    revision: int  # the revision whose bytes are the stored document
    whole_file: bool
    signatures_after: int  # signatures/timestamps added after issue

    def sentence(self, lang: Lang = "vi") -> str:
        doc = self.document
        fields = {"title": f" «{doc.title}»" if doc.title else "", "code": doc.dossier_code,
                  "when": iso(doc.issued_at) or "?"}
        if self.signatures_after:
            return ngettext("This is the document{title} the center issued for dossier {code} on {when}; "
                            "{n} signature or timestamp was added after issue.",
                            "This is the document{title} the center issued for dossier {code} on {when}; "
                            "{n} signatures or timestamps were added after issue.",
                            self.signatures_after, **fields).render(lang)
        return _("This is the document{title} the center issued for dossier {code} on {when}; unchanged since "
                 "issue.", **fields).render(lang)

    def to_dict(self) -> dict[str, Any]:
        doc = self.document
        return {"dossier_code": doc.dossier_code, "document_id": doc.document_id, "title": doc.title,
                "kind": doc.kind, "issued_at": iso(doc.issued_at), "revision": self.revision,
                "whole_file": self.whole_file, "signatures_after": self.signatures_after,
                "vi": self.sentence("vi"), "en": self.sentence("en")}


@dataclass
class VerificationReport:
    """Everything known about one file. ``indication`` is the worst signature's verdict."""

    path: str
    sha256: str
    size: int
    indication: Indication
    sub_indication: str | None
    reasons: list[Reason]
    signatures: list[SignatureResult]
    revisions: list[RevisionInfo]
    record: RecordMatch | None
    records_checked: bool
    offline: bool
    verified_at: dt.datetime
    lang: Lang = "vi"

    def sentence(self, lang: Lang | None = None) -> str:
        return self.reasons[0].text(lang or self.lang) if self.reasons else ""

    @property
    def exit_code(self) -> int:
        return {"TOTAL-PASSED": 0, "INDETERMINATE": 1, "TOTAL-FAILED": 2}[self.indication]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION, "file": self.path, "readable": True, "sha256": self.sha256, "size": self.size,
            "indication": self.indication, "sub_indication": self.sub_indication,
            "reasons": [r.to_dict() for r in self.reasons],
            "signatures": [s.to_dict() for s in self.signatures],
            "revisions": [r.to_dict() for r in self.revisions],
            "records_checked": self.records_checked,
            "record_match": self.record.to_dict() if self.record else None,
            "offline": self.offline, "verified_at": iso(self.verified_at), "error": None,
        }


def no_signature_reason() -> Reason:
    return reason("NO_SIGNATURE")
