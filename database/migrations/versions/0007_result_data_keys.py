"""Filter keys of a result's data: number, issuing agency and document type, folded for search.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

Why keys beside the values: a clerk types "123/qd-ubnd" or "so tu phap" and must find "123/QĐ-UBND"
and "SỞ TƯ PHÁP" (issue 16: exact and prefix, ignoring marks and case). ``documents.number_key``,
``agency_key`` and ``doc_type`` (the type's key) hold ``common.folding.search_key`` of the values, each
indexed (on PostgreSQL the number key also with ``varchar_pattern_ops``, so a prefix uses an index in
any collation). Existing rows get them from their columns and their extracted metadata.
Downgrade drops them.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from sohoa.common.folding import search_key

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_DOCS = sa.table("documents", sa.column("id", sa.Integer), sa.column("doc_number", sa.String),
                 sa.column("issuing_agency", sa.String), sa.column("extra", sa.JSON),
                 sa.column("number_key", sa.String), sa.column("agency_key", sa.String),
                 sa.column("doc_type", sa.String))


def _type_of(extra: Any) -> str | None:
    try:
        return str(extra["metadata"]["fields"]["doc_type"]["value"])
    except (KeyError, TypeError):
        return None


def upgrade() -> None:
    for name, size in (("number_key", 100), ("agency_key", 255), ("doc_type", 100)):
        op.add_column("documents", sa.Column(name, sa.String(size)))
        op.create_index(f"ix_documents_{name}", "documents", [name])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_documents_number_key_pattern ON documents (number_key varchar_pattern_ops)")
    conn = op.get_bind()
    rows = conn.execute(sa.select(_DOCS.c.id, _DOCS.c.doc_number, _DOCS.c.issuing_agency, _DOCS.c.extra)).all()
    for doc_id, number, agency, extra in rows:
        values = {"number_key": search_key(number), "agency_key": search_key(agency),
                  "doc_type": search_key(_type_of(extra))}
        if any(values.values()):
            conn.execute(sa.update(_DOCS).where(_DOCS.c.id == doc_id).values(**values))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_documents_number_key_pattern")
    for name in ("number_key", "agency_key", "doc_type"):
        op.drop_index(f"ix_documents_{name}", "documents")
        # ALTER TABLE … DROP COLUMN (SQLite >= 3.35) rather than a batch copy: with foreign keys on,
        # SQLite refuses to drop the documents table that the pages refer to
        op.execute(f"ALTER TABLE documents DROP COLUMN {name}")
