"""What signing reuses across documents, and what it no longer fsyncs (issue 14).

- the room reserved for a signature's CMS container is pyHanko's own estimate, remembered per key: the
  second signature gets the same room; a renewed key is estimated anew; a remembered room that is too
  small (a longer TSA token, planted here) is replaced by a new estimate and the signature still made;
- a signed *step file* (``step_file=True``) has its data fsynced but not its scratch folder; the gate
  that renames it into place fsyncs the output's folder after the output exists.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from sohoa.config.signing import SigningSettings
from sohoa.pipeline.job import _gate_signed
from sohoa.signing import reservation, sign_pdf
from sohoa.signing.keys import open_key
from tests.durability import Fsyncs
from tests.pki import TestPki
from tests.signing.checks import validate_all


def _room(path: Path) -> int:
    with path.open("rb") as stream:
        byte_range = PdfFileReader(stream, strict=False).embedded_regular_signatures[-1].byte_range
    return int(byte_range[2]) - int(byte_range[1]) - 2


def _key(settings: SigningSettings, profile: str, level: str) -> reservation.ReserveKey:
    name = settings.profiles[profile].key
    with open_key(name, settings.keys[name]) as key:
        return reservation.reserve_key(key, settings.digest, level, None)


def test_the_container_room_is_estimated_once_per_key(src_pdf: Path, tmp_path: Path, pki: TestPki,
                                                      signing_settings: SigningSettings) -> None:
    reservation.clear()
    sign_pdf(src_pdf, tmp_path / "1.pdf", profile="digitizer", settings=signing_settings, level="B-B")
    remembered = reservation.reserved(_key(signing_settings, "digitizer", "B-B"))
    assert remembered == _room(tmp_path / "1.pdf")
    sign_pdf(src_pdf, tmp_path / "2.pdf", profile="digitizer", settings=signing_settings, level="B-B")
    assert _room(tmp_path / "2.pdf") == remembered
    assert not validate_all(tmp_path / "2.pdf", pki, "B-B")

    renewed = signing_settings.model_copy(deep=True)  # the digitizer's key file now holds another certificate
    renewed.keys["digitizer"] = signing_settings.keys["ecdsa"]
    assert _key(renewed, "digitizer", "B-B") != _key(signing_settings, "digitizer", "B-B")
    sign_pdf(src_pdf, tmp_path / "3.pdf", profile="digitizer", settings=renewed, level="B-B")
    assert reservation.reserved(_key(renewed, "digitizer", "B-B")) == _room(tmp_path / "3.pdf") != remembered
    assert not validate_all(tmp_path / "3.pdf", pki, "B-B")


def test_a_remembered_room_that_is_too_small_is_estimated_again(src_pdf: Path, tmp_path: Path, pki: TestPki,
                                                                signing_settings: SigningSettings) -> None:
    reservation.clear()
    key = _key(signing_settings, "organization", "B-B")
    reservation._RESERVED[key] = 64  # a container never fits in 32 bytes
    sign_pdf(src_pdf, tmp_path / "out.pdf", profile="organization", settings=signing_settings, level="B-B")
    assert not validate_all(tmp_path / "out.pdf", pki, "B-B")
    assert reservation.reserved(key) == _room(tmp_path / "out.pdf") > 64


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch) -> Fsyncs:
    return Fsyncs(monkeypatch)


def test_a_signed_step_file_is_synced_and_the_output_folder_after_the_rename(
        src_pdf: Path, tmp_path: Path, signing_settings: SigningSettings, fsyncs: Fsyncs) -> None:
    scratch, out_dir = tmp_path / "scratch", tmp_path / "out"
    scratch.mkdir()
    out_dir.mkdir()
    output = fsyncs.watched = out_dir / "ho-so.pdf"
    sign_pdf(src_pdf, scratch / "signed-1.pdf", profile="digitizer", settings=signing_settings, step_file=True)
    signing = len(fsyncs.calls)
    _gate_signed(scratch / "signed-1.pdf", unsigned=src_pdf, output=output)
    synced = [path for path, _ in fsyncs.calls[:signing]]
    assert any(Path(p).parent == scratch and p.endswith(".part") for p in synced), "the signed data is fsynced"
    assert str(scratch) not in synced, "a step file's folder needs no fsync: it is renamed away"
    assert fsyncs.calls[signing:] == [(str(out_dir), True)], "the output's folder, after the rename"
    assert output.is_file() and not (scratch / "signed-1.pdf").exists()
