"""OCSP responder, CRL distribution point and RFC 3161 TSA for the test PKI, on a real 127.0.0.1 socket.

Why real sockets: the signing code under test uses the same HTTP clients it uses in production, so
timeouts, retries and "TSA down" are exercised for real. One ``ThreadingHTTPServer`` serves:

- ``GET  /crl/<root|intermediate>.crl`` — DER CRLs built by the PKI builder;
- ``POST /ocsp/intermediate`` — OCSP answers for certificates issued by the intermediate CA, signed
  by the CA itself (good / revoked from the PKI's revoked set);
- ``POST /tsa`` — timestamp tokens signed by the TSA certificate (pyHanko's in-process timestamper
  does the CMS work; this module adds the HTTP side).

The server is started *before* the PKI is built (port 0 → real port) so the URLs can be baked in.
``requests`` counts requests per path so tests can prove a service was (or was not) called.
"""

from __future__ import annotations

import base64
import datetime as dt
import socket
import threading
import urllib.parse
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from tests.pki.builder import TestPki


class PkiServer:
    """Serves one ``TestPki``; use ``start()`` → ``base_url``, then ``attach(pki)``, then ``stop()``."""

    def __init__(self) -> None:
        self.pki: TestPki | None = None
        self.requests: Counter[str] = Counter()
        self._timestamper: DummyTimeStamper | None = None
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="test-pki-http", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> PkiServer:
        self._thread.start()
        return self

    def attach(self, pki: TestPki) -> None:
        self.pki = pki
        self._timestamper = DummyTimeStamper(
            tsa_cert=asn1_x509.Certificate.load(pki.tsa.cert_der),
            tsa_key=asn1_keys.PrivateKeyInfo.load(pki.tsa.key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
            certs_to_embed=[asn1_x509.Certificate.load(pki.intermediate.cert_der)],
        )

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # --- responders ------------------------------------------------------------------------

    def crl(self, name: str) -> bytes | None:
        assert self.pki is not None
        return self.pki.crls.get(name)

    def ocsp(self, body: bytes) -> bytes:
        assert self.pki is not None
        pki = self.pki
        try:
            request = ocsp.load_der_ocsp_request(body)
        except ValueError:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.MALFORMED_REQUEST).public_bytes(serialization.Encoding.DER)
        subject = next((ident.cert for ident in [*pki.signers.values(), pki.tsa]
                        if ident.cert.serial_number == request.serial_number), None)
        if subject is None:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.UNAUTHORIZED).public_bytes(serialization.Encoding.DER)
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        if subject.serial_number in pki.revoked_serials:
            status, rev_time, reason = ocsp.OCSPCertStatus.REVOKED, now - dt.timedelta(days=1), None
        else:
            status, rev_time, reason = ocsp.OCSPCertStatus.GOOD, None, None
        builder = (ocsp.OCSPResponseBuilder()
                   .add_response(cert=subject, issuer=pki.intermediate.cert, algorithm=request.hash_algorithm,
                                 cert_status=status, this_update=now - dt.timedelta(minutes=5),
                                 next_update=now + dt.timedelta(hours=12), revocation_time=rev_time,
                                 revocation_reason=reason)
                   .responder_id(ocsp.OCSPResponderEncoding.HASH, pki.intermediate.cert)
                   .certificates([pki.intermediate.cert]))
        nonce = next((ext for ext in request.extensions if isinstance(ext.value, x509.OCSPNonce)), None)
        if nonce is not None:
            builder = builder.add_extension(nonce.value, critical=False)
        return builder.sign(pki.intermediate.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def tsa(self, body: bytes) -> bytes:
        assert self._timestamper is not None
        request = tsp.TimeStampReq.load(body)
        return self._timestamper.request_tsa_response(request).dump()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet test output
                return

            def _reply(self, code: int, body: bytes, ctype: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                server.requests[self.path.rsplit("/", 1)[0] if self.path.count("/") == 3 else self.path] += 1
                if self.path.startswith("/ocsp/") and self.path.count("/") == 3:  # GET form (RFC 6960 A.1)
                    encoded = urllib.parse.unquote(self.path.rsplit("/", 1)[1])
                    self._reply(200, server.ocsp(base64.b64decode(encoded)), "application/ocsp-response")
                    return
                if self.path.startswith("/crl/") and self.path.endswith(".crl"):
                    der = server.crl(self.path[len("/crl/"):-len(".crl")])
                    if der is not None:
                        self._reply(200, der, "application/pkix-crl")
                        return
                self._reply(404, b"not found", "text/plain")

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                server.requests[self.path] += 1
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.startswith("/ocsp/"):
                    self._reply(200, server.ocsp(body), "application/ocsp-response")
                elif self.path == "/tsa":
                    self._reply(200, server.tsa(body), "application/timestamp-reply")
                else:
                    self._reply(404, b"not found", "text/plain")

        return Handler


def closed_port_url(path: str = "/tsa") -> str:
    """A URL on 127.0.0.1 where nothing listens (bind, read the port, close): a TSA that is down."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"
