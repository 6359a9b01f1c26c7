"""Session-wide fixtures: real services on 127.0.0.1 (PostgreSQL 15, Redis), started on first use.

Why session scope: starting a PostgreSQL cluster costs a few seconds; every test that needs one gets
its own database in the shared cluster instead (see tests/records/conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.services import PostgresServer, RedisServer


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url
