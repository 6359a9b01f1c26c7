"""Migration 0005: journals and documents written under the old batch content hash keep working."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from sohoa.config.records import RecordsSettings
from sohoa.database.engine import _alembic_config, head_revision, make_engine, upgrade, writer
from sohoa.records.service import Records
from sohoa.runners.batch.journal import BatchJournal, ItemSpec
from tests.batch.pages import code

NOW = datetime(2024, 6, 30, 8, 0, tzinfo=UTC)
DIGESTS = {"p10.jpg": hashlib.sha256(b"ten").hexdigest(), "p2.jpg": hashlib.sha256(b"two").hexdigest()}
# the identity in page order (p2 before p10), whatever order the row lists the files in
IDENTITY = hashlib.sha256(bytes.fromhex(DIGESTS["p2.jpg"]) + bytes.fromhex(DIGESTS["p10.jpg"])).hexdigest()
OLD = hashlib.sha256("\n".join([DIGESTS["p10.jpg"], DIGESTS["p2.jpg"]]).encode()).hexdigest()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'old.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")


def _database_at_0004(url: str) -> sa.Engine:
    settings = RecordsSettings(database_url=url)
    engine = make_engine(url, settings)
    cfg = _alembic_config()
    with writer(engine).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0004")
    return engine


def _legacy_rows(engine: sa.Engine) -> None:
    meta = sa.MetaData()
    meta.reflect(engine, only=["dossiers", "documents", "batch_runs", "batch_items"])
    t = meta.tables
    sources = [{"name": name, "sha256": digest, "size": 3} for name, digest in DIGESTS.items()]
    doc = {"seq": 1, "kind": "component", "digitized_at": NOW, "size": 10, "page_count": 2,
           "low_confidence_pages": [], "signatures": [], "version": 1, "created_at": NOW}
    with writer(engine).begin() as conn:
        conn.execute(t["dossiers"].insert().values(
            id=1, code=code(1), unit_code="000.00.31.H50", received_date=date(2024, 1, 15), status="received",
            doc_count=3, created_at=NOW, updated_at=NOW))
        conn.execute(t["batch_runs"].insert().values(id=1, run_key="k", source="/src", status="finished",
                                                     options={}, created_at=NOW, updated_at=NOW))
        conn.execute(t["documents"].insert(), [
            {**doc, "id": 1, "dossier_id": 1, "sha256": "a" * 64, "storage_key": "a", "source_files": sources,
             "extra": {"batch_run": 1, "batch_item": "hs1", "batch_content": OLD}},
            {**doc, "id": 2, "dossier_id": 1, "seq": 2, "sha256": "b" * 64, "storage_key": "b",
             "source_files": sources[::-1], "extra": {}},  # a watch document
            {**doc, "id": 3, "dossier_id": 1, "seq": 3, "sha256": "c" * 64, "storage_key": "c",
             "source_files": [], "extra": {}},  # attached by hand, without sources
        ])
        item = {"run_id": 1, "inputs": ["/src/p10.jpg", "/src/p2.jpg"], "fingerprint": "f" * 64,
                "content_sha256": OLD, "dossier_code": code(1), "kind": "component", "meta": {},
                "planned_pages": 2, "attempts": 1, "updated_at": NOW}
        conn.execute(t["batch_items"].insert(), [
            {**item, "id": 1, "item_key": "hs1", "state": "done", "document_id": 1},
            {**item, "id": 2, "item_key": "copy-of-hs1", "state": "skipped", "document_id": 1},
            {**item, "id": 3, "item_key": "broken", "state": "failed", "document_id": None,
             "content_sha256": "d" * 64},
        ])


def test_upgrade_gives_documents_and_journal_the_one_identity(url: str, tmp_path: Path) -> None:
    engine = _database_at_0004(url)
    _legacy_rows(engine)
    assert upgrade(engine, "test") == ("0004", head_revision())  # through 0005 and every later one
    with engine.connect() as conn:
        docs = dict(conn.execute(sa.text("SELECT id, source_identity FROM documents")).all())
        items = {r.item_key: r for r in conn.execute(sa.text("SELECT * FROM batch_items"))}
    engine.dispose()
    assert docs == {1: IDENTITY, 2: IDENTITY, 3: None}, docs
    assert (items["hs1"].content_sha256, items["copy-of-hs1"].content_sha256) == (IDENTITY, IDENTITY)
    assert items["broken"].fingerprint == "" and items["broken"].content_sha256 == "d" * 64

    settings = RecordsSettings(database_url=url, store_path=tmp_path / "store")
    with Records.open(settings, tmp_path) as records:
        assert records.find_by_sha256("a" * 64).extra["batch_content"] == IDENTITY  # type: ignore[union-attr]
        journal = BatchJournal(records)
        assert journal.find_done(IDENTITY, code(1), exclude=99) is not None, "old done items are found again"
        spec = ItemSpec(item_key="broken", inputs=["/src/x.jpg"], fingerprint="e" * 64, content_sha256="e" * 64,
                        dossier_code=code(1), kind="component")
        (again,) = journal.upsert_items(1, [spec])
        assert again.state == "failed", "the new identity of an old row is not a change of content"
        spec.content_sha256 = "9" * 64
        (changed,) = journal.upsert_items(1, [spec])
        assert changed.state == "queued", "a real change after the upgrade is still redone"
