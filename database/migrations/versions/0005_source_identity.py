"""One content identity for a document's source files.

Revision ID: 0005
Revises: 0004
Create Date: 2024-07-02

``documents.source_identity``: the content identity of the files a document was made from
(``sohoa.common.hashing``: SHA-256 over their SHA-256 digests in page order), indexed so a document's
sources can be looked up. Existing rows get it from the per-file digests they already store.

The batch journal's ``batch_items.content_sha256`` now holds the same identity (it was a SHA-256 over
the hex digests joined by newlines, in manifest order). Items that led to a document take that
document's identity, and the document's ``extra.batch_content`` follows; the other items get an empty
``fingerprint``, which makes the next plan hash their files again and take the new value as the same
content (``BatchJournal.upsert_items``), so no finished item is redone and none is skipped wrongly.
Downgrade drops the column; journal values keep the new meaning.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from sohoa.common.hashing import identity_of_digests
from sohoa.common.natsort import natural_key

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_DOCS = sa.table("documents", sa.column("id", sa.Integer), sa.column("source_files", sa.JSON),
                 sa.column("extra", sa.JSON), sa.column("source_identity", sa.String))
_ITEMS = sa.table("batch_items", sa.column("id", sa.Integer), sa.column("run_id", sa.Integer),
                  sa.column("item_key", sa.String), sa.column("document_id", sa.Integer),
                  sa.column("content_sha256", sa.String), sa.column("fingerprint", sa.String))


def _identity(files: Any) -> str | None:
    """The identity from stored ``[{"name", "sha256", "size"}, …]`` (as ``records.types.source_identity``)."""
    if not isinstance(files, list) or not files:
        return None
    try:
        ordered = sorted(files, key=lambda f: natural_key(str(f["name"])))
        return identity_of_digests(str(f["sha256"]) for f in ordered)
    except (KeyError, TypeError, ValueError):  # a hand-edited row: leave it without an identity
        return None


def upgrade() -> None:
    op.add_column("documents", sa.Column("source_identity", sa.String(64)))
    op.create_index("ix_documents_source_identity", "documents", ["source_identity"])
    conn = op.get_bind()
    identities: dict[int, str] = {}
    owner: dict[tuple[int, str], int] = {}  # (batch run, item key) → the document that item attached
    for doc_id, files, extra in conn.execute(sa.select(_DOCS.c.id, _DOCS.c.source_files, _DOCS.c.extra)):
        identity = _identity(files)
        if identity is None:
            continue
        identities[doc_id] = identity
        values: dict[str, Any] = {"source_identity": identity}
        if isinstance(extra, dict) and "batch_content" in extra:
            values["extra"] = {**extra, "batch_content": identity}
            owner[(extra.get("batch_run"), extra.get("batch_item"))] = doc_id
        conn.execute(sa.update(_DOCS).where(_DOCS.c.id == doc_id).values(**values))
    rows = conn.execute(sa.select(_ITEMS.c.id, _ITEMS.c.run_id, _ITEMS.c.item_key, _ITEMS.c.document_id)).all()
    for item_id, run_id, item_key, document_id in rows:
        doc_id = owner.get((run_id, item_key), document_id)
        identity = identities.get(doc_id) if doc_id is not None else None
        values = {"content_sha256": identity} if identity is not None else {"fingerprint": ""}
        conn.execute(sa.update(_ITEMS).where(_ITEMS.c.id == item_id).values(**values))


def downgrade() -> None:
    op.drop_index("ix_documents_source_identity", "documents")
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("source_identity")
