"""Records fixtures: every records test runs on SQLite and on PostgreSQL (``db_url``, in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sohoa.config.records import RecordsSettings
from sohoa.records import Records


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
