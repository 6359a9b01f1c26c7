"""Search indexes one row per document, not per page; code prefixes use an index on PostgreSQL.

Revision ID: 0006
Revises: 0005
Create Date: 2024-07-20

Why (docs/search.md has the measurements): search answers one hit per document, newest candidates
first, and ranks only a bounded set of them. A page-level index made every common word match five
times as many rows, each to be deduplicated and ranked. Now:

- SQLite: FTS5 table ``document_fts`` (rowid = document id) over the folded text of all pages of the
  document; ``page_fts`` is dropped. FTS5 walks a term's doclist in rowid order, so "newest first,
  stop after N" costs N rows whatever the term's frequency.
- PostgreSQL: ``documents.tsv`` (``to_tsvector('simple', unaccent(folded))`` over all pages) with a
  GIN index; ``document_pages.tsv`` and its index are dropped. ``ix_dossiers_code_pattern``
  (``varchar_pattern_ops``) lets ``code LIKE 'prefix%'`` use an index in any database collation (the
  unique index only serves it under the C collation).

``documents.received_date`` (the dossier's, copied at attach) with an index on (received_date, id):
a date range becomes the id range of its documents, where the newest-first walk starts and stops.

Existing rows are indexed from their stored page text (folded in Python with ``records.text.fold``, as
attach does). Downgrade rebuilds the page-level index the same way.
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from sohoa.common.folding import fold

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_BATCH = 500
_PG_TSV = "to_tsvector('simple'::regconfig, unaccent(:folded))"


def _documents(conn: sa.Connection) -> Iterator[list[dict[str, object]]]:
    """(document id, folded text of all its pages) in batches, pages in order."""
    batch: list[dict[str, object]] = []
    current: int | None = None
    parts: list[str] = []
    rows = conn.execute(sa.text("SELECT document_id, text FROM document_pages ORDER BY document_id, page_no"))
    for doc_id, body in rows:
        if doc_id != current:
            if current is not None:
                batch.append({"id": current, "folded": fold("\n".join(parts))})
            current, parts = doc_id, []
            if len(batch) >= _BATCH:
                yield batch
                batch = []
        parts.append(body or "")
    if current is not None:
        batch.append({"id": current, "folded": fold("\n".join(parts))})
    if batch:
        yield batch


def upgrade() -> None:
    conn = op.get_bind()
    op.add_column("documents", sa.Column("received_date", sa.Date))
    op.execute("UPDATE documents SET received_date = "
               "(SELECT s.received_date FROM dossiers s WHERE s.id = documents.dossier_id)")
    op.create_index("ix_documents_received_id", "documents", ["received_date", "id"])
    if conn.dialect.name == "postgresql":
        op.drop_index("ix_pages_tsv", table_name="document_pages")
        op.drop_column("document_pages", "tsv")
        op.add_column("documents", sa.Column("tsv", postgresql.TSVECTOR))
        for batch in list(_documents(conn)):
            conn.execute(sa.text(f"UPDATE documents SET tsv = {_PG_TSV} WHERE id = :id"), batch)
        op.create_index("ix_documents_tsv", "documents", ["tsv"], postgresql_using="gin")
        op.execute("CREATE INDEX ix_dossiers_code_pattern ON dossiers (code varchar_pattern_ops)")
    else:
        op.execute("DROP TABLE page_fts")
        op.execute("CREATE VIRTUAL TABLE document_fts USING fts5(folded, tokenize = 'unicode61 remove_diacritics 2')")
        for batch in list(_documents(conn)):
            conn.execute(sa.text("INSERT INTO document_fts (rowid, folded) VALUES (:id, :folded)"), batch)


def downgrade() -> None:
    conn = op.get_bind()
    pages = [{"id": pid, "folded": fold(body or "")}
             for pid, body in conn.execute(sa.text("SELECT id, text FROM document_pages"))]
    if conn.dialect.name == "postgresql":
        op.execute("DROP INDEX ix_dossiers_code_pattern")
        op.drop_index("ix_documents_tsv", table_name="documents")
        op.drop_column("documents", "tsv")
        op.add_column("document_pages", sa.Column("tsv", postgresql.TSVECTOR))
        if pages:
            conn.execute(sa.text(f"UPDATE document_pages SET tsv = {_PG_TSV} WHERE id = :id"), pages)
        op.create_index("ix_pages_tsv", "document_pages", ["tsv"], postgresql_using="gin")
    else:
        op.execute("DROP TABLE document_fts")
        op.execute("CREATE VIRTUAL TABLE page_fts USING fts5(folded, tokenize = 'unicode61 remove_diacritics 2')")
        if pages:
            conn.execute(sa.text("INSERT INTO page_fts (rowid, folded) VALUES (:id, :folded)"), pages)
    op.drop_index("ix_documents_received_id", "documents")
    # a plain DROP COLUMN (SQLite >= 3.35): a batch copy of ``documents`` would break the pages' foreign key
    op.execute("ALTER TABLE documents DROP COLUMN received_date")
