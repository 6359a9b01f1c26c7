"""kill -9 of the daemon, then a restart: at each step of a job on purpose, and at random times.

Why both: a kill at a random time rarely lands in the narrow windows between two durable steps, so
``SOHOA_TEST_CRASH_AT`` (runners/watch/crash.py) hits each window on purpose; the random kills add
crashes between and across steps with several documents in flight. After each scenario
(tests/watch/kill9.py, started in the background by the package's conftest) every document is attached
exactly once (records and their audit chain; the store has no orphan), every source is in done/ exactly
once, nothing is left in the work area — and no process of the killed daemon survives it.
"""

from __future__ import annotations

import signal
from concurrent.futures import Future

import pytest
from sqlalchemy import text

from sohoa.records import Records
from sohoa.runners.watch.crash import STEPS
from tests.watch.conftest import CODE
from tests.watch.kill9 import ORPHAN_GRACE_S, SCANS, Outcome
from tests.watch.outcomes import assert_filed, assert_sources_done_once

# The page-worker pool starts with the first page, so a kill at processed/signed/attached/marked/released
# has a forkserver, workers and OCR helpers to leave behind; they must die with the daemon
# (sohoa.common.lifeline, PR_SET_PDEATHSIG).


@pytest.fixture(scope="module")
def outcomes(kill9_scenarios: dict[str, Future[Outcome]] | None) -> dict[str, Outcome]:
    assert kill9_scenarios is not None, "the package fixture starts the scenarios when this module is selected"
    return {name: future.result(timeout=600) for name, future in kill9_scenarios.items()}


@pytest.mark.slow
@pytest.mark.parametrize("step", STEPS)
def test_killed_at_step_then_restarted_files_each_document_once(outcomes: dict[str, Outcome], step: str) -> None:
    outcome = outcomes[step]
    run = outcome.run
    assert not outcome.error, f"{step}: {outcome.error}\n{run.log_text()[-3000:]}"
    assert outcome.exit_code == -signal.SIGKILL, f"{step}: the hook did not kill the daemon ({outcome.exit_code})"
    assert f"SIGKILL at step {step}" in run.log_text(), f"{step}: the daemon died elsewhere"
    assert outcome.stop_code == 0, f"{step}: the restarted daemon did not stop cleanly ({outcome.stop_code})"
    assert_filed(run, {CODE.format(number): 1 for number, _ in SCANS})
    assert_sources_done_once(run, outcome.sources)
    with run.records() as records:
        store = records.check_store(rehash=True)
        chain = records.verify_audit()
        unaudited = _filed_without_signing_audit(records)
    assert store.ok and store.files == len(SCANS), f"{step}: store {store}"
    assert chain.ok, f"{step}: audit chain broken: {chain}"
    # the daemon commits a document's signing audit rows with its attach (DocumentJob.audit_with_attach):
    # wherever the kill landed, no filed document lacks them
    assert not unaudited, f"{step}: filed without their signing audit rows: {unaudited}"


def _filed_without_signing_audit(records: Records) -> set[str]:
    with records.engine.connect() as conn:
        filed = {row[0] for row in conn.execute(text("SELECT sha256 FROM documents"))}
        signed = {row[0] for row in conn.execute(text("SELECT document_sha256 FROM audit_events "
                                                      "WHERE action = 'sign'"))}
    return filed - signed


@pytest.mark.slow
@pytest.mark.parametrize("step", STEPS)
def test_killed_at_step_leaves_no_process_behind(outcomes: dict[str, Outcome], step: str) -> None:
    outcome = outcomes[step]
    assert not outcome.error and outcome.exit_code == -signal.SIGKILL, f"{step}: {outcome.error or outcome.exit_code}"
    assert not outcome.survivors, (f"{step}: still running {ORPHAN_GRACE_S:.0f} s after the daemon was killed: "
                                   f"{outcome.survivors}")


@pytest.mark.slow
def test_chaos_kill_nine_five_times_nothing_lost_nothing_twice(outcomes: dict[str, Outcome]) -> None:
    """Wherever the five random kills landed: every document attached once, every source in done/ once."""
    outcome = outcomes["random"]
    run = outcome.run
    assert not outcome.error, f"{outcome.error}\n{run.log_text()[-3000:]}"
    assert outcome.stop_code == 0 and run.runs == 6, (outcome.stop_code, run.runs)
    assert_filed(run, {CODE.format(n): 1 for n in range(1, 41)})
    assert_sources_done_once(run, outcome.sources)
