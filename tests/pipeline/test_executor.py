"""The page pool is bounded by the cores, whatever the number of pages (a 300-page file once started 300)."""

from __future__ import annotations

import os

from sohoa.pipeline.executor import page_workers


def test_page_workers_never_exceed_the_cores() -> None:
    cores = len(os.sched_getaffinity(0))
    assert page_workers(0, 300) == min(cores, 300)
    assert page_workers(0, 1) == 1


def test_page_workers_follow_the_configured_count_but_not_beyond_the_pages() -> None:
    assert page_workers(3, 300) == 3
    assert page_workers(8, 2) == 2
    assert page_workers(0, 0) == 1
