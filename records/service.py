"""``Records``: the one object the pipeline, verify and the CLI use to reach dossiers and documents.

Why the attach order (hash → read check → store → write transaction): the file is durable in the
store before any row names it, so a crash leaves at worst an orphan file (``store check``) and never a
row without its file; the read check before storing refuses an unknown dossier or returns an
already-attached document without touching the disk, and fails fast when the database is down.
The write transaction re-checks everything, because another process may have won the race since.
"""

from __future__ import annotations

import getpass
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from sohoa.common.folding import search_key
from sohoa.common.messages import _
from sohoa.config.records import RecordsSettings
from sohoa.database.engine import describe, ensure_schema, make_engine, translate_errors, upgrade, writer
from sohoa.records import audit, dossiers, search
from sohoa.records.codes import parse_code
from sohoa.records.errors import (
    AlreadySuperseded,
    DocumentNotFound,
    DossierExists,
    DossierNotFound,
    DossierRefused,
    InputReadError,
    InvalidRecordInput,
)
from sohoa.records.models import Document, DocumentPage, Dossier, utcnow
from sohoa.records.store import Store, StoreReport, sha256_file
from sohoa.records.types import (
    KINDS,
    AttachMeta,
    AttachResult,
    DocumentInfo,
    DossierInfo,
    NewDossier,
    SearchHit,
    SearchResult,
    result_fields,
    source_identity,
)

log = logging.getLogger("sohoa.records")
ATTACH_ATTEMPTS = 4  # a lost race on PostgreSQL unique constraints is retried with fresh reads


class Records:
    """Open with ``Records.open(settings.records, settings.data_dir)``; close (or use ``with``)."""

    def __init__(self, settings: RecordsSettings, data_dir: Path) -> None:
        self.settings = settings
        self.url = settings.url(data_dir)
        self.where = describe(self.url)
        self.engine = make_engine(self.url, settings)
        self.store = Store(settings.store_dir(data_dir))
        self.tz = ZoneInfo(settings.timezone)

    @classmethod
    def open(cls, settings: RecordsSettings, data_dir: Path) -> Records:
        records = cls(settings, data_dir)
        try:
            ensure_schema(records.engine, records.where, auto_upgrade=settings.auto_upgrade)
        except BaseException:
            records.close()
            raise
        return records

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Records:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def upgrade(self) -> tuple[str | None, str]:
        return upgrade(self.engine, self.where)

    @contextmanager
    def _session(self, *, write: bool) -> Iterator[Session]:
        with translate_errors(self.where):
            engine = writer(self.engine) if write else self.engine
            with Session(engine, expire_on_commit=False) as session, session.begin():
                yield session

    # --- dossiers ----------------------------------------------------------------------------

    def create_dossier(self, new: NewDossier, *, actor: str | None = None) -> DossierInfo:
        with self._session(write=True) as s:
            row = dossiers.create(s, new, self.settings, today=dossiers.local_today(self.tz),
                                  actor=actor or _default_actor())
            return dossiers.info(row)

    def get_dossier(self, code: str) -> DossierInfo:
        parsed = parse_code(code, self.settings)
        with self._session(write=False) as s:
            row = dossiers.by_code(s, parsed.code)
            if row is None:
                raise DossierNotFound(dossier=parsed.code)
            return dossiers.info(row)

    def list_dossiers(self, *, prefix: str | None = None, unit: str | None = None, status: str | None = None,
                      date_from: date | None = None, date_to: date | None = None, limit: int = 50,
                      offset: int = 0) -> list[DossierInfo]:
        with self._session(write=False) as s:
            rows = dossiers.listing(s, prefix=prefix, unit=unit, status=status, date_from=date_from,
                                    date_to=date_to, limit=limit, offset=offset)
            return [dossiers.info(r) for r in rows]

    # --- documents ---------------------------------------------------------------------------

    def documents(self, code: str) -> list[DocumentInfo]:
        """Documents of a dossier in attach order."""
        parsed = parse_code(code, self.settings)
        with self._session(write=False) as s:
            if dossiers.by_code(s, parsed.code) is None:
                raise DossierNotFound(dossier=parsed.code)
            return self._query_docs(s, Dossier.code == parsed.code)

    def find_by_sha256(self, sha256: str) -> DocumentInfo | None:
        """The first document with these bytes (verify's "is this one of ours?"), or None."""
        with self._session(write=False) as s:
            found = self._query_docs(s, Document.sha256 == sha256.strip().lower(), limit=1)
            return found[0] if found else None

    def page_texts(self, document: DocumentInfo) -> list[str]:
        """OCR text of each page of a document, in page order."""
        with self._session(write=False) as s:
            stmt = (select(DocumentPage.text).where(DocumentPage.document_id == document.id)
                    .order_by(DocumentPage.page_no))
            return list(s.execute(stmt).scalars())

    def attach(self, pdf_path: Path, *, dossier_code: str, kind: str, meta: AttachMeta | None = None,
               sha256: str | None = None, audit_events: Sequence[audit.AuditEvent] = ()) -> AttachResult:
        """File a finished PDF under a dossier; idempotent for the same bytes in the same dossier.

        ``sha256``: the hash of the bytes the caller itself wrote to ``pdf_path`` (the document job
        knows it from signing), which spares reading and hashing the file once more; the store still
        hashes what it copies and refuses bytes that do not match it.
        ``audit_events``: events that happened to this file before it was filed (its signatures), appended to
        the chain in the same transaction as the document (one commit, one WAL fsync, instead of one
        more per event); when the document was filed already they are appended on their own, and when
        attach fails they are still recorded on their own (the signatures were made) before it raises.
        """
        try:
            return self._attach(pdf_path, dossier_code=dossier_code, kind=kind, meta=meta, sha256=sha256,
                                events=tuple(audit_events))
        except BaseException:
            self._append_alone(audit_events, quiet=True)
            raise

    def _append_alone(self, events: Sequence[audit.AuditEvent], *, quiet: bool = False) -> None:
        """Append ``events`` in a transaction of their own; ``quiet``: a failure is logged (an error is
        already on its way), not raised."""
        if not events:
            return
        try:
            with self._session(write=True) as s:
                for event in events:
                    audit.append(s, event)
        except Exception:
            if not quiet:
                raise
            log.warning("%d audit event(s) of a failed attach could not be recorded", len(events), exc_info=True)

    def _attach(self, pdf_path: Path, *, dossier_code: str, kind: str, meta: AttachMeta | None,
                sha256: str | None, events: tuple[audit.AuditEvent, ...]) -> AttachResult:
        meta = meta or AttachMeta()
        parsed = parse_code(dossier_code, self.settings)
        _check_meta(pdf_path, kind, meta)
        if not pdf_path.is_file():
            raise InputReadError(path=pdf_path, detail=_("not a file"))
        sha, size = (sha256.lower(), pdf_path.stat().st_size) if sha256 else sha256_file(pdf_path)
        if size == 0:
            raise InvalidRecordInput(path=pdf_path, detail=_("empty file"))
        sources = source_identity(meta.source_files)
        identity = None if meta.supersedes else sources  # a new version of a document may share its scans
        elsewhere: list[DocumentInfo] = []
        with self._session(write=False) as s:
            existing = self._query_docs(s, (Dossier.code == parsed.code) & (Document.sha256 == sha), limit=1)
            if not existing and identity:  # a re-scan processed again: new PDF bytes, the same scans
                existing = self._query_docs(s, (Dossier.code == parsed.code)
                                            & (Document.source_identity == identity), limit=1)
            if not existing:
                elsewhere = self._query_docs(s, Document.source_identity == identity, limit=1) if identity else []
                if elsewhere:
                    meta = _flag_same_source(meta, elsewhere[0])
                if self.settings.unknown_dossier == "refuse" and dossiers.by_code(s, parsed.code) is None:
                    raise DossierRefused(path=pdf_path, dossier=parsed.code)
        if existing:
            self._append_alone(events)
            return AttachResult(document=existing[0], created=False, dossier_created=False)
        key = self.store.put(pdf_path, sha, size)
        last_error: IntegrityError | DossierExists | None = None
        for _attempt in range(ATTACH_ATTEMPTS):
            try:
                with self._session(write=True) as s:
                    for event in events:  # rolled back with the document if this transaction fails
                        audit.append(s, event)
                    result = self._attach_tx(s, pdf_path, parsed, kind, meta, sha, size, key, sources)
                return replace(result, same_source_elsewhere=elsewhere[0]) if elsewhere and result.created else result
            # Another process won a race (a unique key, or the new dossier committed between our read
            # and our insert: READ COMMITTED on PostgreSQL); re-read and decide again.
            except (IntegrityError, DossierExists) as exc:
                last_error = exc
                with self._session(write=False) as s:
                    existing = self._query_docs(s, (Dossier.code == parsed.code) & (Document.sha256 == sha), limit=1)
                if existing:
                    self._append_alone(events)
                    return AttachResult(document=existing[0], created=False, dossier_created=False)
                with self._session(write=False) as s:
                    if meta.supersedes and self._is_superseded(s, parsed.code, meta.supersedes):
                        raise AlreadySuperseded(path=pdf_path, what=meta.supersedes) from None
        assert last_error is not None
        raise last_error

    def _attach_tx(self, s: Session, pdf_path: Path, parsed: Any, kind: str, meta: AttachMeta, sha: str,
                   size: int, key: str, sources: str | None) -> AttachResult:
        actor = meta.actor or meta.digitized_by or _default_actor()
        dossier = dossiers.by_code(s, parsed.code)
        created_dossier = False
        if dossier is None:
            if self.settings.unknown_dossier == "refuse":
                raise DossierRefused(path=pdf_path, dossier=parsed.code)
            dossier = dossiers.create(s, meta.new_dossier or NewDossier(), self.settings,
                                      today=dossiers.local_today(self.tz), actor=actor, parsed=parsed)
            created_dossier = True
        else:
            same = Document.sha256 == sha
            if sources and not meta.supersedes:
                same = same | (Document.source_identity == sources)
            found = self._query_docs(s, (Document.dossier_id == dossier.id) & same, limit=1)
            if found:
                return AttachResult(document=found[0], created=False, dossier_created=False)
        version, supersedes_id = 1, None
        if meta.supersedes:
            old = s.execute(select(Document).where(Document.dossier_id == dossier.id,
                                                   Document.sha256 == meta.supersedes.lower())).scalar_one_or_none()
            if old is None:
                raise DocumentNotFound(what=f"{meta.supersedes} in {parsed.code}")
            if self._is_superseded(s, parsed.code, old.sha256):
                raise AlreadySuperseded(path=pdf_path, what=old.sha256)
            version, supersedes_id = old.version + 1, old.id
        seq = dossiers.next_document_seq(s, dossier.id)
        texts = [t.replace("\x00", "") for t in meta.page_texts]
        confidences = list(meta.page_confidences)
        known = [c for c in confidences if c is not None]
        doc = Document(
            dossier_id=dossier.id, seq=seq, kind=kind, title=meta.title, doc_number=meta.doc_number,
            issue_date=meta.issue_date, issuing_agency=meta.issuing_agency, digitized_by=meta.digitized_by,
            digitized_at=meta.digitized_at or utcnow(), sha256=sha, size=size,
            page_count=meta.page_count if meta.page_count is not None else len(texts), storage_key=key,
            source_files=[{"name": f.name, "sha256": f.sha256, "size": f.size} for f in meta.source_files],
            source_identity=sources,
            mean_confidence=(sum(known) / len(known)) if known else None,
            low_confidence_pages=sorted(set(meta.low_confidence_pages)),
            signatures=[{"profile": g.profile, "signer": g.signer, "time": g.time.isoformat(), "level": g.level}
                        for g in meta.signatures],
            extra=dict(meta.extra), version=version, supersedes_id=supersedes_id, created_at=utcnow(),
            received_date=dossier.received_date, number_key=search_key(meta.doc_number),
            agency_key=search_key(meta.issuing_agency), doc_type=search_key(result_fields(meta.extra).get("doc_type")),
        )
        s.add(doc)
        s.flush()
        pages = [DocumentPage(document_id=doc.id, page_no=i + 1, text=t,
                              confidence=confidences[i] if i < len(confidences) else None)
                 for i, t in enumerate(texts)]
        s.add_all(pages)
        s.flush()
        search.index_document(s, doc.id, texts, dossier.received_date)
        audit.append(s, audit.AuditEvent(
            action="attach", actor=actor, dossier_code=parsed.code, document_sha256=sha,
            details={"kind": kind, "seq": seq, "size": size, "pages": doc.page_count, "version": version,
                     "sources": [f.sha256 for f in meta.source_files]},
        ))
        if meta.supersedes:
            audit.append(s, audit.AuditEvent(action="supersede", actor=actor, dossier_code=parsed.code,
                                             document_sha256=sha, details={"supersedes": meta.supersedes.lower()}))
        s.flush()
        info = self._query_docs(s, Document.id == doc.id, limit=1)[0]
        return AttachResult(document=info, created=True, dossier_created=created_dossier)

    def _is_superseded(self, s: Session, code: str, sha: str) -> bool:
        old = aliased(Document)
        stmt = (select(Document.id).join(old, Document.supersedes_id == old.id)
                .join(Dossier, old.dossier_id == Dossier.id).where(Dossier.code == code, old.sha256 == sha.lower()))
        return s.execute(stmt).first() is not None

    def _query_docs(self, s: Session, where: Any, *, limit: int | None = None) -> list[DocumentInfo]:
        prev = aliased(Document)
        stmt = (select(Document, Dossier.code, prev.sha256).join(Dossier, Document.dossier_id == Dossier.id)
                .outerjoin(prev, Document.supersedes_id == prev.id).where(where).order_by(Document.id))
        if limit:
            stmt = stmt.limit(limit)
        return [self._doc_info(d, code, prev_sha) for d, code, prev_sha in s.execute(stmt)]

    def _doc_info(self, d: Document, code: str, prev_sha: str | None) -> DocumentInfo:
        return DocumentInfo(
            id=d.id, dossier_code=code, seq=d.seq, kind=d.kind, title=d.title, doc_number=d.doc_number,
            issue_date=d.issue_date, issuing_agency=d.issuing_agency, digitized_by=d.digitized_by,
            digitized_at=d.digitized_at, sha256=d.sha256, size=d.size, page_count=d.page_count,
            storage_key=d.storage_key, path=self.store.path(d.storage_key), source_files=list(d.source_files),
            source_identity=d.source_identity,
            mean_confidence=d.mean_confidence, low_confidence_pages=list(d.low_confidence_pages),
            signatures=list(d.signatures), extra=dict(d.extra), version=d.version, supersedes_sha256=prev_sha,
            created_at=d.created_at,
        )

    # --- search, audit, store ----------------------------------------------------------------

    def search(self, query: str, *, code_prefix: str | None = None, unit: str | None = None,
               kind: str | None = None, date_from: date | None = None, date_to: date | None = None,
               limit: int | None = None, include_superseded: bool = False, **data: Any) -> list[SearchHit]:
        """Ranked, diacritic-insensitive full-text search; one hit per document (its best page)."""
        return self.search_result(query, code_prefix=code_prefix, unit=unit, kind=kind, date_from=date_from,
                                  date_to=date_to, limit=limit, include_superseded=include_superseded, **data).hits

    def search_result(self, query: str, *, code_prefix: str | None = None, unit: str | None = None,
                      kind: str | None = None, date_from: date | None = None, date_to: date | None = None,
                      limit: int | None = None, include_superseded: bool = False, **data: Any) -> SearchResult:
        """``search`` plus how many documents match (exact up to ``search.COUNT_CAP``).

        The newest matches are ranked (``records.search``); superseded documents are left out unless
        ``include_superseded``. An empty query with a filter (a code prefix, dates) lists that filter's
        documents, newest first. ``data``: a result's data filters of ``search.Filters`` (``number``,
        ``number_prefix``, ``agency``, ``doc_type``, ``issued_from``, ``issued_to``; without marks or case).
        """
        filters = search.Filters(code_prefix=code_prefix, unit=unit, kind=kind, date_from=date_from, date_to=date_to,
                                 include_superseded=include_superseded, **data)
        with self._session(write=False) as s:
            return search.search(s, query, filters, limit=limit or self.settings.search_limit,
                                 snippet_chars=self.settings.snippet_chars)

    def record_audit(self, event: audit.AuditEvent) -> None:
        """Append an event (sign, verify, export…) to the chain in its own transaction."""
        with self._session(write=True) as s:
            audit.append(s, event)

    def verify_audit(self) -> audit.AuditReport:
        with self._session(write=False) as s:
            return audit.verify(s)

    def check_store(self, *, rehash: bool = False, remove_orphans: bool = False,
                    actor: str | None = None) -> StoreReport:
        """Compare the store folder with the document rows (orphans, missing, corrupt, stale temps)."""
        with self._session(write=False) as s:
            known = {k: sha for k, sha in s.execute(select(Document.storage_key, Document.sha256))}
        report = self.store.check(known, rehash=rehash, remove_orphans=False,
                                  stale_after_s=self.settings.stale_temp_minutes * 60)
        if remove_orphans and (report.orphans or report.stale_temps):
            # re-read under the write lock so a file attached since the scan is not removed
            with self._session(write=True) as s:
                known = {k: sha for k, sha in s.execute(select(Document.storage_key, Document.sha256))}
                report = self.store.check(known, rehash=rehash, remove_orphans=True,
                                          stale_after_s=self.settings.stale_temp_minutes * 60)
                if report.removed:
                    audit.append(s, audit.AuditEvent(action="store_remove", actor=actor or _default_actor(),
                                                     details={"removed": report.removed}))
        return report


def _flag_same_source(meta: AttachMeta, other: DocumentInfo) -> AttachMeta:
    """The same scans were filed in another dossier: file them here too, but ask a person to look."""
    review = {"reason": "same_source_in_other_dossier", "dossier": other.dossier_code, "document_id": other.id,
              "document_seq": other.seq}
    return replace(meta, extra={**meta.extra, "needs_review": review})


def _check_meta(pdf_path: Path, kind: str, meta: AttachMeta) -> None:
    if kind not in KINDS:
        raise InvalidRecordInput(path=pdf_path,
                                 detail=_("kind must be one of {kinds}, not {kind!r}", kinds=", ".join(KINDS),
                                          kind=kind))
    if meta.page_count is not None and meta.page_texts and len(meta.page_texts) != meta.page_count:
        raise InvalidRecordInput(path=pdf_path, detail=_("{texts} page texts for {pages} pages",
                                                         texts=len(meta.page_texts), pages=meta.page_count))
    if len(meta.page_confidences) > max(len(meta.page_texts), meta.page_count or 0):
        raise InvalidRecordInput(path=pdf_path, detail=_("more page confidences than pages"))
    if meta.digitized_at is not None and meta.digitized_at.tzinfo is None:
        raise InvalidRecordInput(path=pdf_path, detail=_("digitized_at must carry a time zone"))


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "sohoa"

