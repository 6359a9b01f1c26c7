"""Corrections of extracted result data (issue 16): stored with who and when, winning over the value as
read and over the typed columns, off the queue, and chained in the audit log — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sohoa.records import AttachMeta, Records
from sohoa.records.errors import DocumentNotFound, InvalidRecordInput
from sohoa.records.review import correct_field, review_queue
from tests.records.conftest import CODE, make_pdf


def _field(value: str, confidence: float) -> dict[str, object]:
    return {"value": value, "confidence": confidence, "page": 1, "box": [1, 2, 3, 4]}


def test_a_correction_wins_is_audited_and_leaves_the_queue(records: Records, tmp_path: Path) -> None:
    meta = {"fields": {"doc_number": _field("123/QD-STP", 0.6), "issue_date": _field("2022-09-06", 0.95)},
            "needs_review": ["doc_number"]}
    done = records.attach(make_pdf(tmp_path, "kq.pdf", "kết quả"), dossier_code=CODE, kind="result",
                          meta=AttachMeta(doc_number="123/QD-STP", extra={"metadata": meta}))
    doc_id = done.document.id
    [item] = review_queue(records)
    assert item.document_id == doc_id and item.needs_review == ["doc_number"]
    correct_field(records, doc_id, "doc_number", " 123/QĐ-STP ", actor="clerk:quay-1",
                  now=dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC))
    assert review_queue(records) == []
    [doc] = records.documents(CODE)
    fixed = doc.extra["metadata"]["fields"]["doc_number"]
    assert fixed["value"] == "123/QĐ-STP" and fixed["read_as"] == "123/QD-STP"
    assert fixed["corrected_by"] == "clerk:quay-1" and fixed["corrected_at"].startswith("2026-12-01T09:00")
    assert doc.doc_number == "123/QĐ-STP", "the typed column follows the correction"
    report = records.verify_audit()
    assert report.ok and report.events >= 2, report
    with pytest.raises(InvalidRecordInput):
        correct_field(records, doc_id, "issue_date", "6/9/2022", actor="clerk")
    with pytest.raises(InvalidRecordInput):
        correct_field(records, doc_id, "doc_number", "   ", actor="clerk")
    with pytest.raises(DocumentNotFound):
        correct_field(records, 999999, "doc_number", "1/QĐ", actor="clerk")
