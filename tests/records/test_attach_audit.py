"""A document's signing audit events filed with it: one write transaction, and never lost (SQLite and PostgreSQL).

``Records.attach(audit_events=…)`` appends them in the attach's own transaction; a document filed
already gets them in a transaction of their own; an attach that fails still records them (the
signatures were made) before the error reaches the caller.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from sohoa.config.records import RecordsSettings
from sohoa.records import AuditEvent, Records
from sohoa.records.errors import DossierRefused
from tests.durability import WriteCommits
from tests.records.conftest import CODE, make_pdf


def _signed(n: int) -> list[AuditEvent]:
    return [AuditEvent(action="sign", actor=f"key-{i}", dossier_code=CODE, details={"level": "B-B"})
            for i in range(n)]


def _actions(records: Records) -> list[str]:
    with records.engine.connect() as conn:
        return [row[0] for row in conn.execute(text("SELECT action FROM audit_events ORDER BY seq"))]


def test_signing_events_are_committed_with_the_document(records: Records, tmp_path: Path) -> None:
    commits = WriteCommits(records.engine)
    result = records.attach(make_pdf(tmp_path, "a.pdf", "a"), dossier_code=CODE, kind="component",
                            audit_events=_signed(2))
    assert result.created
    assert commits.count == 1, "two signatures and the document: one write transaction"
    assert _actions(records) == ["sign", "sign", "dossier_create", "attach"]
    assert records.verify_audit().ok


def test_events_of_a_document_filed_already_are_recorded_on_their_own(records: Records, tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path, "a.pdf", "a")
    records.attach(pdf, dossier_code=CODE, kind="component")
    again = records.attach(pdf, dossier_code=CODE, kind="component", audit_events=_signed(1))
    assert not again.created
    assert _actions(records)[-2:] == ["attach", "sign"]
    assert records.verify_audit().ok


def test_events_of_a_failed_attach_are_recorded_before_it_raises(records_settings: RecordsSettings,
                                                                 tmp_path: Path) -> None:
    refusing = records_settings.model_copy(update={"unknown_dossier": "refuse"})
    with Records.open(refusing, tmp_path) as records:
        with pytest.raises(DossierRefused):
            records.attach(make_pdf(tmp_path, "a.pdf", "a"), dossier_code=CODE, kind="component",
                           audit_events=_signed(1))
        assert _actions(records) == ["sign"]
        assert records.verify_audit().ok
