"""Page groups of long batch documents split over the cluster.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

Why a table of its own: a 400-page archival file split into page-group tasks (issue 15) needs the same
claim rules as a document — one owner per group, a heartbeat, a stale claim taken over after its worker
died — so that a group is redone, never duplicated, and the join starts only when every group is done.
``batch_groups`` holds one row per group (its first page and page count, state, claim, outcome as the
JSON of ``pipeline.groups.GroupOutcome``); ``batch_items.split_dir`` names the private folder where the
groups' PDFs wait for the join. See ``runners/batch/split_journal.py``. Downgrade drops both.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("batch_items", sa.Column("split_dir", sa.Text))
    op.create_table(
        "batch_groups",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("batch_items.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("first_page", sa.Integer, nullable=False),
        sa.Column("page_count", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("worker", sa.String(255)),
        sa.Column("heartbeat_at", TS),
        sa.Column("started_at", TS),
        sa.Column("finished_at", TS),
        sa.Column("seconds", sa.Float),
        sa.Column("outcome", sa.Text),
        sa.Column("error_code", sa.String(64)),
        sa.Column("error_en", sa.Text),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("item_id", "first_page", name="uq_batch_groups_item_first"),
    )


def downgrade() -> None:
    op.drop_table("batch_groups")
    # ALTER TABLE … DROP COLUMN (SQLite >= 3.35), as in 0007: no batch copy of a table others refer to
    op.execute("ALTER TABLE batch_items DROP COLUMN split_dir")
