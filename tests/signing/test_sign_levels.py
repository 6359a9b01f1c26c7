"""Every profile at every PAdES level, checked by tools other than our own code.

For each (profile, level): pyHanko's validator against the test root (intact, valid, trusted, the
level's timestamps and embedded revocation data), poppler's pdfsig with an NSS db trusting only the
test root, our PDF/A-2B conformance check, the stamp's pixels in the configured corner of page 1,
and the Vietnamese stamp text extracted by pdftotext.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sohoa.config.signing import SigningSettings
from sohoa.signing import JsonLinesAuditSink, sign_pdf
from tests.pki import TestPki
from tests.signing.checks import corner_region, ink, page1_text, pdfsig_problems, red, render_page1, validate_all

LEVELS = ["B-B", "B-T", "B-LT", "B-LTA"]
PROFILES = ["digitizer", "organization", "copy"]
SIGNER_OF = {"digitizer": "Nguyễn Văn Hưởng", "organization": "Trung tâm Phục vụ hành chính công tỉnh Quảng Trị",
             "copy": "Trung tâm Phục vụ hành chính công tỉnh Quảng Trị"}


def _pdfa_violations(path: Path) -> list:
    from sohoa.stages.conformance import check_pdfa

    return check_pdfa(path)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("profile", PROFILES)
def test_profile_at_level_validates_everywhere(profile: str, level: str, src_pdf: Path, tmp_path: Path,
                                               signing_settings: SigningSettings, pki: TestPki,
                                               nss_db: Path) -> None:
    dst = tmp_path / "out" / f"{profile}-{level}.pdf"
    audit = JsonLinesAuditSink(tmp_path / "audit.jsonl")
    result = sign_pdf(src_pdf, dst, profile=profile, settings=signing_settings, level=level, audit=audit)

    assert result.level == level and dst.is_file(), f"expected {level} output at {dst}, got {result}"
    problems = validate_all(dst, pki, level)
    assert not problems, f"pyHanko validation of {profile} at {level}: {problems}"
    pdfsig = pdfsig_problems(dst, nss_db)
    assert not pdfsig, f"pdfsig does not say valid+trusted for {profile} at {level}: {pdfsig}"
    violations = _pdfa_violations(dst)
    assert violations == [], f"PDF/A-2B broken by signing ({profile}, {level}): {violations}"
    if level in ("B-B", "B-LTA"):  # appearance and text do not depend on the level; check twice, not 4×
        _check_appearance(profile, src_pdf, dst, signing_settings, tmp_path)
    events = audit.read()
    assert len(events) == 1 and events[0]["level_reached"] == level and events[0]["profile"] == profile, events


def _check_appearance(profile: str, src: Path, dst: Path, settings: SigningSettings, tmp_path: Path) -> None:
    look = settings.profiles[profile].appearance
    before, after = render_page1(src, tmp_path), render_page1(dst, tmp_path)
    box = (look.corner, look.width_mm, look.height_mm, look.margin_mm)
    region_before, region_after = corner_region(before, *box), corner_region(after, *box)
    assert ink(region_before) == 0, "test input should have a blank corner"
    assert ink(region_after) > 40, f"{profile}: no stamp pixels in the {look.corner} corner ({ink(region_after)})"
    other = "top-left" if look.corner == "top-right" else "top-right"
    assert ink(corner_region(after, other, look.width_mm, look.height_mm, look.margin_mm)) == 0, (
        f"{profile}: ink found in the {other} corner, where no stamp belongs")
    if profile == "organization":
        assert red(region_after) > 200, f"red seal not visible in the top-right corner ({red(region_after)} px)"
    else:
        assert red(region_after) == 0, f"{profile} must have no seal image, found {red(region_after)} red px"
    text = page1_text(dst)
    assert SIGNER_OF[profile] in text.replace("\n", " "), f"stamp text of {profile} not extracted: {text!r}"
    assert "+07:00" in text, f"signing time is not shown in +07:00: {text!r}"
    if profile == "copy":
        assert "SAO Y" in text, f"copy form missing from the stamp text: {text!r}"
