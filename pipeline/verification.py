"""Verification with the records match: which dossier/document a returned PDF is.

Why here: the pipeline layer is the one allowed to know both ``sohoa.signing.verify`` and
``sohoa.records``; it adapts ``Records`` to the ``IssuedDocumentLookup`` seam when the records
database exists. The CLI's ``sohoa verify`` and the web service's verify page both use it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sohoa.common.errors import RecordsError
from sohoa.config import Settings
from sohoa.signing.verify import IssuedDocument, IssuedDocumentLookup

log = logging.getLogger(__name__)


class RecordsLookup:
    """Adapts ``records.service.Records`` to ``signing.verify.IssuedDocumentLookup``."""

    def __init__(self, records: object) -> None:
        self.records = records

    def find_by_sha256(self, sha256: str) -> IssuedDocument | None:
        found = self.records.find_by_sha256(sha256)  # type: ignore[attr-defined]
        if found is None:
            return None
        return IssuedDocument(dossier_code=found.dossier_code, document_id=found.id, title=found.title,
                              kind=found.kind, issued_at=found.created_at)


@contextmanager
def records_lookup(settings: Settings) -> Iterator[IssuedDocumentLookup | None]:
    """The records seam when a database is configured or the embedded SQLite file exists, else None."""
    from sohoa.records.service import Records

    if not settings.records.database_url and not (settings.data_dir / "sohoa.db").exists():
        yield None
        return
    try:
        records = Records.open(settings.records, settings.data_dir)
    except RecordsError as err:
        log.warning("records not available, verifying without the match: %s", err)
        yield None
        return
    try:
        yield RecordsLookup(records)
    finally:
        records.close()
