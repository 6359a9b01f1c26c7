"""Local batch end to end: 30 documents + a manifest with 3 bad rows, SIGINT half-way, rerun → each filed once."""

from __future__ import annotations

import csv
import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sohoa.config.records import RecordsSettings
from sohoa.records.service import Records
from tests.batch.conftest import sohoa, sohoa_env, write_config
from tests.batch.pages import code, make_tree, write_scan

HEADER = "file,dossier_code,doc_number,issue_date,issuing_agency,title,kind,sign_profile\n"


def _manifest(root: Path, scans: list[Path]) -> Path:
    """30 good rows, a corrupt scan, a copy of row 1's scan, and 3 bad rows (lines 5, 12 and 20)."""
    rows = []
    for n, scan in enumerate(scans, start=1):
        sign = "copy" if n <= 3 else ""
        rows.append(f"{scan.relative_to(root)},{code(n)},{n}/QĐ-UBND,2023-06-{n % 28 + 1:02d},UBND huyện Gio Linh,"
                    f"Quyết định số {n},result,{sign}")
    bad = root / "kho-c" / "hong.jpg"
    bad.parent.mkdir()
    bad.write_bytes(scans[0].read_bytes()[:400])  # a truncated JPEG: fails at run time, not at planning
    rows.append(f"kho-c/hong.jpg,{code(31)},,,,,,")
    copy = root / "kho-d" / "ban-sao.jpg"
    copy.parent.mkdir()
    shutil.copyfile(scans[0], copy)
    rows.append(f"kho-d/ban-sao.jpg,{code(1)},,,,,,")  # same content, same dossier as row 1: filed once
    rows.insert(3, f"kho-a/khong-co.jpg,{code(40)},,,,,,")
    write_scan(root / "kho-e" / "x1.jpg", "Giấy phép 1")
    write_scan(root / "kho-e" / "x2.jpg", "Giấy phép 2")
    rows.insert(10, "kho-e/x1.jpg,000.00.31.H50-241399-0001,,,,,,")  # no 99th month
    rows.insert(18, f"kho-e/x2.jpg,{code(41)},,32/01/2023,,,,")
    manifest = root / "bang-ke.csv"
    manifest.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return manifest


def _done(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM batch_items WHERE state = 'done'").fetchone()[0])
        except sqlite3.OperationalError:  # tables not created yet
            return 0


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        return list(conn.execute(sql).fetchall())


@pytest.mark.slow
def test_interrupted_batch_resumes_and_files_every_document_once(tmp_path: Path) -> None:
    src = tmp_path / "kho"
    scans = make_tree(src, 30)
    manifest = _manifest(src, scans)
    write_config(tmp_path, signing=True)
    db = tmp_path / "sohoa.db"
    args = ["batch", str(src), "--manifest", str(manifest), "--workers", "2", "--json", "--lang", "en"]
    proc = subprocess.Popen([sys.executable, "-m", "sohoa.cli", *args], cwd=tmp_path, env=sohoa_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while _done(db) < 8 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, f"the batch ended before it could be interrupted: {proc.communicate()}"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, f"SIGINT should stop the batch with 130, got {proc.returncode}: {err[-2000:]}"
    first = json.loads(out)
    assert first["interrupted"] and first["not_finished"] > 0, f"expected an interrupted, unfinished run: {first}"
    assert _rows(db, "SELECT count(*) FROM batch_items WHERE state = 'running'") == [(0,)], "claims left behind"
    filed_so_far = _rows(db, "SELECT count(*) FROM documents")[0][0]
    assert filed_so_far == _done(db), "every attached document is journalled as done, and nothing more"
    assert "line 5, column file" in err and "line 12, column dossier_code" in err and "line 20, column issue_date" \
        in err, f"bad rows must be printed before starting: {err[:2000]}"

    again = sohoa(*args, cwd=tmp_path)
    assert again.returncode == 93, f"a failed document and bad rows → 93, got {again.returncode}: {again.stderr}"
    summary = json.loads(again.stdout)
    assert summary["processed"] + summary["already_done"] == 30, summary
    assert summary["already_done"] == filed_so_far and summary["skipped_duplicates"] == 1, summary
    assert [f["item"] for f in summary["failures"]] == ["kho-c/hong.jpg"], summary["failures"]
    assert "kho-c/hong.jpg" in summary["failures"][0]["reason_en"] and summary["failures"][0]["reason_vi"]
    assert [(p["line"], p["column"]) for p in summary["invalid"]] == [(5, "file"), (12, "dossier_code"),
                                                                       (20, "issue_date")], summary["invalid"]
    with Path(summary["report_csv"]).open(encoding="utf-8-sig", newline="") as handle:
        report = list(csv.DictReader(handle))
    assert sorted(r["state"] for r in report).count("invalid") == 3 and len(report) == 35, [r["state"] for r in report]

    with Records.open(RecordsSettings(), tmp_path) as records:
        for n in range(1, 31):
            docs = records.documents(code(n))
            assert len(docs) == 1, f"dossier {code(n)} has {len(docs)} documents, expected exactly one"
        first_doc = records.documents(code(1))[0]
        assert (first_doc.doc_number, first_doc.issuing_agency, first_doc.kind) == ("1/QĐ-UBND", "UBND huyện Gio Linh",
                                                                                   "result")
        assert first_doc.signatures and first_doc.signatures[0]["profile"] == "copy", first_doc.signatures
        assert not records.documents(code(4))[0].signatures, "rows without sign_profile are not signed"
    attaches = _rows(db, "SELECT count(*) FROM audit_events WHERE action = 'attach'")
    assert attaches == [(30,)], f"30 attach events expected, got {attaches}"

    failed_at = _rows(db, "SELECT finished_at, attempts FROM batch_items WHERE state = 'failed'")
    rerun = sohoa(*args, cwd=tmp_path)
    assert rerun.returncode == 93 and json.loads(rerun.stdout)["processed"] == 0, rerun.stdout
    assert _rows(db, "SELECT finished_at, attempts FROM batch_items WHERE state = 'failed'") == failed_at, \
        "a failed document is retried only with --retry-failed"
    retried = sohoa(*args, "--retry-failed", cwd=tmp_path)
    assert retried.returncode == 93, retried.stderr
    assert _rows(db, "SELECT finished_at FROM batch_items WHERE state = 'failed'") != [(failed_at[0][0],)], \
        "--retry-failed must run the failed document again"
    assert _rows(db, "SELECT count(*) FROM documents") == [(30,)], "reruns must not file anything twice"
