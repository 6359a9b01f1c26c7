"""SQLAlchemy 2 models: dossiers, documents (+ OCR text per page), sequences and the audit chain.

Why this shape:
- ``Dossier.doc_count`` is a counter updated with ``UPDATE … RETURNING`` inside the attach transaction:
  it row-locks the dossier on PostgreSQL (and SQLite serialises writers), so two processes attaching
  at once get distinct ``Document.seq`` numbers; the unique constraints are the last line of defence.
- ``DossierSequence`` holds the last daily sequence number per (unit, day) for new dossier codes.
- OCR text is one row per page so a search hit can name the page; the full-text index is one row per
  document, created by the migrations (FTS5 on SQLite, a tsvector column + GIN on PostgreSQL), not
  mapped here (records/search.py, docs/search.md).
- Audit timestamps and details are stored as text: the hash chain covers the exact stored strings,
  so verification does not depend on how a driver round-trips datetimes or JSON.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sohoa.database.base import Base, UTCDateTime, utcnow


class Dossier(Base):
    __tablename__ = "dossiers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    unit_code: Mapped[str] = mapped_column(String(35), index=True)
    received_date: Mapped[date] = mapped_column(Date, index=True)
    procedure_code: Mapped[str | None] = mapped_column(String(64))
    applicant_name: Mapped[str | None] = mapped_column(String(255))
    applicant_id: Mapped[str | None] = mapped_column(String(64), index=True)
    receiving_unit: Mapped[str | None] = mapped_column(String(255))
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(32), default="received")
    doc_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    documents: Mapped[list[Document]] = relationship(back_populates="dossier", order_by="Document.seq")


class DocumentDay(Base):
    """A reception day's lowest and highest document id (migration 0009), kept at attach by
    ``search.index_document``: search turns a date range into an id range from these rows."""

    __tablename__ = "document_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    lo_id: Mapped[int] = mapped_column(Integer)
    hi_id: Mapped[int] = mapped_column(Integer)


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("dossier_id", "seq", name="uq_documents_dossier_seq"),
        UniqueConstraint("dossier_id", "sha256", name="uq_documents_dossier_sha256"),
        UniqueConstraint("supersedes_id", name="uq_documents_supersedes"),
        Index("ix_documents_received_id", "received_date", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    title: Mapped[str | None] = mapped_column(String(500))
    doc_number: Mapped[str | None] = mapped_column(String(100))
    issue_date: Mapped[date | None] = mapped_column(Date)
    issuing_agency: Mapped[str | None] = mapped_column(String(255))
    digitized_by: Mapped[str | None] = mapped_column(String(255))
    digitized_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    page_count: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(255))
    source_files: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # common.hashing content identity of the source files (None: attached without them)
    source_identity: Mapped[str | None] = mapped_column(String(64), index=True)
    mean_confidence: Mapped[float | None] = mapped_column(Float)
    low_confidence_pages: Mapped[list[int]] = mapped_column(JSON, default=list)
    signatures: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    # the dossier's received date, copied at attach: search turns a date range into a document id range
    received_date: Mapped[date | None] = mapped_column(Date)
    # common.folding.search_key of the number, the issuing agency and the document type (migration 0007)
    number_key: Mapped[str | None] = mapped_column(String(100), index=True)
    agency_key: Mapped[str | None] = mapped_column(String(255), index=True)
    doc_type: Mapped[str | None] = mapped_column(String(100), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    dossier: Mapped[Dossier] = relationship(back_populates="documents")
    pages: Mapped[list[DocumentPage]] = relationship(order_by="DocumentPage.page_no")


class DocumentPage(Base):
    __tablename__ = "document_pages"
    __table_args__ = (UniqueConstraint("document_id", "page_no", name="uq_pages_document_page"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    page_no: Mapped[int] = mapped_column(Integer)  # 1-based
    text: Mapped[str] = mapped_column(Text, default="")
    confidence: Mapped[float | None] = mapped_column(Float)


class DossierSequence(Base):
    __tablename__ = "dossier_sequences"

    unit_code: Mapped[str] = mapped_column(String(35), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class AuditEventRow(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    at: Mapped[str] = mapped_column(String(40))  # ISO 8601 UTC, exactly as hashed
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(32), index=True)
    dossier_code: Mapped[str | None] = mapped_column(String(64), index=True)
    document_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    details: Mapped[str] = mapped_column(Text)  # canonical JSON, exactly as hashed
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row: the last sequence number and hash, so a deleted tail of the chain is detectable."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64))
