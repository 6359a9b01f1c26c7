"""Fixtures of the signing tests: the test PKI (served on 127.0.0.1), a SoftHSM2 token, PDF/A input.

The PKI fixtures come from ``tests.pki`` so the verification tests can reuse them. The input is a real
PDF/A-2B built by our assemble stage from a synthetic A4 page whose corners are white, so a stamp's
pixels in a corner can only come from the signature appearance.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from sohoa.config.signing import SigningSettings
from tests.pki import SoftToken, TestPki

SEAL = Path(__file__).resolve().parents[2] / "config" / "seal-test.png"


@pytest.fixture(scope="session")
def pdfa_bytes() -> bytes:
    from sohoa.config.settings import OutputSettings
    from sohoa.stages.assemble import build_pdfa, prepare_page
    from sohoa.stages.model import DocumentMeta, Page

    image = np.full((1169, 827, 3), 255, np.uint8)  # A4 at 100 dpi
    image[450:700, 120:700] = (60, 60, 60)  # a "text block" in the middle; the corners stay white
    page = Page(image=image, dpi=(100.0, 100.0), source=Path("trang-1.png"))
    settings = OutputSettings()
    out = io.BytesIO()
    build_pdfa([prepare_page(page, settings), prepare_page(page, settings)],
               DocumentMeta(title="Hồ sơ thử nghiệm"), settings, out)
    return out.getvalue()


@pytest.fixture
def src_pdf(tmp_path: Path, pdfa_bytes: bytes) -> Path:
    path = tmp_path / "in" / "ho-so.pdf"
    path.parent.mkdir()
    path.write_bytes(pdfa_bytes)
    return path


PASSWORD_ENV = {"digitizer": "SOHOA_TEST_P12_DIGITIZER", "organization": "SOHOA_TEST_P12_ORGANIZATION",
                "ecdsa": "SOHOA_TEST_P12_ECDSA", "expired": "SOHOA_TEST_P12_EXPIRED",
                "notyet": "SOHOA_TEST_P12_NOTYET", "revoked": "SOHOA_TEST_P12_REVOKED",
                "badusage": "SOHOA_TEST_P12_BADUSAGE", "weak": "SOHOA_TEST_P12_WEAK"}
PIN_ENV = "SOHOA_TEST_TOKEN_PIN"


@pytest.fixture
def signing_settings(pki: TestPki, monkeypatch: pytest.MonkeyPatch) -> SigningSettings:  # noqa: F811
    """Every test signer as a PKCS#12 key named after it; passwords in environment variables."""
    keys = {}
    for name, env in PASSWORD_ENV.items():
        monkeypatch.setenv(env, pki.signer(name).p12_password)
        keys[name] = {"kind": "pkcs12", "path": str(pki.signer(name).p12), "password_env": env}
    return SigningSettings.model_validate({
        "keys": keys,
        "profiles": {"organization": {"appearance": {"seal_image": str(SEAL)}}},
        "tsa": {"url": pki.tsa_url, "retries": 1, "retry_delay_s": 0.05, "timeout_s": 5},
        "trust": {"roots": [str(pki.root.cert_pem)]},
    })


@pytest.fixture
def hsm_settings(signing_settings: SigningSettings, softhsm_token: SoftToken, pki: TestPki,  # noqa: F811
                 monkeypatch: pytest.MonkeyPatch) -> SigningSettings:
    """Adds token keys ``hsm-<label>`` (organization, ecdsa, expired, mismatch) and an ``organization-hsm`` profile."""
    monkeypatch.setenv(PIN_ENV, softhsm_token.pin)
    raw = signing_settings.model_dump(mode="json")
    for name in ("organization", "ecdsa", "expired", "mismatch"):
        raw["keys"][f"hsm-{name}"] = {"kind": "pkcs11", "module": str(softhsm_token.module),
                                      "token_label": softhsm_token.label, "key_label": name, "pin_env": PIN_ENV,
                                      # tokens usually hold only the signer's certificate: name the issuer
                                      "extra_certs": [str(pki.intermediate.cert_pem)]}
    raw["profiles"]["organization-hsm"] = {**raw["profiles"]["organization"], "key": "hsm-organization"}
    return SigningSettings.model_validate(raw)
