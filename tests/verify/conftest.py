"""Fixtures of the verification tests: one test PKI per session, every case signed once, lazily.

The PKI (including a signer revoked with only a CRL distribution point and an untrusted CA), its
OCSP/CRL/TSA services and the NSS db come from ``tests.pki``. This folder adds what verification needs
and signing refuses to make: a signature whose chain lacks the intermediate, signatures with
timestamps at a chosen past time (the TSA's fake-time header), certifying signatures, and
incremental updates made after signing (page content, an added page, an annotation), and the files of
other signers and tools (``producer_case``, ``tests/verify/producers``). Signatures
that production code can make are made with ``signing.sign_pdf``; the rest with pyHanko directly
(``tests/verify/makers.py``).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from sohoa.config.signing import SigningSettings
from tests.pki import TestPki
from tests.verify import makers
from tests.verify.producers import cases as producer_cases
from tests.verify.producers.base import Workspace

PASSWORD_ENV = {"digitizer": "SOHOA_VTEST_P12_DIGITIZER", "organization": "SOHOA_VTEST_P12_ORGANIZATION",
                "ecdsa": "SOHOA_VTEST_P12_ECDSA"}


@pytest.fixture(autouse=True, scope="session")
def _quiet_pyhanko() -> None:
    # pyHanko logs each failed path with a traceback; the verdicts under test already say why
    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


@pytest.fixture(scope="session")
def vpki(pki: TestPki, unknown_pki: TestPki) -> makers.VerifyPki:  # noqa: F811
    return makers.verify_pki(pki, unknown_pki)


@pytest.fixture(scope="session")
def unsigned_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sohoa.config.settings import OutputSettings
    from sohoa.stages.assemble import build_pdfa, prepare_page
    from sohoa.stages.model import DocumentMeta, Page

    image = np.full((1169, 827, 3), 255, np.uint8)
    image[450:700, 120:700] = (60, 60, 60)
    page = Page(image=image, dpi=(100.0, 100.0), source=Path("trang-1.png"))
    out = io.BytesIO()
    settings = OutputSettings()
    build_pdfa([prepare_page(page, settings), prepare_page(page, settings)],
               DocumentMeta(title="Kết quả thử nghiệm"), settings, out)
    path = tmp_path_factory.mktemp("unsigned") / "chua-ky.pdf"
    path.write_bytes(out.getvalue())
    return path


@pytest.fixture(scope="session")
def signing_settings(vpki: makers.VerifyPki) -> SigningSettings:
    """Production signing settings over the test PKI; passwords in environment variables (set here)."""
    import os

    keys = {}
    for name, env in PASSWORD_ENV.items():
        os.environ[env] = vpki.pki.signer(name).p12_password
        keys[name] = {"kind": "pkcs12", "path": str(vpki.pki.signer(name).p12), "password_env": env}
    return SigningSettings.model_validate({
        "keys": keys,
        "profiles": {"organization": {"appearance": {"kind": "invisible"}},
                     "digitizer": {"appearance": {"kind": "invisible"}}},
        "tsa": {"url": vpki.pki.tsa_url, "retries": 1, "retry_delay_s": 0.05, "timeout_s": 5},
        "trust": {"roots": [str(vpki.pki.root.cert_pem)]},
        "revocation": {"timeout_s": 5},
    })


@pytest.fixture(scope="session")
def case(vpki: makers.VerifyPki, unsigned_pdf: Path, signing_settings: SigningSettings,
         tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``case(name)`` → the signed PDF of that case, made on first use and reused for the session."""
    folder = tmp_path_factory.mktemp("cases")
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            made[name] = makers.make_case(name, folder / f"{name}.pdf", vpki=vpki, src=unsigned_pdf,
                                          settings=signing_settings, get=get)
        return made[name]

    return get


@pytest.fixture(scope="session")
def producer_case(pki: TestPki, unsigned_pdf: Path, tmp_path_factory: pytest.TempPathFactory) \
        -> Iterator[Callable[[str], Path]]:
    """``producer_case(name)`` → the PDF of that multi-producer case (tests/verify/producers/cases.py), built on
    first use and kept for the session; skips when a tool the case needs is missing."""
    ws = Workspace(pki)
    corpus = producer_cases.Corpus(ws, unsigned_pdf, tmp_path_factory.mktemp("producers"))
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        case = producer_cases.BY_NAME[name]
        for tool in case.needs:
            if (why := producer_cases.missing_tool(tool)) is not None:
                pytest.skip(f"{name}: {why}")
        if name not in made:
            made[name] = producer_cases.build(case, corpus)
        return made[name]

    yield get
    ws.close()
