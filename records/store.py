"""Content-addressed PDF store: ``<root>/ab/cd/<sha256>.pdf``, written atomically (``common.atomic``).

Why content addressing: the same bytes are stored once however often they are attached, a file's
name proves what it should contain (``store check`` re-hashes), and a crash between the durable file
and the database commit leaves at worst an orphan file that the check lists and can remove — never a
row pointing at nothing, because rows are committed only after ``put`` returned.
"""

from __future__ import annotations

import errno
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sohoa.common.atomic import copy_atomic, is_temp_name
from sohoa.common.hashing import sha256_file as hash_file
from sohoa.common.messages import _
from sohoa.common.reasons import DISK_FULL, foreign
from sohoa.records.errors import InputReadError, StoreWriteError

_NAME = re.compile(r"^[0-9a-f]{64}\.pdf$")


def sha256_file(path: Path) -> tuple[str, int]:
    """(hex digest, size) of a file; unreadable files become ``InputReadError``."""
    try:
        return hash_file(path)
    except OSError as exc:
        raise InputReadError(path=path, detail=exc.strerror or str(exc)) from None


def storage_key(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}.pdf"


@dataclass
class StoreReport:
    files: int = 0
    orphans: list[str] = field(default_factory=list)  # storage keys with no document row
    missing: list[str] = field(default_factory=list)  # document rows whose file is absent
    corrupt: list[str] = field(default_factory=list)  # files whose bytes no longer hash to their name
    stale_temps: list[str] = field(default_factory=list)  # temp files left by a crash
    removed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.orphans or self.missing or self.corrupt or self.stale_temps)


class Store:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        return self.root / key

    def has(self, sha256: str, size: int) -> bool:
        target = self.path(storage_key(sha256))
        try:
            return target.stat().st_size == size
        except FileNotFoundError:
            return False

    def put(self, source: Path, sha256: str, size: int) -> str:
        """Copy ``source`` into the store under its hash; durable when this returns.

        The copy is re-hashed while written: if the source changed after it was hashed we refuse
        rather than store bytes under the wrong name. Any failure removes the temp file and leaves
        ``source`` untouched.
        """
        key = storage_key(sha256)
        if self.has(sha256, size):
            return key
        target = self.path(key)

        def unchanged(digest: str) -> None:
            if digest != sha256:
                raise StoreWriteError(path=source, where=self.root, detail=_("the file changed while being stored"))

        def store_error(exc: OSError) -> StoreWriteError:
            full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
            reason = foreign("disk full", reason=DISK_FULL) if full else foreign(exc)
            return StoreWriteError(path=source, where=self.root, detail=reason)

        try:
            with source.open("rb") as src:
                copy_atomic(src, target, verify=unchanged, make_parents=True, on_error=store_error)
        except OSError as exc:  # opening the source
            raise store_error(exc) from None
        return key

    def remove(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def iter_files(self) -> Iterator[tuple[str, Path]]:
        """(storage key, path) of every stored PDF, plus temp files under key ``""``."""
        if not self.root.exists():
            return
        for dirpath, _dirs, names in os.walk(self.root):
            for name in names:
                path = Path(dirpath) / name
                if _NAME.match(name):
                    yield storage_key(name[:-4]), path
                elif is_temp_name(name) or name.endswith(".tmp"):  # .tmp: the temp names of older versions
                    yield "", path

    def check(
        self, known: dict[str, str], *, rehash: bool, remove_orphans: bool, stale_after_s: float
    ) -> StoreReport:
        """Compare the folder with ``known`` (storage key → sha256 of document rows)."""
        report = StoreReport()
        seen: set[str] = set()
        now = time.time()
        for key, path in self.iter_files():
            if not key:
                if now - path.stat().st_mtime > stale_after_s:
                    report.stale_temps.append(str(path.relative_to(self.root)))
                    if remove_orphans:
                        path.unlink(missing_ok=True)
                        report.removed.append(str(path.relative_to(self.root)))
                continue
            report.files += 1
            seen.add(key)
            if key not in known:
                report.orphans.append(key)
                if remove_orphans:
                    self.remove(key)
                    report.removed.append(key)
                continue
            if rehash and sha256_file(path)[0] != known[key]:
                report.corrupt.append(key)
        report.missing = sorted(k for k in known if k not in seen)
        return report
