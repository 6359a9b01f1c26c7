"""The PDF/A gate after signing: a signed file that no longer conforms never replaces the output."""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pytest

from sohoa.common.errors import ConformanceError
from sohoa.pipeline.job import _gate_signed
from tests.durability import Fsyncs


def _plain_pdf(path: Path) -> Path:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    pdf.save(path)
    return path


def test_a_nonconforming_signed_file_is_refused_and_the_unsigned_pdfa_kept(tmp_path: Path) -> None:
    signed = _plain_pdf(tmp_path / "signed.pdf")  # no output intent, no XMP: fails PDF/A-2B
    unsigned = tmp_path / "pdfa.pdf"
    unsigned.write_bytes(b"%PDF-1.7 the unsigned PDF/A\n")
    output = tmp_path / "out" / "result.pdf"
    output.parent.mkdir()
    with pytest.raises(ConformanceError) as info:
        _gate_signed(signed, unsigned=unsigned, output=output)
    assert not output.exists()
    kept = output.with_name("result.unsigned.pdf")
    assert kept.read_bytes() == b"%PDF-1.7 the unsigned PDF/A\n"
    assert "after signing" in info.value.message("en") and kept.name in info.value.message("en")
    assert info.value.exit_code == 31


def test_the_kept_unsigned_pdfa_is_synced_before_its_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Kept across file systems, the move is a copy: its data is fsynced, then the folder that names it."""
    synced = Fsyncs(monkeypatch)
    unsigned = tmp_path / "pdfa.pdf"
    unsigned.write_bytes(b"%PDF-1.7 the unsigned PDF/A\n")
    output = tmp_path / "out" / "result.pdf"
    output.parent.mkdir()
    with pytest.raises(ConformanceError):
        _gate_signed(_plain_pdf(tmp_path / "signed.pdf"), unsigned=unsigned, output=output)
    assert synced.paths == [str(output.with_name("result.unsigned.pdf")), str(output.parent)]
