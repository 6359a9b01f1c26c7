"""A PostgreSQL database for a benchmark: the one given by URL, or a throwaway server on a unix socket."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def postgres_url(url: str | None, name: str) -> Iterator[str]:
    """``url`` as it is, or a fresh server (tests.services) with database ``name``, stopped afterwards."""
    if url is not None:
        yield url
        return
    from tests.services import PostgresServer

    server = PostgresServer.start()
    try:
        yield server.create_database(name)
    finally:
        server.stop()
