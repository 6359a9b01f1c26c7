"""Counting what makes a document durable: database commits that wrote something (tests and ``bench/``).

Why a helper: "one write transaction per document" is a claim about the database, and SQLite and
PostgreSQL sessions commit after reads too (for nothing); only a commit after an INSERT, UPDATE or
DELETE on its connection costs a WAL fsync.
"""

from __future__ import annotations

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
