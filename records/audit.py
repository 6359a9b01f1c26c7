"""Append-only, hash-chained audit log: who did what to which dossier/document, when.

Why a chain: each event's hash covers its own fields and the previous event's hash, and the single
``audit_head`` row holds the last sequence number and hash. Editing an event breaks its hash, removing
one breaks the next event's link (and the contiguous sequence), truncating the tail disagrees with
the head. Appends lock the head row (``SELECT … FOR UPDATE`` on PostgreSQL, the write lock on SQLite),
so concurrent writers extend the chain one at a time and inside the same transaction as the change
they describe. This detects tampering by someone who edits rows; it cannot stop someone who rewrites
the whole chain and head — publish the head hash (``sohoa audit verify`` prints it) to anchor it.
Callers must never put secrets in ``details``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sohoa.records.models import AuditEventRow, AuditHead

GENESIS = "0" * 64
ACTIONS = frozenset(
    {"attach", "sign", "supersede", "export", "delete", "dossier_create", "dossier_update", "verify", "store_remove",
     "correct_field"}
)


@dataclass(frozen=True)
class AuditEvent:
    action: str
    actor: str
    dossier_code: str | None = None
    document_sha256: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    at: datetime | None = None


@dataclass
class AuditReport:
    events: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def canonical_json(details: Mapping[str, Any]) -> str:
    return json.dumps(details, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def event_hash(prev: str, seq: int, at: str, actor: str, action: str, dossier: str | None,
               sha256: str | None, details: str) -> str:
    fields = [prev, str(seq), at, actor, action, dossier or "", sha256 or "", details]
    return hashlib.sha256("\x1f".join(fields).encode("utf-8")).hexdigest()


def append(session: Session, event: AuditEvent) -> AuditEventRow:
    """Add ``event`` to the chain inside the caller's (write) transaction."""
    if event.action not in ACTIONS:
        raise ValueError(f"unknown audit action {event.action!r}")
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()
    at = (event.at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds")
    details = canonical_json(event.details)
    seq = head.seq + 1
    digest = event_hash(head.hash, seq, at, event.actor, event.action, event.dossier_code,
                        event.document_sha256, details)
    row = AuditEventRow(seq=seq, at=at, actor=event.actor, action=event.action, dossier_code=event.dossier_code,
                        document_sha256=event.document_sha256, details=details, prev_hash=head.hash, hash=digest)
    session.add(row)
    head.seq, head.hash = seq, digest
    return row


def verify(session: Session, *, max_problems: int = 50) -> AuditReport:
    """Walk the chain in order and report every broken link, gap or edited event."""
    report = AuditReport()
    head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one()
    report.head_seq, report.head_hash = head.seq, head.hash
    expected_seq, running = 1, GENESIS
    rows = session.execute(select(AuditEventRow).order_by(AuditEventRow.seq).execution_options(yield_per=2000))
    for row in rows.scalars():
        report.events += 1
        if row.seq != expected_seq:
            report.problems.append(f"event #{expected_seq}..#{row.seq - 1} missing (sequence gap)")
        if row.prev_hash != running:
            report.problems.append(f"event #{row.seq}: does not link to the previous event")
        recomputed = event_hash(row.prev_hash, row.seq, row.at, row.actor, row.action, row.dossier_code,
                                row.document_sha256, row.details)
        if recomputed != row.hash:
            report.problems.append(f"event #{row.seq} ({row.action}): content edited (hash mismatch)")
        running, expected_seq = row.hash, row.seq + 1
        if len(report.problems) >= max_problems:
            return report
    if head.seq != expected_seq - 1 or head.hash != running:
        report.problems.append(
            f"the chain ends at event #{expected_seq - 1} but the head records #{head.seq}: events removed"
        )
    return report
