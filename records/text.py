"""Query terms and snippets over folded text (``common.folding``: diacritics and case ignored).

Why snippets are cut here from the original accented text with the match positions of the folded one:
they look the same whichever database answered, and a clerk reads the marks the document has.
"""

from __future__ import annotations

import re
import unicodedata

from sohoa.common.folding import fold, fold_with_offsets

__all__ = ["fold", "fold_with_offsets", "snippet", "terms"]

_TERM = re.compile(r"\w+", re.UNICODE)


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
