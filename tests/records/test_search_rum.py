"""Migration 0009: reception-day id bounds (both back ends) and the optional RUM plan on PostgreSQL.

The RUM plan must give what the GIN plan gives (same documents, same order, same counts), read the
matches newest first from the index itself, and a database without the extension must still search
(migration 0009 skips the index; ``search.has_rum`` is False). Correctness only; speed is in
bench/bench_search_scale.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.orm import Session

from sohoa.config.records import RecordsSettings
from sohoa.database import engine as db_engine
from sohoa.records import Records, search
from tests.records.conftest import CODE, CODE2, OTHER_UNIT
from tests.records.test_search_bounded import attach
from tests.services import PostgresServer

PG = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


def _days(records: Records) -> dict[date, tuple[int, int]]:
    with records.engine.connect() as conn:
        rows = conn.execute(text("SELECT day, lo_id, hi_id FROM document_days")).all()
    return {(r.day if isinstance(r.day, date) else date.fromisoformat(r.day)): (r.lo_id, r.hi_id) for r in rows}


def _ids(records: Records) -> dict[str, int]:
    with records.engine.connect() as conn:
        return {r.title: r.id for r in conn.execute(text("SELECT title, id FROM documents"))}


def test_day_bounds_kept_at_attach_and_backfilled(records: Records, tmp_path: Path) -> None:
    attach(records, tmp_path, "a", ["Quyết định"])  # CODE: received 2022-09-06
    attach(records, tmp_path, "b", ["Quyết định"], code=OTHER_UNIT)  # 2023-01-15
    attach(records, tmp_path, "late", ["Quyết định bổ sung"])  # filed after b, in the 2022 dossier
    ids = _ids(records)
    expected = {date(2022, 9, 6): (ids["a"], ids["late"]), date(2023, 1, 15): (ids["b"], ids["b"])}
    assert _days(records) == expected, "a document filed late in an old dossier widens that day's bounds"
    cfg = db_engine._alembic_config()
    with db_engine.writer(records.engine).begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0007")
    records.upgrade()
    assert _days(records) == expected, "migration 0009 computes the bounds of existing documents"
    assert sorted(h.title for h in records.search("quyet dinh", date_from=date(2022, 9, 6),
                                                  date_to=date(2022, 9, 6))) == ["a", "late"]


def _candidates(records: Records, query: str, filters: search.Filters, *,
                rum: bool | None) -> tuple[list[int], int]:
    with Session(records.engine) as session:
        if rum is True:  # make the planner take the index even on a table of ten rows
            session.execute(text("SET LOCAL enable_seqscan = off"))
            session.execute(text("SET LOCAL enable_sort = off"))
            session.execute(text("SET LOCAL enable_bitmapscan = off"))
        ranked, count = search.candidates(session, search.terms(query), filters, rum=rum)
        return [i for i, _ in ranked], count


@PG
def test_rum_plan_matches_the_gin_plan(records: Records, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Session(records.engine) as session:
        assert search.has_rum(session), "the test server has postgresql-15-rum (scripts/setup.sh installs it)"
    texts = ["Giấy khai sinh của Nguyễn Văn An", "Quyết định cấp giấy phép xây dựng", "Giấy khai sinh bản sao",
             "Đơn đề nghị cấp giấy phép", "Giấy phép kinh doanh, giấy khai sinh", "Biên bản họp"]
    shas = {f"d{i}": attach(records, tmp_path, f"d{i}", [body], code=CODE if i < 3 else CODE2)
            for i, body in enumerate(texts)}
    attach(records, tmp_path, "d1-v2", ["Quyết định cấp giấy phép xây dựng, bản sửa"], supersedes=shas["d1"])
    cases = [("giay", search.Filters()), ("khai sinh", search.Filters()), ("giay phep", search.Filters()),
             ("giay", search.Filters(include_superseded=True)), ("khong co", search.Filters()),
             ("giay", search.Filters(date_from=date(2022, 9, 7), date_to=date(2022, 9, 7))),
             ("giay", search.Filters(date_from=date(2022, 9, 6), date_to=date(2022, 9, 6)))]
    for query, filters in cases:
        gin = _candidates(records, query, filters, rum=False)
        assert _candidates(records, query, filters, rum=True) == gin, (query, filters)
        assert _candidates(records, query, filters, rum=None) == gin, ("the plan search chooses", query, filters)
    monkeypatch.setattr(search, "CANDIDATES", 2)
    monkeypatch.setattr(search, "COUNT_CAP", 3)
    ids = _ids(records)
    newest, count = _candidates(records, "giay", search.Filters(), rum=True)
    assert sorted(newest) == sorted([ids["d1-v2"], ids["d4"]]) and count == 4, "the two newest; 'more than 3'"
    assert _candidates(records, "giay", search.Filters(), rum=False) == (newest, count)


@PG
def test_rum_scan_is_what_the_plan_uses(records: Records, tmp_path: Path) -> None:
    """With the index there, the words' matches come from an ordered scan of it, not a sort."""
    attach(records, tmp_path, "a", ["Giấy khai sinh"])
    with Session(records.engine) as session:
        session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(session.execute(text(
            "EXPLAIN SELECT d.id FROM documents d WHERE d.tsv @@ to_tsquery('simple', 'khai & sinh') "
            "ORDER BY d.id <=| CAST(2147483647 AS integer) LIMIT 1001")).scalars())
    assert search.RUM_INDEX in plan and "Order By" in plan and "Sort" not in plan, plan


@pytest.fixture
def unprivileged(postgres_server: PostgresServer, tmp_path: Path) -> Iterator[Records]:
    """A database owned by a role that may not CREATE EXTENSION rum (not a trusted extension)."""
    name = f"clerk_{uuid.uuid4().hex[:10]}"
    postgres_server.execute(f'CREATE ROLE "{name}" LOGIN')
    postgres_server.execute(f'CREATE DATABASE "{name}" OWNER "{name}"')
    url = f"postgresql+psycopg://{name}@/{name}?host={postgres_server.root}"
    try:
        with Records.open(RecordsSettings(database_url=url, store_path=tmp_path / "store"), tmp_path) as rec:
            yield rec
    finally:
        postgres_server.drop_database(name)
        postgres_server.execute(f'DROP ROLE "{name}"')


@pytest.mark.postgres
def test_without_rum_the_migration_skips_and_search_uses_gin(unprivileged: Records, tmp_path: Path) -> None:
    with unprivileged.engine.connect() as conn:
        assert db_engine.current_revision(unprivileged.engine) == db_engine.head_revision()
        assert conn.execute(text("SELECT count(*) FROM pg_extension WHERE extname = 'rum'")).scalar_one() == 0
        assert conn.execute(text("SELECT to_regclass(:i)"), {"i": search.RUM_INDEX}).scalar_one() is None
    with Session(unprivileged.engine) as session:
        assert not search.has_rum(session)
    attach(unprivileged, tmp_path, "a", ["Giấy khai sinh"])
    attach(unprivileged, tmp_path, "b", ["Giấy phép"])
    result = unprivileged.search_result("giay")
    assert [h.title for h in result.hits] == ["b", "a"] and result.total == 2
    assert [h.title for h in unprivileged.search("giay", date_from=date(2022, 9, 6))] == ["b", "a"]


@PG
def test_plan_chosen_from_the_match_estimate(records: Records, tmp_path: Path) -> None:
    """With statistics (ANALYZE), a word in every document is walked, a rare one read from RUM.

    8,000 documents: beyond about 5,000 matches gathering them all costs more than walking to the
    1,001st (``search._rum_pays``). Rows are copied in SQL from one attached document (attach is
    what fills the other tables; here only the tsvector and the ids matter).
    """
    attach(records, tmp_path, "base", ["Quyết định"])
    with records.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO documents (dossier_id, seq, kind, title, digitized_at, sha256, size, page_count, storage_key, "
            "source_files, low_confidence_pages, signatures, extra, version, created_at, received_date, tsv) "
            "SELECT dossier_id, seq + g, kind, title, digitized_at, md5(g::text) || md5(g::text), size, page_count, "
            "storage_key, source_files, low_confidence_pages, signatures, extra, version, created_at, received_date, "
            "to_tsvector('simple', CASE WHEN g % 1000 = 0 THEN 'quyet dinh hiem' ELSE 'quyet dinh' END) "
            "FROM documents, generate_series(1, 8000) g WHERE title = 'base'"))
        conn.execute(text("ANALYZE documents"))
    chosen: dict[str, bool] = {}
    with Session(records.engine) as session:
        rum_there, documents = search._pg_prelude(session)
        assert rum_there and documents > 8000
        for word in ("quyet", "hiem"):
            chosen[word] = search._rum_pays(session, {"q": word}, documents)
    assert chosen == {"quyet": False, "hiem": True}, chosen
    for word, total in (("quyet", 1001), ("hiem", 8)):
        result = records.search_result(word)
        assert result.total + result.capped == total
        assert _candidates(records, word, search.Filters(), rum=None) == _candidates(
            records, word, search.Filters(), rum=False)
