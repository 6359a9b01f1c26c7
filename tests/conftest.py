"""Session-wide fixtures: real services on 127.0.0.1 (PostgreSQL 15, Redis, the test PKI's OCSP/CRL/TSA
servers), started on first use and shared by every test folder.

Why session scope: starting a PostgreSQL cluster costs a few seconds; every test that needs one gets
its own database in the shared cluster, cloned from a template migrated once per session (``db_url``).
Fixtures defined once here (or in the ``pytest_plugins`` below) are true singletons; importing a
session fixture into another conftest would create a second instance.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from sohoa.common.messages import missing_translations
from sohoa.config.records import RecordsSettings
from sohoa.database.engine import make_engine, upgrade
from tests.services import PostgresServer, RedisServer

pytest_plugins = ["tests.pki.fixtures"]


@pytest.fixture(scope="session", autouse=True)
def _every_sentence_in_the_catalog() -> Iterator[None]:
    """After the whole run: no sentence the tests rendered was missing from the message catalog.

    Why at run time too: Babel extracts literal msgids only; a sentence built where the extractor cannot
    see it (a variable msgid without ``N_``) would reach a clerk in English. Sub-processes are not seen.
    """
    yield
    missing = sorted(missing_translations())
    assert not missing, f"rendered but not in common/locale/*/sohoa.po: {missing[:10]}"


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


TEMPLATE = "sohoa_records_template"
_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_template(postgres_server: PostgresServer) -> str:
    url = postgres_server.create_database(TEMPLATE)
    engine = make_engine(url, RecordsSettings())
    try:
        upgrade(engine, "template")
    finally:
        engine.dispose()
    return TEMPLATE


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sohoa.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    template = request.getfixturevalue("pg_template")
    name = f"t_{next(_counter)}_{tmp_path.name[-20:]}".lower().replace("-", "_")
    url = server.create_database(name, template=template)
    try:
        yield url
    finally:
        server.drop_database(name)
