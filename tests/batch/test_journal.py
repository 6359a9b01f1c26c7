"""The batch journal's claim rules on SQLite and PostgreSQL: one owner, stale takeover, owner-only results."""

from __future__ import annotations

import time

from sohoa.runners.batch.journal import BatchJournal, ItemSpec
from tests.batch.pages import code


def _spec(key: str, content: str = "c1") -> ItemSpec:
    return ItemSpec(item_key=key, inputs=[f"/x/{key}"], fingerprint="f", content_sha256=content,
                    dossier_code=code(1), kind="result")


def test_one_claim_at_a_time_and_only_the_owner_finishes(journal: BatchJournal) -> None:
    run = journal.open_run("k", "/src", None, {})
    (item,) = journal.upsert_items(run.id, [_spec("a")])
    assert journal.claim(item.id, "w1", stale_after_s=60) is not None
    assert journal.claim(item.id, "w2", stale_after_s=60) is None, "a fresh claim must not be taken"
    assert not journal.finish(item.id, "w2", "done"), "a non-owner must not write the outcome"
    assert journal.finish(item.id, "w1", "done", pages=3)
    assert journal.claim(item.id, "w2", stale_after_s=0) is None, "a done item is never claimed again"
    assert journal.item(item.id).pages == 3  # type: ignore[union-attr]


def test_a_silent_claim_is_taken_over_and_the_old_owner_loses_it(journal: BatchJournal) -> None:
    run = journal.open_run("k", "/src", None, {})
    (item,) = journal.upsert_items(run.id, [_spec("a")])
    journal.claim(item.id, "dead", stale_after_s=60)
    time.sleep(0.05)
    taken = journal.claim(item.id, "alive", stale_after_s=0.01)
    assert taken is not None and taken.attempts == 2 and taken.worker == "alive", taken
    assert not journal.heartbeat(item.id, "dead") and not journal.finish(item.id, "dead", "failed")
    assert journal.finish(item.id, "alive", "done")


def test_changed_content_is_redone_and_release_requeues(journal: BatchJournal) -> None:
    run = journal.open_run("k", "/src", None, {})
    a, b = journal.upsert_items(run.id, [_spec("a"), _spec("b", "c2")])
    journal.claim(a.id, "h:1:10", stale_after_s=60)
    journal.finish(a.id, "h:1:10", "done", pages=1)
    journal.claim(b.id, "h:1:11", stale_after_s=60)
    assert journal.release_all(run.id, "h:1:") == 1
    assert journal.find_done("c1", code(1), exclude=b.id) is not None
    again = {i.item_key: i for i in journal.upsert_items(run.id, [_spec("a"), _spec("b", "c2")])}
    assert (again["a"].state, again["b"].state) == ("done", "queued"), again
    changed = {i.item_key: i for i in journal.upsert_items(run.id, [_spec("a", "c3")])}
    assert changed["a"].state == "queued" and changed["a"].pages is None, "new content must be processed again"
    assert journal.counts(run.id) == {"queued": 2}
