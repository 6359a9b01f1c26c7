"""Audit chain: edits, removals and truncation are detected (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from sohoa.records import AuditEvent, Records
from tests.records.conftest import CODE, make_pdf


@pytest.fixture
def chained(records: Records, tmp_path) -> Records:
    for i in range(3):
        records.attach(make_pdf(tmp_path, f"{i}.pdf", str(i)), dossier_code=CODE, kind="component")
    records.record_audit(AuditEvent(action="sign", actor="Nhung", dossier_code=CODE, details={"level": "B-T"}))
    return records


def _sql(records: Records, sql: str) -> None:
    with records.engine.begin() as conn:
        conn.execute(text(sql))


def test_intact_chain_verifies(chained: Records) -> None:
    report = chained.verify_audit()
    assert report.ok, report.problems
    assert (report.events, report.head_seq) == (5, 5)


def test_edited_event_is_detected(chained: Records) -> None:
    _sql(chained, "UPDATE audit_events SET actor = 'someone else' WHERE seq = 3")
    report = chained.verify_audit()
    assert any("#3" in p and "edited" in p for p in report.problems), report.problems


def test_removed_event_is_detected(chained: Records) -> None:
    _sql(chained, "DELETE FROM audit_events WHERE seq = 2")
    problems = chained.verify_audit().problems
    assert any("missing" in p for p in problems) and any("link" in p for p in problems), problems


def test_truncated_tail_is_detected(chained: Records) -> None:
    _sql(chained, "DELETE FROM audit_events WHERE seq = 5")
    problems = chained.verify_audit().problems
    assert any("head records #5" in p for p in problems), problems


def test_unknown_action_is_refused(records: Records) -> None:
    with pytest.raises(ValueError):
        records.record_audit(AuditEvent(action="rename", actor="x"))
