"""The page-group journal on SQLite and PostgreSQL: one owner per group, stale takeover, owner-only outcome,
a join claimed once and only when every group is done, a re-split keeping what was done."""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from sohoa.database import engine as db_engine
from sohoa.runners.batch.journal import ItemSpec
from sohoa.runners.batch.split_journal import SplitJournal, group_bounds
from tests.batch.pages import code


def _claimed_item(journal: SplitJournal, worker: str = "splitter") -> int:
    run = journal.open_run("k", "/src", None, {})
    (item,) = journal.upsert_items(run.id, [ItemSpec(item_key="a", inputs=["/x/a.tif"], fingerprint="f",
                                                     content_sha256="c", dossier_code=code(1), kind="result",
                                                     planned_pages=200)])
    assert journal.claim(item.id, worker, stale_after_s=60) is not None
    return item.id


def test_group_bounds_cover_every_page_once_in_even_groups() -> None:
    assert group_bounds(200, 50) == [(0, 50), (50, 50), (100, 50), (150, 50)]
    assert group_bounds(101, 50) == [(0, 34), (34, 34), (68, 33)]
    assert group_bounds(7, 50) == [(0, 7)]
    assert group_bounds(0, 50) == []
    for pages in (1, 49, 50, 51, 399, 400, 401):
        bounds = group_bounds(pages, 50)
        covered = [p for first, count in bounds for p in range(first, first + count)]
        assert covered == list(range(pages)) and max(c for _, c in bounds) <= 50, (pages, bounds)


def test_only_the_claim_owner_plans_and_hands_over(journal: SplitJournal) -> None:
    item_id = _claimed_item(journal)
    assert journal.plan_groups(item_id, "other", [(0, 50)], "/s/x") is None, "a non-owner must not plan"
    folder, groups = journal.plan_groups(item_id, "splitter", group_bounds(200, 50), "/s/a")  # type: ignore[misc]
    assert folder == "/s/a" and [(g.first, g.count, g.state) for g in groups] == [
        (0, 50, "queued"), (50, 50, "queued"), (100, 50, "queued"), (150, 50, "queued")]
    assert not journal.hand_over(item_id, "other")
    assert journal.hand_over(item_id, "splitter")
    item = journal.item(item_id)
    assert item is not None and (item.state, item.split_dir, item.attempts) == ("split", "/s/a", 0)


def test_one_group_claim_at_a_time_stale_takeover_and_owner_only_outcome(journal: SplitJournal) -> None:
    item_id = _claimed_item(journal)
    _, groups = journal.plan_groups(item_id, "splitter", group_bounds(100, 50), "/s/a")  # type: ignore[misc]
    first = groups[0].id
    assert journal.claim_group(first, "w1", stale_after_s=60) is not None
    assert journal.claim_group(first, "w2", stale_after_s=60) is None, "a fresh claim must not be taken"
    time.sleep(0.05)
    taken = journal.claim_group(first, "w2", stale_after_s=0.01)
    assert taken is not None and (taken.attempts, taken.worker) == (2, "w2"), taken
    assert not journal.group_heartbeat(first, "w1") and not journal.finish_group(first, "w1", "done", outcome="x")
    assert journal.finish_group(first, "w2", "done", outcome='{"first": 0}', seconds=1.5)
    assert journal.claim_group(first, "w3", stale_after_s=0) is None, "a done group is never claimed again"
    assert journal.group(first).outcome == '{"first": 0}'  # type: ignore[union-attr]


def test_the_join_is_claimed_once_and_only_when_every_group_is_done(journal: SplitJournal) -> None:
    item_id = _claimed_item(journal)
    _, groups = journal.plan_groups(item_id, "splitter", group_bounds(100, 50), "/s/a")  # type: ignore[misc]
    journal.hand_over(item_id, "splitter")
    journal.claim_group(groups[0].id, "w1", stale_after_s=60)
    journal.finish_group(groups[0].id, "w1", "done", outcome="{}")
    assert not journal.all_groups_done(item_id)
    assert journal.claim_join(item_id, "w1") is None, "a join must not start while a group is not done"
    journal.claim_group(groups[1].id, "w2", stale_after_s=60)
    journal.finish_group(groups[1].id, "w2", "done", outcome="{}")
    assert journal.all_groups_done(item_id)
    joined = journal.claim_join(item_id, "w2")
    assert joined is not None and (joined.state, joined.worker, joined.attempts) == ("running", "w2", 1)
    assert journal.claim_join(item_id, "w1") is None, "the second of two last groups must not join again"


def test_a_resplit_keeps_done_groups_and_a_new_layout_replaces_them(journal: SplitJournal) -> None:
    item_id = _claimed_item(journal)
    _, groups = journal.plan_groups(item_id, "splitter", group_bounds(100, 50), "/s/a")  # type: ignore[misc]
    journal.claim_group(groups[0].id, "w1", stale_after_s=60)
    journal.finish_group(groups[0].id, "w1", "done", outcome="{}")
    # the splitter died before handing over; its successor plans again: same folder, the done group kept
    time.sleep(0.05)
    assert journal.claim(item_id, "successor", stale_after_s=0.01) is not None
    folder, again = journal.plan_groups(item_id, "successor", group_bounds(100, 50), "/s/b")  # type: ignore[misc]
    assert folder == "/s/a" and [g.state for g in again] == ["done", "queued"]
    folder, other = journal.plan_groups(item_id, "successor", group_bounds(100, 25), "/s/c")  # type: ignore[misc]
    assert folder == "/s/a" and [(g.first, g.state) for g in other] == [
        (0, "queued"), (25, "queued"), (50, "queued"), (75, "queued")]


def test_a_failed_group_fails_its_document_and_retry_failed_splits_it_anew(journal: SplitJournal) -> None:
    item_id = _claimed_item(journal)
    _, groups = journal.plan_groups(item_id, "splitter", group_bounds(100, 50), "/s/a")  # type: ignore[misc]
    journal.hand_over(item_id, "splitter")
    journal.claim_group(groups[1].id, "w1", stale_after_s=60)
    assert journal.running_groups(journal.item(item_id).run_id) == 1  # type: ignore[union-attr]
    journal.finish_group(groups[1].id, "w1", "failed", error_code="input_corrupt", error_en="bad page")
    assert journal.fail_split(item_id, error_code="input_corrupt", error_stage="ingest", error_vi="hỏng",
                              error_en="bad page")
    item = journal.item(item_id)
    assert item is not None and item.state == "failed"
    assert journal.reset_failed(item.run_id) == 1
    item = journal.item(item_id)
    assert item is not None and (item.state, item.split_dir) == ("queued", None)


def test_the_batch_groups_migration_down_and_up_again(journal: SplitJournal) -> None:
    item_id = _claimed_item(journal)
    journal.plan_groups(item_id, "splitter", group_bounds(100, 50), "/s/a")
    cfg = db_engine._alembic_config()
    # found by its module, not its number: branches merged later may renumber it
    (ours,) = [r for r in ScriptDirectory.from_config(cfg).walk_revisions()
               if r.path.endswith("_batch_groups.py")]
    before = str(ours.down_revision)
    with db_engine.writer(journal.engine).begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, before)
    tables = sa.inspect(journal.engine).get_table_names()
    columns = {c["name"] for c in sa.inspect(journal.engine).get_columns("batch_items")}
    assert "batch_groups" not in tables and "split_dir" not in columns
    assert db_engine.upgrade(journal.engine, "test") == (before, db_engine.head_revision())
    assert journal.groups(item_id) == [] and journal.item(item_id).split_dir is None  # type: ignore[union-attr]
