"""Session fixtures over the test PKI; import them into a ``conftest.py`` (see the package docstring)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pki.builder import TestPki
from tests.pki.servers import PkiServer, serve_pki
from tests.pki.tokens import SoftToken, init_softhsm, make_nss_db, tools_missing


@pytest.fixture(scope="session")
def pki_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PkiServer]:
    server = serve_pki(tmp_path_factory.mktemp("pki"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def test_pkis(pki_server: PkiServer) -> dict[str, TestPki]:
    """Every architecture of ``pki.yml`` by label, served by ``pki_server``."""
    return pki_server.pkis


@pytest.fixture(scope="session")
def pki(test_pkis: dict[str, TestPki]) -> TestPki:
    return test_pkis["sohoa"]


@pytest.fixture(scope="session")
def unknown_pki(test_pkis: dict[str, TestPki]) -> TestPki:
    """A CA nobody trusts (its own root, same kind of signers)."""
    return test_pkis["unknown"]


@pytest.fixture(scope="session")
def nss_db(pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    missing = tools_missing("certutil", "pdfsig")
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (apt-get install libnss3-tools poppler-utils)")
    return make_nss_db(tmp_path_factory.mktemp("nssdb"), pki)


@pytest.fixture(scope="session")
def softhsm_token(pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> SoftToken:
    missing = tools_missing("softhsm2-util", "pkcs11-tool")
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (apt-get install softhsm2 opensc)")
    return init_softhsm(tmp_path_factory.mktemp("softhsm"),
                        [pki.signer("organization"), pki.signer("ecdsa"), pki.signer("expired")],
                        mismatch=(pki.signer("organization"), pki.signer("digitizer")))
