"""Choice-based correction: where Tesseract's first reading of a word is not a Vietnamese syllable,
take the reading made of its per-character alternatives that is one.

Why per-character alternatives and not a spelling corrector: an edit-distance corrector invents
letters the page never showed; Tesseract's alternatives (hOCR with ``lstm_choice_mode=2``: for each
character of the best path, the other characters the model considered there, with confidences) are
readings of *these* pixels. A faint tone mark typically shows up as the second choice (``Ạ`` behind
``A``), so when ``tiêp`` is not a syllable but ``tiếp`` is among the alternatives, it is taken.

Policy, in order: a word that is already a valid syllable (by the rules or the dictionary: a rare
name is not "corrected" into a common word), holds a digit, or has no alternatives, is kept.
Otherwise candidates change one character (or two when one change gives nothing) to one of its
alternatives, in the word's own case; the best-ranked dictionary syllable wins, then the best
rule-valid one. Leading/trailing punctuation is kept aside and put back. (Measured: also replacing
rule-valid words that are missing from hunspell-vi made the tuning pages worse.)
"""

from __future__ import annotations

import itertools
import unicodedata
from dataclasses import dataclass

from sohoa.stages.vietnamese import known

Choice = tuple[str, float]  # (character, confidence 0-100)

MAX_ALTERNATIVES = 5  # per character, besides the first reading
_EDGE = ".,:;!?()[]{}\"'«»“”‘’-–—/…"


@dataclass(frozen=True)
class Correction:
    text: str
    changes: int  # characters replaced (0 = kept)


def _case_like(char: str, model: str) -> str:
    return char.upper() if model.isupper() else char.lower() if model.islower() else char


def _split_edges(text: str) -> tuple[str, str, str]:
    start, end = 0, len(text)
    while start < end and text[start] in _EDGE:
        start += 1
    while end > start and text[end - 1] in _EDGE:
        end -= 1
    return text[:start], text[start:end], text[end:]


def correct_word(text: str, choices: list[list[Choice]]) -> Correction:
    """The word, or the best syllable built from its alternatives (see the module policy).

    ``choices[i]`` are the alternatives of the i-th character of ``text`` (NFC), best first; the
    first entry is normally the character itself. Lengths that do not line up leave the word as is.
    """
    text = unicodedata.normalize("NFC", text)
    keep = Correction(text, 0)
    if len(choices) != len(text) or any(ch.isdigit() for ch in text):
        return keep
    head, core, tail = _split_edges(text)
    if not core or not any(ch.isalpha() for ch in core):
        return keep
    if known(core):
        return keep
    offset = len(head)
    slots = []
    for i, ch in enumerate(core):
        options = []
        for alt, conf in choices[offset + i][: MAX_ALTERNATIVES + 1]:
            alt = unicodedata.normalize("NFC", alt)
            if len(alt) != 1 or not alt.isalpha() or not ch.isalpha():
                continue
            alt = _case_like(alt, ch)
            if alt != ch and alt not in [o for o, _c in options]:
                options.append((alt, conf))
        slots.append(options)
    best: tuple[tuple[int, float], str] | None = None
    for changes in (1, 2):
        for positions in itertools.combinations([i for i, s in enumerate(slots) if s], changes):
            for picks in itertools.product(*(list(enumerate(slots[p])) for p in positions)):
                letters = list(core)
                rank_sum, conf_sum = 0, 0.0
                for p, (rank, (alt, conf)) in zip(positions, picks, strict=True):
                    letters[p] = alt
                    rank_sum += rank
                    conf_sum += conf
                candidate = "".join(letters)
                level = known(candidate)
                if level:
                    score = (-(level * 10) + rank_sum, -conf_sum)
                    if best is None or score < best[0]:
                        best = (score, candidate)
        if best is not None:
            return Correction(head + best[1] + tail, changes)
    return keep
