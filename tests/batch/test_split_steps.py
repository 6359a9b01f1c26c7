"""The split and join steps in one process, on SQLite: what each delivery of a task does, duplicates included.

Why in-process: the order of deliveries a cluster produces by chance (a duplicate group task, a join
task before the last group, a group task for a document that was reset) is set here on purpose. The
broker is the only thing left out: ``send`` collects the groups a task would queue. The real cluster,
with a worker killed mid-group, is ``test_split.py``.
"""

from __future__ import annotations

from pathlib import Path

from sohoa.config.settings import Settings, load_settings
from sohoa.records.service import Records
from sohoa.runners.batch.journal import ItemInfo
from sohoa.runners.batch.manifest import plan_batch
from sohoa.runners.batch.runner import prepare_run, process_item, worker_records
from sohoa.runners.batch.split import ClusterSplit, process_group_task
from sohoa.runners.batch.split_journal import GroupInfo, SplitJournal
from tests.batch.conftest import write_config
from tests.batch.pages import code, write_scan

PAGES = 10


def _setup(tmp_path: Path, *, broken: int | None = None) -> tuple[Settings, ItemInfo]:
    folder = tmp_path / "kho" / code(1)
    for n in range(1, PAGES + 1):
        write_scan(folder / f"trang-{n:03d}.jpg", f"Trang {n}\nHồ sơ lưu trữ")
    if broken is not None:  # a truncated JPEG: passes the check of every input, fails when its group reads it
        page = folder / f"trang-{broken:03d}.jpg"
        page.write_bytes(page.read_bytes()[:400])
    settings = load_settings(write_config(tmp_path, extra='grouping = "folder"\nsplit_pages = 4\n'), cwd=tmp_path)
    plan = plan_batch(tmp_path / "kho", None, settings, settings.batch)
    _, items = prepare_run(plan, settings, worker_records(settings), retry_failed=False, options={})
    return settings, items[0]


def _documents(records: Records) -> list[int]:
    return [d.id for d in records.documents(code(1))]


def test_split_groups_once_each_join_once_folder_removed(tmp_path: Path) -> None:
    settings, item = _setup(tmp_path)
    journal = SplitJournal(worker_records(settings))
    sent: list[GroupInfo] = []
    outcome = process_item(item.id, settings, worker="w1", split=ClusterSplit(settings, "w1", sent.extend))
    assert outcome.state == "split" and [(g.first, g.count) for g in sent] == [(0, 4), (4, 3), (7, 3)]
    folder = Path(journal.item(item.id).split_dir or "")  # type: ignore[union-attr]
    assert folder.is_dir() and folder.parent == tmp_path / "batch-split" and folder.stat().st_mode & 0o077 == 0

    first = process_group_task(sent[0].id, settings, worker="w2")
    assert (first.state, first.join) == ("done", False)
    written = (folder / "group-000000.pdf").stat().st_mtime_ns
    again = process_group_task(sent[0].id, settings, worker="w3")  # a duplicate delivery
    assert again.state == "done" and journal.group(sent[0].id).attempts == 1  # type: ignore[union-attr]
    assert (folder / "group-000000.pdf").stat().st_mtime_ns == written, "a done group must not be redone"

    early = process_item(item.id, settings, worker="w3", split=ClusterSplit(settings, "w3", sent.extend))
    assert early.state == "split" and len(sent) == 5, "a join before the last group only sends the idle groups again"
    assert process_group_task(sent[1].id, settings, worker="w2").join is False
    last = process_group_task(sent[2].id, settings, worker="w3")
    assert (last.state, last.join) == ("done", True)

    joined = process_item(item.id, settings, worker="w4", split=ClusterSplit(settings, "w4", sent.extend))
    assert (joined.state, joined.pages) == ("done", PAGES), joined
    assert len(_documents(worker_records(settings))) == 1 and not folder.exists()
    assert process_item(item.id, settings, worker="w5", split=ClusterSplit(settings, "w5", sent.extend)).state == "done"
    assert process_group_task(sent[3].id, settings, worker="w5").state == "gone"  # the item is done
    assert len(_documents(worker_records(settings))) == 1


def _split(settings: Settings, item: ItemInfo, worker: str, sent: list[GroupInfo]) -> str:
    return process_item(item.id, settings, worker=worker, split=ClusterSplit(settings, worker, sent.extend)).state


def test_a_damaged_page_fails_the_document_before_it_is_split(tmp_path: Path) -> None:
    settings, item = _setup(tmp_path, broken=6)
    sent: list[GroupInfo] = []
    assert _split(settings, item, "w1", sent) == "failed" and not sent
    failed = SplitJournal(worker_records(settings)).item(item.id)
    assert failed is not None and failed.error_code and failed.split_dir is None, failed


def test_a_page_damaged_after_the_split_fails_its_group_and_the_document(tmp_path: Path) -> None:
    settings, item = _setup(tmp_path)
    journal = SplitJournal(worker_records(settings))
    sent: list[GroupInfo] = []
    assert _split(settings, item, "w1", sent) == "split"
    folder = Path(journal.item(item.id).split_dir or "")  # type: ignore[union-attr]
    page = Path(item.inputs[0]).parent / "trang-006.jpg"
    page.write_bytes(page.read_bytes()[:400])  # the shared storage lost half a file while the groups ran
    outcomes = [process_group_task(g.id, settings, worker="w2") for g in sent]
    states = [o.state for o in outcomes]  # the group holding page 6 fails (or the first, if each checks all)
    assert "failed" in states, outcomes
    cut = states.index("failed")
    assert set(states[:cut]) <= {"done"} and set(states[cut + 1:]) <= {"gone"}, outcomes
    failed = journal.item(item.id)
    assert failed is not None and failed.state == "failed" and failed.error_code, failed
    assert not folder.exists(), "a failed document's groups are removed (a rerun with --retry-failed splits anew)"
    assert _split(settings, item, "w3", sent) == "failed"


def test_a_stopped_run_drops_its_group_tasks_and_the_rerun_sends_them_again(tmp_path: Path) -> None:
    settings, item = _setup(tmp_path)
    journal = SplitJournal(worker_records(settings))
    sent: list[GroupInfo] = []
    assert _split(settings, item, "w1", sent) == "split"
    assert process_group_task(sent[0].id, settings, worker="w2").state == "done"
    journal.set_run_status(item.run_id, "stopped")  # Ctrl-C on `sohoa batch`: queued tasks are dropped
    assert [process_group_task(g.id, settings, worker="w2").state for g in sent[1:]] == ["stopped", "stopped"]
    assert [g.state for g in journal.groups(item.id)] == ["done", "queued", "queued"]
    plan = plan_batch(tmp_path / "kho", None, settings, settings.batch)  # the same command again
    _, (again,) = prepare_run(plan, settings, worker_records(settings), retry_failed=False, options={})
    assert (again.id, again.state) == (item.id, "split")
    resent: list[GroupInfo] = []
    assert _split(settings, again, "w3", resent) == "split"
    assert [g.first for g in resent] == [g.first for g in sent[1:]], "only the groups not done are sent again"
    assert [process_group_task(g.id, settings, worker="w3").join for g in resent] == [False, True]
    assert _split(settings, again, "w4", resent) == "done"
    assert len(_documents(worker_records(settings))) == 1


def test_a_local_rerun_finishes_a_document_a_cluster_split(tmp_path: Path) -> None:
    """Split by a Celery run, one group done there, then `sohoa batch` without Celery on the same folder:
    the local run does the other groups and the join (the document used to stay "busy" for ever)."""
    settings, item = _setup(tmp_path)
    journal = SplitJournal(worker_records(settings))
    sent: list[GroupInfo] = []
    assert _split(settings, item, "w1", sent) == "split"
    assert process_group_task(sent[0].id, settings, worker="w2").state == "done"
    done_file = Path(journal.item(item.id).split_dir or "") / "group-000000.pdf"  # type: ignore[union-attr]
    written = done_file.stat().st_mtime_ns
    journal.claim_group(sent[1].id, "w-alive", stale_after_s=3600)  # a cluster worker still holds group 2
    held = process_item(item.id, settings, worker="local")
    assert held.state == "busy" and done_file.stat().st_mtime_ns == written, "a held group must be left to its owner"
    assert [g.state for g in journal.groups(item.id)] == ["done", "running", "done"]
    journal.finish_group(sent[1].id, "w-alive", "queued")  # its owner gave it back (stopped)
    local = process_item(item.id, settings, worker="local")
    assert (local.state, local.pages) == ("done", PAGES), local
    assert len(_documents(worker_records(settings))) == 1 and not done_file.parent.exists()


def test_a_split_document_s_task_keeps_looking_with_a_doubling_wait_and_a_finished_one_stops() -> None:
    """The policy ``sohoa worker`` applies to each outcome (``celery_app.retry_countdown``): a split document's
    task comes back to send lost groups again and join (it used to end, and a group task that died outside
    its error handling left the document waiting until a rerun), less and less often; finished ones stop."""
    from sohoa.config.batch import BatchSettings
    from sohoa.runners.batch.celery_app import SPLIT_POLL_MAX_S, retry_countdown

    batch = BatchSettings(heartbeat_s=15.0)
    waits = [retry_countdown("split", batch, retries=n) for n in range(8)]
    assert waits[:4] == [60.0, 120.0, 240.0, 480.0] and waits[-1] == SPLIT_POLL_MAX_S
    assert retry_countdown("busy", batch, retries=5) == 60.0
    assert all(retry_countdown(state, batch) is None for state in ("done", "failed", "skipped", "stopped", "gone"))
