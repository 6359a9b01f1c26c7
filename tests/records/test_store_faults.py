"""Store check and faults: orphans, missing/corrupt files, disk full, database down or busy."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from sohoa.config.records import RecordsSettings
from sohoa.database.engine import head_revision
from sohoa.database.errors import DatabaseBusy, DatabaseUnavailable, SchemaOutdated
from sohoa.records import Records
from sohoa.records.errors import StoreWriteError
from sohoa.records.store import sha256_file
from tests.records.conftest import CODE, make_pdf
from tests.services import refused_port


def test_store_check_finds_and_removes_problems(records: Records, tmp_path: Path) -> None:
    kept = records.attach(make_pdf(tmp_path, "a.pdf", "a"), dossier_code=CODE, kind="component").document
    lost = records.attach(make_pdf(tmp_path, "b.pdf", "b"), dossier_code=CODE, kind="component").document
    bad = records.attach(make_pdf(tmp_path, "c.pdf", "c"), dossier_code=CODE, kind="component").document
    orphan_src = make_pdf(tmp_path, "o.pdf", "orphan")
    orphan_key = records.store.put(orphan_src, *sha256_file(orphan_src))  # a crash before the row commit
    lost.path.unlink()
    bad.path.write_bytes(b"%PDF-1.7 tampered")
    stale = kept.path.parent / f".{kept.sha256}.pdf.k3x9q2_w.part"  # a killed writer's temp (common.atomic)
    legacy = kept.path.parent / f".{kept.sha256}.1.2.tmp"  # the temp name of older versions
    for temp in (stale, legacy):
        temp.write_bytes(b"half")
        os.utime(temp, (time.time() - 7200, time.time() - 7200))

    report = records.check_store(rehash=True)
    assert not report.ok
    assert report.orphans == [orphan_key] and report.missing == [lost.storage_key], report
    assert report.corrupt == [bad.storage_key] and len(report.stale_temps) == 2, report
    assert records.store.path(orphan_key).exists(), "a check without --remove must not delete anything"

    report = records.check_store(remove_orphans=True)
    assert sorted(report.removed) == sorted([orphan_key, *report.stale_temps])
    assert not records.store.path(orphan_key).exists() and not stale.exists() and not legacy.exists()
    assert kept.path.exists(), "files with rows are never removed"
    assert records.verify_audit().ok


@pytest.fixture
def small_disk(tmp_path: Path):
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if done.returncode:
        pytest.skip(f"cannot mount a small tmpfs to fill a disk for real (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_disk_full_while_storing_leaves_no_row(records_settings: RecordsSettings, tmp_path: Path,
                                               small_disk: Path) -> None:
    settings = records_settings.model_copy(update={"store_path": small_disk / "store"})
    big = tmp_path / "big.pdf"
    big.write_bytes(b"%PDF-1.7\n" + os.urandom(256 * 1024))
    before = big.read_bytes()
    with Records.open(settings, tmp_path) as rec:
        with pytest.raises(StoreWriteError) as info:
            rec.attach(big, dossier_code=CODE, kind="component")
        assert info.value.transient and "disk full" in info.value.message("en"), info.value.message("en")
        assert rec.list_dossiers() == [], "no dossier or document row may be written"
        leftovers = [p for p in small_disk.rglob("*") if p.is_file()]
        assert leftovers == [], f"temp file left behind: {leftovers}"
    assert big.read_bytes() == before, "the source must be untouched"


def test_unreachable_database_is_a_clear_transient_error(tmp_path: Path) -> None:
    url = f"postgresql://clerk:s3cret-pw@127.0.0.1:{refused_port()}/sohoa"
    settings = RecordsSettings(database_url=url, store_path=tmp_path / "store", connect_timeout_s=2)
    with pytest.raises(DatabaseUnavailable) as info:
        Records.open(settings, tmp_path)
    message = info.value.message("en") + info.value.message("vi")
    assert info.value.transient and "127.0.0.1" in message
    assert "s3cret-pw" not in message, "the password must never appear in messages"
    rec = Records(settings, tmp_path)  # opened without the schema check: attach must fail before storing
    try:
        with pytest.raises(DatabaseUnavailable):
            rec.attach(make_pdf(tmp_path, "a.pdf", "a"), dossier_code=CODE, kind="component")
    finally:
        rec.close()
    assert not (tmp_path / "store").exists(), "nothing may be stored when the database is down"


def test_sqlite_lock_held_elsewhere_gives_busy_then_retry_succeeds(tmp_path: Path) -> None:
    settings = RecordsSettings(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", store_path=tmp_path / "store",
                               sqlite_busy_timeout_s=0.2)
    with Records.open(settings, tmp_path) as rec:
        pdf = make_pdf(tmp_path, "a.pdf", "a")
        other = sqlite3.connect(tmp_path / "db.sqlite", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(DatabaseBusy) as info:
                rec.attach(pdf, dossier_code=CODE, kind="component")
            assert info.value.transient
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert rec.list_dossiers() == []
        assert rec.attach(pdf, dossier_code=CODE, kind="component").created, "a retry must succeed"
        assert rec.check_store().ok, "the retry reuses the file stored by the failed attempt"


def test_outdated_schema_refused_without_auto_upgrade(tmp_path: Path) -> None:
    settings = RecordsSettings(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", auto_upgrade=False)
    with pytest.raises(SchemaOutdated) as info:
        Records.open(settings, tmp_path)
    assert "sohoa db upgrade" in info.value.message("vi")
    rec = Records(settings, tmp_path)
    try:
        assert rec.upgrade()[1] == head_revision()
    finally:
        rec.close()
    Records.open(settings, tmp_path).close()
