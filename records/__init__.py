"""Dossier records, documents, the content-addressed store, search and the audit log.

Public API: ``Records`` (open with ``Records.open(settings.records, settings.data_dir)``) and the typed
values in ``records.types``; errors in ``records.errors``. Never imports stages, signing or watch_folders.
"""

from sohoa.records.audit import AuditEvent, AuditReport
from sohoa.records.service import Records
from sohoa.records.store import StoreReport
from sohoa.records.types import (
    AttachMeta,
    AttachResult,
    DocumentInfo,
    DossierInfo,
    NewDossier,
    SearchHit,
    SearchResult,
    SignatureInfo,
    SourceFile,
)

__all__ = [
    "AttachMeta", "AttachResult", "AuditEvent", "AuditReport", "DocumentInfo", "DossierInfo", "NewDossier",
    "Records", "SearchHit", "SearchResult", "SignatureInfo", "SourceFile", "StoreReport",
]
