"""``sohoa sign`` end to end through the real CLI entry point with a center's TOML config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sohoa.cli.main import main
from tests.pki import TestPki
from tests.signing.checks import validate_all

SEAL = Path(__file__).resolve().parents[2] / "config" / "seal-test.png"


@pytest.fixture
def center_toml(tmp_path: Path, pki: TestPki, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("P12_SO_HOA", pki.signer("digitizer").p12_password)
    monkeypatch.setenv("P12_CO_QUAN", pki.signer("organization").p12_password)
    path = tmp_path / "center.toml"
    path.write_text(f"""
data_dir = "data"
[signing.keys.digitizer]
kind = "pkcs12"
path = "{pki.signer('digitizer').p12}"
password_env = "P12_SO_HOA"
[signing.keys.organization]
kind = "pkcs12"
path = "{pki.signer('organization').p12}"
password_env = "P12_CO_QUAN"
[signing.profiles.organization.appearance]
seal_image = "{SEAL}"
[signing.tsa]
url = "{pki.tsa_url}"
retries = 0
[signing.trust]
roots = ["{pki.root.cert_pem}"]
""", encoding="utf-8")
    return path


def test_sign_with_profile_writes_output_and_audit(center_toml: Path, src_pdf: Path, tmp_path: Path,
                                                   pki: TestPki, capsys: pytest.CaptureFixture[str]) -> None:
    dst = tmp_path / "ket-qua.pdf"
    code = main(["sign", str(src_pdf), "-o", str(dst), "--profile", "organization", "--level", "B-LT",
                 "--config", str(center_toml), "--json"])
    out = capsys.readouterr().out
    assert code == 0, f"sohoa sign failed: {out}"
    result = json.loads(out.strip().splitlines()[-1])
    assert result["level"] == "B-LT" and result["profile"] == "organization", result
    assert not validate_all(dst, pki, "B-LT")
    audit = tmp_path / "data" / "audit" / "signing.jsonl"
    assert audit.is_file(), "the CLI must write the audit event under data_dir"
    assert json.loads(audit.read_text(encoding="utf-8"))["dst"] == str(dst)


def test_adhoc_pkcs12_from_cli(src_pdf: Path, tmp_path: Path, pki: TestPki, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)  # no sohoa.toml here: built-in defaults
    monkeypatch.setenv("MAT_KHAU_P12", pki.signer("digitizer").p12_password)
    dst = tmp_path / "adhoc.pdf"
    code = main(["sign", str(src_pdf), "-o", str(dst), "--pkcs12", str(pki.signer("digitizer").p12),
                 "--password-env", "MAT_KHAU_P12", "--appearance", "digitizer", "--timestamp-url", pki.tsa_url])
    assert code == 0, capsys.readouterr().err
    assert not validate_all(dst, pki, "B-T")


def test_cli_wrong_password_exit_code_and_sentence(center_toml: Path, src_pdf: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("P12_SO_HOA", "khong-phai")
    dst = tmp_path / "x.pdf"
    code = main(["sign", str(src_pdf), "-o", str(dst), "--profile", "digitizer", "--config", str(center_toml)])
    err = capsys.readouterr().err
    assert code == 54, f"wrong password should exit 54, got {code}: {err}"
    assert "Sai mật khẩu" in err and "khong-phai" not in err, err
    assert not dst.exists()


def test_cli_needs_profile_or_pkcs12(center_toml: Path, src_pdf: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sign", str(src_pdf), "-o", str(tmp_path / "x.pdf"), "--config", str(center_toml)])
    assert code == 2, "no --profile and no --pkcs12 is a usage error"
    with pytest.raises(SystemExit):  # there is deliberately no option to pass a password in argv
        main(["sign", str(src_pdf), "-o", str(tmp_path / "x.pdf"), "--pkcs12", "k.p12", "--password", "x"])
