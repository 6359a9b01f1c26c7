"""Reusable test PKI on certomancer: certificates, OCSP/CRL/TSA over HTTP on 127.0.0.1, SoftHSM2 token, NSS db.

Use from a ``conftest.py``::

    from tests.pki.fixtures import nss_db, pki, pki_server, softhsm_token  # noqa: F401

The architecture is ``pki.yml`` (certomancer's configuration language); ``builder`` adds what certomancer
cannot express (fresh keys, times relative to today, the served port, files on disk), ``servers`` runs
certomancer's Animator on a port-0 socket, ``tokens`` keeps the hand-written parts that are not PKI
architecture: the SoftHSM2 token (including a ``mismatch`` label whose key — organization's — does not
belong to its certificate — digitizer's —, as on a mislabelled token) and the NSS database for pdfsig.

``pki`` (session) is the trusted ``TestPki``; ``unknown_pki`` a CA nobody trusts; ``nss_db`` a folder for
``pdfsig -nssdir``; ``softhsm_token`` a ``SoftToken`` holding the ``organization``, ``ecdsa`` and
``expired`` keys. ``run_pdfsig`` helps the tests read pdfsig's verdicts. Outside pytest (benchmarks),
``serve_pki(folder)`` starts the same thing: ``server.pki``, ``server.stop()``.
"""

from tests.pki.builder import FAKE_TIME_HEADER, Identity, TestPki, build_pkis
from tests.pki.servers import PkiServer, serve_pki
from tests.pki.tokens import PdfsigResult, SoftToken, init_softhsm, make_nss_db, run_pdfsig, tools_missing

__all__ = ["FAKE_TIME_HEADER", "Identity", "PdfsigResult", "PkiServer", "SoftToken", "TestPki", "build_pkis",
           "init_softhsm", "make_nss_db", "run_pdfsig", "serve_pki", "tools_missing"]
