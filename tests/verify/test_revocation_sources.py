"""One revocation table: what signing embeds for a ``[signing.revocation] source``, verification accepts."""

from __future__ import annotations

from pathlib import Path

import pytest

from sohoa.config.signing import SigningSettings
from sohoa.signing import sign_pdf
from sohoa.signing.errors import RevocationUnavailable
from sohoa.signing.verify import verify


def _with_source(settings: SigningSettings, source: str) -> SigningSettings:
    raw = settings.model_dump(mode="json")
    raw["revocation"]["source"] = source
    return SigningSettings.model_validate(raw)


@pytest.mark.slow
@pytest.mark.parametrize("source", ["either", "ocsp", "crl"])
def test_b_lt_signed_under_a_source_verifies_offline_under_it(source: str, unsigned_pdf: Path, tmp_path: Path,
                                                              signing_settings: SigningSettings) -> None:
    settings = _with_source(signing_settings, source)
    signed = tmp_path / f"lt-{source}.pdf"
    result = sign_pdf(unsigned_pdf, signed, profile="digitizer", settings=settings, level="B-LT")
    report = verify(signed, settings, offline=True)
    (sig,) = report.signatures
    assert (result.level, sig.level) == ("B-LT", "B-LT"), (result.level, sig.level)
    assert report.indication == "TOTAL-PASSED", [r.en for r in sig.reasons]


def test_both_kinds_are_demanded_of_the_ca_too(unsigned_pdf: Path, tmp_path: Path,
                                               signing_settings: SigningSettings) -> None:
    """The test PKI's CAs publish CRLs only: with source = both, B-LT is refused rather than lowered."""
    with pytest.raises(RevocationUnavailable) as info:
        sign_pdf(unsigned_pdf, tmp_path / "lt-both.pdf", profile="digitizer",
                 settings=_with_source(signing_settings, "both"), level="B-LT")
    assert "OCSP" in info.value.message("en") and not (tmp_path / "lt-both.pdf").exists()
