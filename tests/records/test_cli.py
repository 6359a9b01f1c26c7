"""The records CLI end to end in-process: create, attach (library), show, search, export, checks."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import text

from sohoa.cli.main import main
from sohoa.config import load_settings
from sohoa.records import AttachMeta, Records
from tests.records.conftest import make_pdf


@pytest.fixture
def config_file(db_url: str, tmp_path: Path) -> Path:
    path = tmp_path / "sohoa.toml"
    path.write_text(f'data_dir = "var"\n[records]\ndatabase_url = "{db_url}"\ndefault_unit_code = "H50"\n',
                    encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_round_trip(config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = ["--config", str(config_file)]
    assert run(capsys, "db", "upgrade", *cfg)[0] == 0
    rc, out, err = run(capsys, "dossier", "create", "--date", "2024-05-02", "--applicant-name", "Lê Thị Đào",
                       "--json", *cfg)
    assert rc == 0, err
    code = json.loads(out)["code"]
    assert code == "H50-240502-0001"
    settings = load_settings(config_file)
    with Records.open(settings.records, settings.data_dir) as rec:
        rec.attach(make_pdf(tmp_path, "a.pdf", "a"), dossier_code=code, kind="result",
                   meta=AttachMeta(title="Quyết định", page_texts=["Ủy ban nhân dân tỉnh Quảng Trị"],
                                   page_confidences=[88.0], extra={"approval_status": "approved"}))

    rc, out, _ = run(capsys, "dossier", "show", code, *cfg)
    assert rc == 0 and "Quyết định" in out and "result" in out, out
    rc, out, _ = run(capsys, "dossier", "search", "uy ban quang tri", "--json", *cfg)
    hits = json.loads(out)
    assert rc == 0 and [h["dossier_code"] for h in hits] == [code] and "[Quảng]" in hits[0]["snippet"], out
    rc, out, _ = run(capsys, "dossier", "list", "--prefix", "H50-2405", *cfg)
    assert code in out

    target = tmp_path / "export"
    rc, out, err = run(capsys, "dossier", "export", code, "--to", str(target), *cfg)
    assert rc == 0, err
    pdfs = sorted(target.glob("*.pdf"))
    assert len(pdfs) == 1 and pdfs[0].read_bytes() == (tmp_path / "a.pdf").read_bytes()
    meta = json.loads((target / f"{code}.json").read_text(encoding="utf-8"))
    doc = meta["documents"][0]
    assert (doc["document_name"], doc["kind_code"], doc["approval_status"]) == ("Quyết định", 1, "approved")
    assert doc["ocr_pages"] == ["Ủy ban nhân dân tỉnh Quảng Trị"]
    with (target / f"{code}.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["dossier_code"] == code and rows[0]["ocr_text"] == "Ủy ban nhân dân tỉnh Quảng Trị"

    assert run(capsys, "store", "check", "--rehash", *cfg)[0] == 0
    rc, out, _ = run(capsys, "audit", "verify", "--json", *cfg)
    report = json.loads(out)
    assert rc == 0 and report["ok"] and report["events"] == 3, report  # dossier_create, attach, export

    with Records.open(settings.records, settings.data_dir) as rec, rec.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'x' WHERE seq = 1"))
    rc, _, err = run(capsys, "audit", "verify", "--lang", "en", *cfg)
    assert rc == 85 and "edited" in err, err


def test_cli_bad_code_names_expected_format(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(capsys, "dossier", "show", "H50-2405-1", "--config", str(config_file))
    assert rc == 71 and "<mã đơn vị>-YYMMDD-NNNN" in err, err
