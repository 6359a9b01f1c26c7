"""Changes made after signing by a tool other than the signer: the legitimate ones and a full rewrite.

Why: real files are rarely left as their signer wrote them. An archive adds LTV data and a document
timestamp (pyHanko's ``ltvfix`` logic, ``add_validation_info``), a reader adds a sticky note, a second
office fills a form field and signs too, a careless tool appends the DSS twice, and a "PDF optimiser"
(qpdf) rewrites the whole file, which breaks every signature's byte ranges. Every function takes the
file's bytes and returns the changed bytes.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import pikepdf
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.signers.pdf_signer import PdfTimeStamper
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.validation import add_validation_info
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator import ValidationContext

from tests.pki import TestPki
from tests.verify.makers import add_annotation
from tests.verify.producers.base import run_tool
from tests.verify.producers.increment import append_increment, stream

__all__ = ["add_annotation", "add_text_field", "doc_timestamp", "dss", "dss_twice", "fill_text_field", "ltv_fix",
           "qpdf_rewrite"]

TEXT_FIELD = "HoTen"


def ltv_fix(data: bytes, pki: TestPki, *, timestamp: bool = False) -> bytes:
    """pyHanko's ``ltvfix``: fetch OCSP/CRLs for the last signature's chain (``timestamp``: the last document
    timestamp's) and append them as a DSS."""
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    sig = (reader.embedded_timestamp_signatures if timestamp else reader.embedded_regular_signatures)[-1]
    context = ValidationContext(trust_roots=[asn1_x509.Certificate.load(pki.root.cert_der)],
                                other_certs=[asn1_x509.Certificate.load(pki.intermediate.cert_der)],
                                allow_fetching=True)
    out = io.BytesIO()
    add_validation_info(sig, context, skip_timestamp=True, add_vri_entry=False, output=out)
    return out.getvalue()


def doc_timestamp(data: bytes, tsa_url: str) -> bytes:
    """A PAdES document timestamp (``/DocTimeStamp``) from the test TSA, as an archive adds it."""
    out = io.BytesIO()
    PdfTimeStamper(HTTPTimeStamper(tsa_url)).timestamp_pdf(
        IncrementalPdfFileWriter(io.BytesIO(data), strict=False), "sha256", None, output=out)
    return out.getvalue()


def dss(data: bytes, pki: TestPki) -> bytes:
    """Append a DSS with the chain and the CAs' current CRLs (no VRI), one incremental update."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    certs = [asn1_x509.Certificate.load(i.cert_der) for i in (pki.intermediate, pki.root)]
    crls = [asn1_crl.CertificateList.load(pki.crls[name]) for name in ("root", "intermediate")]
    DocumentSecurityStore.supply_dss_in_writer(writer, None, certs=certs, crls=crls)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def dss_twice(data: bytes, pki: TestPki) -> bytes:
    """The DSS appended by two separate updates (the second repeats and extends the first)."""
    return dss(dss(data, pki), pki)


def add_text_field(data: bytes, name: str = TEXT_FIELD) -> bytes:
    """Before signing: an empty text field on page 1 (full rewrite with pikepdf; the file is not signed yet)."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[0]
        appearance = pdf.make_stream(b"/Tx BMC EMC", Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form,
                                     BBox=[0, 0, 200, 20])
        helv = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                                                    BaseFont=pikepdf.Name.Helvetica))
        field = pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Widget, FT=pikepdf.Name.Tx, T=pikepdf.String(name),
            V=pikepdf.String(""), DA=pikepdf.String("/Helv 10 Tf 0 g"), Rect=[60, 760, 260, 780], F=4,
            P=page.obj, AP=pikepdf.Dictionary(N=appearance)))
        page.obj.Annots = pdf.make_indirect(pikepdf.Array([field])) if "/Annots" not in page.obj else page.obj.Annots
        if field not in list(page.obj.Annots):
            page.obj.Annots.append(field)
        pdf.Root.AcroForm = pikepdf.Dictionary(Fields=[field], DA=pikepdf.String("/Helv 10 Tf 0 g"),
                                               DR=pikepdf.Dictionary(Font=pikepdf.Dictionary(Helv=helv)))
        out = io.BytesIO()
        pdf.save(out, static_id=True)
        return out.getvalue()


def fill_text_field(data: bytes, value: str = "Nguyen Van A", name: str = TEXT_FIELD) -> bytes:
    """After signing: set the text field's /V and a new appearance stream, in one incremental update."""
    size = int(pikepdf.open(io.BytesIO(data)).trailer.Size)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        field = next(f for f in pdf.Root.AcroForm.Fields if str(f.get("/T")) == name)
        ref = field.objgen
        font = pdf.Root.AcroForm.DR.Font.Helv.objgen
        rest = pikepdf.Dictionary({k: v for k, v in field.items() if k not in ("/V", "/AP")})
        body = (rest.unparse()[:-2] + b" /V " + pikepdf.String(value).unparse()
                + f" /AP << /N {size} 0 R >> >>".encode())
    text = value.encode("latin-1").replace(b"(", b"\\(").replace(b")", b"\\)")
    ap = stream(b"/Tx BMC q BT /Helv 10 Tf 0 g 2 6 Td (" + text + b") Tj ET Q EMC",
                b" /Type /XObject /Subtype /Form /BBox [0 0 200 20] /Resources << /Font << /Helv "
                + f"{font[0]} {font[1]} R".encode() + b" >> >>")
    return append_increment(data, {ref: body, (size, 0): ap})


def qpdf_rewrite(data: bytes) -> bytes:
    """qpdf rewrites the whole file (object streams, new xref): no signature's byte range survives."""
    with tempfile.TemporaryDirectory(prefix="sohoa-qpdf-") as tmp:
        src, dst = Path(tmp) / "in.pdf", Path(tmp) / "out.pdf"
        src.write_bytes(data)
        try:
            run_tool(["qpdf", "--object-streams=generate", "--deterministic-id", str(src), str(dst)])
        except RuntimeError as exc:
            if "exit status 3" not in str(exc) and "(3)" not in str(exc):  # 3: warnings, output written
                raise
        return dst.read_bytes()
