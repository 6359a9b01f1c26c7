"""Batch journal.

Revision ID: 0003
Revises: 0002
Create Date: 2024-06-24

``batch_runs`` (one per batch command: source, manifest, status) and ``batch_items`` (one per planned
document: inputs, content hash, dossier, state, attempts, claiming worker and heartbeat, outcome).
See ``runners/batch/journal.py``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "batch_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_key", sa.String(64), nullable=False, unique=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("manifest", sa.Text),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "batch_items",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("batch_runs.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("item_key", sa.String(1000), nullable=False),
        sa.Column("line", sa.Integer),
        sa.Column("inputs", sa.JSON, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False, index=True),
        sa.Column("dossier_code", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("meta", sa.JSON, nullable=False),
        sa.Column("planned_pages", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("worker", sa.String(255)),
        sa.Column("heartbeat_at", TS),
        sa.Column("started_at", TS),
        sa.Column("finished_at", TS),
        sa.Column("seconds", sa.Float),
        sa.Column("pages", sa.Integer),
        sa.Column("mean_confidence", sa.Float),
        sa.Column("low_confidence_pages", sa.JSON),
        sa.Column("document_id", sa.Integer),
        sa.Column("output_sha256", sa.String(64)),
        sa.Column("error_code", sa.String(64)),
        sa.Column("error_stage", sa.String(32)),
        sa.Column("error_vi", sa.Text),
        sa.Column("error_en", sa.Text),
        sa.Column("timings", sa.JSON),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("run_id", "item_key", name="uq_batch_items_run_key"),
    )


def downgrade() -> None:
    op.drop_table("batch_items")
    op.drop_table("batch_runs")
