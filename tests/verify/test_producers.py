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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature, async_validate_pdf_timestamp
from pyhanko_certvalidator import ValidationContext

from sohoa.common.errors import InputError
from sohoa.config.signing import SigningSettings
from sohoa.signing.verify import verify
from tests.pki import TestPki
from tests.verify.producers import cases

pytestmark = pytest.mark.slow
ALLOWED_LEVELS = {"NONE", "LTA_UPDATES", "FORM_FILLING"}


@dataclass
class HankoFact:
    """What pyHanko's own validator says about one signature (or why it could not say)."""

    field: str
    intact: bool
    valid: bool
    level: str | None
    docmdp_ok: bool | None
    error: str | None = None


async def hanko_facts(path: Path, root: TestPki) -> list[HankoFact]:
    context = ValidationContext(trust_roots=[asn1_x509.Certificate.load(root.root.cert_der)], allow_fetching=True)
    facts: list[HankoFact] = []
    with path.open("rb") as fh:
        reader = PdfFileReader(fh, strict=False)
        for sig in reader.embedded_signatures:
            try:
                if sig.sig_object_type == "/DocTimeStamp":
                    status = await async_validate_pdf_timestamp(sig, validation_context=context)
                else:
                    status = await async_validate_pdf_signature(sig, context)
            except Exception as exc:  # noqa: BLE001 - pyHanko's own failure is a fact about the file too
                facts.append(HankoFact(str(sig.field_name), False, False, None, None, f"{type(exc).__name__}: {exc}"))
                continue
            level = getattr(status, "modification_level", None)
            facts.append(HankoFact(str(sig.field_name), bool(status.intact), bool(status.valid),
                                   level.name if level is not None else None, getattr(status, "docmdp_ok", None)))
    return facts


def _params() -> list[object]:
    out = []
    for case in cases.CASES:
        for offline in (False, True):
            bug = case.bug or (case.offline_bug if offline else None)
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
        report = verify(path, signing_settings, offline=offline, lang="en")
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
    facts = asyncio.run(hanko_facts(path, pki))
    clean = bool(facts) and all(f.intact and f.valid and f.level in ALLOWED_LEVELS and f.docmdp_ok is not False
                                for f in facts)
    if not clean:
        return
    report = verify(path, signing_settings, offline=False, lang="en")
    assert report.indication != "TOTAL-FAILED", f"{name}: pyHanko {facts}, ours {report.sub_indication}: " \
        f"{[(s.field_name, s.indication, s.sub_indication) for s in report.signatures]}"
