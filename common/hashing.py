"""Content hashes of sohoa: SHA-256 of a file, and the content identity of one document's source files.

Why one identity for a unit of sources: the watch daemon names a job by it (a re-sent scan maps to the
same job), the batch journal recognises a document it already filed by it, and the records keep it
with every document, so a document filed by one runner is recognised by the other. It is defined
here once:

    identity = SHA-256( sha256(file 1) ‖ sha256(file 2) ‖ … )   (raw 32-byte digests, 64 hex digits)

over each file once, in page order — the natural order of ``common.natsort``, which is the order the
ingest stage takes the files' pages in. It depends only on the bytes and on that order, not on
folders, times or names beyond the sorting.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from sohoa.common.natsort import natural_key

CHUNK = 1 << 20


def sha256_file(path: Path) -> tuple[str, int]:
    """(hex digest, size in bytes); raises ``OSError`` as the caller's context decides how to report it."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def page_order(paths: Iterable[Path]) -> list[Path]:
    """Each file once, in the order its pages are taken."""
    return sorted(dict.fromkeys(paths), key=natural_key)


def identity_of_digests(digests: Iterable[str]) -> str:
    """The content identity from the files' hex SHA-256 digests, already in page order."""
    outer = hashlib.sha256()
    for digest in digests:
        outer.update(bytes.fromhex(digest))
    return outer.hexdigest()


def content_identity(paths: Iterable[Path]) -> str:
    """The content identity of the files of one document (see the module docstring); reads every file."""
    return identity_of_digests(sha256_file(path)[0] for path in page_order(paths))
