"""Reading order of side-by-side blocks: lines Tesseract read across a white gutter are split there, and
the run of rows they belong to is read left block first, then right block.

Why: Tesseract's column finder needs long columns to find its tab stops. A Decree-30 header (agency
name on the left, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" on the right, three lines each) and a page of
two short columns come back as single lines running across both ("UBND TỈNH QUẢNG TRỊ CỘNG HÒA XÃ HỘI
…"), for every page segmentation mode. A reader, the sidecar text and our own ``extract`` stage want
the agency block, then the national motto block. The fix works on the word boxes Tesseract already
gave (no second recognition, every word keeps its page box, so the text layer still lines up):

- *rows*: lines side by side at one height are one row (Tesseract may have put the two blocks' lines
  in blocks of their own), rows top to bottom;
- a *split row* has exactly one gap wider than ``GUTTER_LINE_HEIGHTS`` line heights and
  ``GUTTER_WORD_SPACES`` times its other word spaces; a table row has a gap at every ruled column, so
  it has two or more and keeps its order (tables read row by row);
- a *run* is at least ``MIN_SPLIT_LINES`` split rows whose gaps share one x-interval (the gutter), close
  together and of one text size, with the rows next to them that sit on one side of the gutter (a
  column's last, short line) or whose right block starts on it (columns that nearly touch, a speck
  read in the gutter); a row crossing the gutter (a centred title, a full-width paragraph) ends it;
- the run is emitted as its left parts in order, then its right parts.
Measured on the counter corpus's tuning split (``bench/tune_counter_ocr.py``,
``bench/results/counter-tuning.md``).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from sohoa.stages.model import OcrLine, OcrWord

GUTTER_LINE_HEIGHTS = 0.8  # a gap this many line heights wide separates blocks, not words,
GUTTER_WORD_SPACES = 2.0  # ... when it is also this many times the row's median word space
MIN_GUTTER_LINE_HEIGHTS = 0.5  # the gap shared by every line of a run must stay at least this wide
MIN_SPLIT_LINES = 2  # one wide gap on one line is a form's "label      value", not two blocks
MAX_LINE_GAP_HEIGHTS = 1.8  # rows further apart than this (vertically) are not one run (a paragraph
# break inside a column is about 1.4 line heights, the space above a Decree-30 title 2.3)
MAX_HEIGHT_RATIO = 1.25  # nor are rows whose text is this much larger or smaller (a title)


ROW_OVERLAP = 0.5  # lines side by side whose vertical extents overlap by half the shorter one: one row


@dataclass
class _Row:
    """Lines side by side at one height (one Tesseract line, or several it put in different blocks)."""

    lines: list[OcrLine]  # left to right
    top: int
    bottom: int
    height: float  # median word height
    gap: tuple[int, int] | None  # (left block's right edge, right block's left edge) on a split row

    @property
    def words(self) -> list[OcrWord]:
        return sorted((w for line in self.lines for w in line.words), key=lambda w: w.box[0])


def _rows(lines: list[OcrLine]) -> list[_Row]:
    """Lines grouped into rows, top to bottom (Tesseract's block order can put a column's first line
    before the title above it)."""
    rows: list[list[OcrLine]] = []
    for line in sorted((ln for ln in lines if ln.words), key=lambda ln: (ln.box[1] + ln.box[3]) / 2):
        if rows:
            row = rows[-1]
            top, bottom = min(ln.box[1] for ln in row), max(ln.box[3] for ln in row)
            overlap = min(bottom, line.box[3]) - max(top, line.box[1])
            side_by_side = all(ln.box[2] <= line.box[0] or line.box[2] <= ln.box[0] for ln in row)
            if side_by_side and overlap >= ROW_OVERLAP * min(bottom - top, line.box[3] - line.box[1]):
                row.append(line)
                continue
        rows.append([line])
    return [_describe(sorted(row, key=lambda ln: ln.box[0])) for row in rows]


def _describe(lines: list[OcrLine]) -> _Row:
    words = sorted((w for line in lines for w in line.words), key=lambda w: w.box[0])
    height = statistics.median(w.box[3] - w.box[1] for w in words)
    return _Row(lines, min(ln.box[1] for ln in lines), max(ln.box[3] for ln in lines), height,
                _gutter(words, height))


def _gutter(words: list[OcrWord], height: float) -> tuple[int, int] | None:
    """The row's one gap wider than ``GUTTER_LINE_HEIGHTS`` line heights and ``GUTTER_WORD_SPACES`` times
    its other word spaces, or None (no such gap, or several: a table row)."""
    gaps = [(words[i - 1].box[2], words[i].box[0]) for i in range(1, len(words))]
    wide = [g for g in gaps if g[1] - g[0] > GUTTER_LINE_HEIGHTS * max(height, 1.0)]
    if len(wide) != 1:
        return None
    others = [b - a for a, b in gaps if (a, b) != wide[0]]
    if others and wide[0][1] - wide[0][0] <= GUTTER_WORD_SPACES * statistics.median(others):
        return None
    return wide[0]


def _aligned(row: _Row, gutter: tuple[int, int]) -> tuple[int, int] | None:
    """Next to a run, a row whose blocks nearly touch: a word starts where the right block starts (it is
    left-aligned on ``gutter[1]``) and the word before it ends short of that. Specks of punctuation
    Tesseract reads in a gutter ("_", "-") are skipped."""
    words = [w for w in row.words if any(ch.isalnum() for ch in w.text) or w.box[2] - w.box[0] > row.height]
    height = max(row.height, 1.0)
    for before, after in zip(words, words[1:], strict=False):
        if abs(after.box[0] - gutter[1]) <= height / 3 and before.box[2] <= gutter[1] - height / 4:
            return before.box[2], after.box[0]
    return None


def _joins(row: _Row, gutter: tuple[int, int], height: float) -> str | None:
    """The side a row that has no gutter of its own takes next to a run, or None: it ends the run."""
    side = _side(row, gutter, height)
    if side is None and (touching := _aligned(row, gutter)) is not None:
        row.gap, side = touching, "split"  # split at its own boundary; the run's gutter stays
    return side


def _part(line: OcrLine, words: list[OcrWord]) -> OcrLine:
    """Words of ``line`` as a line of their own: same top and bottom, the same baseline in page space."""
    left = min(w.box[0] for w in words)
    slope, offset = line.baseline
    if (slope, offset) != (0.0, 0.0):
        offset += slope * (left - line.box[0])
    box = (left, line.box[1], max(w.box[2] for w in words), line.box[3])
    return OcrLine(words=words, box=box, baseline=(slope, offset))


def _side(row: _Row, gutter: tuple[int, int], height: float) -> str | None:
    """'left' / 'right' when ``row`` sits within one block: it ends before the gutter's left edge or
    starts after its right edge (give or take a line height), else None (a centred title crosses it)."""
    words = row.words
    tolerance = max(height, 1.0)
    if max(w.box[2] for w in words) <= gutter[0] + tolerance:
        return "left"
    if min(w.box[0] for w in words) >= gutter[1] - tolerance:
        return "right"
    return None


def _close(a: _Row, b: _Row, height: float) -> bool:
    """``b`` may continue a run of rows of text ``height`` high whose last row is ``a``."""
    similar = 1 / MAX_HEIGHT_RATIO <= b.height / max(height, 1.0) <= MAX_HEIGHT_RATIO
    return similar and b.top - a.bottom <= MAX_LINE_GAP_HEIGHTS * max(height, 1.0)


def _run_from(rows: list[_Row], start: int) -> tuple[list[str], tuple[int, int]] | None:
    """The side ("split", "left", "right") of each row of the run of side-by-side blocks that starts at
    split row ``start``, and the run's gutter; None when there is no such run."""
    first = rows[start]
    assert first.gap is not None
    gutter, sides = first.gap, ["split"]
    for end in range(start + 1, len(rows)):
        row = rows[end]
        if not _close(rows[end - 1], row, first.height):
            break
        if row.gap is not None:
            shared = (max(gutter[0], row.gap[0]), min(gutter[1], row.gap[1]))
            if shared[1] - shared[0] < MIN_GUTTER_LINE_HEIGHTS * max(first.height, 1.0):
                break
            gutter = shared
            sides.append("split")
            continue
        side = _joins(row, gutter, first.height)
        if side is None:
            break
        sides.append(side)
    return (sides, gutter) if sides.count("split") >= MIN_SPLIT_LINES else None


def _split(row: _Row) -> tuple[list[OcrLine], list[OcrLine]]:
    """The row's lines left and right of its gap; a line across the gap becomes two."""
    assert row.gap is not None
    cut = (row.gap[0] + row.gap[1]) / 2
    left: list[OcrLine] = []
    right: list[OcrLine] = []
    for line in row.lines:
        words = sorted(line.words, key=lambda w: w.box[0])
        before = [w for w in words if w.box[2] <= cut]
        after = [w for w in words if w.box[2] > cut]
        if before:
            left.append(line if not after else _part(line, before))
        if after:
            right.append(line if not before else _part(line, after))
    return left, right


def _runs(rows: list[_Row]) -> list[tuple[int, list[str]]]:
    """(first row, sides) of every run; a run also takes the rows just above it that join it (its first
    row may have had its gutter closed by a speck or by a long word)."""
    runs: list[tuple[int, list[str]]] = []
    i, done = 0, 0
    while i < len(rows):
        found = _run_from(rows, i) if rows[i].gap is not None else None
        if found is None:
            i += 1
            continue
        sides, gutter = found
        start = i
        while start - 1 >= done and _close(rows[start - 1], rows[start], rows[i].height) \
                and rows[start - 1].gap is None and (side := _joins(rows[start - 1], gutter, rows[i].height)):
            sides.insert(0, side)
            start -= 1
        runs.append((start, sides))
        i = done = start + len(sides)
    return runs


def reading_order(lines: list[OcrLine]) -> list[OcrLine]:
    """``lines`` in reading order: rows top to bottom, the lines of a row left to right, and a run of
    rows read across a gutter as its left block, then its right block (a line across the gutter
    becomes two lines)."""
    rows = _rows(lines)
    out: list[OcrLine] = []
    i = 0
    for start, sides in _runs(rows):
        for row in rows[i:start]:
            out += row.lines
        left: list[OcrLine] = []
        right: list[OcrLine] = []
        for row, side in zip(rows[start:start + len(sides)], sides, strict=True):
            if side == "split":
                parts = _split(row)
                left += parts[0]
                right += parts[1]
            else:
                (left if side == "left" else right).extend(row.lines)
        out += left + right
        i = start + len(sides)
    for row in rows[i:]:
        out += row.lines
    return out
