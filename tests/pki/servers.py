"""certomancer's Animator (OCSP, CRLs, TSA, certificate downloads) on a real 127.0.0.1 socket.

Why real sockets: the signing code under test uses the same HTTP clients it uses in production, so
timeouts, retries and "TSA down" are exercised for real. Why werkzeug's server: certomancer's
``Animator`` is a WSGI app built on werkzeug, and ``make_server`` binds the port we ask for — port 0, so
the kernel picks a free one and nothing can take it between choosing and listening. The server is
bound *before* the PKI is built, so its real port goes into the URLs certomancer embeds in the
certificates; the app is attached afterwards (until then every request gets 503).

URLs are certomancer's: ``/<arch>/ocsp/<label>`` (POST), ``/<arch>/crls/<label>/latest.crl``,
``/<arch>/tsa/<label>`` (POST). A request may carry ``X-Certomancer-Fake-Time`` to be answered as of
that time — how the tests get a timestamp token from a chosen past moment. ``requests`` counts requests
per path so a test can prove a service was (or was not) called.

Two certomancer limits met here, worked around in ``_dispatch``:
- the Animator answers "now" with microseconds, and asn1crypto writes them into the OCSP response's
  producedAt/thisUpdate as fractional GeneralizedTime, which NSS (poppler's ``pdfsig``) rejects
  ("Unknown issue with Certificate"); every request without a fake time gets one: now, whole seconds;
- OCSP over GET (RFC 6960 A.1), which NSS tries first, has no route (404); NSS then falls back to POST,
  which is served, so this costs one refused request per pdfsig check and no code.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from certomancer.integrations.animator import Animator, AnimatorArchStore
from certomancer.registry import CertomancerConfig
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from tests.pki.builder import FAKE_TIME_HEADER, TestPki, build_pkis

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *_args: object) -> None:  # one access line per OCSP/CRL fetch would drown test output
        return


class PkiServer:
    """HTTP on 127.0.0.1:<port 0>; ``base_url`` is known at once, ``serve(config)`` attaches the PKI."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.pkis: dict[str, TestPki] = {}
        self._app: WsgiApp | None = None
        self._httpd: BaseWSGIServer = make_server("127.0.0.1", 0, self._dispatch, threaded=True,
                                                  request_handler=_QuietHandler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="test-pki-http", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_port}"

    def start(self) -> PkiServer:
        self._thread.start()
        return self

    def serve(self, config: CertomancerConfig, pkis: dict[str, TestPki]) -> None:
        self.pkis = pkis
        self._app = Animator(AnimatorArchStore(config.pki_archs), with_web_ui=False)

    @property
    def pki(self) -> TestPki:
        """The trusted architecture (``sohoa`` in pki.yml)."""
        return self.pkis["sohoa"]

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _dispatch(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        self.requests[environ.get("PATH_INFO", "")] += 1
        environ.setdefault("HTTP_" + FAKE_TIME_HEADER.upper().replace("-", "_"),
                           dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat())
        if self._app is None:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"test PKI not attached yet\n"]
        return self._app(environ, start_response)


def serve_pki(directory: Path) -> PkiServer:
    """Bind, build ``pki.yml`` under ``directory`` with the bound URL, serve it; ``stop()`` when done."""
    server = PkiServer().start()
    config, pkis = build_pkis(directory, server.base_url)
    server.serve(config, pkis)
    return server
