"""Watching what makes a document durable: fsyncs in order, database commits that wrote (tests and ``bench/``).

Why a helper: "one write transaction per document" is a claim about the database, and SQLite and
PostgreSQL sessions commit after reads too (for nothing); only a commit after an INSERT, UPDATE or
DELETE on its connection costs a WAL fsync.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine


class WriteCommits:
    """Counts committed transactions of ``engine`` that wrote something."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        self._wrote: set[int] = set()
        event.listen(engine, "before_cursor_execute", self._seen)
        event.listen(engine, "commit", self._committed)

    def _seen(self, conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            self._wrote.add(id(conn))

    def _committed(self, conn: object) -> None:
        if id(conn) in self._wrote:
            self._wrote.discard(id(conn))
            self.count += 1


class Fsyncs:
    """Every ``os.fsync`` of this process while installed: the synced file's or folder's path, and whether
    ``watched`` (a file the test names) existed at that moment — what a durability order is made of."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, bool]] = []
        self.watched: Path | None = None
        real = os.fsync

        def recording(fd: int) -> None:
            self.calls.append((os.readlink(f"/proc/self/fd/{fd}"), self.watched is not None and self.watched.exists()))
            real(fd)

        monkeypatch.setattr(os, "fsync", recording)

    @property
    def paths(self) -> list[str]:
        return [path for path, _ in self.calls]

    def clear(self) -> None:
        self.calls.clear()
