"""``common.heap``: the first jobs' heap is frozen out of collections, later garbage is still collected."""

from __future__ import annotations

import gc
import weakref

import pytest

from sohoa.common import heap


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_settles_the_first_jobs_then_leaves_collection_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "_settled", 0)
    try:
        before = Node()
        settled = [heap.settle_after_job() for _ in range(heap.SETTLE_AFTER + 2)]
        assert settled == [True] * heap.SETTLE_AFTER + [False, False]
        assert gc.get_freeze_count() > 0 and gc.is_tracked(before)
        later = Node()
        gone = weakref.ref(later)
        del later
        gc.collect()
        assert gone() is None, "garbage made after the freeze is collected as before"
    finally:
        gc.unfreeze()
