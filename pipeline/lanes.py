"""Page lanes: a few long-lived threads of this process, each with an OCR helper of its own.

Why threads for short documents: with the warm engine, the OCR itself already runs in a helper
process; what a worker process adds for a 1–4 page document is its own start-up: the forkserver,
the page stages imported once more per worker, the Tesseract probe again (~0.4 CPU s per worker,
measured on counter traffic, issue 14). A lane thread pays none of it, and two lanes still read two
pages at once, in two helpers. Long documents keep worker processes (``PageExecutor``): their Python
work (page assembly, hOCR parsing) would queue on this process's GIL, and their memory stays apart.

Why each lane owns its helper until it is closed: the kernel kills a helper when the *thread* that
started it ends (``PR_SET_PDEATHSIG``, ``sohoa.common.lifeline``); a lane lives until ``close``.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sohoa.config.settings import OcrSettings

_Task = tuple[Callable[[Any], Any], Any, "Future[Any]"]


class Lanes:
    """``count`` threads taking items from one queue; each first starts its OCR helper (when warmed)."""

    def __init__(self, count: int, settings: OcrSettings | None) -> None:
        self._tasks: queue.SimpleQueue[_Task | None] = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._run, args=(n, settings), name=f"sohoa-page-{n}",
                                          daemon=True) for n in range(count)]
        for thread in self._threads:
            thread.start()

    def _run(self, lane: int, settings: OcrSettings | None) -> None:
        from sohoa.pipeline.executor import prepare_process, warm_worker
        from sohoa.stages.ocr_engine import close_lane_engines, enter_lane

        enter_lane(lane)  # this thread's engines are its own: one helper per lane
        try:
            if settings is not None:
                warm_worker(settings)
            prepare_process()
            while (task := self._tasks.get()) is not None:
                fn, item, future = task
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    future.set_result(fn(item))
                except BaseException as exc:  # noqa: BLE001 - handed to the caller, who re-raises it
                    future.set_exception(exc)
        finally:
            close_lane_engines()

    def submit(self, fn: Callable[[Any], Any], item: Any) -> Future[Any]:
        future: Future[Any] = Future()
        self._tasks.put((fn, item, future))
        return future

    def close(self) -> None:
        """Let each lane finish its current item, close its OCR helper and end."""
        for _thread in self._threads:
            self._tasks.put(None)
        for thread in self._threads:
            thread.join()
