"""The one page order of sohoa: natural sort of file names (``scan2`` before ``scan10``).

Why one function: the order in which a document's files become its pages is decided in several places
(ingest of ``sohoa process``, the watch-folder scanner, the batch planner) and is also the order its
content identity is computed in (``common.hashing.content_identity``). If two of them sorted
differently, the same scans would get different page orders or identities depending on how they came
in. The key compares the file *name* first — NFC-normalised (scanners and SMB shares write both
forms of Vietnamese letters), case-folded, digit runs as numbers — and only then the whole path, so
the order is total and files with the same name in different folders still sort the same way every
time.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePath

_DIGITS = re.compile(r"(\d+)")

NaturalKey = tuple[tuple[object, ...], tuple[object, ...]]


def _parts(text: str) -> tuple[object, ...]:
    folded = unicodedata.normalize("NFC", text).casefold()
    # re.split with a group alternates text, digits, text…: equal positions always hold equal types
    return tuple(int(part) if index % 2 else part for index, part in enumerate(_DIGITS.split(folded)))


def natural_key(path: str | PurePath) -> NaturalKey:
    """Sort key of a file: its name, then its whole path, both compared naturally."""
    pure = PurePath(path)
    return _parts(pure.name), _parts(str(pure))
