"""Dossier rows: create (given or next free code), daily sequence numbers, lookups, listing.

Why the sequence table: the ``NNNN`` of ``<unit>-YYMMDD-NNNN`` is a per-unit daily counter. It is
advanced with one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (row-locked until commit on
PostgreSQL; SQLite writers hold the database lock), so two counters creating dossiers at once never
get the same number. Codes given from outside (a QR receipt) push the counter past them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, bindparam, select, text, update
from sqlalchemy.orm import Session

from sohoa.common.messages import _
from sohoa.config.records import RecordsSettings
from sohoa.records import audit
from sohoa.records.codes import ParsedCode, make_code, parse_code
from sohoa.records.errors import DossierExists, InvalidRecordInput
from sohoa.records.models import Dossier, utcnow
from sohoa.records.types import DossierInfo, NewDossier


def info(row: Dossier) -> DossierInfo:
    return DossierInfo(
        code=row.code, unit_code=row.unit_code, received_date=row.received_date,
        procedure_code=row.procedure_code, applicant_name=row.applicant_name, applicant_id=row.applicant_id,
        receiving_unit=row.receiving_unit, due_date=row.due_date, status=row.status,
        document_count=row.doc_count, created_at=row.created_at, updated_at=row.updated_at,
    )


def by_code(session: Session, code: str) -> Dossier | None:
    return session.execute(select(Dossier).where(Dossier.code == code)).scalar_one_or_none()


def _bump_sequence(session: Session, unit: str, day: date, at_least: int | None) -> int:
    """Advance the (unit, day) counter by one, or to ``at_least`` if that is higher; return it."""
    greatest = "GREATEST" if session.get_bind().dialect.name == "postgresql" else "MAX"
    if at_least is None:
        sql = ("INSERT INTO dossier_sequences (unit_code, day, last) VALUES (:unit, :day, 1) "
               "ON CONFLICT (unit_code, day) DO UPDATE SET last = dossier_sequences.last + 1 RETURNING last")
    else:
        sql = ("INSERT INTO dossier_sequences (unit_code, day, last) VALUES (:unit, :day, :n) "
               f"ON CONFLICT (unit_code, day) DO UPDATE SET last = {greatest}(dossier_sequences.last, :n) "
               "RETURNING last")
    stmt = text(sql).bindparams(bindparam("day", type_=Date))
    params: dict[str, Any] = {"unit": unit, "day": day}
    if at_least is not None:
        params["n"] = at_least
    return int(session.execute(stmt, params).scalar_one())


def create(session: Session, new: NewDossier, settings: RecordsSettings, *, today: date, actor: str,
           parsed: ParsedCode | None = None) -> Dossier:
    """Insert a dossier in the caller's write transaction, with its ``dossier_create`` audit event."""
    if parsed is None and new.code:
        parsed = parse_code(new.code, settings)
    if parsed is not None:
        if by_code(session, parsed.code) is not None:
            raise DossierExists(dossier=parsed.code)
        _bump_sequence(session, parsed.unit, parsed.received, parsed.seq)
        code, unit, received = parsed.code, parsed.unit, parsed.received
    else:
        unit = (new.unit_code or settings.default_unit_code or "").strip()
        if not unit:
            raise InvalidRecordInput(path="-", detail=_("a unit code is needed to make a dossier code (--unit)"))
        received = new.received_date or today
        while True:
            seq = _bump_sequence(session, unit, received, None)
            code = make_code(unit, received, seq, settings)
            if by_code(session, code) is None:
                break
    now = utcnow()
    row = Dossier(
        code=code, unit_code=unit, received_date=received, procedure_code=new.procedure_code,
        applicant_name=new.applicant_name, applicant_id=new.applicant_id, receiving_unit=new.receiving_unit,
        due_date=new.due_date, status=new.status, doc_count=0, created_at=now, updated_at=now,
    )
    session.add(row)
    session.flush()
    audit.append(session, audit.AuditEvent(
        action="dossier_create", actor=actor, dossier_code=code,
        details={"procedure_code": new.procedure_code, "receiving_unit": new.receiving_unit},
    ))
    return row


def next_document_seq(session: Session, dossier_id: int) -> int:
    """Reserve the next document number in a dossier (row lock on PostgreSQL until commit)."""
    stmt = (
        update(Dossier).where(Dossier.id == dossier_id)
        .values(doc_count=Dossier.doc_count + 1, updated_at=utcnow())
        .returning(Dossier.doc_count)
        .execution_options(synchronize_session=False)
    )
    return int(session.execute(stmt).scalar_one())


def listing(session: Session, *, prefix: str | None, unit: str | None, status: str | None,
            date_from: date | None, date_to: date | None, limit: int, offset: int) -> list[Dossier]:
    stmt = select(Dossier)
    if prefix:
        stmt = stmt.where(Dossier.code.startswith(prefix.strip(), autoescape=True))
    if unit:
        stmt = stmt.where(Dossier.unit_code == unit)
    if status:
        stmt = stmt.where(Dossier.status == status)
    if date_from:
        stmt = stmt.where(Dossier.received_date >= date_from)
    if date_to:
        stmt = stmt.where(Dossier.received_date <= date_to)
    stmt = stmt.order_by(Dossier.received_date.desc(), Dossier.code.desc()).limit(limit).offset(offset)
    return list(session.execute(stmt).scalars())


def local_today(tz: Any) -> date:
    return datetime.now(tz).date()
