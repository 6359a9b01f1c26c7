"""The RFC 3161 timestamp client: pyHanko's HTTP timestamper, with retries and a typed error at the end.

Why a subclass: the issue demands that an unreachable TSA at B-T or above is an *error after retries*,
never a silent downgrade to B-B, with a message naming the URL. pyHanko's ``HTTPTimeStamper`` (aiohttp)
tries once; this class repeats a failed request ``retries`` times with exponential back-off (delay,
2×delay, …) and then raises ``TimestampUnavailable`` (exit code 58). A TSA that answers but does not
grant the request counts as a failed attempt too. Credentials go into the HTTP basic-auth header only;
they are never logged and never part of an error. ``LocalTimeStamper`` is the demo's own authority.
"""

from __future__ import annotations

import asyncio
import base64
import logging

from asn1crypto import keys, tsp, x509
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from sohoa.signing.errors import TimestampUnavailable

log = logging.getLogger(__name__)

_GRANTED = ("granted", "granted_with_mods")


def _reason(exc: BaseException) -> str:
    """The useful part of a failure: pyHanko wraps the HTTP client's error in its own."""
    cause = exc.__cause__ or exc
    return str(cause) or type(cause).__name__


class RetryingTimeStamper(HTTPTimeStamper):
    """POSTs timestamp requests to ``url``; ``retries`` extra attempts, delays ``delay_s``, 2×delay_s, …"""

    def __init__(self, url: str, *, timeout_s: float = 10.0, retries: int = 3, delay_s: float = 2.0,
                 username: str | None = None, password: str | None = None) -> None:
        headers = {}
        if username is not None:  # RFC 7617 basic auth, UTF-8
            token = base64.b64encode(f"{username}:{password or ''}".encode()).decode("ascii")
            headers["Authorization"] = f"Basic {token}"
        super().__init__(url, timeout=timeout_s, headers=headers)
        self.retries = retries
        self.delay_s = delay_s
        self.requests_made = 0

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        """One granted reply, or ``TimestampUnavailable`` when every attempt failed."""
        attempts = self.retries + 1
        last = ""
        for attempt in range(1, attempts + 1):
            self.requests_made += 1
            try:
                reply = await super().async_request_tsa_response(req)
                status = reply["status"]["status"].native
                if status in _GRANTED:
                    return reply
                last = f"TSA status {status}"
            except (OSError, TimeoutError, ValueError) as exc:  # pyHanko's TimestampRequestError is an OSError
                last = _reason(exc)
            log.warning("timestamp attempt %d/%d at %s failed: %s", attempt, attempts, self.url, last)
            if attempt < attempts:
                await asyncio.sleep(self.delay_s * 2 ** (attempt - 1))
        raise TimestampUnavailable(url=self.url, attempts=attempts, detail=last)


class LocalTimeStamper(DummyTimeStamper):
    """A timestamp authority held in this process: RFC 3161 tokens signed with a local key and this
    machine's clock. For the demo and tests only — a center's timestamps come from a real TSA."""

    url = "local"  # what the audit records as the TSA

    def __init__(self, cert: x509.Certificate, key: keys.PrivateKeyInfo, chain: list[x509.Certificate]) -> None:
        super().__init__(cert, key, certs_to_embed=SimpleCertificateStore.from_certs(chain))
