"""``sohoa process`` end to end, as a user runs it: real Tesseract, real files, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from bench.corpus import Degradation, degrade, font_paths, render_page
from sohoa.stages.conformance import check_pdfa
from tests.scan_pdfs import add_scan_page, helvetica

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "samples" / "scans").iterdir())


def sohoa(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    return subprocess.run([sys.executable, "-m", "sohoa.cli", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=600, check=False)


def pdftotext(pdf: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    done = subprocess.run(["pdftotext", *pages, "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True)
    return unicodedata.normalize("NFC", done.stdout.decode("utf-8"))


@pytest.mark.slow
def test_bundled_samples_become_searchable_pdfa(tmp_path: Path) -> None:
    out = tmp_path / "sample.pdf"
    sidecar = tmp_path / "sample.txt"
    done = sohoa("process", *map(str, SAMPLES), "-o", str(out), "--json", "--sidecar", str(sidecar),
                 "--title", "Giấy tiếp nhận hồ sơ", "--dossier", "000.00.31.H50-220906-0001", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["pages"] == 3 and len(report["sha256"]) == 64
    # the samples were turned 90° and 180° clockwise; undoing that is 270° and 180° clockwise
    assert [p["rotation"] for p in report["page_details"]] == [0, 270, 180], report["page_details"]
    assert check_pdfa(out) == [], "our own output must pass our PDF/A-2B check"
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) == 3
        meta = pdf.open_metadata()
        assert meta.get("pdfaid:part") == "2" and meta.get("dc:title") == "Giấy tiếp nhận hồ sơ"
    text = pdftotext(out)
    for phrase in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập", "Quảng Trị", "hồ sơ"):
        assert phrase in text, f"{phrase!r} not found in the text layer:\n{text[:600]}"
    assert sidecar.read_text(encoding="utf-8").count("\f") == 2
    upright_page_2 = pdftotext(out, 2)
    assert "hồ sơ" in upright_page_2 or "Ủy ban" in upright_page_2 or "thủ tục" in upright_page_2, upright_page_2


def test_jpeg_scan_bytes_are_kept_unchanged(tmp_path: Path) -> None:
    jpeg = next(p for p in SAMPLES if p.suffix == ".jpg")
    out = tmp_path / "one.pdf"
    done = sohoa("process", str(jpeg), "-o", str(out), "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with pikepdf.open(out) as pdf:
        images = [obj for obj in pdf.objects if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image"]
        assert any(img.read_raw_bytes() == jpeg.read_bytes() for img in images), "JPEG scan was re-encoded"


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, int]]:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    fake = tmp_path / "fake.png"
    fake.write_text("không phải ảnh", encoding="utf-8")
    truncated = tmp_path / "cut.jpg"
    truncated.write_bytes(SAMPLES[0].read_bytes()[:20000])
    locked = tmp_path / "locked.pdf"
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.save(locked, encryption=pikepdf.Encryption(owner="x", user="y"))
    return {"missing": (tmp_path / "nope.tif", 10), "empty": (empty, 11), "truncated": (truncated, 12),
            "wrong_type": (fake, 13), "encrypted": (locked, 14)}


def test_bad_inputs_exit_codes_and_no_output(tmp_path: Path) -> None:
    for case, (path, code) in _bad_inputs(tmp_path).items():
        out = tmp_path / f"{case}.pdf"
        done = sohoa("process", str(path), "-o", str(out), "--lang", "en", cwd=tmp_path)
        assert done.returncode == code, f"{case}: exit {done.returncode}, stderr: {done.stderr}"
        assert path.name in done.stderr, f"{case}: message must name the file: {done.stderr}"
        assert not out.exists(), f"{case}: partial output left behind"
        assert not list(tmp_path.glob(f".{case}.pdf*")), f"{case}: temp file left behind"


def test_vietnamese_message_by_default(tmp_path: Path) -> None:
    done = sohoa("process", str(tmp_path / "thiếu.jpg"), "-o", str(tmp_path / "x.pdf"), cwd=tmp_path)
    assert done.returncode == 10 and "không tìm thấy tệp" in done.stderr and "thiếu.jpg" in done.stderr


def test_unwritable_output_refused_before_work(tmp_path: Path) -> None:
    done = sohoa("process", str(SAMPLES[0]), "-o", str(tmp_path / "no-such-folder" / "x.pdf"), "--lang", "en",
                 cwd=tmp_path)
    assert done.returncode == 30 and "does not exist" in done.stderr, done.stderr


def test_blank_pages_dropped_when_configured(tmp_path: Path) -> None:
    font = font_paths()[0]
    text_page = render_page(["Ủy ban nhân dân tỉnh Quảng Trị", "Giấy xác nhận"], font=font, dpi=150,
                            size_mm=(148, 105))
    blank = degrade(render_page([], font=font, dpi=150, size_mm=(148, 105)), Degradation(noise=3), seed=1)
    for name, page in (("a.png", text_page), ("b.png", blank)):
        page.image.save(tmp_path / name, dpi=(150, 150))
    config = tmp_path / "center.toml"
    config.write_text('[clean]\nblank_pages = "drop"\n', encoding="utf-8")
    out = tmp_path / "doc.pdf"
    done = sohoa("process", "a.png", "b.png", "-o", str(out), "--json", "--config", str(config), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["pages"] == 1 and report["page_details"][1]["dropped"], report["page_details"]
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) == 1
    assert "Quảng Trị" in pdftotext(out)


def test_doctor_reports_everything_present(tmp_path: Path) -> None:
    done = sohoa("doctor", "--json", cwd=tmp_path)
    checks = json.loads(done.stdout)
    assert done.returncode == 0, [c for c in checks if not c["ok"]]
    names = {c["name"] for c in checks}
    assert {"tesseract", "tesseract vie model", "pdfsig", "Vietnamese fonts"} <= names
    pyhanko = next(c for c in checks if c["name"] == "python pyhanko")
    assert pyhanko["detail"][:1].isdigit(), f"doctor shows no pyHanko version: {pyhanko}"


def test_doctor_names_the_fix_for_a_missing_language(tmp_path: Path) -> None:
    config = tmp_path / "sohoa.toml"
    config.write_text('[ocr]\nlanguages = "vie+khm"\n', encoding="utf-8")
    done = sohoa("doctor", cwd=tmp_path)
    assert done.returncode == 4
    assert "apt-get install -y tesseract-ocr-khm" in done.stdout, done.stdout


def _mixed_pdf(path: Path, *, encoding: bool = True) -> Path:
    """Page 1: a scan with an old invisible OCR layer; page 2: a bare scan (as scanners write them)."""
    jpeg = SAMPLES[0].read_bytes()
    with Image.open(SAMPLES[0]) as image:
        width, height = image.size
    font = helvetica()
    if encoding:
        font.Encoding = pikepdf.Name.WinAnsiEncoding
    with pikepdf.new() as pdf:
        add_scan_page(pdf, jpeg, width, height, text_ops=b"BT 3 Tr /F1 12 Tf 72 700 Td (Old OCR layer) Tj ET",
                      font=font)
        add_scan_page(pdf, jpeg, width, height)
        pdf.save(path)
    return path


def test_pdf_pages_with_text_are_kept_and_only_the_others_ocred(tmp_path: Path) -> None:
    source = _mixed_pdf(tmp_path / "mixed.pdf")
    out = tmp_path / "out.pdf"
    done = sohoa("process", str(source), "-o", str(out), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    details = json.loads(done.stdout)["page_details"]
    assert any("already has text" in w for w in details[0]["warnings"]), details[0]
    assert details[1]["words"] > 50, "the page without text must be OCR'd"
    assert "Old OCR layer" in pdftotext(out, 1) and "Quảng Trị" not in pdftotext(out, 1)
    assert "Quảng Trị" in pdftotext(out, 2) or "hồ sơ" in pdftotext(out, 2)
    assert check_pdfa(out) == []
    config = tmp_path / "refuse.toml"
    config.write_text('[ingest]\ntext_policy = "refuse"\n', encoding="utf-8")
    refused = sohoa("process", str(source), "-o", str(tmp_path / "r.pdf"), "--config", str(config), "--lang", "en",
                    cwd=tmp_path)
    assert refused.returncode == 16 and "page(s) 1" in refused.stderr, refused.stderr


def test_kept_page_that_breaks_pdfa_is_refused_with_the_clause(tmp_path: Path) -> None:
    source = _mixed_pdf(tmp_path / "mixed.pdf", encoding=False)
    out = tmp_path / "out.pdf"
    done = sohoa("process", str(source), "-o", str(out), "--lang", "en", cwd=tmp_path)
    assert done.returncode == 31 and "6.2.11.7.2" in done.stderr, done.stderr
    assert not out.exists() and not list(tmp_path.glob(".out.pdf*")), "nothing may be left behind"
