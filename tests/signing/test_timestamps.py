"""The TSA client (pyHanko's HTTP timestamper + retries): transient failures are retried, the end is typed."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sohoa.signing.errors import TimestampUnavailable
from sohoa.signing.timestamps import RetryingTimeStamper
from tests.pki import TestPki

DIGEST = hashlib.sha256(b"ho so").digest()


class FlakyTsa:
    """In front of the test TSA: the first ``failures`` requests get 503 (or a proxy's HTML page), the rest pass."""

    def __init__(self, upstream: str, failures: int, *, html: bool = False) -> None:
        self.upstream, self.failures, self.html = upstream, failures, html
        self.seen: list[str | None] = []  # the Authorization header of each request
        front = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet test output
                return

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                front.seen.append(self.headers.get("Authorization"))
                ctype = "application/timestamp-reply"
                if len(front.seen) <= front.failures:
                    if not front.html:
                        self.send_response(503)
                        self.end_headers()
                        return
                    reply, ctype = b"<html>proxy login</html>", "text/html"
                else:
                    request = urllib.request.Request(front.upstream, data=body, method="POST",
                                                     headers={"Content-Type": "application/timestamp-query"})
                    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - the local test TSA
                        reply = answer.read()
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tsa"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def flaky(pki: TestPki) -> Iterator[Callable[..., FlakyTsa]]:
    made: list[FlakyTsa] = []

    def make(failures: int, *, html: bool = False) -> FlakyTsa:
        made.append(FlakyTsa(pki.tsa_url, failures, html=html))
        return made[-1]

    yield make
    for front in made:
        front.close()


def test_transient_failures_are_retried_with_backoff(flaky: Callable[..., FlakyTsa]) -> None:
    front = flaky(2)
    client = RetryingTimeStamper(front.url, retries=2, delay_s=0.05, timeout_s=5, username="so-hoa",
                                 password="mật-khẩu")
    started = time.monotonic()
    token = asyncio.run(client.async_timestamp(DIGEST, "sha256"))
    assert token["content_type"].native == "signed_data"
    assert time.monotonic() - started >= 0.05 + 0.1, "back-off: delay, then twice the delay"
    assert client.requests_made == len(front.seen) == 3
    expected = "Basic " + base64.b64encode("so-hoa:mật-khẩu".encode()).decode()
    assert front.seen == [expected] * 3, "HTTP basic auth (UTF-8) on every attempt"


def test_wrong_answers_count_as_failures_and_end_in_the_typed_error(flaky: Callable[..., FlakyTsa]) -> None:
    front = flaky(10, html=True)
    client = RetryingTimeStamper(front.url, retries=1, delay_s=0.01, timeout_s=5, username="u",
                                 password="khong-lo-ra")
    with pytest.raises(TimestampUnavailable) as info:
        asyncio.run(client.async_timestamp(DIGEST, "sha256"))
    err = info.value
    assert err.exit_code == 58 and err.fields["attempts"] == 2 and len(front.seen) == 2
    assert front.url in err.message("en") and "text/html" in err.message("en"), err.message("en")
    assert "khong-lo-ra" not in err.message("en") + err.message("vi"), "a secret leaked into the message"
