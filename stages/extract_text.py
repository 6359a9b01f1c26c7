"""The text side of extraction: OCR lines with their place on the page, folding, dates.

Why fold: OCR drops or swaps tone marks on faint print ("ngảy" for "ngày"), and headers are in upper
case; rules match on the folded form (marks removed, đ → D, upper case), which keeps one character per
character of an NFC string, so a match found in the folded text is cut from the text as read.
Why split lines: Tesseract sometimes joins the two columns of a Decree-30 header into one line; a gap
wider than a few character heights separates two columns.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sohoa.common.folding import fold as common_fold
from sohoa.stages.model import OcrWord, PageOcr

COLUMN_GAP = 1.5  # a gap of this many word heights between two words splits a line into columns


@dataclass(frozen=True)
class Line:
    """One line (or one column of a line) with its position as fractions of the page."""

    words: tuple[OcrWord, ...]
    text: str
    folded: str
    box: tuple[int, int, int, int]  # upright pixels
    top: float
    bottom: float
    center: float  # horizontal centre
    height: float
    confidence: float  # 0-1, the lowest word's
    upper_share: float  # share of letters in upper case


def fold(text: str) -> str:
    """Marks removed, đ/Đ → D, upper case, NFC in, same length out (``common.folding``, upper-cased one
    character at a time so that a match in the folded text is a slice of the text as read)."""
    text = unicodedata.normalize("NFC", text)
    out = []
    for char in text:
        folded = common_fold(char)
        out.append(folded.upper() if len(folded) == 1 and len(folded.upper()) == 1 else char)
    return "".join(out)


def initials(name: str) -> str:
    """Initials of an agency name in folded form: "ỦY BAN NHÂN DÂN" → "UBND"."""
    return "".join(word[0] for word in fold(name).split() if word[:1].isalpha())


def lines_of(ocr: PageOcr, size: tuple[int, int]) -> list[Line]:
    """The page's lines, split into columns at wide gaps, top to bottom."""
    width, height = max(1, size[0]), max(1, size[1])
    out: list[Line] = []
    for line in ocr.lines:
        words = [w for w in line.words if w.text.strip()]
        if not words:
            continue
        words.sort(key=lambda w: w.box[0])
        median = sorted(w.box[3] - w.box[1] for w in words)[len(words) // 2] or 1
        group: list[OcrWord] = [words[0]]
        for word in words[1:]:
            if word.box[0] - group[-1].box[2] > COLUMN_GAP * median:
                out.append(_line(group, width, height))
                group = []
            group.append(word)
        out.append(_line(group, width, height))
    out.sort(key=lambda ln: (round(ln.top, 3), ln.center))
    return out


def _line(words: list[OcrWord], width: int, height: int) -> Line:
    text = unicodedata.normalize("NFC", " ".join(w.text for w in words))
    box = (min(w.box[0] for w in words), min(w.box[1] for w in words), max(w.box[2] for w in words),
           max(w.box[3] for w in words))
    letters = [c for c in text if c.isalpha()]
    upper = sum(1 for c in letters if c.isupper()) / len(letters) if letters else 0.0
    return Line(tuple(words), text, fold(text), box, box[1] / height, box[3] / height,
                (box[0] + box[2]) / 2 / width, (box[3] - box[1]) / height,
                min(w.confidence for w in words) / 100.0, upper)


def join_lines(first: Line, second: Line) -> Line:
    """Two lines read as one (a name wrapped onto the next line), placed where both are."""
    words = [*first.words, *second.words]
    box = span_box([first, second])
    text = f"{first.text} {second.text}"
    return Line(tuple(words), text, fold(text), box, first.top, second.bottom, (first.center + second.center) / 2,
                second.bottom - first.top, min(first.confidence, second.confidence),
                (first.upper_share + second.upper_share) / 2)


def span_box(lines: list[Line]) -> tuple[int, int, int, int]:
    if not lines:
        return (0, 0, 0, 0)
    return (min(ln.box[0] for ln in lines), min(ln.box[1] for ln in lines), max(ln.box[2] for ln in lines),
            max(ln.box[3] for ln in lines))


@lru_cache(maxsize=1)
def _dateparser() -> Any:
    import dateparser  # imported on first use: it loads its language data (~0.2 s)

    return dateparser


def parse_date(text: str) -> dt.date | None:
    """A Vietnamese date as written in documents ("ngày 06 tháng 9 năm 2022", "06/9/2022"), OCR slips in
    the marks included; None when it is not a date."""
    cleaned = " ".join(text.replace(".", " ").split()).strip(" ,;")
    if not cleaned:
        return None
    found = _dateparser().parse(cleaned, languages=["vi"],
                                settings={"DATE_ORDER": "DMY", "STRICT_PARSING": True, "PREFER_DAY_OF_MONTH": "first"})
    return found.date() if found is not None else None
