"""Real concurrent processes attaching to one dossier / creating dossiers at once (SQLite and PostgreSQL)."""

from __future__ import annotations

import multiprocessing as mp
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from sohoa.config.records import RecordsSettings
from sohoa.records import NewDossier, Records
from tests.records.conftest import CODE, make_pdf

WORKERS = 4
PER_WORKER = 4
CTX = mp.get_context("fork")


def _attach_worker(settings_json: str, data_dir: str, files: list[str], barrier: Any, out: Any) -> None:
    settings = RecordsSettings.model_validate_json(settings_json)
    results = []
    with Records.open(settings, Path(data_dir)) as rec:
        barrier.wait(timeout=60)
        for name in files:
            res = rec.attach(Path(name), dossier_code=CODE, kind="component")
            results.append((name, res.document.seq, res.created, res.dossier_created))
    out.put(results)


def _create_worker(settings_json: str, data_dir: str, count: int, barrier: Any, out: Any) -> None:
    settings = RecordsSettings.model_validate_json(settings_json)
    with Records.open(settings, Path(data_dir)) as rec:
        barrier.wait(timeout=60)
        out.put([rec.create_dossier(NewDossier(unit_code="H50", received_date=date(2024, 3, 1))).code
                 for _ in range(count)])


def _run(target: Any, args_per_worker: list[tuple[Any, ...]]) -> list[Any]:
    barrier, out = CTX.Barrier(len(args_per_worker)), CTX.Queue()
    procs = [CTX.Process(target=target, args=(*args, barrier, out)) for args in args_per_worker]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0, f"worker {p.pid} failed with exit code {p.exitcode}"
    return results


@pytest.mark.slow
def test_concurrent_attach_to_one_new_dossier(records: Records, records_settings: RecordsSettings,
                                              tmp_path: Path) -> None:
    shared = str(make_pdf(tmp_path, "shared.pdf", "same bytes from every counter"))
    args = []
    for w in range(WORKERS):
        own = [str(make_pdf(tmp_path, f"w{w}-{i}.pdf", f"{w}/{i}")) for i in range(PER_WORKER)]
        own.insert(w % PER_WORKER, shared)
        args.append((records_settings.model_dump_json(), str(tmp_path), own))
    rows = [row for result in _run(_attach_worker, args) for row in result]

    created = [r for r in rows if r[2]]
    assert len(created) == WORKERS * PER_WORKER + 1, f"each distinct file once: {rows}"
    assert sum(1 for r in rows if r[0] == shared and r[2]) == 1, "the shared bytes must be created exactly once"
    assert len({r[1] for r in rows if r[0] == shared}) == 1, "every worker must get the same shared document"
    assert sorted(r[1] for r in created) == list(range(1, WORKERS * PER_WORKER + 2)), "sequence numbers collided"
    assert sum(1 for r in rows if r[3]) == 1, "the dossier must be created by exactly one worker"
    dossier = records.get_dossier(CODE)
    assert dossier.document_count == WORKERS * PER_WORKER + 1
    report = records.verify_audit()
    assert report.ok and report.events == 1 + WORKERS * PER_WORKER + 1, report
    assert records.check_store(rehash=True).ok


@pytest.mark.slow
def test_concurrent_dossier_creation_gets_distinct_daily_numbers(records: Records,
                                                                 records_settings: RecordsSettings,
                                                                 tmp_path: Path) -> None:
    args = [(records_settings.model_dump_json(), str(tmp_path), 5) for _ in range(WORKERS)]
    codes = [code for result in _run(_create_worker, args) for code in result]
    expected = [f"H50-240301-{n:04d}" for n in range(1, WORKERS * 5 + 1)]
    assert sorted(codes) == expected, f"duplicate or skipped numbers: {sorted(codes)}"
    assert records.verify_audit().ok
