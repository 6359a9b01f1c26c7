"""Audit of signatures: one event per signature, written through the ``AuditSink`` protocol.

Why a protocol: today the events go to an append-only JSON-lines file; the records package will store
them in its database by implementing the same one-method protocol, without signing knowing about it.
The JSON-lines sink appends one complete line per event under an exclusive ``flock`` and fsyncs, so
several worker processes can share one file and a crash never leaves half a line behind a good one.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class AuditEvent:
    """What happened, with what key, to which bytes. No secrets, by construction."""

    time: str  # ISO 8601 with the configured offset
    profile: str | None  # None for ad-hoc signing
    key_name: str
    key_kind: str  # pkcs12 | pkcs11
    key_source: str  # file path or module/token/label
    cert_subject: str
    cert_serial: str  # hex
    cert_sha256: str
    src: str
    dst: str
    sha256_before: str
    sha256_after: str
    field_name: str
    level_requested: str
    level_reached: str
    appearance: str
    tsa_url: str | None = None
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@runtime_checkable
class AuditSink(Protocol):
    def record(self, event: AuditEvent) -> None:
        """Persist ``event`` durably before returning; raise on failure (signing reports it)."""


class JsonLinesAuditSink:
    """Append-only JSON lines at ``path`` (folders created, file mode 0640)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def record(self, event: AuditEvent) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(event.to_dict(), ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)  # closing releases the lock

    def read(self) -> list[dict[str, Any]]:
        """All events, oldest first (for tests and the records import)."""
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]
