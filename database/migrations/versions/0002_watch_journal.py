"""Watch-folder job journal.

Revision ID: 0002
Revises: 0001
Create Date: 2024-06-20

One row per job claimed by ``sohoa watch`` (id = content hash of its inputs): folder, source names,
state, attempts, last error, result and timestamps. See ``runners/watch/journal.py``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "watch_jobs",
        sa.Column("job_id", sa.String(64), primary_key=True),
        sa.Column("folder", sa.String(255), nullable=False, index=True),
        sa.Column("sources", sa.JSON, nullable=False),
        sa.Column("dossier_code", sa.String(64)),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("result", sa.JSON),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("watch_jobs")
