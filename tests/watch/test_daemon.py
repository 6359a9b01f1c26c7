"""The daemon end to end: real process, real folders, real OCR, signing and records.

kill -9 at chosen steps and at random times: test_kill9.py.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from tests.watch.conftest import CODE, wait_for
from tests.watch.outcomes import assert_filed, drop_valid
from tests.watch.pages import page_bytes, page_image, save

FORMATS = (".jpg", ".png", ".tif", ".pdf")


@pytest.mark.slow
def test_sixty_files_every_valid_one_filed_once_every_bad_one_failed(daemon_factory) -> None:
    run = daemon_factory([
        {"path": "inbox", "sign_profiles": ["digitizer"]},
        {"path": "covers", "grouping": "cover_sheet", "quiet_period_s": 2.0, "sign_profiles": ["digitizer"],
         "cover_sheet": "drop"},
    ])
    inbox, covers = run.inbox("inbox"), run.inbox("covers")
    inbox.mkdir(parents=True)
    expected: dict[str, int] = {}
    for number in range(1, 31):  # present before start-up: processed too
        drop_valid(inbox, number, FORMATS[number % 4], sidecar=number % 10 == 0)
        expected[CODE.format(number)] = 1
    run.start()
    for number in range(31, 41):  # dropped while running
        drop_valid(inbox, number, FORMATS[number % 4])
        expected[CODE.format(number)] = 1
    bad = {"truncated.jpg": page_bytes("cắt cụt", ".jpg")[:900], "empty.png": b"",
           "notes.txt": "không phải ảnh".encode(), "random.tif": bytes(range(256)) * 8,
           "broken.pdf": b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", "word.doc": b"\xd0\xcf\x11\xe0" + b"\0" * 600,
           "zip.jpg": b"PK\x03\x04" + b"\0" * 300, "half.png": page_bytes("nửa", ".png")[:500],
           "header-only.tif": b"II*\x00\x08\x00\x00\x00", "junk.bmp": b"BM" + b"\x01" * 40}
    for name, data in bad.items():
        (inbox / name).write_bytes(data)
    # two cover-sheet batches, each: cover A, 2 pages, cover B, 1 page (skewed QR on one cover)
    for batch in range(2):
        base = 100 + 10 * batch
        files = [(f"b{batch}-01.jpg", page_image("Giấy tiếp nhận", qr=f"ma_ho_so={CODE.format(base)}")),
                 (f"b{batch}-02.jpg", page_image("Trang một")), (f"b{batch}-03.png", page_image("Trang hai")),
                 (f"b{batch}-04.jpg", page_image("Phiếu", qr=f'{{"MaHoSo": "{CODE.format(base + 1)}"}}', skew=3)),
                 (f"b{batch}-05.jpg", page_image("Trang ba"))]
        for name, image in files:
            save(image, covers / name)
        expected[CODE.format(base)] = 1
        expected[CODE.format(base + 1)] = 1
        wait_for(lambda: not any(p.is_file() for p in covers.iterdir()), 120, f"cover batch {batch} claimed", run)
    total = 40 + len(bad) + 10
    wait_for(lambda: len(run.files("inbox", "done")) + len(run.files("covers", "done")) >= 40 + 10
             and len(run.files("inbox", "failed")) >= 2 * len(bad), 300, "all 60 files to settle", run)
    assert run.alive(), "the daemon must stay up"
    assert run.health() and run.health()["status"] == "ok"
    assert run.metric("sohoa_watch_files_done_total", folder="inbox") == 40
    assert run.metric("sohoa_watch_files_failed_total", folder="inbox") == len(bad)
    assert run.stop() == 0, "SIGTERM must exit 0"
    assert_filed(run, expected)
    failed = {p.name for p in run.files("inbox", "failed")}
    for name in bad:
        assert name in failed, f"{name} not in failed/: {sorted(failed)}"
        reason = (inbox / "failed" / f"{name}.error.txt").read_text(encoding="utf-8")
        assert "Lý do:" in reason and "Reason:" in reason and "Stage: ingest" in reason, reason
        assert ".sohoa-work" not in reason, "the reason names the file, not the work area"
    leftovers = [p for p in inbox.iterdir() if p.is_file()] + [p for p in covers.iterdir() if p.is_file()]
    assert not leftovers, f"files left in the inboxes: {leftovers}"
    assert not any((inbox / ".sohoa-work").iterdir()), "work area not empty"
    assert len(run.files("inbox", "done")) + len(run.files("covers", "done")) == total - len(bad) + 3, \
        "done/ holds every valid input (plus the 3 sidecar JSON files)"


@pytest.mark.slow
def test_slow_writer_is_not_taken_early(daemon_factory) -> None:
    run = daemon_factory([{"path": "inbox", "sign_profiles": ["digitizer"]}], stable_seconds=1.5,
                         unreadable_grace_s=30.0)
    inbox = run.inbox()
    run.start()
    data = page_bytes("Viết chậm", ".jpg")
    target = inbox / f"{CODE.format(7)}_slow.jpg"
    chunks = [data[i:i + len(data) // 8 + 1] for i in range(0, len(data), len(data) // 8 + 1)]
    with target.open("wb") as handle:
        for chunk in chunks:  # ~4 s in total, each pause shorter than stable_seconds
            handle.write(chunk)
            handle.flush()
            time.sleep(0.5)
            assert target.exists(), "taken while still being written"
    wait_for(lambda: run.files("inbox", "done"), 60, "the slow file to be filed", run)
    assert not run.files("inbox", "failed"), "a slow writer is not a bad file"
    assert run.stop() == 0
    assert_filed(run, {CODE.format(7): 1})


def test_polling_folder_and_systemd_notifications(daemon_factory, tmp_path: Path) -> None:
    sock_path = tmp_path / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(sock_path))
    listener.settimeout(1.0)
    received: list[str] = []

    def collect() -> None:
        while True:
            try:
                received.append(listener.recv(4096).decode())
            except TimeoutError:
                continue
            except OSError:
                return

    threading.Thread(target=collect, daemon=True).start()
    run = daemon_factory([{"path": "share", "polling": True, "sign_profiles": ["digitizer"]}],
                         rescan_interval_s=600.0)  # only the polling observer can notice the file in time
    run.env_extra = {"NOTIFY_SOCKET": str(sock_path), "WATCHDOG_USEC": "2000000"}
    run.start()
    save(page_image("Thư mục mạng"), run.inbox("share") / f"{CODE.format(9)}.jpg")
    wait_for(lambda: run.files("share", "done"), 90, "the polled file to be filed", run)
    assert "PollingObserver" in (run.health() or {}).get("observers", []), run.health()
    assert run.stop() == 0
    assert not run.port_file.exists(), "a clean stop removes the health port file"
    listener.close()
    assert any("READY=1" in m for m in received), f"no READY=1 among {received}"
    assert any("WATCHDOG=1" in m for m in received), f"no WATCHDOG=1 among {received}"
    assert_filed(run, {CODE.format(9): 1})


def test_killed_after_release_is_only_cleaned_up_at_start(daemon_factory) -> None:
    """A kill -9 between moving the sources out and removing the work folder leaves a claim whose
    sources are gone; the restart must finish the clean-up, not re-run it and report them missing."""
    from datetime import datetime

    from sohoa.config.watch import WatchFolder
    from sohoa.watch_folders import spool
    from sohoa.watch_folders.scanner import Unit

    run = daemon_factory([{"path": "inbox"}], stable_seconds=0.5)
    inbox = run.inbox()
    inbox.mkdir(parents=True)
    source = drop_valid(inbox, 7, ".jpg")
    unit = Unit(folder=WatchFolder(path=inbox), inbox=inbox, name=source.name, sources=[source])
    claim = spool.claim(unit, inbox / ".sohoa-work", spool.content_id([source]), datetime.now())
    spool.release_to(claim, inbox / "done")  # what a finished job does just before finish()
    assert claim.workdir.exists() and not source.exists()
    run.start()
    wait_for(lambda: not claim.workdir.exists(), 60, "the left-over work folder to be removed", run)
    assert run.stop() == 0
    assert not run.files("inbox", "failed"), f"a released job was re-run: {run.files('inbox', 'failed')}"
    assert [p.name for p in run.files("inbox", "done")] == [source.name]
