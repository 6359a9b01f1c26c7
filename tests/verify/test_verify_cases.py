"""Each case of the issue gets the right verdict and sub-indication, in both languages; pdfsig agrees on integrity.

Cases are made once per session (conftest ``case``); each test verifies one file, online (the test
PKI's OCSP/CRL services answer on 127.0.0.1) or ``offline`` (embedded data only).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from sohoa.common.errors import InputCorrupt, InputEncrypted, InputError
from sohoa.config.signing import SigningSettings
from sohoa.signing.verify import VerificationReport, verify
from tests.pki import run_pdfsig

VIETNAMESE = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.IGNORECASE)

# case, offline, document indication, document sub-indication, reason codes that must appear somewhere
CASES: list[tuple[str, bool, str, str | None, set[str]]] = [
    ("b-b", False, "TOTAL-PASSED", None, {"ok", "claimed_time_only", "revocation_online"}),
    ("b-b", True, "INDETERMINATE", "TRY_LATER", set()),
    ("b-t", False, "TOTAL-PASSED", None, {"ok"}),
    ("b-t", True, "INDETERMINATE", "TRY_LATER", set()),
    ("b-lt", True, "TOTAL-PASSED", None, {"ok"}),
    ("b-lta", True, "TOTAL-PASSED", None, {"ok", "ok_timestamp", "later_revisions_allowed"}),
    ("two", False, "TOTAL-PASSED", None, {"later_revisions_allowed"}),
    ("later-doc-ts", False, "TOTAL-PASSED", None, {"ok_timestamp"}),
    ("expired-no-ts", False, "INDETERMINATE", "OUT_OF_BOUNDS_NO_POE", set()),
    ("expired-ts", True, "TOTAL-PASSED", None, {"expired_after_proven_time"}),
    ("revoked-no-ts", False, "INDETERMINATE", "REVOKED_NO_POE", set()),
    ("revoked-ocsp-before", False, "TOTAL-FAILED", "REVOKED", set()),
    ("revoked-ocsp-after", False, "TOTAL-PASSED", None, {"revoked_after_proven_time"}),
    ("revoked-crl-before", False, "TOTAL-FAILED", "REVOKED", set()),
    ("revoked-crl-after", False, "TOTAL-PASSED", None, {"revoked_after_proven_time"}),
    ("untrusted", False, "INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND", set()),
    ("no-intermediate", False, "INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND", set()),
    ("tampered", False, "TOTAL-FAILED", "HASH_FAILURE", set()),
    ("content-changed", False, "TOTAL-FAILED", "FORMAT_FAILURE", {"MODIFIED"}),
    ("page-added", False, "TOTAL-FAILED", "FORMAT_FAILURE", {"MODIFIED"}),
    ("annot-approval", False, "TOTAL-PASSED", None, {"annotations_allowed"}),
    ("certified-p2-annot", False, "TOTAL-FAILED", "FORMAT_FAILURE", {"MODIFIED", "certified"}),
    ("certified-p3-annot", False, "TOTAL-PASSED", None, {"annotations_allowed", "certified"}),
    ("image-replaced", False, "TOTAL-FAILED", "FORMAT_FAILURE", {"RENDERED_DIFFERENCE"}),
    ("overlay-signed", False, "TOTAL-PASSED", None, {"ok"}),
    ("shadow-hide", False, "TOTAL-FAILED", "FORMAT_FAILURE", {"RENDERED_DIFFERENCE"}),
    ("pkcs7-sha1", False, "INDETERMINATE", "CRYPTO_CONSTRAINTS_FAILURE_NO_POE", {"legacy_pkcs7_sha1"}),
    ("pkcs7-sha1-tampered", False, "TOTAL-FAILED", "HASH_FAILURE", set()),
    ("rsa-sha1", False, "TOTAL-FAILED", "FORMAT_FAILURE", {"legacy_rsa_sha1"}),
    ("form-approval-filled", False, "TOTAL-PASSED", None, {"later_revisions_allowed", "rendered_same"}),
    ("form-p2-filled", False, "TOTAL-PASSED", None, {"later_revisions_allowed", "certified"}),
    ("form-p1-filled", False, "TOTAL-FAILED", "FORMAT_FAILURE", {"MODIFIED"}),
    ("form-locked-filled", False, "TOTAL-FAILED", "FORMAT_FAILURE", {"MODIFIED"}),
    ("form-over-content-filled", False, "TOTAL-FAILED", "FORMAT_FAILURE", {"RENDERED_DIFFERENCE"}),
    ("catalog-changed", False, "INDETERMINATE", "GENERIC", {"UNEXPLAINED_CHANGES"}),
    ("unsigned", True, "INDETERMINATE", "NO_SIGNATURE", {"NO_SIGNATURE"}),
]


def _codes(report: VerificationReport) -> set[str]:
    return {r.code for r in report.reasons} | {r.code for s in report.signatures for r in s.reasons}


def _check_sentences(report: VerificationReport) -> None:
    for reason in [*report.reasons, *(r for s in report.signatures for r in s.reasons)]:
        assert reason.vi and reason.en and reason.vi != reason.en, f"{reason.code}: both languages needed"
        assert VIETNAMESE.search(reason.vi), f"{reason.code}: Vietnamese sentence lacks Vietnamese: {reason.vi!r}"
        assert "{" not in reason.vi + reason.en and "?" not in reason.vi + reason.en, \
            f"{reason.code}: unfilled template field: {reason.vi!r} / {reason.en!r}"


@pytest.mark.slow
@pytest.mark.parametrize(("name", "offline", "indication", "sub", "codes"), CASES,
                         ids=[f"{c[0]}{'-offline' if c[1] else ''}" for c in CASES])
def test_case_verdict(case: Callable[[str], Path], signing_settings: SigningSettings, name: str, offline: bool,
                      indication: str, sub: str | None, codes: set[str]) -> None:
    report = verify(case(name), signing_settings, offline=offline)
    summary = [(s.field_name, s.indication, s.sub_indication, [r.code for r in s.reasons]) for s in report.signatures]
    assert (report.indication, report.sub_indication) == (indication, sub), f"{name}: {summary}"
    assert codes <= _codes(report), f"{name}: missing reasons {codes - _codes(report)}: {summary}"
    assert report.exit_code == {"TOTAL-PASSED": 0, "INDETERMINATE": 1, "TOTAL-FAILED": 2}[indication]
    _check_sentences(report)
    assert report.sentence("vi") != report.sentence("en"), "the document sentence must exist in both languages"


@pytest.mark.slow
@pytest.mark.parametrize(("name", "error"), [("truncated", InputCorrupt), ("encrypted", InputEncrypted)])
def test_unreadable(case: Callable[[str], Path], signing_settings: SigningSettings, name: str,
                    error: type[InputError]) -> None:
    with pytest.raises(error) as info:
        verify(case(name), signing_settings)
    assert str(case(name)) in info.value.message("vi") and str(case(name)) in info.value.message("en")


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted({c[0] for c in CASES} - {"unsigned", "rsa-sha1"}))  # pdfsig skips rsa_sha1
def test_pdfsig_agrees_on_integrity(case: Callable[[str], Path], signing_settings: SigningSettings,
                                    nss_db: Path, name: str) -> None:
    """pdfsig (NSS) and we agree, signature by signature, on whether the signed bytes are intact."""
    report = verify(case(name), signing_settings, offline=True)
    ours = [s.intact and s.crypto_valid for s in report.signatures if s.kind == "signature"]
    blocks = [b for b in run_pdfsig(case(name), nss_db).signatures
              if "ETSI.RFC3161" not in b and "Signature Type: unknown" not in b]
    theirs = ["Signature is Valid" in b for b in blocks]
    assert len(theirs) == len(ours), f"{name}: pdfsig saw {len(theirs)} signatures, we saw {len(ours)}: {blocks}"
    assert ours == theirs, f"{name}: integrity ours={ours} pdfsig={theirs}: {blocks}"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["b-lt", "b-lta", "later-doc-ts", "two"])
def test_common_case_renders_nothing(case: Callable[[str], Path], signing_settings: SigningSettings,
                                     monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Validation data, document timestamps and invisible signatures never start the renderer: the
    visual comparison costs nothing on the common case."""
    from sohoa.signing import rendering

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"{name}: pages were rendered for an update that touches no drawing")

    monkeypatch.setattr(rendering, "render", refuse)
    report = verify(case(name), signing_settings, offline=True)
    assert "rendered_same" not in _codes(report)


@pytest.mark.slow
def test_rendering_is_the_evidence(case: Callable[[str], Path], signing_settings: SigningSettings,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a picture of the page there is no proof of a visible change: a replaced image whose
    rendering fails is not called tampered (only unexplained)."""
    from sohoa.signing import rendering

    monkeypatch.setattr(rendering, "render", lambda *a, **k: None)
    report = verify(case("image-replaced"), signing_settings)
    assert (report.indication, report.sub_indication) == ("INDETERMINATE", "GENERIC"), report.to_dict()["reasons"]
