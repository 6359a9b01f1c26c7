"""Search: diacritic/case-insensitive, ranked, filtered, with accented snippets (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest

from sohoa.records import AttachMeta, Records
from tests.records.conftest import CODE, CODE2, OTHER_UNIT, make_pdf


@pytest.fixture
def filled(records: Records, tmp_path) -> Records:
    docs = [
        (CODE, "component", ["Bộ phận tiếp nhận và trả kết quả tỉnh Quảng Trị", "Giấy khai sinh của trẻ em"]),
        (CODE, "result", ["QUYẾT ĐỊNH cấp giấy phép xây dựng tại thành phố Đông Hà, tỉnh Quảng Trị. "
                          "Ủy ban nhân dân tỉnh Quảng Trị quyết định."]),
        (CODE2, "component", ["Đơn đề nghị đăng ký kinh doanh hộ cá thể"]),
        (OTHER_UNIT, "copy", ["Bản sao điện tử giấy chứng nhận quyền sử dụng đất, Quảng Trị"]),
    ]
    for i, (code, kind, pages) in enumerate(docs):
        records.attach(make_pdf(tmp_path, f"{i}.pdf", str(i)), dossier_code=code, kind=kind,
                       meta=AttachMeta(title=f"doc {i}", page_texts=pages))
    return records


@pytest.mark.parametrize("query", ["quang tri", "QUẢNG TRỊ", "Quang Tri", "quảng tri"])
def test_diacritics_and_case_do_not_matter(filled: Records, query: str) -> None:
    titles = sorted(h.title for h in filled.search(query))
    assert titles == ["doc 0", "doc 1", "doc 3"], f"{query!r} found {titles}"


def test_d_stroke_matches_plain_d(filled: Records) -> None:
    hits = filled.search("dong ha")
    assert [h.title for h in hits] == ["doc 1"], hits
    assert "[Đông] [Hà]" in hits[0].snippet, hits[0].snippet
    assert [h.title for h in filled.search("Đơn đề nghị")] == ["doc 2"]


def test_ranking_prefers_more_occurrences(filled: Records) -> None:
    hits = filled.search("quang tri")
    assert hits[0].title == "doc 1", f"the page naming Quảng Trị three times should rank first: {hits}"
    assert hits[0].score >= hits[-1].score


def test_hit_names_best_page(filled: Records) -> None:
    [hit] = filled.search("khai sinh")
    assert (hit.title, hit.page_no, hit.dossier_code) == ("doc 0", 2, CODE)
    assert "[khai] [sinh]" in hit.snippet


def test_filters(filled: Records) -> None:
    def titles(**filters: object) -> list[str]:
        return sorted(h.title for h in filled.search("quang tri", **filters))

    assert titles(kind="result") == ["doc 1"]
    assert titles(code_prefix="H50.22-") == ["doc 3"]
    assert titles(unit="000.00.31.H50") == ["doc 0", "doc 1"]
    assert titles(date_from=date(2023, 1, 1)) == ["doc 3"]
    assert titles(date_to=date(2022, 9, 6)) == ["doc 0", "doc 1"]
    assert filled.search("giấy", code_prefix="000.00.31.H50-220907") == []


def test_nothing_found_and_odd_queries(filled: Records) -> None:
    assert filled.search("không có từ này xyz") == []
    assert filled.search("  ,;\"*  ") == [], "a query without words must not reach the database"
    assert [h.title for h in filled.search('"kinh doanh" * ( -')] == ["doc 2"], "FTS syntax is not interpreted"
    assert len(filled.search("quang tri", limit=1)) == 1
