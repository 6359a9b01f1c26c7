"""Dossier code rules and text folding: pure functions, no database."""

from __future__ import annotations

from datetime import date

import pytest

from sohoa.config.records import RecordsSettings
from sohoa.records.codes import make_code, parse_code
from sohoa.records.errors import InvalidDossierCode
from sohoa.records.text import fold, snippet, terms

S = RecordsSettings()


def test_valid_code_is_split_into_unit_date_and_sequence() -> None:
    parsed = parse_code(" 000.00.31.H50-220906-0001 ", S)
    assert (parsed.code, parsed.unit, parsed.received, parsed.seq) == (
        "000.00.31.H50-220906-0001", "000.00.31.H50", date(2022, 9, 6), 1)


@pytest.mark.parametrize("bad, reason", [
    ("000.00.31.h50-220906-0001", "does not match"),      # lower case unit
    ("000..31.H50-220906-0001", "does not match"),        # empty group
    ("000.00.31.H50-220906-001", "does not match"),       # 3-digit sequence
    ("000.00.31.H50-221306-0001", "not a real date"),     # month 13
    ("000.00.31.H50-220906-0000", "starts at 1"),
    ("A" * 36 + "-220906-0001", "longer than 35"),
])
def test_malformed_code_is_rejected_with_the_expected_format(bad: str, reason: str) -> None:
    with pytest.raises(InvalidDossierCode) as info:
        parse_code(bad, S)
    assert reason in info.value.message("en"), info.value.message("en")
    assert "<unit code>-YYMMDD-NNNN" in info.value.message("en")
    assert "000.00.31.H50-220906-0001" in info.value.message("vi")


def test_make_code_pads_sequence_and_refuses_overflow() -> None:
    assert make_code("H50", date(2024, 1, 2), 7, S) == "H50-240102-0007"
    with pytest.raises(InvalidDossierCode):
        make_code("H50", date(2024, 1, 2), 10000, S)


def test_fold_removes_diacritics_and_d_stroke() -> None:
    assert fold("Quảng Trị – ĐÔNG HÀ, đường") == "quang tri – dong ha, duong"
    # decomposed input (NFD from some OCR engines) folds the same as precomposed
    import unicodedata

    assert fold(unicodedata.normalize("NFD", "Nguyễn Văn Hưởng")) == "nguyen van huong"
    assert terms("Quảng  TRỊ quang") == ["quang", "tri"]


def test_snippet_marks_accented_original_words() -> None:
    text = "Bộ phận tiếp nhận và trả kết quả tỉnh Quảng Trị, thành phố Đông Hà"
    out = snippet(text, terms("quang tri dong"), width=200)
    assert "[Quảng] [Trị]" in out and "[Đông]" in out, out
