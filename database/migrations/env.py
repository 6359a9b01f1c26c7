"""Alembic environment: runs on the connection handed over by ``sohoa.database.engine.upgrade``.

Why no engine here: the caller already built the engine with our SQLite pragmas / PostgreSQL options
and holds the lock that keeps two processes from migrating at once.
"""

from __future__ import annotations

from alembic import context

from sohoa.database.base import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    if connection.dialect.name == "postgresql":
        from sqlalchemy import text

        # two services starting at once must not both create the schema
        connection.execute(text("SELECT pg_advisory_xact_lock(74631001)"))
    context.run_migrations()
