"""The digitized results an applicant already owns, so that nobody asks the citizen for them again.

Why in records: it is a query over dossiers (the applicant's identifier: a 12-digit CCCD, or a tax
code for an organisation) and their result documents, with their Decree-30 data (``extra.metadata``),
whether a newer version superseded them, and until when they are valid. The signature verdict is added
by the pipeline layer (records knows nothing about signing). Reusing a result files *the same stored
file* under another dossier: the store is content-addressed, so no copy is made, and the attach is in
the audit log like any other, with where it came from.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from sohoa.records.errors import DocumentNotFound
from sohoa.records.models import Document, Dossier
from sohoa.records.service import Records
from sohoa.records.text import fold
from sohoa.records.types import AttachMeta, AttachResult, DocumentInfo, result_fields


@dataclass(frozen=True)
class OwnedResult:
    document: DocumentInfo
    fields: dict[str, str]  # Decree-30 field → value (extracted, or the manifest's)
    valid_until: dt.date | None
    superseded: bool

    def valid_on(self, day: dt.date) -> bool:
        return not self.superseded and (self.valid_until is None or self.valid_until >= day)

    def to_dict(self, day: dt.date) -> dict[str, Any]:
        doc = self.document
        return {"document_id": doc.id, "dossier_code": doc.dossier_code, "title": doc.title, "sha256": doc.sha256,
                "fields": self.fields, "valid_until": self.valid_until.isoformat() if self.valid_until else None,
                "superseded": self.superseded, "valid": self.valid_on(day)}


def _fields(doc: DocumentInfo) -> dict[str, str]:
    values = result_fields(doc.extra)
    for name, value in (("doc_number", doc.doc_number), ("issuing_agency", doc.issuing_agency),
                        ("issue_date", doc.issue_date.isoformat() if doc.issue_date else None)):
        if value:
            values[name] = value  # the filed columns (the manifest's values) win
    return values


def find_results(records: Records, applicant_id: str, *, doc_type: str | None = None,
                 valid_on: dt.date | None = None) -> list[OwnedResult]:
    """The applicant's result documents, newest first; ``doc_type`` matches the type or the title
    without regard to marks and case; ``valid_on`` keeps only those valid that day."""
    newer = aliased(Document)
    with Session(records.engine) as s:
        rows = s.execute(select(Document.id, Dossier.code).join(Dossier, Document.dossier_id == Dossier.id)
                         .where(Dossier.applicant_id == applicant_id.strip(), Document.kind == "result")
                         .order_by(Document.created_at.desc(), Document.id.desc())).all()
        superseded = {i for (i,) in s.execute(select(newer.supersedes_id).where(newer.supersedes_id.is_not(None)))}
    by_id = {d.id: d for code in dict.fromkeys(code for _, code in rows) for d in records.documents(code)}
    out: list[OwnedResult] = []
    for doc_id, _code in rows:
        doc = by_id[doc_id]
        fields = _fields(doc)
        if doc_type and fold(doc_type) not in fold(f"{fields.get('doc_type', '')} {doc.title or ''}"):
            continue
        until = fields.get("valid_until")
        owned = OwnedResult(doc, fields, dt.date.fromisoformat(until) if until else None, doc_id in superseded)
        if valid_on is None or owned.valid_on(valid_on):
            out.append(owned)
    return out


def result_by_id(records: Records, document_id: int) -> DocumentInfo:
    """A filed result by its id, or ``DocumentNotFound``."""
    with Session(records.engine) as s:
        row = s.execute(select(Dossier.code).join(Document, Document.dossier_id == Dossier.id)
                        .where(Document.id == document_id, Document.kind == "result")).first()
    found = next((d for d in records.documents(row[0]) if d.id == document_id), None) if row else None
    if found is None:
        raise DocumentNotFound(what=f"#{document_id}")
    return found


def reuse_result(records: Records, document: DocumentInfo, *, dossier_code: str, actor: str) -> AttachResult:
    """File an existing result under another dossier by reference: the same stored file, a new link."""
    meta = AttachMeta(title=document.title, doc_number=document.doc_number, issue_date=document.issue_date,
                      issuing_agency=document.issuing_agency, digitized_by=document.digitized_by,
                      page_count=document.page_count, signatures=[], actor=actor,
                      extra={**document.extra, "reused_from": {"dossier": document.dossier_code,
                                                               "document_id": document.id}})
    return records.attach(document.path, dossier_code=dossier_code, kind="result", meta=meta)
