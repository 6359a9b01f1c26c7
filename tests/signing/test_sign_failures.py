"""Bad cases: each is a typed error with a clear vi/en sentence, no output file, no audit line, no secret.

Faults are produced for real: a wrong PIN on the SoftHSM2 token, a token label that is not there,
a TSA URL on a port that refuses connections, certificates that are expired / revoked / not for signing, a PKCS#12
whose key belongs to another certificate, an encrypted PDF written by pikepdf.
"""

from __future__ import annotations

import os
from pathlib import Path

import pikepdf
import pytest

from sohoa.common.errors import ConfigError, InputEncrypted, InputWrongType, SohoaError
from sohoa.config.signing import SigningSettings
from sohoa.signing import JsonLinesAuditSink, sign_pdf, sign_pdf_adhoc
from sohoa.signing.errors import (
    CertificateInvalid,
    CertificateRevoked,
    KeyMismatch,
    KeyUnavailable,
    ProfileUnknown,
    SecretMissing,
    TimestampUnavailable,
    WrongSecret,
)
from tests.pki import TestPki
from tests.services import refused_url


def _with(settings: SigningSettings, **changes: object) -> SigningSettings:
    raw = settings.model_dump(mode="json")
    for dotted, value in changes.items():
        target = raw
        *path, last = dotted.split("__")
        for part in path:
            target = target[part]
        target[last] = value
    return SigningSettings.model_validate(raw)


def _expect_failure(error: type[SohoaError], src: Path, tmp_path: Path, settings: SigningSettings, *,
                    profile: str, level: str | None = None, secrets: tuple[str, ...] = ()) -> SohoaError:
    dst = tmp_path / "out" / "signed.pdf"
    audit = JsonLinesAuditSink(tmp_path / "audit.jsonl")
    with pytest.raises(error) as info:
        sign_pdf(src, dst, profile=profile, settings=settings, level=level, audit=audit)
    err = info.value
    assert not dst.exists(), f"{error.__name__}: an output file was left at {dst}"
    leftovers = [p.name for p in dst.parent.iterdir()] if dst.parent.exists() else []
    assert not leftovers, f"{error.__name__}: files left in the output folder: {leftovers}"
    assert audit.read() == [], f"{error.__name__}: an audit event was written for a failed signature"
    vi, en = err.message("vi"), err.message("en")
    assert vi != en and "{" not in vi + en, f"message templates not filled: {vi!r} / {en!r}"
    for secret in secrets:
        assert secret not in vi + en + repr(err.to_dict()), f"{error.__name__} message leaks a secret"
    return err


def test_wrong_pkcs12_password(src_pdf: Path, tmp_path: Path, signing_settings: SigningSettings,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOHOA_TEST_P12_DIGITIZER", "sai-mat-khau-123")
    err = _expect_failure(WrongSecret, src_pdf, tmp_path, signing_settings, profile="digitizer",
                          secrets=("sai-mat-khau-123",))
    assert "digitizer" in err.message("en") and "Sai mật khẩu" in err.message("vi")


def test_password_env_not_set(src_pdf: Path, tmp_path: Path, signing_settings: SigningSettings,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOHOA_TEST_P12_DIGITIZER")
    err = _expect_failure(SecretMissing, src_pdf, tmp_path, signing_settings, profile="digitizer")
    assert "SOHOA_TEST_P12_DIGITIZER" in err.message("en"), "the message must name the variable to set"


def test_password_file_must_be_private(src_pdf: Path, tmp_path: Path, pki: TestPki,
                                       signing_settings: SigningSettings) -> None:
    secret = tmp_path / "secrets" / "digitizer.pass"
    secret.parent.mkdir()
    secret.write_text(pki.signer("digitizer").p12_password + "\n", encoding="utf-8")
    os.chmod(secret, 0o644)
    settings = _with(signing_settings, keys__digitizer__password_env=None, keys__digitizer__password_file=str(secret))
    err = _expect_failure(SecretMissing, src_pdf, tmp_path, settings, profile="digitizer",
                          secrets=(pki.signer("digitizer").p12_password,))
    assert "chmod 600" in err.message("en")
    os.chmod(secret, 0o600)
    result = sign_pdf(src_pdf, tmp_path / "ok.pdf", profile="digitizer", settings=settings, level="B-B")
    assert result.level == "B-B", "a 0600 password file should be accepted"


def test_wrong_pin_on_token(src_pdf: Path, tmp_path: Path, hsm_settings: SigningSettings,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOHOA_TEST_TOKEN_PIN", "999999")
    err = _expect_failure(WrongSecret, src_pdf, tmp_path, hsm_settings, profile="organization-hsm",
                          secrets=("999999",))
    assert "PIN" in err.message("en")


def test_missing_token(src_pdf: Path, tmp_path: Path, hsm_settings: SigningSettings) -> None:
    settings = _with(hsm_settings, **{"keys__hsm-organization__token_label": "token-khong-co"})
    err = _expect_failure(KeyUnavailable, src_pdf, tmp_path, settings, profile="organization-hsm")
    assert "token-khong-co" in err.message("en") and err.transient, err.message("en")


def test_missing_pkcs11_module(src_pdf: Path, tmp_path: Path, hsm_settings: SigningSettings) -> None:
    settings = _with(hsm_settings, **{"keys__hsm-organization__module": "/usr/lib/khong-co/libtoken.so"})
    err = _expect_failure(KeyUnavailable, src_pdf, tmp_path, settings, profile="organization-hsm")
    assert "/usr/lib/khong-co/libtoken.so" in err.message("en")


@pytest.mark.parametrize(("signer", "fragment"), [
    ("expired", "expired on"), ("notyet", "not valid before"), ("badusage", "does not allow signing"),
    ("weak", "1024 bits"),
])
def test_unusable_certificates_are_refused(signer: str, fragment: str, src_pdf: Path, tmp_path: Path,
                                           signing_settings: SigningSettings) -> None:
    settings = _with(signing_settings, profiles__digitizer__key=signer)
    err = _expect_failure(CertificateInvalid, src_pdf, tmp_path, settings, profile="digitizer", level="B-B")
    assert fragment in err.message("en"), err.message("en")


def test_expired_certificate_on_token_is_refused(src_pdf: Path, tmp_path: Path,
                                                 hsm_settings: SigningSettings) -> None:
    settings = _with(hsm_settings, **{"profiles__organization-hsm__key": "hsm-expired"})
    err = _expect_failure(CertificateInvalid, src_pdf, tmp_path, settings, profile="organization-hsm")
    assert "hết hạn" in err.message("vi"), err.message("vi")


def test_key_not_matching_certificate(src_pdf: Path, tmp_path: Path, hsm_settings: SigningSettings) -> None:
    """A mislabelled token: the key under the label belongs to another certificate.

    (cryptography refuses to even write such a PKCS#12 file, so the token is where this happens.)
    """
    settings = _with(hsm_settings, **{"profiles__organization-hsm__key": "hsm-mismatch"})
    err = _expect_failure(KeyMismatch, src_pdf, tmp_path, settings, profile="organization-hsm", level="B-B")
    assert "Nguyễn Văn Hưởng" in err.message("en"), "the message should name the certificate's subject"


def test_revoked_certificate_refused_at_b_lt(src_pdf: Path, tmp_path: Path,
                                             signing_settings: SigningSettings) -> None:
    settings = _with(signing_settings, profiles__digitizer__key="revoked")
    err = _expect_failure(CertificateRevoked, src_pdf, tmp_path, settings, profile="digitizer", level="B-LT")
    assert "revoked" in err.message("en").lower()


def test_tsa_down_is_an_error_after_retries_never_a_downgrade(src_pdf: Path, tmp_path: Path,
                                                              signing_settings: SigningSettings) -> None:
    url = refused_url("/tsa")
    settings = _with(signing_settings, tsa__url=url, tsa__retries=2)
    err = _expect_failure(TimestampUnavailable, src_pdf, tmp_path, settings, profile="digitizer", level="B-T")
    assert url in err.message("en") and err.fields["attempts"] == 3, err.message("en")


def test_b_t_without_tsa_configured(src_pdf: Path, tmp_path: Path, signing_settings: SigningSettings) -> None:
    settings = _with(signing_settings, tsa__url="")
    _expect_failure(ConfigError, src_pdf, tmp_path, settings, profile="digitizer", level="B-T")


def test_encrypted_input(tmp_path: Path, src_pdf: Path, signing_settings: SigningSettings) -> None:
    encrypted = tmp_path / "ma-hoa.pdf"
    with pikepdf.open(src_pdf) as pdf:
        pdf.save(encrypted, encryption=pikepdf.Encryption(owner="chu", user="", R=6))
    _expect_failure(InputEncrypted, encrypted, tmp_path, signing_settings, profile="digitizer", level="B-B")


def test_non_pdf_input(tmp_path: Path, signing_settings: SigningSettings) -> None:
    fake = tmp_path / "anh-quet.pdf"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 200)
    _expect_failure(InputWrongType, fake, tmp_path, signing_settings, profile="digitizer", level="B-B")


def test_unknown_profile(src_pdf: Path, tmp_path: Path, signing_settings: SigningSettings) -> None:
    err = _expect_failure(ProfileUnknown, src_pdf, tmp_path, signing_settings, profile="giam-doc")
    assert "digitizer" in err.message("en"), "the message should list the known profiles"


def test_adhoc_wrong_password_names_the_variable_not_the_value(src_pdf: Path, tmp_path: Path, pki: TestPki,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADHOC_PASS", "khong-dung")
    with pytest.raises(WrongSecret) as info:
        sign_pdf_adhoc(src_pdf, tmp_path / "x.pdf", pkcs12=pki.signer("organization").p12,
                       password_env="ADHOC_PASS", settings=SigningSettings())
    assert "khong-dung" not in info.value.message("en") and not (tmp_path / "x.pdf").exists()
