"""Duplicates by source: the same scans processed again give new PDF bytes, but are filed once per dossier."""

from __future__ import annotations

from sohoa.records import AttachMeta, Records, SourceFile
from tests.records.conftest import CODE, make_pdf

OTHER = "000.00.31.H50-220906-0002"
SCANS = [SourceFile("scan1.jpg", "11" * 32, 100), SourceFile("scan2.jpg", "22" * 32, 200)]


def test_a_rescan_processed_again_returns_the_filed_document(records: Records, tmp_path) -> None:
    first = records.attach(make_pdf(tmp_path, "run1.pdf", "run one"), dossier_code=CODE, kind="component",
                           meta=AttachMeta(source_files=SCANS))
    again = records.attach(make_pdf(tmp_path, "run2.pdf", "run two"), dossier_code=CODE, kind="component",
                           meta=AttachMeta(source_files=list(reversed(SCANS))))  # order given does not matter
    assert first.created and not again.created and again.already_filed
    assert again.document.id == first.document.id
    assert records.get_dossier(CODE).document_count == 1
    assert records.verify_audit().events == 2, "a duplicate must add no audit event (dossier + one attach)"


def test_the_same_scans_for_another_dossier_are_filed_and_flagged(records: Records, tmp_path) -> None:
    first = records.attach(make_pdf(tmp_path, "a.pdf", "a"), dossier_code=CODE, kind="component",
                           meta=AttachMeta(source_files=SCANS))
    other = records.attach(make_pdf(tmp_path, "b.pdf", "b"), dossier_code=OTHER, kind="component",
                           meta=AttachMeta(source_files=SCANS))
    assert other.created and other.same_source_elsewhere is not None
    assert other.same_source_elsewhere.id == first.document.id
    review = other.document.extra["needs_review"]
    assert review == {"reason": "same_source_in_other_dossier", "dossier": CODE,
                      "document_id": first.document.id, "document_seq": first.document.seq}


def test_different_scans_are_different_documents(records: Records, tmp_path) -> None:
    records.attach(make_pdf(tmp_path, "a.pdf", "a"), dossier_code=CODE, kind="component",
                   meta=AttachMeta(source_files=SCANS[:1]))
    second = records.attach(make_pdf(tmp_path, "b.pdf", "b"), dossier_code=CODE, kind="component",
                            meta=AttachMeta(source_files=SCANS[1:]))
    assert second.created and second.same_source_elsewhere is None
    assert records.get_dossier(CODE).document_count == 2
