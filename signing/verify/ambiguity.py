"""Dictionaries that define a key twice where signatures are found: readers then disagree on the file.

Why: PDF says a dictionary's keys are unique, and each library resolves a repeated one its own way:
pyHanko keeps the first value, qpdf and pikepdf the last. A catalog that lists ``/AcroForm`` twice
(what @signpdf's string-level placeholder leaves after another tool's signature) shows one reader one
form and another reader another: the same file has different signatures depending on who looks. That
is a parser differential, and the verdict is "malformed", not whatever one parser happens to see.

How: the catalog and an indirect ``/AcroForm`` dictionary are read again in each revision with the
reader in strict mode, where pyHanko raises on a repeated key instead of logging it. Only that error
counts: anything else strict mode dislikes in an old producer's file is not judged here.
"""

from __future__ import annotations

import re

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfStrictReadError
from pyhanko.pdf_utils.reader import PdfFileReader

from sohoa.signing.pdfinput import LIBRARY_FAILURES

_REPEATED = re.compile(r"Multiple definitions in dictionary at byte (0x[0-9a-fA-F]+) for key (/\S+)")


def repeated_keys(reader: PdfFileReader) -> list[tuple[str, int, int]]:
    """(key, byte offset, revision) of each repeated key in the catalog or the form, oldest first."""
    try:
        refs = [reader.trailer.raw_get("/Root")]
        form = reader.root.raw_get("/AcroForm")
        revisions = reader.xrefs.total_revisions
    except LIBRARY_FAILURES:
        return []
    if isinstance(form, generic.IndirectObject):
        refs.append(form)
    found: list[tuple[str, int, int]] = []
    seen: set[tuple[str, int]] = set()  # the same object unchanged in a later revision: reported once
    lenient = reader.strict
    reader.strict = True
    try:
        for revision in range(revisions):
            for ref in refs:
                if not isinstance(ref, generic.IndirectObject):
                    continue
                try:
                    if reader.xrefs.get_historical_ref(ref.reference, revision) is None:
                        continue  # not in that revision yet (pyHanko would log that it is missing)
                    reader.get_object(ref.reference, revision=revision)  # historical: never from the cache
                except PdfStrictReadError as exc:
                    match = _REPEATED.search(str(exc))
                    if match and (match.group(2), int(match.group(1), 16)) not in seen:
                        seen.add((match.group(2), int(match.group(1), 16)))
                        found.append((match.group(2), int(match.group(1), 16), revision))
                except LIBRARY_FAILURES:
                    continue  # that revision's object is judged elsewhere, if it matters
    finally:
        reader.strict = lenient
    return found
