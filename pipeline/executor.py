"""Page-parallel execution: a local pool of worker processes with a warm OCR engine each.

Why processes: Tesseract and OpenCV hold the GIL for long stretches, and a page that crashes a native
library must not take the job's process with it. Why ``forkserver``: the daemon runs threads
(observers, HTTP), and forking a threaded process can deadlock the child. Each worker sets
``OMP_THREAD_LIMIT=1`` before Tesseract loads — its OpenMP build spins and burns CPU on a busy machine —
and keeps its engine warm across pages and documents. OpenCV is held to one thread for the same reason.
A short document of one ``sohoa process`` call is read in lanes instead (threads of this process, one
OCR helper each, ``pipeline.lanes``): for 1–4 pages a worker's start-up costs more than it saves.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sohoa.common.errors import ProcessingError
from sohoa.common.lifeline import die_with_parent
from sohoa.common.messages import _
from sohoa.pipeline.lanes import Lanes

if TYPE_CHECKING:
    from sohoa.config.settings import OcrSettings

T = TypeVar("T")
R = TypeVar("R")


def _init_worker(owner: int | None = None) -> None:
    """Die with the forkserver; OpenMP held to one thread before Tesseract or OpenCV can load it."""
    if owner is not None:
        die_with_parent()
        try:
            os.kill(owner, 0)  # the pool's owner died before the request took effect: go now
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:
            pass
    os.environ["OMP_THREAD_LIMIT"] = "1"


_prepared = False


def prepare_process() -> None:
    """One OpenCV thread per page worker or lane (the pool already fills the cores); once per process.

    Not in the pool's initializer: importing OpenCV there (~0.1 s) would delay the OCR helper's start."""
    global _prepared
    if not _prepared:
        os.environ["OMP_THREAD_LIMIT"] = "1"
        import cv2

        cv2.setNumThreads(1)
        _prepared = True


def _prepared_call(fn: Callable[[T], R], item: T) -> R:
    prepare_process()
    return fn(item)


def warm_worker(settings: OcrSettings) -> None:
    """Worker side of ``PageExecutor.warm``: import the page stages and start this worker's OCR helper.

    A failure is left for the first page, which reports it as a typed error in the document's terms.
    """
    from sohoa.common.errors import SohoaError

    try:
        from sohoa.stages.ocr_engine import get_engine

        get_engine(settings, wait=False)  # first: the helper loads its model while this process imports
        # the rest and reads the first page; the first OCR call waits for it (and reports a broken one)
        prepare_process()
        import sohoa.pipeline.pages  # noqa: F401 - what unpickling the first page would import
    except SohoaError:
        pass


def default_workers(configured: int) -> int:
    return configured if configured > 0 else max(1, len(os.sched_getaffinity(0)))


def page_workers(configured: int, pages: int) -> int:
    """Worker processes for one document: never more than the cores (or the configured count), nor the pages.

    Why: a 300-page file once started a worker (and a warm OCR helper) per page and exhausted memory.
    """
    return max(1, min(default_workers(configured), pages))


# a PDF or TIFF may hold many pages; every other input is one page
_PDF_HEAD = b"%PDF"
_TIFF_HEADS = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def planned_workers(inputs: Sequence[Path], configured: int) -> int:
    """``page_workers`` for a document whose inputs are not checked yet (first bytes and page counts only).

    Why a plan before the check: ``sohoa process`` starts its workers before the inputs are checked and
    decoded (see ``PageExecutor.warm``). A PDF's or TIFF's pages are counted (pikepdf and Pillow read
    only the page tree or the IFD chain): a one-page PDF once started two workers, each loading the
    OCR model, for one page. A wrong plan costs speed only: an unreadable file counts as one page.
    """
    return page_workers(configured, planned_pages(inputs, up_to=default_workers(configured)))


def executor_for(inputs: Sequence[Path], settings: OcrSettings) -> PageExecutor:
    """The executor of one ``sohoa process`` call: lanes for a short document, else worker processes."""
    short = settings.in_process_pages
    pages = planned_pages(inputs, up_to=max(default_workers(settings.workers), short + 1))
    return PageExecutor(page_workers(settings.workers, pages), threads=pages <= short)


def planned_pages(inputs: Sequence[Path], *, up_to: int) -> int:
    """The pages of ``inputs`` as ``planned_workers`` counts them, counting stopped once ``up_to`` is reached."""
    pages = 0
    for path in inputs:
        pages += _pages_in(path)
        if pages >= up_to:
            break
    return pages


def _pages_in(path: Path) -> int:
    """The pages of one input, read cheaply; 1 for a one-page format or anything that cannot be read."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError:
        return 1
    if head == _PDF_HEAD:
        import pikepdf

        try:
            with pikepdf.open(path) as pdf:
                return max(1, len(pdf.pages))
        except (pikepdf.PikepdfError, OSError, ValueError):  # PasswordError is no PdfError
            return 1
    if head in _TIFF_HEADS:
        from PIL import Image

        try:
            with Image.open(path) as image:
                return max(1, int(getattr(image, "n_frames", 1)))
        except Exception:  # noqa: BLE001 - a hostile TIFF makes Pillow raise almost anything; this is only a plan
            return 1
    return 1


class PageExecutor:
    """Runs a picklable function over items, in order: in ``workers`` processes, or in lanes (threads).

    Reuse one executor for many documents (daemon, batch): the workers and their OCR engines stay warm.
    Create it, and first use it, from a long-lived thread: the forkserver dies with the thread that
    started it (``PR_SET_PDEATHSIG``), which is what keeps a killed parent from leaving orphans.
    Even a one-page document goes to the pool then: running it inline would put OCR in the caller's
    threads, where it competes with signing and filing for the GIL (measured: daemon/process
    throughput 0.76 inline, 0.91 through the pool, bench/results/watch-a4.md).

    ``threads``: ``workers`` lanes of this process instead (``pipeline.lanes``), for the short documents
    of one ``sohoa process`` call. A one-worker executor that is warmed uses one lane too (its OCR
    helper must outlive the warming); one that is not runs the items in the caller's thread.
    """

    def __init__(self, workers: int = 0, *, threads: bool = False) -> None:
        self.workers = default_workers(workers)
        self.threads = threads or self.workers == 1
        self._pool: Executor | None = None
        self._lanes: Lanes | None = None
        self._warming: list[Future[None]] = []

    def warm(self, settings: OcrSettings, count: int) -> None:
        """Start ``count`` workers now, each with its OCR helper (``warm_worker``), without waiting.

        Why: ``sohoa process`` then imports signing and the records and opens the database while the
        workers start and load the model, instead of before (issue 14). ``map`` waits for these first,
        so each page goes to a warm worker rather than making the pool start one more.
        """
        if self.threads:
            if self._lanes is None:
                self._lanes = Lanes(self.workers, settings)
            return
        pool = self._get_pool()
        self._warming += [pool.submit(warm_worker, settings) for _ in range(min(count, self.workers))]

    def _get_pool(self) -> Executor:
        if self._pool is None:
            context = multiprocessing.get_context("forkserver")
            # The forkserver must die with this process (and the workers with the forkserver): a
            # ``kill -9`` once orphaned the whole pool. See sohoa.common.lifeline.
            context.set_forkserver_preload(["__main__", "sohoa.pipeline.forkserver_guard"])
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context,
                                             initializer=_init_worker, initargs=(os.getpid(),))
        return self._pool

    def map(self, fn: Callable[[T], R], items: Iterable[T], *, label: str = "") -> Iterator[R]:
        items = list(items)
        if self.threads and self._lanes is None and self.workers == 1:
            prepare_process()  # not warmed: the caller's thread (batch, page groups), nothing to close
            yield from (fn(item) for item in items)
            return
        submit: Callable[[T], Future[R]]
        if self.threads:
            if self._lanes is None:
                self._lanes = Lanes(self.workers, None)
            submit = functools.partial(self._lanes.submit, fn)
        else:
            pool = self._get_pool()
            warming, self._warming = self._warming, []  # documents in parallel: one of them waits
            if warming:
                wait(warming)
            submit = functools.partial(pool.submit, _prepared_call, fn)
        # Each future leaves the queue as its result is handed out: a 1,000-page document must not keep
        # every page's text operators alive in finished futures until its last page.
        futures = deque(submit(item) for item in items)
        try:
            while futures:
                yield futures.popleft().result()
        except BrokenProcessPool:
            self.close()
            detail = _("a worker process died (out of memory or a crash in a native library)")
            raise ProcessingError(path=label, stage="worker", detail=detail) from None
        finally:
            for future in futures:
                future.cancel()

    def close(self) -> None:
        if self._lanes is not None:
            self._lanes.close()
            self._lanes = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> PageExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
