"""Records fixtures: every records test runs on SQLite and on PostgreSQL (``db_url`` is parametrised).

PostgreSQL tests get a fresh database cloned from a template migrated once per session, which is much
cheaper than running the migrations per test.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.records import RecordsSettings
from records import Records
from records.db import make_engine, upgrade
from tests.services import PostgresServer

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


@pytest.fixture
def records_settings(db_url: str, tmp_path: Path) -> RecordsSettings:
    return RecordsSettings(database_url=db_url, store_path=tmp_path / "store")


@pytest.fixture
def records(records_settings: RecordsSettings, tmp_path: Path) -> Iterator[Records]:
    with Records.open(records_settings, tmp_path) as opened:
        yield opened


CODE = "000.00.31.H50-220906-0001"
CODE2 = "000.00.31.H50-220907-0002"
OTHER_UNIT = "H50.22-230115-0003"


def make_pdf(folder: Path, name: str, body: str) -> Path:
    """A small file with PDF bytes; records treats PDFs as opaque bytes, so no real layout is needed."""
    path = folder / name
    path.write_bytes(f"%PDF-1.7\n% {body}\n%%EOF\n".encode())
    return path
