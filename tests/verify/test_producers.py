"""Files signed by other software (and changed by yet other tools) get the DSS-style verdict the case table
expects, online and offline, never an internal error; and where pyHanko's own validator finds every
signature intact, valid and changed only in allowed ways, our verdict is not TOTAL-FAILED.

The corpus (``tests/verify/producers``) is built once per session, lazily, case by case, in a session
temporary folder (conftest ``producer_case``); ``cases.CASES`` is the specification, with its tuning /
held-out split. A case marked ``bug`` is a known wrong verdict of today's verifier: ``xfail(strict=True)``
until the lead fixes it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from sohoa.common.errors import InputError
from sohoa.config.signing import SigningSettings
from sohoa.signing.verify import VerificationReport, verify
from tests.pki import TestPki
from tests.verify.producers import cases, judges

pytestmark = pytest.mark.slow
_REPORTS: dict[tuple[Path, bool], VerificationReport] = {}  # each file verified once per mode and session


def _verify(path: Path, settings: SigningSettings, offline: bool) -> VerificationReport:
    if (path, offline) not in _REPORTS:
        _REPORTS[(path, offline)] = verify(path, settings, offline=offline, lang="en")
    return _REPORTS[(path, offline)]


def _params() -> list[object]:
    out = []
    for case in cases.CASES:
        for offline in (False, True):
            bug = case.bug or (case.offline_bug if offline else case.online_bug)
            marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
            out.append(pytest.param(case.name, offline, marks=marks,
                                    id=f"{case.split}:{case.name}{'-offline' if offline else ''}"))
    return out


@pytest.mark.parametrize(("name", "offline"), _params())
def test_producer_verdict(producer_case: Callable[[str], Path], signing_settings: SigningSettings, name: str,
                          offline: bool) -> None:
    case = cases.BY_NAME[name]
    path = producer_case(name)
    try:
        report = _verify(path, signing_settings, offline)
    except InputError as err:
        pytest.fail(f"{name}: refused as unreadable: {err.message('en')}")
    except Exception as exc:  # noqa: BLE001 - an internal error (exit 99) is the failure this test looks for
        pytest.fail(f"{name}: internal error {type(exc).__name__}: {exc}")
    expected = case.expected_offline if offline else case.online
    summary = [(s.field_name, s.indication, s.sub_indication, s.modification_level, [r.code for r in s.reasons])
               for s in report.signatures]
    assert (report.indication, report.sub_indication) == expected, f"{name} ({case.post}): {summary}"


@pytest.mark.parametrize("name", [c.name for c in cases.CASES], ids=[f"{c.split}:{c.name}" for c in cases.CASES])
def test_pyhanko_clean_is_never_failed(producer_case: Callable[[str], Path], signing_settings: SigningSettings,
                                       pki: TestPki, name: str) -> None:
    """Property: pyHanko finds every signature intact and valid, changed at most by LTA updates or form filling
    within DocMDP, so our verdict must not be TOTAL-FAILED (it may still be INDETERMINATE, e.g. untrusted)."""
    path = producer_case(name)
    facts = asyncio.run(judges.hanko_facts(path, pki))
    if not judges.clean(facts):
        return
    report = _verify(path, signing_settings, False)
    assert report.indication != "TOTAL-FAILED", f"{name}: pyHanko {facts}, ours {report.sub_indication}: " \
        f"{[(s.field_name, s.indication, s.sub_indication) for s in report.signatures]}"


def test_cli_reads_the_corpus_without_internal_error(producer_case: Callable[[str], Path], tmp_path: Path,
                                                    signing_settings: SigningSettings,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """``sohoa verify --json`` over every signer's plain file and the odd structures, in one call: exit 2 (some
    fail), never 99, every file judged. (Every case is verified in process above; these reach the CLI's report.)"""
    from sohoa.cli.main import main

    odd = {"pdfsig+qpdf", "openssl+byterange-overlap", "pdfsignerpy-visible+signpdf", "endesive+hybrid-content"}
    files = []
    for case in cases.CASES:
        if (case.post == "-" or case.name in odd) and all(cases.missing_tool(t) is None for t in case.needs):
            files.append(str(producer_case(case.name)))
    config = tmp_path / "sohoa.toml"
    root = signing_settings.trust.roots[0]
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n[signing.trust]\nroots = ["{root}"]\n', encoding="utf-8")
    code = main(["verify", *files, "--offline", "--json", "--no-records", "--lang", "en", "--config", str(config)])
    out = capsys.readouterr().out
    assert code == 2, f"exit {code} (99 is an internal error); output tail:\n{out[-2000:]}"
    reports = [json.loads(line) for line in out.splitlines() if line.strip()]  # one JSON object a line
    assert [r["file"] for r in reports] == files
    assert all(r["error"] is None and r["indication"] for r in reports), [r for r in reports if r["error"]][:3]
