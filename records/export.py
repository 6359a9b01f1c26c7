"""Export a dossier to a folder: its PDFs plus metadata as JSON and CSV.

Why these field names: they follow the digitization metadata the provincial one-stop systems
exchange (dossier code, document name, digitized by/at, kind 0/1, number/symbol, issue date, issuing
agency, document type, subject (trích yếu), signer and title, validity period, OCR text, size,
approval status; the Decree-30 fields extracted from results, the manifest's values winning), so an
export can be imported there with a column mapping rather than a conversion program. Every file is
written temp → fsync → rename, and each PDF is re-hashed on the way out, so an export never ships
silently damaged bytes.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sohoa.common.atomic import copy_atomic, write_bytes_atomic
from sohoa.records.audit import AuditEvent
from sohoa.records.errors import StoreFileCorrupt, StoreFileMissing
from sohoa.records.service import Records
from sohoa.records.types import KIND_CODES, DocumentInfo, fields_to_review, result_fields

CSV_FIELDS = [
    "dossier_code", "seq", "file", "document_name", "kind", "kind_code", "document_number", "issue_date",
    "issuing_agency", "document_type", "subject", "signer", "signer_title", "validity_period", "digitized_by",
    "digitized_at", "size", "page_count",
    "sha256", "version", "supersedes_sha256", "mean_ocr_confidence", "low_confidence_pages", "approval_status",
    "needs_review", "ocr_text",
]


@dataclass
class ExportResult:
    folder: Path
    files: list[Path] = field(default_factory=list)


def _copy_verified(doc: DocumentInfo, target: Path) -> None:
    if not doc.path.is_file():
        raise StoreFileMissing(path=doc.path, what=doc.sha256)

    def check(digest: str) -> None:
        if digest != doc.sha256:
            raise StoreFileCorrupt(path=doc.path, what=doc.sha256)

    with doc.path.open("rb") as src:
        copy_atomic(src, target, verify=check)


def document_record(doc: DocumentInfo, file_name: str, pages: list[str]) -> dict[str, Any]:
    data = result_fields(doc.extra)
    signer = doc.extra.get("signer") or data.get("signer_name") or \
        (doc.signatures[0]["signer"] if doc.signatures else None)
    review = fields_to_review(doc.extra)
    return {
        "dossier_code": doc.dossier_code, "seq": doc.seq, "file": file_name, "document_name": doc.title,
        "kind": doc.kind, "kind_code": KIND_CODES.get(doc.kind), "document_number": doc.doc_number,
        "issue_date": doc.issue_date.isoformat() if doc.issue_date else None,
        "issuing_agency": doc.issuing_agency, "document_type": data.get("doc_type"),
        "subject": data.get("subject"), "signer": signer, "signer_title": data.get("signer_title"),
        "validity_period": doc.extra.get("validity_period") or data.get("valid_until"),
        "digitized_by": doc.digitized_by, "digitized_at": doc.digitized_at.isoformat(), "size": doc.size,
        "page_count": doc.page_count, "sha256": doc.sha256, "version": doc.version,
        "supersedes_sha256": doc.supersedes_sha256, "mean_ocr_confidence": doc.mean_confidence,
        "low_confidence_pages": doc.low_confidence_pages, "approval_status": doc.extra.get("approval_status"),
        "needs_review": " ".join(review), "metadata": doc.extra.get("metadata"),
        "signatures": doc.signatures, "source_files": doc.source_files, "ocr_pages": pages,
    }


def export_dossier(records: Records, code: str, to: Path, *, actor: str) -> ExportResult:
    """Write ``<seq>-<kind>-<sha12>.pdf`` files, ``<code>.json`` and ``<code>.csv`` into ``to``."""
    dossier = records.get_dossier(code)
    docs = records.documents(dossier.code)
    to.mkdir(parents=True, exist_ok=True)
    result = ExportResult(folder=to)
    items: list[dict[str, Any]] = []
    for doc in docs:
        name = f"{doc.seq:03d}-{doc.kind}-{doc.sha256[:12]}.pdf"
        _copy_verified(doc, to / name)
        result.files.append(to / name)
        items.append(document_record(doc, name, records.page_texts(doc)))
    payload = {"dossier": dossier.to_dict(), "documents": items}
    json_path = to / f"{dossier.code}.json"
    write_bytes_atomic(json_path, json.dumps(payload, ensure_ascii=False, indent=2).encode("utf-8"))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for item in items:
        row = dict(item)
        row["ocr_text"] = "\n\n".join(item["ocr_pages"])
        row["low_confidence_pages"] = " ".join(str(p) for p in item["low_confidence_pages"])
        writer.writerow(row)
    csv_path = to / f"{dossier.code}.csv"
    write_bytes_atomic(csv_path, buffer.getvalue().encode("utf-8-sig"))  # BOM: spreadsheet apps read UTF-8
    result.files += [json_path, csv_path]
    records.record_audit(AuditEvent(action="export", actor=actor, dossier_code=dossier.code,
                                    details={"to": str(to), "documents": [d.sha256 for d in docs]}))
    return result
