"""A result's Decree-30 data through the document job: extracted in ``sohoa process --json``, filed with the
document (typed columns and the metadata JSON), manifest values winning and conflicts flagged."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from PIL import Image

from sohoa.pipeline.result_data import merge
from sohoa.stages.extract import Extracted, ExtractedField
from tests.pipeline.test_process_cli import sohoa
from tests.stages.decree30_pages import TUNING, fonts_present, render


def _extracted(**values: str) -> Extracted:
    return Extracted(fields={k: ExtractedField(v, 0.95, 1, (1, 2, 3, 4)) for k, v in values.items()})


def test_manifest_values_win_and_disagreements_are_flagged() -> None:
    found = _extracted(doc_number="123/QĐ-STP", issue_date="2022-09-06", issuing_agency="SỞ TƯ PHÁP")
    same = merge(found, doc_number="123/qđ-stp", issue_date=dt.date(2022, 9, 6), issuing_agency="Sở Tư pháp")
    assert same.metadata["needs_review"] == [] and "conflicts" not in same.metadata
    other = merge(found, doc_number="124/QĐ-STP", issue_date=None, issuing_agency=None)
    assert other.doc_number == "124/QĐ-STP", "the manifest's value is filed"
    assert other.issue_date == dt.date(2022, 9, 6) and other.issuing_agency == "SỞ TƯ PHÁP"
    assert other.metadata["conflicts"] == {"doc_number": {"manifest": "124/QĐ-STP", "extracted": "123/QĐ-STP"}}
    assert "doc_number" in other.metadata["needs_review"]
    assert merge(None, doc_number="1/GP", issue_date=None, issuing_agency=None).metadata == {}


def _tuning_scan(folder: Path) -> Path:
    """The tuning Decree-30 page as a scan file (the extraction rules were written against it)."""
    doc = TUNING[0]
    scan = folder / "ket-qua.png"
    Image.fromarray(render(doc)).save(scan, dpi=(doc.dpi, doc.dpi))
    return scan


@pytest.mark.slow
@pytest.mark.skipif(not fonts_present(), reason="fonts-liberation2, fonts-noto-core, fonts-dejavu-core")
def test_process_json_and_filing_carry_the_data(tmp_path: Path) -> None:
    scan = _tuning_scan(tmp_path)
    config = tmp_path / "sohoa.toml"
    config.write_text(f'data_dir = "{tmp_path / "var"}"\n[extract]\nagencies = ["UBND TỈNH QUẢNG TRỊ", "SỞ TƯ PHÁP"]\n',
                      encoding="utf-8")
    code = "000.00.31.H50-220906-0042"
    done = sohoa("process", str(scan), "-o", str(tmp_path / "out.pdf"), "--kind", "result", "--json",
                 "--dossier", code, "--config", str(config), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    fields = report["metadata"]["fields"]
    assert fields["doc_number"]["value"] == "123/QĐ-STP" and fields["doc_number"]["page"] == 1
    assert fields["issue_date"]["value"] == "2022-09-06" and fields["signer_name"]["value"] == "Nguyễn Văn Hùng"
    assert all(f["value"] for f in fields.values()) and len(fields["doc_number"]["box"]) == 4
    shown = sohoa("dossier", "show", code, "--json", "--config", str(config), cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    filed = json.loads(shown.stdout)["documents"][0]
    assert filed["doc_number"] == "123/QĐ-STP" and filed["issue_date"] == "2022-09-06", filed
    assert filed["issuing_agency"] == "SỞ TƯ PHÁP", filed
    exported = sohoa("dossier", "export", code, "--to", str(tmp_path / "export"), "--config", str(config),
                     cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    row = next(csv.DictReader(io.StringIO((tmp_path / "export" / f"{code}.csv").read_text(encoding="utf-8-sig"))))
    assert row["document_number"] == "123/QĐ-STP" and row["document_type"] == "QUYẾT ĐỊNH", row
    assert row["subject"].startswith("Về việc cấp phiếu") and row["signer"] == "Nguyễn Văn Hùng", row
    assert row["signer_title"] == "PHÓ GIÁM ĐỐC", row
    component = sohoa("process", str(scan), "-o", str(tmp_path / "c.pdf"), "--json", "--config", str(config),
                      cwd=tmp_path)
    assert "metadata" not in json.loads(component.stdout), "a dossier component is not a Decree-30 result"


@pytest.mark.slow
@pytest.mark.skipif(not fonts_present(), reason="fonts-liberation2, fonts-noto-core, fonts-dejavu-core")
def test_the_pdfa_xmp_carries_the_data_and_still_conforms(tmp_path: Path) -> None:
    import pikepdf

    from sohoa.stages.conformance import check_pdfa

    scan = _tuning_scan(tmp_path)
    out = tmp_path / "out.pdf"
    done = sohoa("process", str(scan), "-o", str(out), "--kind", "result", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with pikepdf.open(out) as pdf:
        xmp = bytes(pdf.Root.Metadata.read_bytes()).decode("utf-8")
    assert "<sohoa:docNumber>123/QĐ-STP</sohoa:docNumber>" in xmp, xmp[:2000]
    assert "<sohoa:issueDate>2022-09-06</sohoa:issueDate>" in xmp and "sohoa:signerName" in xmp
    assert "<pdfaProperty:name>docNumber</pdfaProperty:name>" in xmp, "the property must be declared for PDF/A"
    assert check_pdfa(out) == [], "the data in the XMP must not break PDF/A-2B"


@pytest.mark.slow
@pytest.mark.skipif(not fonts_present(), reason="fonts-liberation2, fonts-noto-core, fonts-dejavu-core")
def test_an_applicants_results_are_found_and_reused_without_a_copy(tmp_path: Path) -> None:
    scan = _tuning_scan(tmp_path)
    config = tmp_path / "sohoa.toml"
    config.write_text(f'data_dir = "{tmp_path / "var"}"\n', encoding="utf-8")
    first, second = "000.00.31.H50-220906-0050", "000.00.31.H50-261201-0051"
    for code in (first, second):
        made = sohoa("dossier", "create", "--code", code, "--applicant-id", "001203004567", "--config", str(config),
                     cwd=tmp_path)
        assert made.returncode == 0, made.stderr
    done = sohoa("process", str(scan), "-o", str(tmp_path / "kq.pdf"), "--kind", "result", "--dossier", first,
                 "--config", str(config), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    found = sohoa("results", "find", "--applicant", "001203004567", "--type", "quyet dinh", "--json",
                  "--config", str(config), cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    [entry] = json.loads(found.stdout)
    assert entry["dossier_code"] == first and entry["fields"]["doc_number"] == "123/QĐ-STP" and entry["valid"]
    assert entry["signature"]["indication"] == "INDETERMINATE", "an unsigned result says so, never a pass"
    none = sohoa("results", "find", "--applicant", "001203004567", "--type", "giấy phép", "--json",
                 "--config", str(config), cwd=tmp_path)
    assert json.loads(none.stdout) == []
    stored = sorted((tmp_path / "var" / "store").rglob("*.pdf"))
    reused = sohoa("results", "reuse", str(entry["document_id"]), "--dossier", second, "--json",
                   "--config", str(config), cwd=tmp_path)
    assert reused.returncode == 0, reused.stderr
    assert json.loads(reused.stdout)["created"] is True
    assert sorted((tmp_path / "var" / "store").rglob("*.pdf")) == stored, "reuse must not copy the file"
    shown = json.loads(sohoa("dossier", "show", second, "--json", "--config", str(config), cwd=tmp_path).stdout)
    assert shown["documents"][0]["extra"]["reused_from"]["dossier"] == first
    audit = sohoa("audit", "verify", "--json", "--config", str(config), cwd=tmp_path)
    assert audit.returncode == 0, audit.stdout
    missing = sohoa("results", "reuse", "99999", "--dossier", second, "--config", str(config), cwd=tmp_path)
    assert missing.returncode == 75 and "99999" in missing.stderr, missing.stderr
