"""Diacritic- and case-insensitive text folding, query terms and snippets.

Why our own folding: SQLite's ``unicode61 remove_diacritics`` strips combining marks but leaves
``Đ``/``đ`` (a distinct letter, not a decomposable one), and a clerk typing "dong ha" on a keyboard
without Telex must find "Đông Hà". Folding in Python gives SQLite and PostgreSQL the same terms, and
lets snippets be cut from the original accented text with the match positions of the folded one.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPECIAL = {"đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "ø": "o", "Ø": "o", "ł": "l", "Ł": "l"}
_TERM = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    special = _SPECIAL.get(ch)
    if special is not None:
        return special
    decomposed = unicodedata.normalize("NFD", ch)
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    return base.lower()


def fold(text: str) -> str:
    """Lower-case, strip diacritics, ``đ`` → ``d``; NFC first so decomposed input folds the same."""
    return "".join(_fold_char(ch) for ch in unicodedata.normalize("NFC", text))


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """Folded text plus, for each folded character, the index of its source character in ``text``."""
    out: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text):
        folded = _fold_char(ch)
        out.append(folded)
        offsets.extend([i] * len(folded))
    return "".join(out), offsets


def terms(query: str) -> list[str]:
    """Search terms of a query: folded word tokens, duplicates removed, order kept."""
    seen: dict[str, None] = {}
    for token in _TERM.findall(fold(query)):
        seen.setdefault(token, None)
    return list(seen)


def snippet(text: str, query_terms: list[str], width: int = 160, mark: tuple[str, str] = ("[", "]")) -> str:
    """A window of the original ``text`` around the first matched term, matches wrapped in ``mark``."""
    text = unicodedata.normalize("NFC", text)
    folded, offsets = fold_with_offsets(text)
    spans: list[tuple[int, int]] = []
    for term in query_terms:
        for m in re.finditer(rf"(?<!\w){re.escape(term)}(?!\w)", folded):
            spans.append((offsets[m.start()], offsets[m.end() - 1] + 1))
    spans.sort()
    if not spans:
        return " ".join(text[:width].split())
    first = spans[0][0]
    start = max(0, first - width // 3)
    end = min(len(text), start + width)
    start = max(0, min(start, end - width))
    parts: list[str] = []
    cursor = start
    for s, e in spans:
        if s < cursor or e > end:
            continue
        parts.append(text[cursor:s])
        parts.append(f"{mark[0]}{text[s:e]}{mark[1]}")
        cursor = e
    parts.append(text[cursor:end])
    body = " ".join("".join(parts).split())
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")
