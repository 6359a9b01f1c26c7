"""Plain typed values exchanged with callers of ``records`` (the pipeline, verify, the CLI).

Why dataclasses rather than ORM objects: callers must not hold sessions or lazy-load relations after
the transaction closed, and these values are what JSON output and the export are built from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from sohoa.common.hashing import identity_of_digests
from sohoa.common.natsort import natural_key

Kind = Literal["component", "result", "copy"]
KINDS: tuple[str, ...] = ("component", "result", "copy")
# provincial one-stop systems number kinds: 0 = dossier component, 1 = result; copies get 2
KIND_CODES = {"component": 0, "result": 1, "copy": 2}


@dataclass(frozen=True)
class SourceFile:
    """One scan a document was made from; a document's list gives its content identity."""

    name: str
    sha256: str
    size: int | None = None


def result_fields(extra: Mapping[str, Any] | None) -> dict[str, str]:
    """A result's extracted Decree-30 values by field name (``extra.metadata.fields``; empty when none)."""
    fields = ((extra or {}).get("metadata") or {}).get("fields") or {}
    return {name: str(f["value"]) for name, f in fields.items() if isinstance(f, dict) and f.get("value")}


def fields_to_review(extra: Mapping[str, Any] | None) -> list[str]:
    """The extracted fields still to be checked by a clerk (``extra.metadata.needs_review``)."""
    return list(((extra or {}).get("metadata") or {}).get("needs_review") or [])


def source_identity(files: Sequence[SourceFile]) -> str | None:
    """The content identity (``common.hashing``) of a document's source files, in page order.

    None without source files, or when a caller gave a digest that is not hex (then there is no identity
    to recognise the sources by; the document is filed all the same, as before identities existed).
    """
    if not files:
        return None
    ordered = sorted(files, key=lambda f: natural_key(f.name))  # stable: callers pass page order
    try:
        return identity_of_digests(f.sha256 for f in ordered)
    except ValueError:
        return None


@dataclass(frozen=True)
class SignatureInfo:
    profile: str  # e.g. "personal", "organisation", "copy"
    signer: str  # signer's common name; never key material
    time: datetime
    level: str  # PAdES level, e.g. "B-B", "B-T", "B-LT"


@dataclass
class AttachMeta:
    """What the pipeline knows about a finished PDF. Everything but the file itself is optional."""

    title: str | None = None
    doc_number: str | None = None  # số ký hiệu
    issue_date: date | None = None
    issuing_agency: str | None = None
    digitized_by: str | None = None
    digitized_at: datetime | None = None  # aware; default: now
    page_texts: Sequence[str] = ()  # OCR text per page, NFC, in page order
    page_confidences: Sequence[float | None] = ()  # mean word confidence per page (0-100) or None
    low_confidence_pages: Sequence[int] = ()  # 1-based page numbers flagged by the OCR stage
    page_count: int | None = None  # default: len(page_texts)
    source_files: Sequence[SourceFile] = ()
    signatures: Sequence[SignatureInfo] = ()
    supersedes: str | None = None  # sha256 of the document in the same dossier this one replaces
    actor: str | None = None  # who attaches, for the audit log; default digitized_by, else "sohoa"
    extra: Mapping[str, Any] = field(default_factory=dict)  # signer, validity period, approval status…
    new_dossier: NewDossier | None = None  # details used if the dossier must be created


@dataclass
class NewDossier:
    code: str | None = None  # None: next free code for (unit, received date)
    unit_code: str | None = None
    received_date: date | None = None
    procedure_code: str | None = None
    applicant_name: str | None = None
    applicant_id: str | None = None
    receiving_unit: str | None = None
    due_date: date | None = None
    status: str = "received"


@dataclass(frozen=True)
class DossierInfo:
    code: str
    unit_code: str
    received_date: date
    procedure_code: str | None
    applicant_name: str | None
    applicant_id: str | None
    receiving_unit: str | None
    due_date: date | None
    status: str
    document_count: int
    created_at: datetime
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(self.__dict__)


@dataclass(frozen=True)
class DocumentInfo:
    id: int
    dossier_code: str
    seq: int
    kind: str
    title: str | None
    doc_number: str | None
    issue_date: date | None
    issuing_agency: str | None
    digitized_by: str | None
    digitized_at: datetime
    sha256: str
    size: int
    page_count: int
    storage_key: str
    path: Path
    source_files: list[dict[str, Any]]
    source_identity: str | None
    mean_confidence: float | None
    low_confidence_pages: list[int]
    signatures: list[dict[str, Any]]
    extra: dict[str, Any]
    version: int
    supersedes_sha256: str | None
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(self.__dict__)


@dataclass(frozen=True)
class AttachResult:
    document: DocumentInfo
    created: bool  # False: these bytes, or these source scans, were already filed in this dossier
    dossier_created: bool
    #: the same source scans already filed in *another* dossier: filed here too, flagged for review
    same_source_elsewhere: DocumentInfo | None = None

    @property
    def already_filed(self) -> bool:
        return not self.created


@dataclass(frozen=True)
class SearchHit:
    dossier_code: str
    document_sha256: str
    kind: str
    title: str | None
    page_no: int
    score: float  # higher is better; comparable within one result list only
    snippet: str


@dataclass(frozen=True)
class SearchResult:
    """The hits of one search and how many documents match: exact up to a cap, else "more than".

    Why a cap: counting every match of a common word costs as much as ranking them all did; a clerk
    needs "about how many" only to decide whether to narrow the search (``records.search.COUNT_CAP``).
    """

    hits: list[SearchHit]
    total: int  # matching documents, exact when not ``capped``
    capped: bool  # True: more than ``total`` documents match

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "total_capped": self.capped, "hits": [h.__dict__ | {} for h in self.hits]}


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, datetime | date):
            out[key] = value.isoformat()
        elif isinstance(value, Path):
            out[key] = str(value)
        else:
            out[key] = value
    return out
