"""The pyHanko seams (signing/pyhanko_compat.py): fails when an upgrade moves a private API or fixes a quirk.

Each quirk test reproduces the upstream behaviour a workaround exists for. When one of them fails after
a pyHanko upgrade, the quirk is gone: remove the workaround (and this test) rather than adjust it.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import io
import tomllib
from pathlib import Path

import pikepdf
import pytest
from cryptography.hazmat.primitives.serialization import pkcs12
from fontTools.ttLib import TTFont
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import PdfFileWriter
from pyhanko.sign.signers import pdf_cms

from sohoa.common.errors import MissingDependency
from sohoa.signing import pyhanko_compat
from sohoa.signing.pyhanko_compat import TESTED, InMemoryKeySigner, PdfaIncrementalWriter, pdf_ready_font
from sohoa.stages.conformance import check_pdfa
from tests.pki import TestPki

ROOT = Path(__file__).resolve().parents[2]
FONT = Path("/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf")  # 2048 units per em


def test_pyproject_pins_the_tested_range_and_it_is_installed() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    for tested in TESTED:
        pinned = [d for d in deps if d.split("[")[0].split(">")[0] == tested.package]
        assert pinned and pinned[0].endswith(f">={tested.low},<{tested.high}"), (tested, pinned)
    assert pyhanko_compat.untested_versions() == []


def test_an_untested_pyhanko_is_refused_with_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "0.40.1" if name == "pyhanko" else real(name))
    pyhanko_compat.require_tested_pyhanko.cache_clear()
    try:
        with pytest.raises(MissingDependency) as info:
            pyhanko_compat.require_tested_pyhanko()
    finally:
        pyhanko_compat.require_tested_pyhanko.cache_clear()
    message = info.value.message("en")
    assert "pyhanko 0.40.1" in message and "-m pip install 'pyhanko>=0.38,<0.39'" in message, message
    assert info.value.exit_code == 4


def test_the_private_metadata_hook_still_exists_as_we_override_it(pdfa_bytes: bytes) -> None:
    hook = getattr(IncrementalPdfFileWriter, "_update_meta", None)
    assert callable(hook), "pyHanko renamed or removed IncrementalPdfFileWriter._update_meta"
    assert list(inspect.signature(hook).parameters) == ["self"], inspect.signature(hook)
    assert "self._update_meta()" in inspect.getsource(PdfFileWriter._prep_dom_for_writing), \
        "pyHanko no longer calls _update_meta before writing"
    writer = IncrementalPdfFileWriter(io.BytesIO(pdfa_bytes), strict=False)
    assert hasattr(writer, "_info"), "pyHanko no longer keeps the Info dictionary in ._info"


def _update(writer_class: type[IncrementalPdfFileWriter], data: bytes) -> bytes:
    writer = writer_class(io.BytesIO(data), strict=False)
    writer.add_object(generic.DictionaryObject())  # any incremental update
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_the_producer_quirk_still_reproduces_and_the_writer_fixes_it(pdfa_bytes: bytes) -> None:
    def producers(data: bytes) -> tuple[str, str]:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            return str(pdf.docinfo["/Producer"]), str(pdf.open_metadata()["pdf:Producer"])

    info, xmp = producers(_update(IncrementalPdfFileWriter, pdfa_bytes))
    assert info != xmp, "pyHanko now keeps Info /Producer and XMP pdf:Producer equal: drop PdfaIncrementalWriter"
    assert any(v.clause == "6.6.3" for v in check_pdfa(_update(IncrementalPdfFileWriter, pdfa_bytes)))
    fixed = _update(PdfaIncrementalWriter, pdfa_bytes)
    assert producers(fixed)[0] == producers(fixed)[1] and check_pdfa(fixed) == []


def _stamp_width_of_h(font: Path) -> int:
    engine = GlyphAccumulatorFactory(str(font)).create_font_engine(PdfFileWriter())
    engine.shape("H")
    engine.prepare_write()
    cid_font = engine.as_resource().get_object()["/DescendantFonts"][0].get_object()
    return int(cid_font["/W"][1][0])


def test_the_widths_quirk_still_reproduces_and_the_rescaled_font_fixes_it() -> None:
    with TTFont(str(FONT), lazy=True) as font:
        units, advance = int(font["head"].unitsPerEm), font["hmtx"]["H"][0]
    assert units == 2048
    assert _stamp_width_of_h(FONT) == advance, \
        "pyHanko now writes /W in thousandths of an em: drop pdf_ready_font"
    assert _stamp_width_of_h(pdf_ready_font(FONT)) == round(advance * 1000 / units)


def test_simple_signer_still_parses_its_key_for_every_signature(pki: TestPki,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    signer_files = pki.signer("digitizer")
    key, _cert, _chain = pkcs12.load_key_and_certificates(
        signer_files.p12.read_bytes(), signer_files.p12_password.encode())
    plain = pdf_cms.SimpleSigner.load_pkcs12(str(signer_files.p12), passphrase=signer_files.p12_password.encode())
    assert plain is not None
    ours = InMemoryKeySigner(key, signing_cert=plain.signing_cert, signing_key=plain.signing_key,
                             cert_registry=plain.cert_registry)
    parsed: list[int] = []
    real = pdf_cms.serialization.load_der_private_key
    monkeypatch.setattr(pdf_cms.serialization, "load_der_private_key",
                        lambda *a, **k: parsed.append(1) or real(*a, **k))
    plain.sign_raw(b"a", "sha256")
    plain.sign_raw(b"b", "sha256")
    assert len(parsed) == 2, "SimpleSigner keeps its parsed key now: drop InMemoryKeySigner"
    assert ours.sign_raw(b"a", "sha256") == plain.sign_raw(b"a", "sha256") and len(parsed) == 3, \
        "our signer must sign alike without parsing the key again"
