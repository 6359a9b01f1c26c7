"""Fast checks of the daemon's parts: stability, naming rules, QR cover sheets, spool, journal, sd_notify."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from sohoa.config.records import DEFAULT_CODE_PATTERN
from sohoa.config.settings import Settings
from sohoa.config.watch import CoverSheetSettings, WatchFolder, WatchSettings
from sohoa.records.service import Records
from sohoa.runners.watch.journal import Journal
from sohoa.stages.model import Page
from sohoa.stages.separate import find_cover_sheets, parse_payload
from sohoa.watch_folders import rules, spool
from sohoa.watch_folders.scanner import Inbox
from sohoa.watch_folders.sdnotify import Notifier
from sohoa.watch_folders.stability import StabilityTracker
from tests.watch.pages import page_image, save

CODE = "000.00.31.H50-220906-0001"


def test_stability_needs_a_quiet_period_after_the_last_change() -> None:
    tracker = StabilityTracker(2.0)
    path = Path("a.jpg")
    assert tracker.observe(path, 10, 1, now=0.0).stable_since is None
    assert tracker.observe(path, 20, 2, now=1.5).stable_since is None, "grew: not stable"
    assert tracker.observe(path, 20, 2, now=3.0).stable_since is None, "quiet for 1.5 s only"
    assert tracker.observe(path, 20, 2, now=3.6).stable_since == 3.6
    assert tracker.observe(path, 20, 3, now=4.0).stable_since is None, "mtime change resets"


def test_ignore_rules_and_codes_from_names() -> None:
    for name in (".hidden.jpg", "scan.tmp", "scan.jpg.part", "~$draft.docx"):
        assert rules.is_ignored(name, WatchSettings().ignore), name
    assert not rules.is_ignored("scan.jpg", WatchSettings().ignore)
    assert rules.code_from_name(f"{CODE.lower()}_trang1.jpg", DEFAULT_CODE_PATTERN) == CODE
    assert rules.code_from_name("HS-42.jpg", r"HS-(?P<code>\d+)") == "42"
    assert rules.code_from_name("scan.jpg", DEFAULT_CODE_PATTERN) is None
    code, meta = rules.parse_sidecar(json.dumps({"maHoSo": CODE, "title": "Đơn"}), WatchSettings().cover_sheet.keys)
    assert code == CODE and meta["title"] == "Đơn"


@pytest.mark.parametrize("payload", [
    json.dumps({"MaHoSo": CODE, "MaTTHC": "1.00309"}),
    f"ma_ho_so={CODE};ma_tthc=1.00309;cccd=001203004567",
    f"QTRI|{CODE}|1.00309|Nguyễn Văn An|2022-09-06",
    f"Mã hồ sơ: {CODE}\nHẹn trả: 2022-09-20",
])
def test_payload_formats_always_give_the_code(payload: str) -> None:
    code, _fields = parse_payload(payload, keys=CoverSheetSettings().keys, delimiters="|;\t\n",
                                  code_pattern=DEFAULT_CODE_PATTERN)
    assert code == CODE, f"{payload!r} gave {code!r}"


@pytest.mark.parametrize(("dpi", "skew"), [(200, 0.0), (200, 4.0), (300, -3.0)])
def test_cover_sheet_found_on_skewed_pages(dpi: int, skew: float) -> None:
    cover = page_image("Giấy tiếp nhận hồ sơ", dpi=dpi, qr=f"ma_ho_so={CODE}", skew=skew)
    plain = page_image("Trang nội dung", dpi=dpi)
    pages = [Page(image=np.asarray(img), dpi=(float(dpi), float(dpi)), source=Path(f"p{n}.jpg"))
             for n, img in enumerate([plain, cover, plain])]
    sheets = find_cover_sheets(pages, CoverSheetSettings(), DEFAULT_CODE_PATTERN)
    assert [(s.index, s.dossier_code) for s in sheets] == [(1, CODE)], sheets


def test_claim_release_and_content_id(tmp_path: Path) -> None:
    inbox_dir = tmp_path / "inbox"
    folder = WatchFolder(path=inbox_dir)
    inbox = Inbox(folder, inbox_dir, WatchSettings(stable_seconds=0.0), DEFAULT_CODE_PATTERN)
    inbox.ensure_dirs()
    save(page_image("Một"), inbox_dir / f"{CODE}.jpg")
    (inbox_dir / ".partial.jpg").write_bytes(b"x")
    units = inbox.scan(0.0, lambda _p: None)
    assert [u.name for u in units] == [f"{CODE}.jpg"] and units[0].dossier_code == CODE
    job_id = spool.content_id(units[0].sources)
    claim = spool.claim(units[0], inbox.work, job_id, datetime.now(UTC))
    assert not (inbox_dir / f"{CODE}.jpg").exists() and claim.claimed_paths(), "claimed by rename"
    assert [c.job_id for c in spool.pending(inbox.work, inbox_dir)] == [job_id], "recovery sees the claim"
    spool.release_to(claim, inbox_dir / "failed", note=(".error.txt", "lý do"))
    spool.finish(claim)
    assert (inbox_dir / "failed" / f"{CODE}.jpg").exists()
    assert (inbox_dir / "failed" / f"{CODE}.jpg.error.txt").read_text(encoding="utf-8") == "lý do"
    assert not spool.pending(inbox.work, inbox_dir)


def test_journal_states(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    with Records.open(settings.records, settings.data_dir) as records:
        journal = Journal(records)
        journal.claim("j1", "inbox", ["a.jpg"], CODE)
        assert journal.claim("j1", "inbox", ["a.jpg"], CODE).state == "claimed", "re-claim keeps the row"
        entry = journal.update("j1", state="processing", attempt=True)
        assert entry is not None and entry.attempts == 1
        assert [e.job_id for e in journal.unfinished()] == ["j1"]
        journal.update("j1", state="done", result={"documents": []})
        assert journal.unfinished() == [] and journal.counts() == {"done": 1}
        with pytest.raises(ValueError, match="unknown journal state"):
            journal.update("j1", state="lost")


def test_sd_notify_datagrams(tmp_path: Path) -> None:
    path = tmp_path / "n.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(str(path))
        notifier = Notifier(str(path))
        assert notifier.ready("watching 1 folder(s)") and notifier.watchdog()
        assert listener.recv(1024) == b"READY=1\nSTATUS=watching 1 folder(s)"
        assert listener.recv(1024) == b"WATCHDOG=1"
    assert not Notifier("").ready(), "outside systemd it is a no-op"
