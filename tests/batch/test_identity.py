"""One content identity: the watch daemon, the batch planner and the records name the same scans alike."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from sohoa.common.hashing import content_identity
from sohoa.config.batch import BatchSettings
from sohoa.config.records import DEFAULT_CODE_PATTERN
from sohoa.config.settings import Settings
from sohoa.config.watch import WatchFolder, WatchSettings
from sohoa.records.service import Records
from sohoa.records.types import AttachMeta, SourceFile
from sohoa.runners.batch.manifest import plan_batch
from sohoa.runners.batch.runner import prepare_run
from sohoa.watch_folders import spool
from sohoa.watch_folders.scanner import Inbox
from tests.batch.pages import code, write_scan
from tests.records.conftest import make_pdf


def _pages(folder: Path) -> list[Path]:
    """Two pages whose natural order (2 before 10) differs from their plain string order."""
    return [write_scan(folder / "trang10.jpg", "trang mười"), write_scan(folder / "Trang2.jpg", "trang hai")]


def test_watch_batch_and_records_give_the_same_identity(tmp_path: Path) -> None:
    dossier = code(7)
    expected = hashlib.sha256(b"".join(hashlib.sha256(p.read_bytes()).digest()
                                       for p in reversed(_pages(tmp_path / "ref")))).hexdigest()

    inbox_dir = tmp_path / "inbox"
    inbox = Inbox(WatchFolder(path=inbox_dir, grouping="subfolder"), inbox_dir, WatchSettings(stable_seconds=0.0),
                  DEFAULT_CODE_PATTERN)
    inbox.ensure_dirs()
    _pages(inbox_dir / dossier)
    assert not inbox.scan(0.0, lambda _p: None), "a new folder waits for its quiet period"
    (unit,) = inbox.scan(3600.0, lambda _p: None)
    assert [p.name for p in unit.sources] == ["Trang2.jpg", "trang10.jpg"], "watch page order"
    watch_id = spool.content_id(unit.sources)

    settings = Settings(data_dir=tmp_path / "data")
    source = tmp_path / "archive"
    shutil.copytree(inbox_dir / dossier, source / dossier)
    plan = plan_batch(source, None, settings, BatchSettings(grouping="folder"))
    with Records.open(settings.records, settings.data_dir) as records:
        _run, (item,) = prepare_run(plan, settings, records, retry_failed=False, options={})
        files = [SourceFile(p.name, hashlib.sha256(p.read_bytes()).hexdigest()) for p in unit.sources]
        attached = records.attach(make_pdf(tmp_path, "x.pdf", "x"), dossier_code=dossier, kind="component",
                                  meta=AttachMeta(source_files=files[::-1]))  # given in any order
    assert item.content_sha256 == expected, "batch item identity"
    assert attached.document.source_identity == expected, "records identity of the sources"
    assert watch_id == expected[:32], "the watch job id is the identity's first half"
    assert content_identity(list(unit.sources)[::-1]) == expected, "the identity does not depend on list order"


def test_identity_depends_on_page_order_and_bytes(tmp_path: Path) -> None:
    first, second = _pages(tmp_path / "a")
    before = content_identity([first, second])
    first.write_bytes(second.read_bytes())
    assert content_identity([first, second]) != before, "other bytes: another identity"
    renamed = tmp_path / "b"
    renamed.mkdir()
    one, two = renamed / "p1.jpg", renamed / "p2.jpg"
    one.write_bytes(b"mot")
    two.write_bytes(b"hai")
    forward = content_identity([one, two])
    one.write_bytes(b"hai")
    two.write_bytes(b"mot")
    assert content_identity([one, two]) != forward, "the same files as other pages: another identity"
