"""Search and list by a result's data (issue 16): number exact and by prefix, agency, type and an issue
date range, all without marks, case or spaces — on SQLite and PostgreSQL; migration 0007 backfills."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from alembic import command
from sqlalchemy import text

from sohoa.database import engine as db_engine
from sohoa.records import AttachMeta, Records
from sohoa.records.review import correct_field
from tests.records.conftest import CODE, make_pdf

RESULTS = [("123/QĐ-UBND", "ỦY BAN NHÂN DÂN HUYỆN GIO LINH", "QUYẾT ĐỊNH", dt.date(2023, 5, 2)),
           ("124/QĐ-UBND", "ỦY BAN NHÂN DÂN HUYỆN GIO LINH", "QUYẾT ĐỊNH", dt.date(2024, 1, 9)),
           ("57/GP-STP", "SỞ TƯ PHÁP", "GIẤY PHÉP", dt.date(2024, 3, 1))]


def _file(records: Records, tmp_path: Path) -> list[int]:
    ids = []
    for i, (number, agency, kind, day) in enumerate(RESULTS):
        meta = AttachMeta(title=f"kq{i}", doc_number=number, issuing_agency=agency, issue_date=day,
                          page_texts=[f"Văn bản {number}"],
                          extra={"metadata": {"fields": {"doc_type": {"value": kind, "confidence": 0.9, "page": 1,
                                                                      "box": [0, 0, 1, 1]}}, "needs_review": []}})
        ids.append(records.attach(make_pdf(tmp_path, f"{i}.pdf", number), dossier_code=CODE, kind="result",
                                  meta=meta).document.id)
    return ids


def _titles(records: Records, query: str = "", **filters: object) -> list[str]:
    return sorted(h.title for h in records.search(query, **filters))


def test_filters_ignore_marks_case_and_spaces(records: Records, tmp_path: Path) -> None:
    _file(records, tmp_path)
    assert _titles(records, number="123/qd-ubnd") == ["kq0"]
    assert _titles(records, number=" 123 / QĐ-UBND ") == ["kq0"]
    assert _titles(records, number_prefix="12") == ["kq0", "kq1"]
    assert _titles(records, number_prefix="57/gp") == ["kq2"]
    assert _titles(records, agency="uy ban nhan dan huyen gio linh") == ["kq0", "kq1"]
    assert _titles(records, doc_type="giấy phép") == ["kq2"]
    assert _titles(records, doc_type="quyet dinh", issued_from=dt.date(2024, 1, 1)) == ["kq1"]
    assert _titles(records, issued_to=dt.date(2023, 12, 31)) == ["kq0"]
    assert _titles(records, "van ban", agency="so tu phap") == ["kq2"], "words and data filters together"
    assert _titles(records, number="999/QĐ") == []


def test_a_correction_moves_the_document_between_filters(records: Records, tmp_path: Path) -> None:
    ids = _file(records, tmp_path)
    correct_field(records, ids[2], "doc_number", "58/GP-STP", actor="clerk")
    assert _titles(records, number="57/gp-stp") == [] and _titles(records, number="58/GP-STP") == ["kq2"]


def test_migration_0007_backfills_the_keys(records: Records, tmp_path: Path) -> None:
    _file(records, tmp_path)
    cfg = db_engine._alembic_config()
    with db_engine.writer(records.engine).begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0006")
    with records.engine.connect() as conn:
        columns = {row[0] for row in conn.execute(text("SELECT * FROM documents LIMIT 0")).cursor.description}
    assert "number_key" not in columns, "downgrade drops the keys"
    records.upgrade()
    assert _titles(records, number="124/qd-ubnd") == ["kq1"] and _titles(records, doc_type="GIAY PHEP") == ["kq2"]
