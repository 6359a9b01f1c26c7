"""Extract a result document's data from its OCR words and their boxes, by the layout of Decree 30/2020.

Why layout and not only text: Appendix I of Decree 30 fixes where each field sits — the agencies and
``Số: 123/QĐ-UBND`` top left, the motto and ``Quảng Trị, ngày 06 tháng 9 năm 2022`` top right, the
document type and its subject centred below, ``Nơi nhận:`` bottom left and the signing authority, title
and name bottom right. Reading the lines in their region keeps a number in the body from being taken for
the document's number, and the signer's name from being confused with a name in the text.

Every field has a value, a confidence (the OCR confidence of its words times how well the rule matched),
its page and its box (upright pixels of that page). ``needs_review`` lists the fields under the
configured confidence and those that fail a check (a date in the future, a number whose symbol does not
fit the issuing agency). Matching is done on a *folded* form (no marks, upper case) so OCR slips in tone
marks ("ngảy 6 thảng 9") still match; values are reported as read, or as the listed agency name when a
fuzzy match (rapidfuzz) corrects them. Dates are normalised by dateparser (Vietnamese).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from sohoa.config.extract import ExtractSettings
from sohoa.stages.extract_text import Line, fold, initials, join_lines, lines_of, parse_date, span_box
from sohoa.stages.model import PageOcr

FIELDS = ("issuing_agency", "parent_agency", "doc_number", "doc_type", "issue_place", "issue_date", "subject",
          "signer_authority", "signer_title", "signer_name", "recipients", "valid_until")
DOC_TYPES = ("QUYẾT ĐỊNH", "GIẤY PHÉP", "THÔNG BÁO", "GIẤY CHỨNG NHẬN", "GIẤY XÁC NHẬN", "NGHỊ QUYẾT", "CHỈ THỊ",
             "TỜ TRÌNH", "BÁO CÁO", "KẾ HOẠCH", "BIÊN BẢN", "HƯỚNG DẪN", "CÔNG VĂN", "GIẤY MỜI", "QUY ĐỊNH",
             "GIẤY ỦY QUYỀN", "GIẤY GIỚI THIỆU", "THÔNG TƯ", "NGHỊ ĐỊNH", "CHỨNG CHỈ", "PHIẾU CHUYỂN")
AUTHORITY = re.compile(r"^(TM|KT|KI|K1|TL|TI|T1|TUQ|TUO|Q|TP)\s*[.:,]\s*\S")
# what OCR makes of the authority abbreviations in bold capitals ("KI." for "KT.")
AUTHORITY_SLIPS = {"KI": "KT", "K1": "KT", "TI": "TL", "T1": "TL", "TUO": "TUQ"}
NUMBER = re.compile(r"\bSO\s*[:;.]?\s*(\d{1,6}\s*/\s*(?:\d{4}\s*/\s*)?[A-Z0-9][A-Z0-9\-]*)")
DATE_LINE = re.compile(r"^(?P<place>[^,]{2,40}),\s*NGAY\s+\S+\s+THANG\s+\S+\s+NAM\s+\S+")
VALIDITY = re.compile(r"(?:CO\s+(?:GIA\s+TRI|HIEU\s+LUC)|THOI\s+HAN)[^.]{0,40}?(?:DEN|TOI)\s+(?:HET\s+)?"
                      r"(NGAY\s+\d{1,2}\s+THANG\s+\d{1,2}\s+NAM\s+\d{4}|\d{1,2}\s*/\s*\d{1,2}\s*/\s*\d{4})")
PLACE_WORDS = ("TINH ", "HUYEN ", "THANH PHO ", "THI XA ", "THI TRAN ", "XA ", "PHUONG ", "QUAN ")
# Titles and the bodies a signer signs for (Decree 30, Appendix I): an OCR'd line whose folded form equals
# one of them is written as listed (the marks restored); anything else stays as read.
TITLES = ("CHỦ TỊCH", "PHÓ CHỦ TỊCH", "GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "TRƯỞNG PHÒNG", "PHÓ TRƯỞNG PHÒNG",
          "CHÁNH VĂN PHÒNG", "PHÓ CHÁNH VĂN PHÒNG", "BỘ TRƯỞNG", "THỨ TRƯỞNG", "CỤC TRƯỞNG", "PHÓ CỤC TRƯỞNG",
          "CHI CỤC TRƯỞNG", "TRƯỞNG BAN", "PHÓ TRƯỞNG BAN", "CHÁNH THANH TRA", "THỦ TRƯỞNG", "ỦY BAN NHÂN DÂN",
          "HỘI ĐỒNG NHÂN DÂN", "BAN THƯỜNG VỤ", "BAN CHẤP HÀNH", "THƯỜNG TRỰC")
# Document-type abbreviations that open a number's symbol (Decree 30, Appendix III), by folded form.
TYPE_SYMBOLS = {fold(s): s for s in ("QĐ", "NQ", "CT", "QC", "QyĐ", "TB", "HD", "CTr", "KH", "PA", "ĐA", "DA",
                                     "BC", "BB", "TTr", "HĐ", "CĐ", "GUQ", "GM", "GGT", "GNP", "PG", "PC", "PB",
                                     "GP", "GCN", "GXN", "TT", "NĐ")}
MOTTO = ("CONG HOA XA HOI CHU NGHIA VIET NAM", "DOC LAP - TU DO - HANH PHUC")


@dataclass(frozen=True)
class ExtractedField:
    value: str
    confidence: float
    page: int  # 1-based
    box: tuple[int, int, int, int]

    def to_dict(self) -> dict[str, object]:
        return {"value": self.value, "confidence": round(self.confidence, 3), "page": self.page,
                "box": list(self.box)}


@dataclass
class Extracted:
    fields: dict[str, ExtractedField] = field(default_factory=dict)
    needs_review: list[str] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)  # field → the check it failed (English code)
    page_sizes: dict[int, tuple[int, int]] = field(default_factory=dict)  # page → upright (width, height)

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"fields": {k: v.to_dict() for k, v in self.fields.items()},
                                   "needs_review": self.needs_review}
        if self.page_sizes:  # so that a box can be drawn on the page image (the review page)
            data["page_sizes"] = {str(k): list(v) for k, v in self.page_sizes.items()}
        return data


def extract(pages: list[tuple[PageOcr, tuple[int, int]]], settings: ExtractSettings,
            today: dt.date | None = None, numbers: list[int] | None = None) -> Extracted:
    """The Decree-30 fields of a document; ``pages`` are (OCR, (width, height) in upright pixels) of the
    first page and, when there are more, the last ones (the signature block is on the last page that
    has it); ``numbers`` are their 1-based page numbers (default 1, 2, …)."""
    out = Extracted()
    if not pages:
        return out
    numbers = numbers or list(range(1, len(pages) + 1))
    first, size = pages[0]
    lines = lines_of(first, size)
    _header(lines, out, settings)
    _title_and_subject(lines, out)
    for (ocr, page_size), number in reversed(list(zip(pages, numbers, strict=True))):
        _signature_block(lines_of(ocr, page_size), number, out)
        if "signer_name" in out.fields or "signer_title" in out.fields:
            break
    for (ocr, page_size), number in zip(pages, numbers, strict=True):
        _validity(lines_of(ocr, page_size), number, out)
        if "valid_until" in out.fields:
            break
    _check(out, settings, today or dt.date.today())
    return out


def _put(out: Extracted, name: str, value: str, lines: list[Line], page: int, quality: float) -> None:
    value = " ".join(value.split()).strip(" :;,.-")
    if not value or name in out.fields:
        return
    confidence = quality * min(line.confidence for line in lines) if lines else quality
    out.fields[name] = ExtractedField(value, max(0.0, min(1.0, confidence)), page, span_box(lines))


def _header(lines: list[Line], out: Extracted, settings: ExtractSettings) -> None:
    """Top left: parent and issuing agency (upper case), then the number; top right: place and date."""
    top = [ln for ln in lines if ln.top < 0.35]
    left = [ln for ln in top if ln.center < 0.5 and not any(m in ln.folded for m in MOTTO)]
    for line in top:
        found = NUMBER.search(line.folded)
        if found and line.center < 0.6:
            start = line.folded.index(found.group(1))
            raw = line.text[start:start + len(found.group(1))] if len(line.text) == len(line.folded) else \
                found.group(1)
            _put(out, "doc_number", _symbol_marks(raw.replace(" ", "")), [line], 1, 1.0)
            break
    number_top = next((ln.top for ln in top if NUMBER.search(ln.folded)), 0.35)
    agencies = _joined([ln for ln in left if ln.top < number_top and ln.upper_share > 0.8 and len(ln.folded) > 3])
    if agencies:
        *parents, issuing = agencies
        name, quality = _agency(issuing.text, settings)
        _put(out, "issuing_agency", name, [issuing], 1, quality)
        if parents:
            name, quality = _agency(" ".join(p.text for p in parents), settings)
            _put(out, "parent_agency", name, parents, 1, quality)
    for line in top:
        found = DATE_LINE.search(line.folded)
        if found and line.center > 0.4:
            place_end = len(found.group("place"))
            _put(out, "issue_place", line.text[:place_end], [line], 1, 1.0)
            parsed = parse_date(line.text[place_end + 1:])
            if parsed is not None:
                _put(out, "issue_date", parsed.isoformat(), [line], 1, 1.0)
            break


def _joined(lines: list[Line]) -> list[Line]:
    """Header lines with an agency name that wraps ("ỦY BAN NHÂN DÂN" / "HUYỆN GIO LINH") joined into one."""
    out: list[Line] = []
    for line in lines:
        if out and line.folded.startswith(PLACE_WORDS) and not out[-1].folded.startswith(("UBND", "SO ", "BO ")):
            prev = out.pop()
            out.append(join_lines(prev, line))
        else:
            out.append(line)
    return out


def _agency(text: str, settings: ExtractSettings) -> tuple[str, float]:
    """The listed agency an OCR'd name stands for (and how sure), or the name as read."""
    if not settings.agencies:
        return text, 0.9
    folded = [fold(a) for a in settings.agencies]
    best = process.extractOne(fold(text), folded, scorer=fuzz.ratio)
    if best is not None and best[1] >= settings.agency_min_score:
        return settings.agencies[best[2]], best[1] / 100.0
    return text, 0.6  # not one of the province's agencies: shown, but reviewed


def _title_and_subject(lines: list[Line], out: Extracted) -> None:
    """Centred below the header: the document type (upper case) and its subject (``Về việc …``);
    an official letter has no type line but ``V/v …`` under its number."""
    folded_types = [fold(t) for t in DOC_TYPES]
    for i, line in enumerate(lines):
        if line.top > 0.6:
            break
        if line.folded.startswith(("V/V", "V / V")) and line.center < 0.6:
            _put(out, "doc_type", "CÔNG VĂN", [line], 1, 0.9)
            _put(out, "subject", _continued(lines, i, line.text.split(" ", 1)[-1] if " " in line.text else ""),
                 [line], 1, 1.0)
            return
        if abs(line.center - 0.5) > 0.15 or line.upper_share < 0.8:
            continue
        best = process.extractOne(line.folded, folded_types, scorer=fuzz.ratio)
        if best is None or best[1] < 85:
            continue
        _put(out, "doc_type", DOC_TYPES[best[2]], [line], 1, best[1] / 100.0)
        for j in range(i + 1, min(i + 4, len(lines))):
            nxt = lines[j]
            if nxt.folded.startswith(("VE VIEC", "V/V")) or (abs(nxt.center - 0.5) < 0.15 and nxt.upper_share < 0.5):
                _put(out, "subject", _continued(lines, j, nxt.text), [nxt], 1, 1.0)
                break
        return


def _continued(lines: list[Line], i: int, text: str) -> str:
    """A subject that wraps onto the next centred line (close below, not upper case, not a new block)."""
    here = lines[i]
    parts = [text]
    for nxt in lines[i + 1:i + 3]:
        if nxt.top - here.bottom > 1.2 * here.height or nxt.upper_share > 0.8 or nxt.folded.startswith("CAN CU"):
            break
        parts.append(nxt.text)
        here = nxt
    return " ".join(parts)


def _signature_block(lines: list[Line], page: int, out: Extracted) -> None:
    """Bottom of the last page: ``Nơi nhận:`` and its bullets on the left; authority, title and the
    signer's name (the last line of the right column, under the seal) on the right."""
    start = next((i for i, ln in enumerate(lines) if ln.folded.startswith("NOI NHAN")), None)
    if start is not None:
        recipients = [ln for ln in lines[start + 1:]
                      if ln.center < 0.45 and ln.text.lstrip().startswith(("-", "+", "•"))]
        if recipients:
            _put(out, "recipients", "; ".join(r.text.lstrip("-+• ").rstrip(";,.") for r in recipients),
                 recipients, page, 1.0)
    anchor_top = lines[start].top if start is not None else 0.55
    right = [ln for ln in lines if ln.center > 0.5 and ln.top >= anchor_top - 0.05]
    authority = next((i for i, ln in enumerate(right) if AUTHORITY.match(ln.folded)), None)
    title_at = authority + 1 if authority is not None else None
    if authority is not None:
        _put(out, "signer_authority", _listed(right[authority].text), [right[authority]], page, 1.0)
    else:
        title_at = next((i for i, ln in enumerate(right) if ln.upper_share > 0.8 and len(ln.folded) > 4), None)
    if title_at is not None and title_at < len(right) and right[title_at].upper_share > 0.8:
        _put(out, "signer_title", _listed(right[title_at].text), [right[title_at]], page, 1.0)
        names = [ln for ln in right[title_at + 1:] if _looks_like_name(ln.text)]
        if names:
            _put(out, "signer_name", names[-1].text, [names[-1]], page, 0.95)


def _listed(text: str) -> str:
    """A title or authority line written as listed when it is one of them read with slips
    ("KI. GLÁM ĐỐC" → "KT. GIÁM ĐỐC"): the lists are fixed, OCR of bold capitals is not."""
    found = AUTHORITY.match(fold(text))
    prefix, rest = "", text
    if found:
        prefix = AUTHORITY_SLIPS.get(found.group(1), found.group(1))
        rest = text[found.end() - 1:]
    best = process.extractOne(fold(rest).strip(), [fold(t) for t in TITLES], scorer=fuzz.ratio)
    canonical = TITLES[best[2]] if best is not None and best[1] >= 85 else rest.strip()
    return f"{prefix}. {canonical}" if prefix else canonical


def _symbol_marks(number: str) -> str:
    """A number's type abbreviation with its marks restored ("123/QD-STP" → "123/QĐ-STP"): the list of
    abbreviations is fixed, and OCR drops the bar of the Đ."""
    head, _, symbol = number.rpartition("/")
    first, dash, rest = symbol.partition("-")
    if dash and fold(first) in TYPE_SYMBOLS:
        first = TYPE_SYMBOLS[fold(first)]
    return f"{head}/{first}{dash}{rest}" if head else number


def _agency_symbol(number: str) -> str:
    """The issuing agency's part of a number's symbol: after the type ("QĐ-STP" → STP), else first."""
    symbol = number.rpartition("/")[2]
    first, dash, rest = symbol.partition("-")
    return fold(rest.split("-")[0] if dash and fold(first) in TYPE_SYMBOLS else first)


def _looks_like_name(text: str) -> bool:
    words = text.split()
    return 2 <= len(words) <= 6 and all(w[:1].isupper() for w in words) and not all(w.isupper() for w in words)


def _validity(lines: list[Line], page: int, out: Extracted) -> None:
    for line in lines:
        found = VALIDITY.search(line.folded)
        if found:
            parsed = parse_date(found.group(1))
            if parsed is not None:
                _put(out, "valid_until", parsed.isoformat(), [line], page, 0.95)
            return


def _check(out: Extracted, settings: ExtractSettings, today: dt.date) -> None:
    """Fields under the confidence threshold, and the checks a clerk would make, go to review."""
    issued = out.fields.get("issue_date")
    if issued is not None and dt.date.fromisoformat(issued.value) > today:
        out.problems["issue_date"] = "date_in_future"
    number, agency = out.fields.get("doc_number"), out.fields.get("issuing_agency")
    if number is not None and agency is not None:
        symbol = _agency_symbol(number.value)
        if symbol and symbol not in initials(agency.value) and not initials(agency.value).startswith(symbol[:2]):
            out.problems["doc_number"] = "symbol_does_not_match_agency"
    valid, issued = out.fields.get("valid_until"), out.fields.get("issue_date")
    if valid is not None and issued is not None and valid.value < issued.value:
        out.problems["valid_until"] = "before_issue_date"
    low = [name for name, f in out.fields.items() if f.confidence < settings.review_below]
    out.needs_review = [name for name in FIELDS if name in out.problems or name in low]
