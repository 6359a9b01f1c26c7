"""Ingest on PDFs and images as other producers write them: no internal error, a page or a typed refusal.

The inputs come from tests/stages/mfp_pdfs.py (JBIG2, DeviceN, form XObjects, odd boxes), never from our
own assembler. Each case runs the real ``sohoa process`` command.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from sohoa.stages.conformance import check_pdfa
from tests.stages import mfp_pdfs

pytestmark = pytest.mark.slow


def sohoa(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "sohoa.cli", *args, "--json", "--lang", "en"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def text_of(pdf: Path) -> str:
    done = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True)
    return unicodedata.normalize("NFC", done.stdout.decode("utf-8"))


def _processed(source: Path, tmp_path: Path, env: dict[str, str] | None = None) -> tuple[dict, str]:
    out = tmp_path / "out.pdf"
    done = sohoa("process", str(source), "-o", str(out), cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert check_pdfa(out) == []
    report = json.loads(done.stdout)
    return report, text_of(out)


def test_jbig2_scan_is_read_and_its_bytes_pass_through(tmp_path: Path) -> None:
    source = mfp_pdfs.jbig2_pdf(tmp_path / "mfp-jbig2.pdf")
    report, text = _processed(source, tmp_path)
    assert "Hưởng" in text and "000.00.31.H50" in text, text
    assert not any("pdftoppm" in w for w in report["warnings"]), report["warnings"]
    with pikepdf.open(source) as before, pikepdf.open(tmp_path / "out.pdf") as after:
        scanned = before.pages[0].Resources.XObject.Im0.read_raw_bytes()
        images = [x for x in after.pages[0].Resources.XObject.values() if x.get("/Subtype") == "/Image"]
        assert [str(x.Filter) for x in images] == ["/JBIG2Decode"]
        assert images[0].read_raw_bytes() == scanned, "the scanner's JBIG2 bytes were re-encoded"


def test_jbig2_without_jbig2dec_falls_back_to_rendering(tmp_path: Path) -> None:
    # A real missing dependency: a PATH holding every program of /usr/bin but jbig2dec.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for program in Path("/usr/bin").iterdir():
        if program.name != "jbig2dec":
            (bin_dir / program.name).symlink_to(program)
    env = {"PATH": f"{Path(sys.executable).parent}:{bin_dir}"}
    assert shutil.which("jbig2dec", path=env["PATH"]) is None
    report, text = _processed(mfp_pdfs.jbig2_pdf(tmp_path / "mfp-jbig2.pdf"), tmp_path, env)
    assert any("cannot be read directly" in w and "pdftoppm at 200 dpi" in w for w in report["warnings"]), report
    assert "QUẢNG" in text or "Giấy" in text, text


def test_devicen_image_is_rendered_and_read(tmp_path: Path) -> None:
    report, text = _processed(mfp_pdfs.devicen_pdf(tmp_path / "spot.pdf"), tmp_path)
    assert any("cannot be read directly" in w for w in report["warnings"]), report["warnings"]
    assert "Nguyễn" in text, text


def test_scan_inside_a_form_xobject_is_rendered_at_its_own_resolution(tmp_path: Path) -> None:
    report, text = _processed(mfp_pdfs.form_xobject_pdf(tmp_path / "form.pdf"), tmp_path)
    assert any("pdftoppm at 300 dpi" in w for w in report["warnings"]), report["warnings"]
    assert "000.00.31.H50" in text, text


@pytest.mark.parametrize("size", [(1, 1), (49, 800), (800, 12)])
def test_images_too_small_to_be_a_page_are_refused(tmp_path: Path, size: tuple[int, int]) -> None:
    source = tmp_path / "tiny.png"
    Image.new("L", size, 255).save(source)
    done = sohoa("process", str(source), "-o", str(tmp_path / "out.pdf"), cwd=tmp_path)
    assert done.returncode == 18, done.stderr
    assert "tiny.png" in done.stderr and "too small" in done.stderr
    assert not (tmp_path / "out.pdf").exists()


def test_a_pdf_page_with_an_empty_box_is_refused(tmp_path: Path) -> None:
    done = sohoa("process", str(mfp_pdfs.tiny_box_pdf(tmp_path / "box.pdf")), "-o", str(tmp_path / "out.pdf"),
                 cwd=tmp_path)
    assert done.returncode == 18, done.stderr
    assert "box.pdf" in done.stderr and "page 1" in done.stderr


@pytest.mark.parametrize("maker", ["form_xobject_pdf", "devicen_pdf", "jbig2_pdf"])
def test_scans_rewritten_by_cairo_and_joined_by_poppler_are_read(tmp_path: Path, maker: str) -> None:
    """Other producers: poppler's pdftocairo writes the page its own way (a flipped CTM, an ExtGState,
    its own image encoding), and pdfunite joins two such files into one two-page PDF."""
    source = getattr(mfp_pdfs, maker)(tmp_path / "mfp.pdf")
    cairo = tmp_path / "cairo.pdf"
    subprocess.run(["pdftocairo", "-pdf", str(source), str(cairo)], check=True, capture_output=True)
    joined = tmp_path / "joined.pdf"
    subprocess.run(["pdfunite", str(cairo), str(source), str(joined)], check=True, capture_output=True)
    with pikepdf.open(cairo) as pdf:
        assert "cairo" in str(pdf.docinfo.get("/Producer", "")), "precondition: cairo wrote the file"
    report, text = _processed(joined, tmp_path)
    assert report["pages"] == 2
    assert text.count("000.00.31.H50") == 2, text
