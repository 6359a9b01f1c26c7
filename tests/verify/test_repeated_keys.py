"""A catalog that defines /AcroForm twice is malformed, whoever wrote it (``signing/verify/ambiguity.py``).

The held-out producer case (@signpdf after pdfsignerpy) found it; this tuning-side case is made here:
one of our own signed files, then an update that writes the catalog again with all its keys and one
more ``/AcroForm`` naming an empty form. pyHanko keeps the first form and sees the signature as it was;
qpdf keeps the last and sees no signature at all.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pikepdf

from sohoa.config.signing import SigningSettings
from sohoa.signing.pdfinput import read_pdf
from sohoa.signing.verify import verify
from sohoa.signing.verify.ambiguity import repeated_keys


def _with_a_second_form(data: bytes) -> bytes:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        root = pdf.trailer.Root
        number, generation = root.objgen
        catalog = root.unparse(resolved=True)  # the dictionary itself, its values as references
        size = int(pdf.trailer.Size)
    startxref = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    body = catalog.rstrip()[:-2] + b" /AcroForm << /Fields [ ] >> >>"
    offset = len(data) + 1
    update = b"\n%d %d obj\n%s\nendobj\n" % (number, generation, body)
    xref = len(data) + len(update)
    update += (b"xref\n0 1\n0000000000 65535 f \n%d 1\n%010d %05d n \n" % (number, offset, generation)
               + b"trailer\n<< /Size %d /Root %d %d R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n"
               % (size, number, generation, startxref, xref))
    return data + update


def test_a_catalog_with_two_forms_fails_every_signature_as_malformed(
        case: Callable[[str], Path], signing_settings: SigningSettings, tmp_path: Path) -> None:
    source = case("b-b")
    doubled = tmp_path / "hai-bieu-mau.pdf"
    doubled.write_bytes(_with_a_second_form(source.read_bytes()))
    with pikepdf.open(doubled) as pdf:
        assert list(pdf.Root.AcroForm.Fields) == [], "qpdf should read the last /AcroForm (the empty one)"
    _data, reader = read_pdf(doubled)
    last = reader.xrefs.total_revisions - 1  # the update made here
    assert [(key, revision) for key, _offset, revision in repeated_keys(reader)] == [("/AcroForm", last)]
    report = verify(doubled, signing_settings, offline=True, lang="en")
    assert (report.indication, report.sub_indication) == ("TOTAL-FAILED", "FORMAT_FAILURE"), report.reasons
    assert report.signatures and all(s.reasons[0].code == "repeated_key" for s in report.signatures)
    assert "/AcroForm twice" in report.reasons[0].text("en")
    _data, plain = read_pdf(source)
    assert repeated_keys(plain) == [], "the file before the update has no repeated key"
