"""The review queue of extracted result data, and a clerk's corrections.

Why corrections live beside the extracted values: the signed PDF is never rewritten (its XMP keeps what
was read at signing time), so the record is where a clerk's fix goes. Each correction keeps the value
as read, who corrected it and when, wins over the extracted value (and over the typed columns it
feeds: number, date, agency), takes the field off the queue, and is an event of the hash-chained
audit log in the same transaction — a later edit of the record cannot hide it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from sohoa.common.folding import search_key
from sohoa.common.messages import _
from sohoa.database.engine import translate_errors, writer
from sohoa.records import audit
from sohoa.records.errors import DocumentNotFound, InvalidRecordInput
from sohoa.records.models import Document, Dossier
from sohoa.records.service import Records
from sohoa.records.types import fields_to_review

REVIEW_LIMIT = 200
TYPED = {"doc_number": "doc_number", "issuing_agency": "issuing_agency", "issue_date": "issue_date"}


@dataclass(frozen=True)
class ReviewItem:
    document_id: int
    dossier_code: str
    title: str | None
    fields: dict[str, Any]  # name → {value, confidence, page, box}
    needs_review: list[str]
    page_sizes: dict[str, list[int]]  # page number (as text) → [width, height] of the upright page


def review_queue(records: Records, *, limit: int = REVIEW_LIMIT) -> list[ReviewItem]:
    """Documents with extracted fields still to check, oldest first (JSON column: filtered here)."""
    items: list[ReviewItem] = []
    with translate_errors(records.where), Session(records.engine) as s:
        rows = s.execute(select(Document, Dossier.code).join(Dossier, Document.dossier_id == Dossier.id)
                         .where(Document.kind.in_(("result", "copy"))).order_by(Document.id))
        for doc, code in rows:
            review = fields_to_review(doc.extra)
            if review:
                meta = doc.extra["metadata"]
                items.append(ReviewItem(doc.id, code, doc.title, dict(meta.get("fields") or {}), review,
                                        dict(meta.get("page_sizes") or {})))
                if len(items) >= limit:
                    break
    return items


def correct_field(records: Records, document_id: int, name: str, value: str, *, actor: str,
                  now: dt.datetime | None = None) -> None:
    """Store a clerk's value for one extracted field (see the module docstring)."""
    value = " ".join(value.split())
    if not value:
        raise InvalidRecordInput(path=f"#{document_id}", detail=_("a corrected value must not be empty"))
    if name == "issue_date" or name == "valid_until":
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise InvalidRecordInput(path=f"#{document_id}", detail=_("a date is written YYYY-MM-DD")) from None
    when = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    with translate_errors(records.where), Session(writer(records.engine)) as s, s.begin():
        row = s.execute(select(Document, Dossier.code).join(Dossier, Document.dossier_id == Dossier.id)
                        .where(Document.id == document_id)).first()
        if row is None:
            raise DocumentNotFound(what=f"#{document_id}")
        doc, code = row
        extra = dict(doc.extra or {})
        meta = dict(extra.get("metadata") or {})
        fields = dict(meta.get("fields") or {})
        before = dict(fields.get(name) or {})
        fields[name] = {**before, "value": value, "confidence": 1.0, "corrected_by": actor, "corrected_at": when,
                        "read_as": before.get("read_as", before.get("value"))}
        meta["fields"] = fields
        meta["needs_review"] = [f for f in meta.get("needs_review") or [] if f != name]
        extra["metadata"] = meta
        doc.extra = extra
        flag_modified(doc, "extra")
        if name in TYPED:
            setattr(doc, TYPED[name], dt.date.fromisoformat(value) if name == "issue_date" else value)
        keys = {"doc_number": "number_key", "issuing_agency": "agency_key", "doc_type": "doc_type"}
        if name in keys:
            setattr(doc, keys[name], search_key(value))
        audit.append(s, audit.AuditEvent(action="correct_field", actor=actor, dossier_code=code,
                                         document_sha256=doc.sha256,
                                         details={"field": name, "value": value, "read_as": before.get("value")}))
