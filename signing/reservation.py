"""How much room a signature's CMS container gets in the PDF, remembered per key and level (issue 14).

Why: given no size, pyHanko sizes the container before every signature by building and DER-encoding a
whole dummy CMS (a dry-run signature) and reserving 1.5 times its length: ~10 ms of the ~95 ms of CPU
a B-B signature costs here. That dry run depends only on the signing certificate and its chain, the
digest, whether a signature timestamp is embedded and which TSA gives it (pyHanko keeps its dummy
token per timestamper client, and ``sign._timestamper`` keeps one client per TSA configuration) —
exactly the cache key below. So the first signature of a process with a key lets pyHanko estimate, the
room it chose is read back from the signed output's /ByteRange, and later signatures with the same key
reserve the same room: the same bytes as pyHanko's own estimate would have given, without the dry run.

Safe when settings change: a rotated key or renewed certificate has another fingerprint, another TSA
another URL, so each is estimated anew. Should a container still not fit (a TSA that starts answering
with longer tokens), the signature is made again with pyHanko's own estimate and the entry replaced.
Levels that fetch revocation data (B-LT, B-LTA) are not cached: their network time dwarfs the dry run.
The key holds fingerprints and URLs only, never a secret.
"""

from __future__ import annotations

import hashlib
import threading

from pyhanko.sign.general import SigningError as HankoSigningError

from sohoa.signing.keys import OpenedKey

ReserveKey = tuple[str, tuple[str, ...], str, str, str | None]

_RESERVED: dict[ReserveKey, int] = {}
_lock = threading.Lock()
_TOO_SMALL = "Final ByteRange payload larger than expected"  # pyHanko 0.38, pdf_byterange.PdfByteRangeDigest


def reserve_key(key: OpenedKey, digest: str, level: str, timestamper: object | None) -> ReserveKey:
    """Everything pyHanko's dry run depends on: certificate, chain, digest, level and the TSA's URL."""
    chain = tuple(hashlib.sha256(cert.dump()).hexdigest() for cert in key.chain)
    tsa = None if timestamper is None else str(getattr(timestamper, "url", None) or type(timestamper).__name__)
    return key.fingerprint, chain, digest, level, tsa


def reserved(key: ReserveKey) -> int | None:
    """The room (hex digits of /Contents) an earlier signature with this key got, or None: let pyHanko size it."""
    with _lock:
        return _RESERVED.get(key)


def remember(key: ReserveKey, byte_range: list[int] | tuple[int, ...]) -> None:
    """Keep the room of a signature pyHanko sized: the gap between the /ByteRange's two parts, minus ``<>``."""
    with _lock:
        _RESERVED[key] = int(byte_range[2]) - int(byte_range[1]) - 2


def forget(key: ReserveKey) -> None:
    with _lock:
        _RESERVED.pop(key, None)


def too_small(exc: HankoSigningError) -> bool:
    """Whether pyHanko refused the signature because its container outgrew the room reserved for it."""
    return _TOO_SMALL in str(exc)


def clear() -> None:
    with _lock:
        _RESERVED.clear()
