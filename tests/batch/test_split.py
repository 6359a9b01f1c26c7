"""Page-split on the cluster, for real: a 200-page document on two ``sohoa worker`` processes, one SIGKILLed
while it holds a page group.

What must hold (issue 15): the document comes out complete and in page order (each page carries its
number, read back by OCR from the filed PDF and from the records), it is attached once, every group is
in the output exactly once and only the killed worker's group was done twice, nothing the killed worker
started outlives it, it is signed once (after the join), and the groups' private folder is gone once the
document is filed.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pikepdf
import pytest
from sqlalchemy import Engine, create_engine, text

from tests.batch.cluster import start_batch, start_worker, stop_worker, wait_ready
from tests.batch.conftest import sohoa_env, write_config
from tests.batch.pages import code, write_scan
from tests.watch.outcomes import session_processes

PAGES = 200
SPLIT = 25  # 8 groups: enough that one is running on each worker while others are done
CONFIG = (f'grouping = "folder"\nsplit_pages = {SPLIT}\nsign_profiles = ["copy"]\n'
          '\n[batch.celery]\nvisibility_timeout_s = 10\nrestore_interval_s = 1\n')


def _numbers(texts: list[str]) -> list[int | None]:
    found = [re.search(r"Trang (\d+)", t) for t in texts]
    return [int(m.group(1)) if m else None for m in found]


def _wait_for_victim_group(engine: Engine, victim: int, batch: subprocess.Popen[str]) -> int:
    """A group the victim holds while at least two groups are done: the middle of the document."""
    deadline = time.monotonic() + 240
    with engine.connect() as conn:
        while time.monotonic() < deadline and batch.poll() is None:
            done = conn.execute(text("SELECT count(*) FROM batch_groups WHERE state = 'done'")).scalar_one()
            row = conn.execute(text("SELECT id FROM batch_groups WHERE state = 'running' AND worker LIKE :w"),
                               {"w": f"%:{victim}"}).first()
            conn.commit()
            if row is not None and done >= 2:
                return int(row[0])
            time.sleep(0.02)
    raise AssertionError("worker w1 never held a group in the middle of the document")


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
def test_a_worker_killed_mid_group_the_document_comes_out_whole_in_order_once(
        tmp_path: Path, pg_url: str, redis_url: str) -> None:
    folder = tmp_path / "kho" / code(1)
    for n in range(1, PAGES + 1):
        write_scan(folder / f"trang-{n:03d}.jpg", f"Trang {n}\nHồ sơ lưu trữ")
    write_config(tmp_path, database_url=pg_url, extra=CONFIG, signing=True)
    env = sohoa_env(SOHOA_BROKER_URL=redis_url)
    engine = create_engine(pg_url)
    names = ["w1", "w2"]
    workers = [start_worker(tmp_path, n, env) for n in names]
    batch: subprocess.Popen[str] | None = None
    try:
        wait_ready(tmp_path, names, workers)
        batch = start_batch(tmp_path, tmp_path / "kho", env)
        victim = workers[0]
        held = _wait_for_victim_group(engine, victim.pid, batch)
        started = session_processes(victim.pid)
        assert len(started) >= 2, f"the worker should have its OCR helper running beside it: {started}"
        os.kill(victim.pid, signal.SIGKILL)  # the worker alone: what it started must die with it by itself
        victim.wait(timeout=30)
        deadline = time.monotonic() + 15
        while session_processes(victim.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = session_processes(victim.pid)
        assert not left, f"processes outlived the killed worker: {left}"
        with engine.connect() as conn:
            state = conn.execute(text("SELECT state FROM batch_groups WHERE id = :i"), {"i": held}).scalar_one()
        assert state == "running", f"w1 finished group {held} before the kill landed; the test needs a mid-group kill"

        out, err = batch.communicate(timeout=400)
        assert batch.returncode == 0, f"batch exit {batch.returncode}: {err[-3000:]}"
        summary = json.loads(out)
        assert summary["processed"] == 1 and summary["failed"] == 0 and summary["pages"] == PAGES, summary
        with engine.connect() as conn:
            docs = conn.execute(text("SELECT x.id, x.sha256, x.page_count FROM documents x JOIN dossiers d "
                                     "ON x.dossier_id = d.id WHERE d.code = :c"), {"c": code(1)}).all()
            attaches = conn.execute(text("SELECT count(*) FROM audit_events WHERE action = 'attach'")).scalar_one()
            signs = conn.execute(text("SELECT count(*) FROM audit_events WHERE action = 'sign'")).scalar_one()
            groups = conn.execute(text("SELECT id, first_page, page_count, state, attempts, worker FROM batch_groups "
                                       "ORDER BY first_page")).all()
            pages = conn.execute(text("SELECT text FROM document_pages WHERE document_id = :d ORDER BY page_no"),
                                 {"d": docs[0][0]}).scalars().all() if len(docs) == 1 else []
            item = conn.execute(text("SELECT state, split_dir FROM batch_items")).one()
        assert len(docs) == 1 and attaches == 1, f"attached {len(docs)} time(s), {attaches} attach event(s)"
        assert signs == 1, f"{signs} signatures for one joined document (signing happens once, after the join)"
        assert docs[0][2] == PAGES and _numbers(pages) == list(range(1, PAGES + 1)), _numbers(pages)

        filed = tmp_path / "store" / docs[0][1][:2] / docs[0][1][2:4] / f"{docs[0][1]}.pdf"
        with pikepdf.open(filed) as pdf:
            assert len(pdf.pages) == PAGES
            fields = [f for f in pdf.Root.AcroForm.Fields if f.get("/FT") == pikepdf.Name.Sig]
            assert len(fields) == 1, f"{len(fields)} signature fields in the filed PDF"
        layer = subprocess.run(["pdftotext", "-layout", str(filed), "-"], capture_output=True, text=True,
                               check=True).stdout.split("\f")[:PAGES]
        assert _numbers(layer) == list(range(1, PAGES + 1)), "the filed PDF's text layer is not in page order"

        covered = [p for _, first, count, *_ in groups for p in range(first, first + count)]
        assert covered == list(range(PAGES)), "the groups must cover every page exactly once"
        assert all(g[3] == "done" for g in groups), groups
        redone = {g[0]: g for g in groups}[held]
        assert redone[4] >= 2 and not str(redone[5]).endswith(f":{victim.pid}"), \
            f"the killed worker's group should be redone by the other worker: {redone}"
        assert all(g[4] == 1 for g in groups if g[0] != held), f"a group nobody killed was done twice: {groups}"
        assert item[0] == "done" and item[1] and not Path(item[1]).exists(), f"groups' folder left: {item}"
    finally:
        if batch is not None and batch.poll() is None:
            batch.kill()
            batch.communicate()
        for proc in workers:
            stop_worker(proc)
        engine.dispose()
    for proc in workers:
        assert not session_processes(proc.pid), f"worker {proc.pid} left processes behind"
