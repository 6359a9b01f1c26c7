"""Decree-30 field extraction: the text helpers, the layout rules on hand-placed lines, and real pages
read by real Tesseract (the tuning page must come out whole; held-out pages are measured in
bench/bench_extract.py and only checked here for what must never happen)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sohoa.config.extract import ExtractSettings
from sohoa.config.settings import OcrSettings
from sohoa.stages.extract import FIELDS, extract
from sohoa.stages.extract_text import fold, initials, parse_date
from sohoa.stages.model import OcrLine, OcrWord, Page, PageOcr
from sohoa.stages.ocr import ocr_page
from tests.stages.decree30_pages import HELD_OUT, TUNING, fonts_present, render

AGENCIES = ["UBND TỈNH QUẢNG TRỊ", "SỞ TƯ PHÁP", "SỞ XÂY DỰNG", "ỦY BAN NHÂN DÂN HUYỆN GIO LINH"]
SIZE = (1654, 2339)  # A4 at 200 dpi


def _line(text: str, left: int, top: int, *, conf: float = 95.0, height: int = 36) -> OcrLine:
    words, x = [], left
    for token in text.split():
        width = 18 * len(token)
        words.append(OcrWord(token, (x, top, x + width, top + height), conf))
        x += width + 12
    return OcrLine(words, (left, top, x, top + height))


def test_fold_keeps_one_character_per_character() -> None:
    for text in ["Quảng Trị, ngày 06 tháng 9 năm 2022", "ĐỘC LẬP", "Số: 123/QĐ-UBND", "Ủy ban"]:
        assert len(fold(text)) == len(text), text
    assert fold("ngảy 6 thảng 9") == fold("ngày 6 tháng 9") == "NGAY 6 THANG 9"
    assert initials("ỦY BAN NHÂN DÂN TỈNH") == "UBNDT"


@pytest.mark.parametrize(("text", "day"), [("ngày 06 tháng 9 năm 2022", "2022-09-06"),
                                           ("ngay 6 thang 9 nam 2022", "2022-09-06"),
                                           ("ngảy 6 thảng 9 năm 2022", "2022-09-06"),
                                           ("06/9/2022", "2022-09-06"), ("không phải ngày", None)])
def test_dates_as_written_and_with_slips(text: str, day: str | None) -> None:
    parsed = parse_date(text)
    assert (parsed.isoformat() if parsed else None) == day


def test_layout_rules_on_placed_lines() -> None:
    """A header whose agency wraps onto two lines, a number read without the bar of its Đ, a motto
    line joined to the agency by OCR, a future date and a signer block."""
    lines = [_line("ỦY BAN NHÂN DÂN", 150, 150), _line("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 850, 150),
             _line("HUYỆN GIO LINH", 150, 200), _line("Số: 57/QD-UBND", 150, 270),
             _line("Gio Linh, ngày 14 tháng 11 năm 2099", 850, 270), _line("QUYẾT ĐỊNH", 700, 420),
             _line("Về việc cấp giấy phép", 600, 470), _line("Nơi nhận:", 150, 1700),
             _line("- Như trên;", 150, 1750), _line("- Lưu: VT.", 150, 1800), _line("TM. ỦY BAN NHÂN DÂN", 950, 1700),
             _line("CHỦ TỊCH", 1100, 1750), _line("Lê Văn Nam", 1080, 1950, conf=50.0)]
    got = extract([(PageOcr(lines), SIZE)], ExtractSettings(agencies=AGENCIES), today=dt.date(2026, 1, 1))
    values = {k: v.value for k, v in got.fields.items()}
    assert values["issuing_agency"] == "ỦY BAN NHÂN DÂN HUYỆN GIO LINH"
    assert values["doc_number"] == "57/QĐ-UBND"
    assert values["doc_type"] == "QUYẾT ĐỊNH" and values["subject"] == "Về việc cấp giấy phép"
    assert values["issue_date"] == "2099-11-14" and values["issue_place"] == "Gio Linh"
    assert values["signer_authority"] == "TM. ỦY BAN NHÂN DÂN" and values["signer_title"] == "CHỦ TỊCH"
    assert values["signer_name"] == "Lê Văn Nam" and values["recipients"] == "Như trên; Lưu: VT"
    assert "issue_date" in got.needs_review and got.problems["issue_date"] == "date_in_future"
    assert "signer_name" in got.needs_review, "a name read with 50% confidence must be reviewed"
    assert got.fields["doc_number"].page == 1 and got.fields["doc_number"].box[0] == 150
    assert set(got.to_dict()["fields"]) <= set(FIELDS)
    assert all(v["value"] for v in got.to_dict()["fields"].values()), "empty strings are never values"


def test_a_number_that_does_not_fit_its_agency_is_reviewed() -> None:
    lines = [_line("SỞ TƯ PHÁP", 150, 150), _line("Số: 9/QĐ-SXD", 150, 220)]
    got = extract([(PageOcr(lines), SIZE)], ExtractSettings())
    assert got.problems.get("doc_number") == "symbol_does_not_match_agency"


def test_a_page_without_the_layout_gives_nothing_rather_than_guesses() -> None:
    lines = [_line("Biên lai thu tiền phí, lệ phí", 150, 150), _line("Số tiền: 50.000 đồng", 150, 250)]
    assert extract([(PageOcr(lines), SIZE)], ExtractSettings()).fields == {}


def _read(doc: object) -> tuple[PageOcr, tuple[int, int]]:
    image = render(doc)  # type: ignore[arg-type]
    page = Page(image=image, dpi=(float(doc.dpi), float(doc.dpi)), source=Path(f"{doc.name}.png"))  # type: ignore[attr-defined]
    return ocr_page(page, OcrSettings()), (image.shape[1], image.shape[0])


@pytest.mark.slow
@pytest.mark.skipif(not fonts_present(), reason="fonts-liberation2, fonts-noto-core, fonts-dejavu-core")
@pytest.mark.parametrize("doc", TUNING, ids=[d.name for d in TUNING])
def test_tuning_page_through_tesseract(doc: object) -> None:
    got = extract([_read(doc)], ExtractSettings(agencies=AGENCIES), today=dt.date(2026, 12, 1))
    values = {k: v.value for k, v in got.fields.items()}
    wrong = {k: (values.get(k), v) for k, v in doc.truth.items() if values.get(k) != v}  # type: ignore[attr-defined]
    assert not wrong, f"fields read wrong (got, truth): {wrong}"


@pytest.mark.slow
@pytest.mark.skipif(not fonts_present(), reason="fonts-liberation2, fonts-noto-core, fonts-dejavu-core")
@pytest.mark.parametrize("doc", HELD_OUT, ids=[d.name for d in HELD_OUT])
def test_held_out_pages_never_invent(doc: object) -> None:
    """Held-out pages are not tuned on; what must hold anyway: nothing that is not on the page, and
    the core fields (number, date, type) right."""
    got = extract([_read(doc)], ExtractSettings(agencies=AGENCIES), today=dt.date(2026, 12, 1))
    truth = doc.truth  # type: ignore[attr-defined]
    invented = [k for k in got.fields if k not in truth]
    assert not invented, f"fields the page does not carry: {invented}"
    for key in ("doc_number", "issue_date", "doc_type"):
        assert got.fields[key].value == truth[key], (key, got.fields[key].value, truth[key])
