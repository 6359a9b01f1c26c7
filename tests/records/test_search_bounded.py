"""Search at scale, correctness only: superseded documents, match counts, bounded ranking, migration 0006.

The bounds (``records.search.CANDIDATES``, ``COUNT_CAP``) are lowered per test so a handful of documents
exercises what a million would; both back ends (``db_url``). No timing here: bench/bench_search_scale.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from sohoa.database import engine as db_engine
from sohoa.records import AttachMeta, Records, search
from tests.records.conftest import CODE, CODE2, make_pdf


def attach(records: Records, folder: Path, name: str, pages: list[str], *, code: str = CODE,
           supersedes: str | None = None) -> str:
    result = records.attach(make_pdf(folder, f"{name}.pdf", name), dossier_code=code, kind="component",
                            meta=AttachMeta(title=name, page_texts=pages, supersedes=supersedes))
    return result.document.sha256


def test_superseded_hidden_unless_asked(records: Records, tmp_path: Path) -> None:
    v1 = attach(records, tmp_path, "v1", ["Giấy phép xây dựng bản cũ"])
    attach(records, tmp_path, "v2", ["Giấy phép xây dựng bản mới"], supersedes=v1)
    attach(records, tmp_path, "other", ["Giấy khai sinh"])
    assert [h.title for h in records.search("giay phep")] == ["v2"]
    assert sorted(h.title for h in records.search("giay phep", include_superseded=True)) == ["v1", "v2"]
    result = records.search_result("giay phep")
    assert (result.total, result.capped) == (1, False)
    assert records.search_result("giay phep", include_superseded=True).total == 2


def test_counts_exact_then_capped(records: Records, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(6):
        attach(records, tmp_path, f"d{i}", [f"Quyết định số {i} của Ủy ban nhân dân"])
    attach(records, tmp_path, "x", ["Giấy khai sinh"])
    exact = records.search_result("uy ban", limit=2)
    assert (exact.total, exact.capped, len(exact.hits)) == (6, False, 2)
    monkeypatch.setattr(search, "COUNT_CAP", 4)
    capped = records.search_result("uy ban", limit=20)
    assert (capped.total, capped.capped) == (4, True), "beyond the cap: 'more than 4'"
    assert len(capped.hits) == 6, "the newest CANDIDATES are ranked and shown, whatever the count cap"
    assert records.search_result("khai sinh").total == 1
    assert records.search_result("không có từ này").total == 0


def test_ranking_within_the_newest_candidates(records: Records, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    attach(records, tmp_path, "old-best", ["Quảng Trị, Quảng Trị, Quảng Trị, Quảng Trị"])
    attach(records, tmp_path, "weak", ["Một lần Quảng Trị và nhiều chữ khác nữa ở đây"])
    attach(records, tmp_path, "strong", ["Tỉnh Quảng Trị, thành phố Đông Hà, Quảng Trị"])
    attach(records, tmp_path, "newest-weak", ["Quảng Trị ở cuối một câu dài về thủ tục hành chính"])
    assert records.search("quang tri")[0].title == "old-best", "everything fits the bound: the best is first"
    monkeypatch.setattr(search, "CANDIDATES", 3)
    titles = [h.title for h in records.search("quang tri")]
    assert titles[0] == "strong", f"the better match first within the newest three: {titles}"
    assert "old-best" not in titles, "only the newest candidates are ranked and shown"
    assert records.search_result("quang tri").total == 4, "the count is not bounded by the candidates"


def test_best_page_of_a_document(records: Records, tmp_path: Path) -> None:
    attach(records, tmp_path, "multi", ["Trang bìa", "Giấy khai sinh, bản sao giấy khai sinh", "khai sinh"])
    [hit] = records.search("khai sinh")
    assert (hit.page_no, hit.title) == (2, "multi")
    assert "[khai] [sinh]" in hit.snippet


def test_code_prefix_without_text_lists_newest_first(records: Records, tmp_path: Path) -> None:
    attach(records, tmp_path, "a", ["một"])
    attach(records, tmp_path, "b", ["hai"], code=CODE2)
    attach(records, tmp_path, "c", ["ba"], code=CODE2)
    result = records.search_result("", code_prefix=CODE2[:20])
    assert [h.title for h in result.hits] == ["c", "b"] and result.total == 2
    assert records.search_result("", code_prefix="000.00.31.h50-2209").total == 3, "prefix case does not matter"
    assert records.search_result("hai", code_prefix=CODE[:-2]).total == 0
    assert records.search("") == [], "no words and no filter: nothing, without a query"


def test_migration_0006_round_trip_keeps_search(records: Records, tmp_path: Path) -> None:
    attach(records, tmp_path, "a", ["Bản sao giấy chứng nhận quyền sử dụng đất", "Đông Hà"])
    attach(records, tmp_path, "b", ["Giấy khai sinh"])
    cfg = db_engine._alembic_config()
    with db_engine.writer(records.engine).begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")
    with records.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            found = conn.execute(text("SELECT count(*) FROM document_pages WHERE tsv @@ to_tsquery('simple', 'dong')"))
        else:
            found = conn.execute(text("SELECT count(*) FROM page_fts WHERE page_fts MATCH 'dong'"))
        assert found.scalar_one() == 1, "downgrade rebuilds the page-level index from the stored text"
    records.upgrade()
    assert [h.title for h in records.search("dong ha")] == ["a"]
    assert sorted(h.title for h in records.search("giấy")) == ["a", "b"]


def test_date_range_with_documents_attached_late(records: Records, tmp_path: Path) -> None:
    """The id range of a date range is exact: a document filed years later in an old dossier is found."""
    from datetime import date

    from tests.records.conftest import OTHER_UNIT

    attach(records, tmp_path, "2022-early", ["Quyết định cấp phép"])  # CODE: received 2022-09-06
    attach(records, tmp_path, "2023", ["Quyết định cấp phép"], code=OTHER_UNIT)  # received 2023-01-15
    attach(records, tmp_path, "2022-late", ["Quyết định cấp phép bổ sung"])
    def titles(**kw: object) -> list[str]:
        return sorted(h.title for h in records.search("quyet dinh", **kw))

    assert titles(date_from=date(2022, 9, 6), date_to=date(2022, 9, 6)) == ["2022-early", "2022-late"]
    assert titles(date_from=date(2023, 1, 1)) == ["2023"]
    assert titles(date_to=date(2022, 12, 31)) == ["2022-early", "2022-late"]
    assert titles(date_from=date(2030, 1, 1)) == []
    assert records.search_result("", date_from=date(2023, 1, 15), date_to=date(2023, 1, 15)).total == 1
