"""Scanner-style PDFs for the tests: each page one JPEG drawn full size, optionally an old text layer."""

from __future__ import annotations

import pikepdf


def helvetica() -> pikepdf.Dictionary:
    """A simple, not embedded Type 1 font (what old OCR layers often use)."""
    return pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)


def add_scan_page(pdf: pikepdf.Pdf, jpeg: bytes, width: int, height: int, *, dpi: int = 200,
                  text_ops: bytes | None = None, font: pikepdf.Dictionary | None = None) -> None:
    """Append a page showing ``jpeg`` (``width`` × ``height`` px at ``dpi``); ``text_ops`` run with font /F1."""
    image = pikepdf.Stream(pdf, jpeg, Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image, Width=width,
                           Height=height, ColorSpace=pikepdf.Name.DeviceRGB, BitsPerComponent=8,
                           Filter=pikepdf.Name.DCTDecode)
    w_pt, h_pt = width / dpi * 72, height / dpi * 72
    content = f"q {w_pt:.2f} 0 0 {h_pt:.2f} 0 0 cm /Im0 Do Q".encode()
    resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    if text_ops is not None:
        content += b" " + text_ops
        resources.Font = pikepdf.Dictionary(F1=font if font is not None else helvetica())
    page = pikepdf.Dictionary(Type=pikepdf.Name.Page, MediaBox=[0, 0, w_pt, h_pt], Resources=resources,
                              Contents=pikepdf.Stream(pdf, content))
    pdf.pages.append(pikepdf.Page(page))
