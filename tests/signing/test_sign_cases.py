"""Two signatures, PKCS#11 keys on a real SoftHSM2 token, ECDSA, invisible signatures, audit events."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sohoa.config.signing import SigningSettings
from sohoa.signing import JsonLinesAuditSink, sign_pdf, sign_pdf_adhoc
from tests.pki import TestPki
from tests.signing.checks import corner_region, ink, pdfsig_problems, render_page1, validate_all


def _pdfa_violations(path: Path) -> list:
    from sohoa.stages.conformance import check_pdfa

    return check_pdfa(path)


def test_digitizer_then_organization_both_stay_valid_and_pdfa(src_pdf: Path, tmp_path: Path, pki: TestPki,
                                                              signing_settings: SigningSettings,
                                                              nss_db: Path) -> None:
    one, two = tmp_path / "one.pdf", tmp_path / "two.pdf"
    sign_pdf(src_pdf, one, profile="digitizer", settings=signing_settings, level="B-LT")
    assert _pdfa_violations(one) == [], "PDF/A broken after the first signature"
    sign_pdf(one, two, profile="organization", settings=signing_settings, level="B-LT")
    assert _pdfa_violations(two) == [], "PDF/A broken after the second signature"
    assert two.read_bytes().startswith(one.read_bytes()), "second signature must be an incremental update"
    problems = validate_all(two, pki, "B-LT")
    assert not problems, f"an earlier or later signature no longer validates: {problems}"
    assert not pdfsig_problems(two, nss_db), pdfsig_problems(two, nss_db)
    from pyhanko.pdf_utils.reader import PdfFileReader

    with two.open("rb") as fh:
        names = [s.field_name for s in PdfFileReader(fh, strict=False).embedded_regular_signatures]
    assert names == ["SoHoa1", "CoQuan1"], f"unexpected signature fields {names}"


def test_pkcs11_organization_profile_on_softhsm(src_pdf: Path, tmp_path: Path, pki: TestPki,
                                                hsm_settings: SigningSettings, nss_db: Path) -> None:
    dst = tmp_path / "hsm.pdf"
    result = sign_pdf(src_pdf, dst, profile="organization-hsm", settings=hsm_settings, level="B-LT")
    assert result.cert_sha256 == hashlib.sha256(pki.signer("organization").cert_der).hexdigest(), (
        "the token's certificate should be the organization certificate")
    assert not validate_all(dst, pki, "B-LT"), validate_all(dst, pki, "B-LT")
    assert not pdfsig_problems(dst, nss_db), pdfsig_problems(dst, nss_db)
    assert _pdfa_violations(dst) == []


def test_ecdsa_p256_key_on_token_and_in_pkcs12(src_pdf: Path, tmp_path: Path, pki: TestPki,
                                               hsm_settings: SigningSettings, nss_db: Path) -> None:
    raw = hsm_settings.model_dump(mode="json")
    raw["profiles"]["ec-token"] = {"key": "hsm-ecdsa", "level": "B-T", "appearance": {"kind": "digitizer"}}
    raw["profiles"]["ec-file"] = {"key": "ecdsa", "level": "B-T", "appearance": {"kind": "invisible"}}
    settings = SigningSettings.model_validate(raw)
    for profile in ("ec-token", "ec-file"):
        dst = tmp_path / f"{profile}.pdf"
        sign_pdf(src_pdf, dst, profile=profile, settings=settings)
        assert not validate_all(dst, pki, "B-T"), f"{profile}: {validate_all(dst, pki, 'B-T')}"
        assert not pdfsig_problems(dst, nss_db), f"{profile}: {pdfsig_problems(dst, nss_db)}"


def test_invisible_signature_leaves_page_unchanged(src_pdf: Path, tmp_path: Path, pki: TestPki,
                                                   signing_settings: SigningSettings) -> None:
    raw = signing_settings.model_dump(mode="json")
    raw["profiles"]["organization"]["appearance"] = {"kind": "invisible"}
    settings = SigningSettings.model_validate(raw)
    dst = tmp_path / "invisible.pdf"
    sign_pdf(src_pdf, dst, profile="organization", settings=settings, level="B-T")
    before, after = render_page1(src_pdf, tmp_path), render_page1(dst, tmp_path)
    assert (before == after).all(), "an invisible signature changed the rendered page"
    assert not validate_all(dst, pki, "B-T")
    assert _pdfa_violations(dst) == [], "invisible signature broke PDF/A"


def test_adhoc_pkcs12_signing_without_profile(src_pdf: Path, tmp_path: Path, pki: TestPki,
                                              signing_settings: SigningSettings, monkeypatch) -> None:
    monkeypatch.setenv("ADHOC_P12_PASS", pki.signer("organization").p12_password)
    dst = tmp_path / "adhoc.pdf"
    result = sign_pdf_adhoc(src_pdf, dst, pkcs12=pki.signer("organization").p12, password_env="ADHOC_P12_PASS",
                            settings=SigningSettings(), appearance="copy", timestamp_url=pki.tsa_url)
    assert result.level == "B-T", f"a timestamp URL should make ad-hoc signing B-T, got {result.level}"
    assert not validate_all(dst, pki, "B-T")
    look = SigningSettings().profiles["copy"].appearance
    region = corner_region(render_page1(dst, tmp_path), look.corner, look.width_mm, look.height_mm, look.margin_mm)
    assert ink(region) > 40, "copy stamp not drawn in the top-right corner"


def test_audit_event_describes_the_signature(src_pdf: Path, tmp_path: Path, pki: TestPki,
                                             signing_settings: SigningSettings) -> None:
    audit = JsonLinesAuditSink(tmp_path / "audit" / "signing.jsonl")
    dst = tmp_path / "signed.pdf"
    before = hashlib.sha256(src_pdf.read_bytes()).hexdigest()
    sign_pdf(src_pdf, dst, profile="digitizer", settings=signing_settings, level="B-T", audit=audit)
    sign_pdf(dst, dst, profile="organization", settings=signing_settings, level="B-T", audit=audit)
    first, second = audit.read()
    assert first["sha256_before"] == before and first["sha256_after"] == second["sha256_before"], (
        "document hashes in the audit do not chain from input to output")
    assert second["sha256_after"] == hashlib.sha256(dst.read_bytes()).hexdigest(), "audit hash ≠ final file"
    assert first["cert_sha256"] == hashlib.sha256(pki.signer("digitizer").cert_der).hexdigest()
    assert (first["profile"], first["level_reached"], first["key_kind"]) == ("digitizer", "B-T", "pkcs12")
    assert first["time"].endswith("+07:00"), f"audit time not in +07:00: {first['time']}"
    assert first["tsa_url"] == pki.tsa_url
    text = (tmp_path / "audit" / "signing.jsonl").read_text(encoding="utf-8")
    assert pki.signer("digitizer").p12_password not in text, "a password leaked into the audit log"
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary files left behind"


def test_replaced_key_file_is_reopened(src_pdf: Path, tmp_path: Path, pki: TestPki,
                                       signing_settings: SigningSettings, monkeypatch) -> None:
    """Opened PKCS#12 keys are cached per process; a renewed key file must not keep the old key."""
    key_file = tmp_path / "renewed.p12"
    key_file.write_bytes(pki.signer("digitizer").p12.read_bytes())
    monkeypatch.setenv("RENEWED_PASS", pki.signer("digitizer").p12_password)
    raw = signing_settings.model_dump(mode="json")
    raw["keys"]["renewed"] = {"kind": "pkcs12", "path": str(key_file), "password_env": "RENEWED_PASS"}
    raw["profiles"]["renewed"] = {"key": "renewed", "level": "B-B", "appearance": {"kind": "invisible"}}
    settings = SigningSettings.model_validate(raw)
    first = sign_pdf(src_pdf, tmp_path / "a.pdf", profile="renewed", settings=settings)
    key_file.write_bytes(pki.signer("ecdsa").p12.read_bytes())
    monkeypatch.setenv("RENEWED_PASS", pki.signer("ecdsa").p12_password)
    second = sign_pdf(src_pdf, tmp_path / "b.pdf", profile="renewed", settings=settings)
    assert first.cert_sha256 != second.cert_sha256, "the replaced key file was not reopened"
    assert second.cert_sha256 == hashlib.sha256(pki.signer("ecdsa").cert_der).hexdigest()


def test_revocation_source_ocsp_or_crl_is_embedded(src_pdf: Path, tmp_path: Path, pki: TestPki,
                                                   signing_settings: SigningSettings) -> None:
    """B-LT with only OCSP, or only CRLs, for the signer: the DSS holds what was asked for and validates."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    for source in ("ocsp", "crl"):
        raw = signing_settings.model_dump(mode="json")
        raw["revocation"]["source"] = source
        settings = SigningSettings.model_validate(raw)
        dst = tmp_path / f"lt-{source}.pdf"
        sign_pdf(src_pdf, dst, profile="digitizer", settings=settings, level="B-LT")
        with dst.open("rb") as fh:
            dss = DocumentSecurityStore.read_dss(PdfFileReader(fh, strict=False))
            ocsps, crls = list(dss.ocsps), list(dss.crls)
        if source == "ocsp":
            assert ocsps, "no OCSP response embedded with revocation.source = 'ocsp'"
        else:
            assert len(crls) >= 2, f"expected the issuing CA's and root's CRLs, got {len(crls)}"
        assert not validate_all(dst, pki, "B-LT"), f"{source}: {validate_all(dst, pki, 'B-LT')}"
