"""Library details (an exception's English text) turned into a small set of translatable reasons.

Why: sqlite says "database is locked", pikepdf "Error -5 while decompressing data", an OS call "No
space left on device" — always in English. Put inside a Vietnamese sentence, they leave the clerk with
half a sentence she cannot read. A ``Foreign`` value keeps the raw text for the English message (and so
for ``str(err)``, the logs and ``message_en``) and renders in Vietnamese as the catalog sentence of the
reason it was classified into: by ``errno`` for OS errors, else by a few patterns of the libraries we
use, else "a technical error (details in the English message)". A caller that knows better passes the
reason itself (``foreign(exc, reason=DATABASE_LOCKED)``).

``SohoaError`` wraps a plain-text ``detail`` field in ``Foreign`` automatically, so a detail nobody
translated never reaches a Vietnamese sentence in English.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sohoa.common.messages import N_, Joined, Lang, Message, translate

# --- the reasons (catalog sentences, lower case: they end up inside a sentence) ----------------------

DATABASE_LOCKED = N_("the database is locked by another writer")
CONNECTION_REFUSED = N_("the server refused the connection (is it running?)")
CONNECTION_LOST = N_("the connection to the server was lost")
HOST_UNKNOWN = N_("the server name cannot be resolved")
HOST_UNREACHABLE = N_("the server cannot be reached over the network")
LOGIN_REFUSED = N_("the server refused the user name or password")
DATABASE_MISSING = N_("the database does not exist on the server")
DATABASE_DAMAGED = N_("the database file is damaged or is not a database")
DATABASE_UNOPENABLE = N_("the database file cannot be opened")
TIMED_OUT = N_("the operation timed out")
DISK_FULL = N_("the disk is full")
READ_ONLY = N_("the storage is read-only")
PERMISSION_DENIED = N_("permission denied")
NOT_FOUND = N_("the file or folder does not exist")
ALREADY_EXISTS = N_("a file with that name already exists")
IS_A_FOLDER = N_("it is a folder, not a file")
NOT_A_FOLDER = N_("a part of the path is not a folder")
IO_ERROR = N_("the disk or device reported a read/write error")
TOO_MANY_FILES = N_("too many open files")
BUSY = N_("the resource is busy")
TLS_FAILED = N_("the secure (TLS) connection failed or its certificate is not trusted")
SERVER_ERROR = N_("the server answered with an error")
COMPRESSED_DATA = N_("compressed data inside the file is damaged")
TRUNCATED = N_("the file is truncated (it ends too early)")
PDF_STRUCTURE = N_("the PDF structure is damaged")
IMAGE_DATA = N_("the image data cannot be decoded")
OUT_OF_MEMORY = N_("not enough memory")
UNKNOWN = N_("a technical error (the details are in the English message and the log)")

_ERRNO: dict[int, str] = {
    errno.ENOSPC: DISK_FULL, errno.EDQUOT: DISK_FULL, errno.EROFS: READ_ONLY, errno.EACCES: PERMISSION_DENIED,
    errno.EPERM: PERMISSION_DENIED, errno.ENOENT: NOT_FOUND, errno.EEXIST: ALREADY_EXISTS,
    errno.EISDIR: IS_A_FOLDER, errno.ENOTDIR: NOT_A_FOLDER, errno.EIO: IO_ERROR, errno.EMFILE: TOO_MANY_FILES,
    errno.ENFILE: TOO_MANY_FILES, errno.EBUSY: BUSY, errno.ETIMEDOUT: TIMED_OUT,
    errno.ECONNREFUSED: CONNECTION_REFUSED, errno.ECONNRESET: CONNECTION_LOST, errno.EPIPE: CONNECTION_LOST,
    errno.ECONNABORTED: CONNECTION_LOST, errno.EHOSTUNREACH: HOST_UNREACHABLE, errno.ENETUNREACH: HOST_UNREACHABLE,
    errno.ENOMEM: OUT_OF_MEMORY,
}

# (pattern over the lower-cased text, reason), most specific first. The phrases are those of sqlite,
# psycopg/libpq, redis, urllib/ssl, zlib, pikepdf/qpdf, Pillow and the OS (strerror) in English.
_PATTERNS: list[tuple[re.Pattern[str], str]] = [(re.compile(p), r) for p, r in [
    (r"database( table)? is locked|database is busy|could not obtain lock|lock timeout|deadlock detected",
     DATABASE_LOCKED),
    (r"database or disk is full|no space left|disk quota", DISK_FULL),
    (r"readonly database|read-only file system|read only", READ_ONLY),
    (r"file is not a database|database disk image is malformed|file is encrypted or is not a database",
     DATABASE_DAMAGED),
    (r"unable to open database file", DATABASE_UNOPENABLE),
    (r"database \"?[^\"]*\"? does not exist", DATABASE_MISSING),
    (r"password authentication failed|authentication failed|no password supplied|invalid password|noauth|"
     r"wrongpass", LOGIN_REFUSED),
    (r"connection refused", CONNECTION_REFUSED),
    (r"could not translate host name|name or service not known|temporary failure in name resolution|"
     r"nodename nor servname|getaddrinfo failed|no address associated", HOST_UNKNOWN),
    (r"no route to host|network is unreachable|host is unreachable", HOST_UNREACHABLE),
    (r"certificate verify failed|\bssl\b|\btls\b|sslerror|ssl:", TLS_FAILED),
    (r"server closed the connection|connection (was )?(lost|reset|closed|aborted)|broken pipe|"
     r"terminating connection|connection to server .* failed", CONNECTION_LOST),
    (r"timed? ?out|timeout", TIMED_OUT),
    (r"http error [45]\d\d|status (code )?[45]\d\d|internal server error|bad gateway|service unavailable",
     SERVER_ERROR),
    (r"decompress|zlib|inflate|deflate|flate ?decode|incorrect header check|invalid (code|block|distance)",
     COMPRESSED_DATA),
    (r"truncated|unexpected end|premature end|end of file|\beof\b|ends too early|not enough (image )?data", TRUNCATED),
    (r"cannot identify image|broken data stream|image file is|decoder|not a tiff|bad (jpeg|png|tiff)|"
     r"unknown (raw|image) mode|corrupt(ed)? (jpeg|png|image)", IMAGE_DATA),
    (r"permission denied|operation not permitted", PERMISSION_DENIED),
    (r"no such file or directory", NOT_FOUND),
    (r"xref|trailer|\bpdf|parse error|syntax error|while reading object|expected \d+ \d+ obj|object \d+ \d+",
     PDF_STRUCTURE),
    (r"not found|does not exist", NOT_FOUND),
    (r"out of memory|cannot allocate|memoryerror", OUT_OF_MEMORY),
]]


def classify(text: str, *, errno_value: int | None = None) -> str:
    """The reason (an ``N_`` msgid) a library's English text means; ``UNKNOWN`` when nothing fits."""
    if errno_value is not None and errno_value in _ERRNO:
        return _ERRNO[errno_value]
    lowered = text.lower()
    for pattern, reason in _PATTERNS:
        if pattern.search(lowered):
            return reason
    return UNKNOWN


@dataclass(frozen=True)
class Foreign:
    """A library's English detail: verbatim in English, its classified reason in any other language."""

    text: str
    reason: str = UNKNOWN

    def render(self, lang: Lang) -> str:
        if lang == "en":
            return self.text or translate(self.reason, "en")
        return translate(self.reason, lang)

    def __str__(self) -> str:
        return self.render("en")


def _exception_text(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror if not exc.filename else f"{exc.strerror}: {exc.filename}"
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def foreign(source: BaseException | str | None, *, reason: str | None = None) -> Foreign:
    """``source`` (an exception or its text) as a ``Foreign`` detail, classified unless ``reason`` is given."""
    if isinstance(source, BaseException):
        text = _exception_text(source)
        code = source.errno if isinstance(source, OSError) else None
        return Foreign(text, reason or classify(f"{type(source).__name__}: {text}", errno_value=code))
    text = (source or "").strip()
    return Foreign(text, reason or classify(text))


# --- pydantic validation errors (settings files, web requests) --------------------------------------

MISSING_VALUE = N_("a value is required")
UNKNOWN_KEY = N_("unknown setting or field")
WRONG_TYPE = N_("the value has the wrong type")
NOT_ALLOWED = N_("the value is not one of the allowed ones")
OUT_OF_RANGE = N_("the value is out of range")
BAD_LENGTH = N_("the value is too long or too short")
BAD_FORMAT = N_("the value does not have the expected format")
INVALID_VALUE = N_("the value is not valid")

_VALIDATION: list[tuple[re.Pattern[str], str]] = [(re.compile(p), r) for p, r in [
    (r"^missing", MISSING_VALUE), (r"^extra_forbidden$", UNKNOWN_KEY),
    (r"^(literal_error|enum)$", NOT_ALLOWED),
    (r"^(greater_than|less_than|multiple_of)", OUT_OF_RANGE), (r"_too_(long|short)$", BAD_LENGTH),
    (r"^string_pattern_mismatch$|^url_|^uuid_|^(date|time|datetime)_", BAD_FORMAT),
    (r"_(type|parsing)$|^(is_instance_of|dict_type|list_type|model_type)", WRONG_TYPE),
]]


def validation_problems(errors: Iterable[Mapping[str, Any]]) -> Joined:
    """pydantic's ``errors()`` as one detail: ``key.path: reason`` each, pydantic's English kept for English."""
    items: list[Message] = []
    for err in errors:
        where = ".".join(str(part) for part in err.get("loc", ())) or "-"
        kind = str(err.get("type", ""))
        reason = next((r for pattern, r in _VALIDATION if pattern.search(kind)), INVALID_VALUE)
        items.append(Message("{where}: {reason}", {"where": where,
                                                    "reason": Foreign(str(err.get("msg", "")), reason)}))
    return Joined(tuple(items), "; ")
