"""Initial schema: dossiers, documents, pages + full-text index, sequences, audit chain.

Revision ID: 0001
Revises:
Create Date: 2024-06-01

Full-text index differs per database: SQLite gets an FTS5 table over the folded page text (rowid =
page id, ``unicode61 remove_diacritics 2``); PostgreSQL gets ``unaccent``, a tsvector column on the
page table and a GIN index on it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "dossiers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("unit_code", sa.String(35), nullable=False, index=True),
        sa.Column("received_date", sa.Date, nullable=False, index=True),
        sa.Column("procedure_code", sa.String(64)),
        sa.Column("applicant_name", sa.String(255)),
        sa.Column("applicant_id", sa.String(64), index=True),
        sa.Column("receiving_unit", sa.String(255)),
        sa.Column("due_date", sa.Date),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("doc_count", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("dossier_id", sa.Integer, sa.ForeignKey("dossiers.id"), nullable=False, index=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False, index=True),
        sa.Column("title", sa.String(500)),
        sa.Column("doc_number", sa.String(100)),
        sa.Column("issue_date", sa.Date),
        sa.Column("issuing_agency", sa.String(255)),
        sa.Column("digitized_by", sa.String(255)),
        sa.Column("digitized_at", TS, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False, index=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("page_count", sa.Integer, nullable=False),
        sa.Column("storage_key", sa.String(255), nullable=False),
        sa.Column("source_files", sa.JSON, nullable=False),
        sa.Column("mean_confidence", sa.Float),
        sa.Column("low_confidence_pages", sa.JSON, nullable=False),
        sa.Column("signatures", sa.JSON, nullable=False),
        sa.Column("extra", sa.JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("supersedes_id", sa.Integer, sa.ForeignKey("documents.id")),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("dossier_id", "seq", name="uq_documents_dossier_seq"),
        sa.UniqueConstraint("dossier_id", "sha256", name="uq_documents_dossier_sha256"),
        sa.UniqueConstraint("supersedes_id", name="uq_documents_supersedes"),
    )
    op.create_table(
        "document_pages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id"), nullable=False, index=True),
        sa.Column("page_no", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("confidence", sa.Float),
        sa.UniqueConstraint("document_id", "page_no", name="uq_pages_document_page"),
    )
    op.create_table(
        "dossier_sequences",
        sa.Column("unit_code", sa.String(35), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("last", sa.Integer, nullable=False),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False, unique=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("action", sa.String(32), nullable=False, index=True),
        sa.Column("dossier_code", sa.String(64), index=True),
        sa.Column("document_sha256", sa.String(64), index=True),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": "0" * 64}])

    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        op.add_column("document_pages", sa.Column("tsv", postgresql.TSVECTOR))
        op.create_index("ix_pages_tsv", "document_pages", ["tsv"], postgresql_using="gin")
    else:
        op.execute(
            "CREATE VIRTUAL TABLE page_fts USING fts5(folded, tokenize = 'unicode61 remove_diacritics 2')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_pages_tsv", table_name="document_pages")
    else:
        op.execute("DROP TABLE page_fts")
    for table in ("audit_head", "audit_events", "dossier_sequences", "document_pages", "documents", "dossiers"):
        op.drop_table(table)
