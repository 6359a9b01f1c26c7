"""Engines, transactions, migrations and the translation of driver failures into typed errors.

Why: SQLite and PostgreSQL need different set-ups for the same guarantees. SQLite runs in WAL mode
with ``synchronous=FULL`` (a committed row survives a power cut, matching the fsync'd store file) and
write transactions start with ``BEGIN IMMEDIATE`` so two writers queue on the lock instead of failing
half-way with "database is locked" on upgrade from a read. PostgreSQL uses psycopg 3 with a connect
timeout and pre-ping, so a restarted server costs one retry rather than a broken pooled connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from sohoa.common.reasons import CONNECTION_LOST, DATABASE_LOCKED, foreign
from sohoa.config.records import RecordsSettings
from sohoa.database.errors import DatabaseBusy, DatabaseUnavailable, SchemaOutdated

MIGRATIONS = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs (SQLAlchemy would otherwise pick psycopg2)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def describe(url: str) -> str:
    """The URL for messages: never the password."""
    return make_url(normalise_url(url)).render_as_string(hide_password=True)


def make_engine(url: str, settings: RecordsSettings) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": settings.sqlite_busy_timeout_s})
        _sqlite_setup(engine, settings)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=5,
        connect_args={"connect_timeout": settings.connect_timeout_s, "application_name": "sohoa"},
    )


def _sqlite_setup(engine: Engine, settings: RecordsSettings) -> None:
    busy_ms = int(settings.sqlite_busy_timeout_s * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {busy_ms}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = FULL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def writer(engine: Engine) -> Engine:
    """The same engine, but its transactions take the write lock up front on SQLite."""
    return engine.execution_options(immediate=True)


@contextmanager
def translate_errors(where: str) -> Iterator[None]:
    """Turn driver connectivity/lock failures into ``DatabaseUnavailable`` / ``DatabaseBusy``."""
    try:
        yield
    except OperationalError as exc:
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        if "locked" in detail or "busy" in detail:
            raise DatabaseBusy(where=where, detail=foreign(detail, reason=DATABASE_LOCKED)) from None
        raise DatabaseUnavailable(where=where, detail=foreign(detail)) from None
    except InterfaceError as exc:
        raise DatabaseUnavailable(where=where, detail=str(exc.orig).splitlines()[0]) from None
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise DatabaseUnavailable(where=where, detail=foreign("connection lost", reason=CONNECTION_LOST)) from None
        raise


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None, "no migration scripts found"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, where: str) -> tuple[str | None, str]:
    """Apply pending migrations in one locked transaction; returns (before, after) revisions."""
    cfg = _alembic_config()
    with translate_errors(where):
        before = current_revision(engine)
        if before == head_revision():
            return before, before
        with writer(engine).begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    return before, head_revision()


def ensure_schema(engine: Engine, where: str, *, auto_upgrade: bool) -> None:
    """Upgrade when allowed, else refuse to run against an outdated schema with the fix in the message."""
    with translate_errors(where):
        current = current_revision(engine)
    head = head_revision()
    if current == head:
        return
    if not auto_upgrade:
        raise SchemaOutdated(where=where, current=current or "empty", head=head)
    upgrade(engine, where)
