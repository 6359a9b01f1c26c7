"""Batch fixtures: a config file per test (SQLite or a fresh PostgreSQL database), the CLI as a subprocess."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sohoa.config.records import RecordsSettings
from sohoa.records.service import Records
from sohoa.runners.batch.split_journal import SplitJournal
from tests.services import PostgresServer

ROOT = Path(__file__).resolve().parents[2]
_counter = itertools.count()


def sohoa_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "OMP_THREAD_LIMIT": "1", **extra}


def sohoa(*args: str, cwd: Path, env: dict[str, str] | None = None,
          timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """The real CLI (through the [batch] settings shim), as a user runs it."""
    return subprocess.run([sys.executable, "-m", "sohoa.cli", *args], capture_output=True, text=True,
                          cwd=cwd, env=env or sohoa_env(), timeout=timeout, check=False)


def write_config(folder: Path, *, database_url: str = "", extra: str = "", signing: bool = False) -> Path:
    """``sohoa.toml`` with tiny-page OCR settings, short heartbeats, optionally demo signing keys."""
    text = ""
    if signing:
        from sohoa.cli.commands.demo import demo_config

        text = demo_config(folder) + "\n"
    else:
        text = 'data_dir = "."\n'
    text += '[ocr]\nlanguages = "vie"\n\n'
    if database_url:
        text += f'[records]\ndatabase_url = "{database_url}"\n\n'
    text += "[batch]\nheartbeat_s = 0.5\nprogress_log_s = 1.0\n" + extra
    path = folder / "sohoa.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def journal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SplitJournal]:
    """The batch journal (with its page groups) on SQLite and on a fresh PostgreSQL database."""
    url = f"sqlite:///{tmp_path / 'j.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    with Records.open(RecordsSettings(database_url=url, store_path=tmp_path / "store"), tmp_path) as records:
        yield SplitJournal(records)


@pytest.fixture
def pg_url(postgres_server: PostgresServer, tmp_path: Path) -> Iterator[str]:
    name = f"b_{next(_counter)}_{tmp_path.name[-20:]}".lower().replace("-", "_")
    url = postgres_server.create_database(name)
    try:
        yield url
    finally:
        postgres_server.drop_database(name)
