"""Exact id bounds of a reception day; on PostgreSQL, a RUM index when the extension can be had.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

Why (docs/search.md has the measurements at 1,000,000 documents):

- ``document_days`` (received date, lowest and highest document id of that day), kept at attach.
  A date range becomes an id range by reading one row a day instead of every index entry of the range
  (a year was 100,000 entries, 17-56 ms). The bounds are a superset of the range's ids whatever the
  order of attaching; the date itself is still checked on every row.
- ``ix_documents_tsv_rum``: ``rum (tsv rum_tsvector_addon_ops, id) WITH (attach = 'id', to = 'tsv')``,
  so that ``WHERE tsv @@ q ORDER BY id <=| top`` returns the matches newest first from the index
  itself, whatever the words' frequency (the GIN plan either walks the primary key, checking each
  document's tsvector, or fetches every match and sorts). RUM is not part of PostgreSQL: the index is
  created only when the extension is installed in the database, or can be (``postgresql-15-rum`` on
  the server and a role allowed to ``CREATE EXTENSION``); otherwise this step is skipped and search
  keeps the GIN plan (``records.search`` looks for the index on every search, and uses it only for
  words whose matches it can sort faster than the newest-first walk finds them). The GIN index stays:
  with RUM there search does not use it, but it is the fallback if the RUM index is dropped, and its
  upkeep is a fifteenth of RUM's (about 0.3 ms against 5 ms a document, measured at 1M).

Building the RUM index takes about 5 minutes at a million documents (312 s measured, with the day
table), during which attaches wait (CREATE INDEX holds a SHARE lock on ``documents``).
Downgrade drops both (not the extension, which other databases of the cluster may use).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

RUM_INDEX = "ix_documents_tsv_rum"


def rum_available(conn: sa.Connection) -> bool:
    """The extension is in this database, or could be created here (installed on the server)."""
    return conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'rum')")).scalar()


def _create_rum(conn: sa.Connection) -> bool:
    """CREATE EXTENSION (if missing) and the index; False, with nothing changed, when not allowed."""
    if not rum_available(conn):
        return False
    installed = conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'rum')")).scalar()
    if not installed:
        savepoint = conn.begin_nested()
        try:
            conn.execute(sa.text("CREATE EXTENSION rum"))
        except sa.exc.DBAPIError:  # e.g. a role without the right to create it: keep the GIN plan
            savepoint.rollback()
            return False
        savepoint.commit()
    conn.execute(sa.text(f"CREATE INDEX {RUM_INDEX} ON documents USING rum (tsv rum_tsvector_addon_ops, id) "
                         "WITH (attach = 'id', to = 'tsv')"))
    return True


def upgrade() -> None:
    conn = op.get_bind()
    op.create_table(
        "document_days",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("lo_id", sa.Integer, nullable=False),
        sa.Column("hi_id", sa.Integer, nullable=False),
    )
    op.execute("INSERT INTO document_days (day, lo_id, hi_id) SELECT received_date, min(id), max(id) "
               "FROM documents WHERE received_date IS NOT NULL GROUP BY received_date")
    if conn.dialect.name == "postgresql":
        _create_rum(conn)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {RUM_INDEX}")
    op.drop_table("document_days")
