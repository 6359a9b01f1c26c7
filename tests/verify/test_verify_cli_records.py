"""``sohoa verify`` end to end (exit codes, JSON schema, HTML, languages) and the records match.

The records match is tested through the ``IssuedDocumentLookup`` seam with a stub store, and with a
real SQLite ``records.service.Records`` adapted by the pipeline command.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from sohoa.cli.main import main
from sohoa.config.records import RecordsSettings
from sohoa.config.signing import SigningSettings
from sohoa.pipeline.verification import RecordsLookup
from sohoa.signing import sign_pdf
from sohoa.signing.verify import IssuedDocument, verify

REQUIRED_FILE_KEYS = {"schema", "file", "readable", "sha256", "size", "indication", "sub_indication", "reasons",
                      "signatures", "revisions", "records_checked", "record_match", "offline", "verified_at", "error"}
REQUIRED_SIG_KEYS = {"field", "kind", "indication", "sub_indication", "reasons", "signer", "chain", "trust_anchor",
                     "claimed_time", "proven_time", "timestamp_authority", "revocation", "integrity", "coverage",
                     "modification_level", "certification_permission", "signed_revision", "pades_level",
                     "validation_time"}


@pytest.fixture
def config(tmp_path: Path, signing_settings: SigningSettings) -> Path:
    """A sohoa.toml trusting the test root, data under tmp (no records database there)."""
    path = tmp_path / "sohoa.toml"
    root = signing_settings.trust.roots[0]
    path.write_text(f'data_dir = "{tmp_path / "data"}"\n[signing.trust]\nroots = ["{root}"]\n', encoding="utf-8")
    return path


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.parametrize(("names", "expected"), [
    (["b-lt"], 0), (["b-lt", "unsigned"], 1), (["b-lt", "unsigned", "tampered"], 2),
    (["tampered", "encrypted"], 3), (["truncated"], 3)])
def test_exit_codes(case: Callable[[str], Path], config: Path, capsys: pytest.CaptureFixture[str],
                    names: list[str], expected: int) -> None:
    code, out = _run(capsys, "verify", *[str(case(n)) for n in names], "--offline", "--config", str(config))
    assert code == expected, f"{names}: exit {code}, expected {expected}; output:\n{out}"


@pytest.mark.slow
def test_json_schema_and_english(case: Callable[[str], Path], config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(capsys, "verify", str(case("b-lta")), str(case("encrypted")), "--json", "--offline",
                     "--lang", "en", "--config", str(config))
    assert code == 3, out
    objects = [json.loads(line) for line in out.splitlines()]
    assert len(objects) == 2, f"one JSON object per file expected: {out}"
    good, bad = objects
    assert REQUIRED_FILE_KEYS <= set(good), f"missing keys {REQUIRED_FILE_KEYS - set(good)}"
    assert good["indication"] == "TOTAL-PASSED" and good["schema"] == 1
    assert [s["kind"] for s in good["signatures"]] == ["signature", "document-timestamp"]
    for sig in good["signatures"]:
        assert REQUIRED_SIG_KEYS <= set(sig), f"missing keys {REQUIRED_SIG_KEYS - set(sig)}"
    assert good["signatures"][0]["pades_level"] == "B-LTA"
    assert len(good["signatures"][0]["chain"]) == 3, "signer, issuing CA, root"
    assert good["sha256"] == hashlib.sha256(case("b-lta").read_bytes()).hexdigest()
    assert bad["readable"] is False and bad["error"]["error"] == "input_encrypted", bad


@pytest.mark.slow
def test_terminal_lines_and_html(case: Callable[[str], Path], config: Path, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    html = tmp_path / "bao-cao.html"
    folder = tmp_path / "tra-ve"
    folder.mkdir()
    for name in ("two", "tampered", "unsigned"):
        shutil.copy(case(name), folder / f"{name}.pdf")
    code, out = _run(capsys, "verify", str(folder), "--html", str(html), "--config", str(config))
    assert code == 2, out
    assert "[HỢP LỆ]" in out and "[KHÔNG HỢP LỆ/HASH_FAILURE]" in out and "NO_SIGNATURE" in out, out
    assert "Nguyễn Văn Hưởng" in out, "the second signer's name must be on its line"
    page = html.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page and "http" not in page.split("</style>")[0]
    assert page.count("class='v TOTAL-PASSED'") >= 2 and "HASH_FAILURE" in page and "two.pdf" in page
    assert not list(tmp_path.glob(".bao-cao.html.*")), "no temp file left behind"


class StubStore:
    """An in-memory records store keyed by SHA-256 (the seam's contract)."""

    def __init__(self, docs: dict[str, IssuedDocument]) -> None:
        self.docs = docs
        self.asked: list[str] = []

    def find_by_sha256(self, sha256: str) -> IssuedDocument | None:
        self.asked.append(sha256)
        return self.docs.get(sha256)


@pytest.mark.slow
def test_records_match_with_stub(case: Callable[[str], Path], signing_settings: SigningSettings) -> None:
    issued = case("b-t")
    issued_at = dt.datetime(2022, 9, 6, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    doc = IssuedDocument("000.00.31.H50-220906-0001", 7, "Giấy chứng nhận", "result", issued_at)
    store = StubStore({hashlib.sha256(issued.read_bytes()).hexdigest(): doc})
    same = verify(issued, signing_settings, lookup=store)
    assert same.record is not None and same.record.whole_file and same.record.signatures_after == 0
    later = verify(case("two"), signing_settings, lookup=store)
    assert later.record is not None, f"issued revision not found; asked {store.asked}"
    assert not later.record.whole_file and later.record.signatures_after == 1
    assert "000.00.31.H50-220906-0001" in later.record.sentence("vi") and "1 chữ ký" in later.record.sentence("vi")
    assert "1 signature" in later.record.sentence("en")
    assert verify(case("b-b"), signing_settings, lookup=store).record is None


@pytest.mark.slow
def test_records_match_with_sqlite_records(case: Callable[[str], Path], signing_settings: SigningSettings,
                                           tmp_path: Path) -> None:
    from sohoa.records.service import Records
    from sohoa.records.types import NewDossier

    settings = RecordsSettings(store_path=tmp_path / "store")
    with Records.open(settings, tmp_path) as records:
        dossier = records.create_dossier(NewDossier(code="000.00.31.H50-220906-0001"))
        records.attach(case("b-t"), dossier_code=dossier.code, kind="result")
        returned = tmp_path / "tra-ve.pdf"
        sign_pdf(case("b-t"), returned, profile="digitizer", settings=signing_settings, level="B-B")
        report = verify(returned, signing_settings, lookup=RecordsLookup(records))
    assert report.record is not None, "the issued revision must be found in the real records"
    assert report.record.document.dossier_code == "000.00.31.H50-220906-0001"
    assert report.record.signatures_after == 1 and report.record.document.issued_at is not None
