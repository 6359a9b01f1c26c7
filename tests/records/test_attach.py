"""Attach: dossier creation policy, idempotence, versions, metadata round trip (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

import pytest

from sohoa.config.records import RecordsSettings
from sohoa.records import AttachMeta, NewDossier, Records, SignatureInfo, SourceFile
from sohoa.records.errors import (
    AlreadySuperseded,
    DossierExists,
    DossierNotFound,
    DossierRefused,
    InvalidDossierCode,
    InvalidRecordInput,
)
from tests.records.conftest import CODE, make_pdf


def test_attach_creates_dossier_and_stores_file_by_hash(records: Records, tmp_path) -> None:
    pdf = make_pdf(tmp_path, "a.pdf", "giấy khai sinh")
    meta = AttachMeta(
        title="Giấy khai sinh", doc_number="12/GKS", issue_date=date(2020, 5, 1), issuing_agency="UBND xã",
        digitized_by="Trần Thị Hồng Nhung", digitized_at=datetime(2024, 6, 1, 8, 0, tzinfo=UTC),
        page_texts=["Trang một", "Trang hai"], page_confidences=[91.5, 40.0], low_confidence_pages=[2],
        source_files=[SourceFile("scan1.tif", "ab" * 32, 1234)],
        signatures=[SignatureInfo("personal", "Trần Thị Hồng Nhung", datetime(2024, 6, 1, 8, 1, tzinfo=UTC), "B-T")],
        extra={"approval_status": "approved"},
        new_dossier=NewDossier(procedure_code="1.001234", applicant_name="Nguyễn Văn Hưởng"),
    )
    res = records.attach(pdf, dossier_code=CODE, kind="component", meta=meta)
    doc = res.document
    assert res.created and res.dossier_created
    assert doc.path.read_bytes() == pdf.read_bytes(), "stored bytes differ from the source"
    assert doc.path.name == f"{doc.sha256}.pdf" and doc.storage_key.startswith(f"{doc.sha256[:2]}/{doc.sha256[2:4]}/")
    assert (doc.seq, doc.version, doc.page_count, doc.mean_confidence) == (1, 1, 2, pytest.approx(65.75))
    assert doc.low_confidence_pages == [2] and doc.source_files[0]["name"] == "scan1.tif"
    assert doc.source_identity == hashlib.sha256(bytes.fromhex("ab" * 32)).hexdigest(), "identity of the sources"
    assert doc.signatures[0]["level"] == "B-T" and doc.extra == {"approval_status": "approved"}
    assert doc.digitized_at == datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
    assert records.page_texts(doc) == ["Trang một", "Trang hai"]
    dossier = records.get_dossier(CODE)
    assert (dossier.procedure_code, dossier.applicant_name, dossier.document_count) == (
        "1.001234", "Nguyễn Văn Hưởng", 1)
    assert records.find_by_sha256(doc.sha256.upper()) == doc
    assert records.find_by_sha256("0" * 64) is None
    assert pdf.exists(), "the source file must be left in place"


def test_same_bytes_twice_give_the_existing_document(records: Records, tmp_path) -> None:
    pdf = make_pdf(tmp_path, "a.pdf", "x")
    first = records.attach(pdf, dossier_code=CODE, kind="component")
    again = records.attach(pdf, dossier_code=CODE, kind="component")
    assert first.created and not again.created, "the second attach must be reported as existing"
    assert again.document.id == first.document.id
    assert records.get_dossier(CODE).document_count == 1
    assert records.verify_audit().events == 2, "a duplicate attach must not add an audit event"


def test_sequence_numbers_follow_attach_order(records: Records, tmp_path) -> None:
    seqs = [records.attach(make_pdf(tmp_path, f"{i}.pdf", str(i)), dossier_code=CODE, kind="component").document.seq
            for i in range(3)]
    assert seqs == [1, 2, 3]
    assert [d.seq for d in records.documents(CODE)] == [1, 2, 3]


def test_unknown_dossier_refused_when_configured(records_settings: RecordsSettings, tmp_path) -> None:
    settings = records_settings.model_copy(update={"unknown_dossier": "refuse"})
    with Records.open(settings, tmp_path) as rec:
        pdf = make_pdf(tmp_path, "a.pdf", "x")
        with pytest.raises(DossierRefused) as info:
            rec.attach(pdf, dossier_code=CODE, kind="component")
        assert CODE in info.value.message("vi") and "a.pdf" in info.value.message("en")
        assert not any(rec.store.root.rglob("*.pdf")), "a refused document must not be stored"
        rec.create_dossier(NewDossier(code=CODE))
        assert rec.attach(pdf, dossier_code=CODE, kind="component").created


def test_supersede_makes_a_new_version_once(records: Records, tmp_path) -> None:
    v1 = records.attach(make_pdf(tmp_path, "v1.pdf", "1"), dossier_code=CODE, kind="result").document
    v2 = records.attach(make_pdf(tmp_path, "v2.pdf", "2"), dossier_code=CODE, kind="result",
                        meta=AttachMeta(supersedes=v1.sha256)).document
    assert (v2.version, v2.supersedes_sha256) == (2, v1.sha256)
    with pytest.raises(AlreadySuperseded):
        records.attach(make_pdf(tmp_path, "v2b.pdf", "2b"), dossier_code=CODE, kind="result",
                       meta=AttachMeta(supersedes=v1.sha256))
    report = records.verify_audit()
    # dossier_create, attach v1, attach v2, supersede; the refused fork adds nothing
    assert report.ok and report.events == 4, report


def test_bad_inputs_are_refused_before_anything_is_written(records: Records, tmp_path) -> None:
    pdf = make_pdf(tmp_path, "a.pdf", "x")
    with pytest.raises(InvalidDossierCode):
        records.attach(pdf, dossier_code="000.00.31.H50-22096-0001", kind="component")
    with pytest.raises(InvalidRecordInput):
        records.attach(pdf, dossier_code=CODE, kind="annex")
    with pytest.raises(InvalidRecordInput):
        records.attach(pdf, dossier_code=CODE, kind="component",
                       meta=AttachMeta(digitized_at=datetime(2024, 1, 1)))
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    with pytest.raises(InvalidRecordInput):
        records.attach(empty, dossier_code=CODE, kind="component")
    assert not any(records.store.root.rglob("*.pdf"))
    with pytest.raises(DossierNotFound):
        records.get_dossier(CODE)


def test_create_dossier_allocates_daily_sequence_past_given_codes(records: Records) -> None:
    records.create_dossier(NewDossier(code="H50-240102-0005"))
    with pytest.raises(DossierExists):
        records.create_dossier(NewDossier(code="H50-240102-0005"))
    made = [records.create_dossier(NewDossier(unit_code="H50", received_date=date(2024, 1, 2))).code
            for _ in range(2)]
    assert made == ["H50-240102-0006", "H50-240102-0007"]
    other_day = records.create_dossier(NewDossier(unit_code="H50", received_date=date(2024, 1, 3)))
    assert other_day.code == "H50-240103-0001"
    listed = records.list_dossiers(prefix="H50-240102")
    assert [d.code for d in listed] == ["H50-240102-0007", "H50-240102-0006", "H50-240102-0005"]
