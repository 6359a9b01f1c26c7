"""Form filling after a signature: what certification and field locks allow, and form fields as shadows.

Why: a form field's widget is drawn over the page, so "filling a field" can also replace what the page
showed when it was signed (a shadow "replace" attack) when the widget lies over signed content. These
makers build a text field (over blank paper or over the page's dark block), sign with a chosen DocMDP
level or FieldMDP lock, and fill the field in a later incremental update, the way a PDF reader does:
the field's ``/V`` and a new normal appearance stream.
"""

from __future__ import annotations

import io

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import FieldMDPAction, FieldMDPSpec, MDPPerm, SigFieldSpec
from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata, PdfSigner

BLANK_RECT = (300, 700, 500, 730)  # empty paper near the top of the test page
OVER_CONTENT_RECT = (150, 400, 350, 440)  # over the dark block the test page draws


def _name(value: str) -> generic.NameObject:
    return generic.NameObject(value)


def _appearance(writer: IncrementalPdfFileWriter, rect: tuple[float, ...], text: str) -> generic.IndirectObject:
    width, height = rect[2] - rect[0], rect[3] - rect[1]
    body = f"1 g 0 0 {width} {height} re f BT /Helv 12 Tf 0 g 4 8 Td ({text}) Tj ET" if text else \
        f"1 g 0 0 {width} {height} re f"  # an opaque white box: the empty field hides what lies under it
    font = generic.DictionaryObject({_name("/Type"): _name("/Font"), _name("/Subtype"): _name("/Type1"),
                                     _name("/BaseFont"): _name("/Helvetica")})
    return writer.add_object(generic.StreamObject({
        _name("/Type"): _name("/XObject"), _name("/Subtype"): _name("/Form"),
        _name("/BBox"): generic.ArrayObject([generic.NumberObject(v) for v in (0, 0, width, height)]),
        _name("/Resources"): generic.DictionaryObject({_name("/Font"): generic.DictionaryObject({
            _name("/Helv"): font})}),
    }, stream_data=body.encode("latin-1")))


def with_text_field(data: bytes, rect: tuple[float, float, float, float], name: str = "HoTen") -> bytes:
    """Before signing: a text field (its widget merged into it) on page 1, empty, with an appearance."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    kids = writer.root["/Pages"]["/Kids"]
    page_ref = kids.raw_get(0)
    page = page_ref.get_object()
    field = writer.add_object(generic.DictionaryObject({
        _name("/Type"): _name("/Annot"), _name("/Subtype"): _name("/Widget"), _name("/FT"): _name("/Tx"),
        _name("/T"): generic.TextStringObject(name), _name("/F"): generic.NumberObject(4),
        _name("/Rect"): generic.ArrayObject([generic.NumberObject(v) for v in rect]), _name("/P"): page_ref,
        _name("/DA"): generic.TextStringObject("/Helv 12 Tf 0 g"),
        _name("/AP"): generic.DictionaryObject({_name("/N"): _appearance(writer, rect, "")}),
    }))
    page[_name("/Annots")] = generic.ArrayObject([field])
    writer.update_container(page)
    writer.root[_name("/AcroForm")] = generic.DictionaryObject({
        _name("/Fields"): generic.ArrayObject([field]),
        _name("/DA"): generic.TextStringObject("/Helv 12 Tf 0 g")})
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def sign_with(data: bytes, ident_signer: object, *, certify: MDPPerm | None = None,
              lock: list[str] | None = None) -> bytes:
    """Sign (invisibly) as a certification with ``certify`` or as an approval locking the ``lock`` fields."""
    spec = SigFieldSpec("Sig1", field_mdp_spec=FieldMDPSpec(FieldMDPAction.INCLUDE, lock)) if lock else None
    meta = PdfSignatureMetadata(field_name="Sig1", certify=certify is not None,
                                docmdp_permissions=certify or MDPPerm.FILL_FORMS)
    out = io.BytesIO()
    PdfSigner(meta, ident_signer, new_field_spec=spec).sign_pdf(  # type: ignore[arg-type]
        IncrementalPdfFileWriter(io.BytesIO(data), strict=False), output=out)
    return out.getvalue()


def fill(data: bytes, text: str, name: str = "HoTen") -> bytes:
    """After signing: the field's value and a new appearance showing it, as a reader application writes them."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    fields = writer.root["/AcroForm"]["/Fields"]
    ref = next(fields.raw_get(i) for i in range(len(fields)) if str(fields[i].get("/T")) == name)
    field = ref.get_object()
    rect = tuple(float(v) for v in field["/Rect"])
    field[_name("/V")] = generic.TextStringObject(text)
    field[_name("/AP")] = generic.DictionaryObject({_name("/N"): _appearance(writer, rect, text)})
    writer.mark_update(ref)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
