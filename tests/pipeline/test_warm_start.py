"""Workers (and their OCR helpers) started ahead of the pages: the same pool, no extra processes.

``sohoa process`` starts them before it imports signing and opens the records (issue 14); the pages
then go to those workers, and a pool never grows past the workers planned for the document.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pikepdf
from PIL import Image

from sohoa.config.settings import OcrSettings
from sohoa.pipeline.executor import PageExecutor, default_workers, executor_for, planned_workers


def _pid(_: int) -> int:
    return os.getpid()


def test_planned_workers_count_the_pages_of_images_pdfs_and_tiffs(tmp_path: Path) -> None:
    jpg = tmp_path / "a.jpg"
    jpg.write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 16)
    one_pdf, three_pdf = tmp_path / "one.pdf", tmp_path / "three.pdf"
    for path, count in ((one_pdf, 1), (three_pdf, 3)):
        pdf = pikepdf.new()
        for _ in range(count):
            pdf.add_blank_page()
        pdf.save(path)
    tif = tmp_path / "c.tif"
    frames = [Image.new("L", (8, 8), 255) for _ in range(3)]
    frames[0].save(tif, save_all=True, append_images=frames[1:])
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n")
    locked = tmp_path / "locked.pdf"
    with pikepdf.open(three_pdf) as pdf:
        pdf.save(locked, encryption=pikepdf.Encryption(owner="o", user="u"))
    assert planned_workers([jpg], 2) == 1
    assert planned_workers([jpg, jpg, jpg], 2) == 2
    assert planned_workers([one_pdf], 2) == 1  # one page: one worker, one OCR model loaded
    assert planned_workers([three_pdf], 2) == 2
    assert planned_workers([tif], 0) == min(3, default_workers(0))
    assert planned_workers([broken], 2) == 1  # refused later, with its sentence
    assert planned_workers([locked], 2) == 1  # encrypted: refused later too (InputEncrypted)
    assert planned_workers([tmp_path / "missing.jpg"], 2) == 1


def test_a_warmed_pool_runs_the_pages_on_the_warmed_workers() -> None:
    settings = OcrSettings(languages="vie")
    with PageExecutor(2) as pool:
        pool.warm(settings, 2)
        pids = set(pool.map(_pid, range(6)))
        assert 1 <= len(pids) <= 2
        assert os.getpid() not in pids


def test_warming_an_inline_executor_runs_the_pages_here_after_it() -> None:
    settings = OcrSettings(languages="vie")
    with PageExecutor(1) as pool:
        pool.warm(settings, 1)
        assert list(pool.map(_pid, range(2))) == [os.getpid()] * 2


def _helper_pids(settings: OcrSettings) -> tuple[int | None, int | None]:
    """(the OCR helper this process had before a page, the one that read the page)."""
    from sohoa.common.tesseract import RawImage
    from sohoa.stages.ocr_engine import get_engine

    engine = get_engine(settings)
    before = getattr(engine, "helper_pid", None)
    white = np.full((64, 64), 255, dtype=np.uint8)
    engine.hocr(RawImage.from_array(white), dpi=300, timeout_s=60)
    return before, getattr(engine, "helper_pid", None)


def test_the_helper_warmed_for_inline_pages_is_the_one_that_reads_them() -> None:
    """The kernel kills an OCR helper when the *thread* that started it ends (PR_SET_PDEATHSIG); a warming
    thread that returned once the model was loaded took its helper along, and page 1 started another."""
    settings = OcrSettings(languages="vie", engine="tesserocr")
    with PageExecutor(1) as pool:
        pool.warm(settings, 1)
        [(before, after)] = list(pool.map(_helper_pids, [settings]))
    assert before is not None and before == after, f"warmed helper {before}, page read by {after}"


_BARRIER = threading.Barrier(2)


def _meet_and_report(settings: OcrSettings) -> tuple[int, int | None]:
    """Wait for the other lane (fails unless two items run at once), then OCR a blank patch."""
    _BARRIER.wait(timeout=60)
    return os.getpid(), _helper_pids(settings)[1]


def test_lanes_read_two_pages_at_once_each_with_its_own_helper_and_close_them() -> None:
    settings = OcrSettings(languages="vie", engine="tesserocr")
    with PageExecutor(2, threads=True) as lanes:
        lanes.warm(settings, 2)
        results = list(lanes.map(_meet_and_report, [settings, settings]))
    assert [pid for pid, _ in results] == [os.getpid()] * 2  # threads of this process, no worker processes
    helpers = {helper for _, helper in results}
    assert None not in helpers and len(helpers) == 2, f"helpers used: {helpers}"
    for helper in helpers:  # closed with their lanes: no helper outlives the executor
        assert helper is not None
        try:
            os.waitpid(helper, os.WNOHANG)
        except ChildProcessError:
            pass
        assert not Path(f"/proc/{helper}").exists() or "zombie" in Path(f"/proc/{helper}/status").read_text().lower()


def test_a_lane_hands_back_a_page_s_exception_and_keeps_going() -> None:
    with PageExecutor(1, threads=True) as lanes:
        lanes.warm(OcrSettings(languages="vie"), 1)
        try:
            list(lanes.map(_fails_on_two, [1, 2]))
        except ValueError as exc:
            assert "page 2" in str(exc)
        else:
            raise AssertionError("the exception of page 2 was lost")
        assert list(lanes.map(_pid, [3])) == [os.getpid()]


def _fails_on_two(n: int) -> int:
    if n == 2:
        raise ValueError("page 2 is broken")
    return n


def test_a_short_document_is_read_in_lanes_and_a_long_one_in_worker_processes(tmp_path: Path) -> None:
    pages = []
    for n in range(6):
        pages.append(tmp_path / f"p{n}.jpg")
        Image.new("L", (16, 16), 255).save(pages[-1])
    settings = OcrSettings(languages="vie", workers=2, in_process_pages=4)
    for inputs, threads, workers in [(pages[:1], True, 1), (pages[:4], True, 2), (pages[:5], False, 2)]:
        executor = executor_for(inputs, settings)
        assert (executor.threads, executor.workers) == (threads, workers), f"{len(inputs)} pages"
    assert not executor_for(pages[:2], OcrSettings(workers=2, in_process_pages=0)).threads
