"""Distributed batch, for real: redis-server + PostgreSQL, two ``sohoa worker`` processes, one killed with -9.

The killed worker's document must be redelivered (acks_late + visibility timeout), taken over from the
silent claim, and every one of the 20 documents attached exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.batch.cluster import start_batch, start_worker, stop_worker, wait_ready
from tests.batch.conftest import sohoa_env, write_config
from tests.batch.pages import code, write_scan

CELERY = '\n[batch.celery]\nvisibility_timeout_s = 5\nrestore_interval_s = 1\n'


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
def test_worker_killed_mid_task_every_document_attached_once(tmp_path: Path, pg_url: str, redis_url: str) -> None:
    src = tmp_path / "kho"
    for n in range(1, 21):
        for page in range(1, 4):
            write_scan(src / code(n) / f"trang-{page}.jpg", f"Hồ sơ {n} trang {page}\nQuyết định cấp phép")
    write_config(tmp_path, database_url=pg_url, extra='grouping = "folder"\n' + CELERY)
    env = sohoa_env(SOHOA_BROKER_URL=redis_url)
    engine = create_engine(pg_url)
    names = ["w1", "w2"]
    workers = [start_worker(tmp_path, n, env) for n in names]
    batch: subprocess.Popen[str] | None = None
    try:
        wait_ready(tmp_path, names, workers)
        batch = start_batch(tmp_path, src, env)
        victim = workers[0]
        held: int | None = None
        deadline = time.monotonic() + 180
        with engine.connect() as conn:
            while held is None and time.monotonic() < deadline and batch.poll() is None:
                row = conn.execute(text("SELECT id FROM batch_items WHERE state = 'running' AND worker LIKE :w"),
                                   {"w": f"%:{victim.pid}"}).first()
                conn.commit()
                if row is not None:
                    held = int(row[0])
                else:
                    time.sleep(0.01)
        assert held is not None, "worker w1 never took a document"
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
        with engine.connect() as conn:
            state = conn.execute(text("SELECT state, worker FROM batch_items WHERE id = :i"), {"i": held}).one()
        assert state[0] == "running", f"w1 finished item {held} before the kill landed; the test needs a mid-task kill"
        out, err = batch.communicate(timeout=300)
        assert batch.returncode == 0, f"batch exit {batch.returncode}: {err[-3000:]}"
        summary = json.loads(out)
        assert summary["processed"] == 20 and summary["failed"] == 0, summary
        with engine.connect() as conn:
            per_dossier = conn.execute(text(
                "SELECT d.code, count(x.id) FROM dossiers d JOIN documents x ON x.dossier_id = d.id GROUP BY d.code"
            )).all()
            redone = conn.execute(text("SELECT state, attempts, worker FROM batch_items WHERE id = :i"),
                                  {"i": held}).one()
            attaches = conn.execute(text("SELECT count(*) FROM audit_events WHERE action = 'attach'")).scalar_one()
        assert sorted(per_dossier) == [(code(n), 1) for n in range(1, 21)], f"not exactly once: {per_dossier}"
        assert attaches == 20, f"{attaches} attach events for 20 documents"
        assert redone[0] == "done" and redone[1] >= 2 and not str(redone[2]).endswith(f":{victim.pid}"), \
            f"the killed worker's document should be redone by the other worker: {redone}"
    finally:
        if batch is not None and batch.poll() is None:
            batch.kill()
            batch.communicate()
        for proc in workers:
            stop_worker(proc)
        engine.dispose()
