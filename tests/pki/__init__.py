"""Reusable test PKI: certificates, OCSP/CRL/TSA over HTTP on 127.0.0.1, SoftHSM2 token, NSS db.

Use from a ``conftest.py``::

    from tests.pki.fixtures import nss_db, pki, pki_server, softhsm_token  # noqa: F401

``pki`` (session) is a ``TestPki`` whose services answer at ``pki.base_url``; ``nss_db`` is a folder
for ``pdfsig -nssdir``; ``softhsm_token`` is a ``SoftToken`` holding the ``organization`` and ``ecdsa``
keys, plus a ``mismatch`` label whose key (organization) does not belong to its certificate
(digitizer), as on a mislabelled token. ``run_pdfsig`` and ``closed_port_url`` help the tests.
"""

from tests.pki.builder import SIGNER_SPECS, Identity, TestPki, build_pki
from tests.pki.servers import PkiServer, closed_port_url
from tests.pki.tokens import PdfsigResult, SoftToken, init_softhsm, make_nss_db, run_pdfsig, tools_missing

__all__ = ["SIGNER_SPECS", "Identity", "PdfsigResult", "PkiServer", "SoftToken", "TestPki", "build_pki",
           "closed_port_url", "init_softhsm", "make_nss_db", "run_pdfsig", "tools_missing"]
