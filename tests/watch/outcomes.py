"""What the daemon tests check after a run: inputs dropped the way scanners drop them, documents filed
exactly once as signed PDF/A, every source in done/ exactly once, and processes left behind.

Why in one place: the end-to-end test, the random kill -9 test and the deterministic crash-point test
must mean the same thing by "exactly once".
"""

from __future__ import annotations

import json
from pathlib import Path

from pyhanko.pdf_utils.reader import PdfFileReader

from sohoa.stages.conformance import check_pdfa
from tests.watch.conftest import CODE, DaemonRun
from tests.watch.pages import page_image, save


def drop_valid(inbox: Path, number: int, suffix: str, *, sidecar: bool = False) -> Path:
    """A one-page scan of dossier ``CODE.format(number)``; with ``sidecar`` the code is only in the JSON."""
    code = CODE.format(number)
    text = f"Hồ sơ số {number}\nNguyễn Văn An"
    if sidecar:
        path = inbox / f"scan-{number:03d}{suffix}"
        (inbox / f"scan-{number:03d}.json").write_text(json.dumps({"ma_ho_so": code, "title": f"Đơn {number}"}),
                                                       encoding="utf-8")
    else:
        path = inbox / f"{code}_don{suffix}"
    return save(page_image(text), path)


def assert_filed(run: DaemonRun, expected: dict[str, int]) -> None:
    """Each dossier holds exactly ``expected[code]`` documents, each a signed, conforming PDF/A."""
    with run.records() as records:
        for code, count in expected.items():
            docs = records.documents(code)
            assert len(docs) == count, f"dossier {code}: {len(docs)} documents, expected {count}"
            for doc in docs:
                assert doc.path.is_file(), f"{code}: stored file {doc.path} missing"
                violations = check_pdfa(doc.path)
                assert not violations, f"{code}: stored PDF is not PDF/A-2B: {violations[:3]}"
                with doc.path.open("rb") as handle:
                    signatures = PdfFileReader(handle).embedded_signatures
                    assert len(signatures) == 1, f"{code}: {len(signatures)} signatures, expected 1"
                assert doc.signatures and doc.signatures[0]["profile"] == "digitizer", doc.signatures


def assert_sources_done_once(run: DaemonRun, names: set[str], folder: str = "inbox") -> None:
    """done/ holds each source exactly once under its own name (a second copy would get a ``-<job>`` suffix);
    nothing is left in the inbox, the work area, failed/ or needs-review/."""
    inbox = run.inbox(folder)
    done = sorted(p.name for p in run.files(folder, "done"))
    assert done == sorted(names), f"done/ should hold each source once: {done}"
    assert not run.files(folder, "failed") and not run.files(folder, "needs-review"), \
        f"failed: {run.files(folder, 'failed')}, needs-review: {run.files(folder, 'needs-review')}"
    assert not [p for p in inbox.iterdir() if p.is_file()], "files left in the inbox"
    assert not any((inbox / ".sohoa-work").iterdir()), f"work area not empty: {list((inbox / '.sohoa-work').iterdir())}"


def session_processes(session: int) -> list[str]:
    """Live processes of a session (``start_new_session`` made the daemon its leader): its descendants."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue  # exited meanwhile
        state, _ppid, _group, sid = stat[stat.rindex(")") + 2:].split()[:4]
        if int(sid) == session and state != "Z":
            found.append(f"{entry.name}: {command[:160]}")
    return sorted(found)
