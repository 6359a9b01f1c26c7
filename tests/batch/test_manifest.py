"""Planning: manifest checks (every bad row with line, column and reason, vi + en), tree grouping, dry run."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from sohoa.config.batch import BatchSettings
from sohoa.config.settings import Settings
from sohoa.runners.batch.manifest import ManifestInvalid, code_from_path, plan_batch, read_manifest
from tests.batch.conftest import sohoa, write_config
from tests.batch.pages import code, write_scan

HEADER = "file,dossier_code,doc_number,issue_date,issuing_agency,title,kind,sign_profile\n"


def _scans(root: Path, count: int) -> None:
    for n in range(1, count + 1):
        write_scan(root / f"s{n}.jpg", f"Trang {n}")


def test_every_bad_row_is_reported_with_line_column_and_reason(tmp_path: Path) -> None:
    _scans(tmp_path, 3)
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    (tmp_path / "empty").mkdir()
    rows = [
        f"s1.jpg,{code(1)},12/QĐ-UBND,2023-05-04,UBND huyện,Quyết định,result,",        # 2 ok
        f"missing.jpg,{code(2)},,,,,,",                                                  # 3 file
        "s2.jpg,ABC-1,,,,,,",                                                            # 4 dossier_code
        f"s3.jpg,{code(3)},,31/02/2023,,,,",                                             # 5 issue_date
        f"s3.jpg,{code(3)},,,,,bản gốc,",                                                # 6 kind
        f"s1.jpg,{code(4)},,,,,,",                                                       # 7 duplicate file
        f"notes.txt,{code(5)},,,,,,",                                                    # 8 not a scan
        f"empty,{code(6)},,,,,,",                                                        # 9 folder without scans
        f"s2.jpg,{code(7)},,2999-01-01,,,,nope",                                         # 10 date + profile
        f"s3.jpg,{code(8)},,,,,,,extra",                                                 # 11 too many cells
        f"s2.jpg|s3.jpg,{code(9)},,04/05/2023,,,1,none",                                 # 12 ok (two pages)
    ]
    manifest = tmp_path / "m.csv"
    manifest.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    plan = read_manifest(manifest, tmp_path, Settings(), BatchSettings())
    found = {(p.line, p.column) for p in plan.problems}
    expected = {(3, "file"), (4, "dossier_code"), (5, "issue_date"), (6, "kind"), (7, "file"), (8, "file"),
                (9, "file"), (10, "issue_date"), (10, "sign_profile"), (11, "-")}
    assert found == expected, f"problems found {sorted(found)}, expected {sorted(expected)}"
    for problem in plan.problems:
        assert problem.vi and problem.en and problem.vi != problem.en, f"line {problem.line} needs vi and en"
    assert [d.line for d in plan.docs] == [2, 12], [d.key for d in plan.docs]
    first, second = plan.docs
    assert (first.doc_number, first.issue_date, first.kind) == ("12/QĐ-UBND", date(2023, 5, 4), "result")
    assert [p.name for p in second.inputs] == ["s2.jpg", "s3.jpg"] and second.kind == "result"
    assert second.sign_profiles == [] and second.issue_date == date(2023, 5, 4)


def test_header_without_file_column_refuses_the_manifest(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("ma_ho_so;tieu_de\n" + f"{code(1)};x\n", encoding="utf-8")
    with pytest.raises(ManifestInvalid) as caught:
        read_manifest(manifest, tmp_path, Settings(), BatchSettings())
    assert "'file'" in caught.value.message("en") and "Bảng kê" in caught.value.message("vi")


def test_vietnamese_headers_semicolons_and_bom_are_understood(tmp_path: Path) -> None:
    _scans(tmp_path, 1)
    manifest = tmp_path / "m.csv"
    body = f"Tep;Ma_ho_so;So_ky_hieu;Ngay_ban_hanh;Loai\ns1.jpg;{code(1)};5/GP;01/02/2023;0\n"
    manifest.write_bytes(body.encode("utf-8-sig"))
    plan = read_manifest(manifest, tmp_path, Settings(), BatchSettings())
    assert not plan.problems, [p.to_dict() for p in plan.problems]
    doc = plan.docs[0]
    assert (doc.dossier_code, doc.doc_number, doc.issue_date, doc.kind) == (code(1), "5/GP", date(2023, 2, 1),
                                                                             "component")


def test_tree_finds_dossier_codes_in_names_and_groups_by_file_or_folder(tmp_path: Path) -> None:
    src = tmp_path / "src"
    write_scan(src / "a" / f"{code(1)}.jpg", "một")
    write_scan(src / f"{code(2)}" / "p1.jpg", "hai")
    write_scan(src / f"{code(2)}" / "p2.jpg", "ba")
    write_scan(src / "no-code" / "x.jpg", "bốn")
    write_scan(src / ".hidden" / f"{code(3)}.jpg", "năm")
    settings = Settings()
    by_file = plan_batch(src, None, settings, BatchSettings(grouping="file"))
    assert sorted((d.key, d.dossier_code) for d in by_file.docs) == [
        (f"{code(2)}/p1.jpg", code(2)), (f"{code(2)}/p2.jpg", code(2)), (f"a/{code(1)}.jpg", code(1))]
    assert [(p.column, p.value) for p in by_file.problems] == [("path", "no-code/x.jpg")]
    by_folder = plan_batch(src, None, settings, BatchSettings(grouping="folder", default_dossier_code=code(9)))
    grouped = {d.key: (d.dossier_code, [p.name for p in d.inputs]) for d in by_folder.docs}
    assert grouped == {"a": (code(1), [f"{code(1)}.jpg"]), code(2): (code(2), ["p1.jpg", "p2.jpg"]),
                       "no-code": (code(9), ["x.jpg"])}, grouped
    assert code_from_path(Path(f"X{code(1)}5.jpg"), settings) is None, "a code glued to other text is not a code"


def test_cli_prints_every_bad_row_before_starting_and_strict_refuses(tmp_path: Path) -> None:
    _scans(tmp_path, 2)
    write_config(tmp_path)
    manifest = tmp_path / "m.csv"
    rows = [f"s1.jpg,{code(1)},,,,,,", f"nope.jpg,{code(2)},,,,,,", f"s2.jpg,{code(3)},,2020-13-01,,,,"]
    manifest.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    done = sohoa("batch", str(tmp_path), "--manifest", str(manifest), "--dry-run", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "dòng 3, cột file" in done.stderr and "dòng 4, cột issue_date" in done.stderr, done.stderr
    plan = json.loads(done.stdout)
    assert [d["item"] for d in plan["documents"]] == ["s1.jpg"]
    assert [(p["line"], p["column"]) for p in plan["invalid"]] == [(3, "file"), (4, "issue_date")]
    assert not (tmp_path / "sohoa.db").exists(), "a dry run must not touch the records database"
    strict = sohoa("batch", str(tmp_path), "--manifest", str(manifest), "--strict", "--lang", "en", cwd=tmp_path)
    assert strict.returncode == 90, strict.stderr
    assert "line 3, column file: file not found: nope.jpg" in strict.stderr, strict.stderr
    assert "Nothing was processed" in strict.stderr
    assert not (tmp_path / "sohoa.db").exists(), "--strict must refuse before opening the journal"
