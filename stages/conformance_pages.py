"""PDF/A-2B clauses about what pages draw: content streams, annotations and fonts (ISO 19005-2 6.2.4.3 for
content operators, 6.2.11, 6.3, 6.5.2 for pages and annotations).

Why a module of its own: these checks walk each page's content and its form XObjects with the fonts
and graphics state in force, while ``stages.conformance`` checks the document's objects one by one;
the two share only the list of violations, the device colour spaces seen and the fonts found.
``check_pdfa`` in ``stages.conformance`` is the entry point.
"""

from __future__ import annotations

from typing import Protocol

import pikepdf

from sohoa.stages import textlayer

FORBIDDEN_ANNOTS = {"/3D", "/Sound", "/Screen", "/Movie"}
STANDARD_ENCODINGS = {"/WinAnsiEncoding", "/MacRomanEncoding", "/StandardEncoding", "/MacExpertEncoding"}
DEVICE_NEEDS = {"/DeviceRGB": 3, "/DeviceCMYK": 4, "/DeviceGray": 0}  # 0 = any output intent
OP_SPACES = {"rg": "/DeviceRGB", "RG": "/DeviceRGB", "k": "/DeviceCMYK", "K": "/DeviceCMYK",
             "g": "/DeviceGray", "G": "/DeviceGray"}
TEXT_SHOW = {"Tj", "TJ", "'", '"'}

FontKey = tuple[int, int]


class Add(Protocol):
    """How a check reports a violation (``_Checker.add`` in ``stages.conformance``)."""

    def __call__(self, clause: str, message: str, page: int | None = None) -> None: ...


def pdf_name(obj: object) -> str | None:
    """The name as text (``"/DeviceRGB"``), or None for anything that is not a PDF name."""
    return str(obj) if isinstance(obj, pikepdf.Name) else None


class PageChecks:
    """Pages, their annotations and content, then the fonts; reports through ``add``.

    ``device_seen`` (device colour space → first page using it) and ``fonts`` (every font dictionary of
    the file, collected by the object walk) are shared with the document checks.
    """

    def __init__(self, add: Add, device_seen: dict[str, int | None], fonts: dict[FontKey, pikepdf.Object]) -> None:
        self.add = add
        self._device_seen = device_seen
        self.fonts = fonts
        self._rendered_fonts: set[FontKey] = set()
        self._seen_forms: set[FontKey] = set()

    def check_page(self, page: pikepdf.Object, number: int) -> None:
        if "/AA" in page:
            self.add("6.5.2", "page has additional actions (/AA)", number)
        resources = page.get("/Resources")
        self.content(page, resources, number)
        annots = page.get("/Annots")
        for annot in annots if isinstance(annots, pikepdf.Array) else []:
            if isinstance(annot, pikepdf.Dictionary):
                self.check_annotation(annot, number)

    def check_annotation(self, annot: pikepdf.Object, page: int) -> None:
        subtype = str(annot.get("/Subtype", "?"))
        if subtype in FORBIDDEN_ANNOTS:
            self.add("6.3.1", f"{subtype[1:]} annotation is not allowed", page)
        if "/AA" in annot:
            self.add("6.5.2", f"{subtype[1:]} annotation has additional actions (/AA)", page)
        if subtype == "/Popup":
            return
        flags = int(annot.get("/F", 0))
        if "/F" not in annot or not flags & 4:
            self.add("6.3.2", f"{subtype[1:]} annotation is not marked for printing (/F Print flag)", page)
        if flags & (1 | 2 | 32 | 256):
            self.add("6.3.2", f"{subtype[1:]} annotation is hidden, invisible or NoView", page)
        if subtype == "/Link":
            return
        rect = [float(v) for v in annot.get("/Rect", [0, 0, 0, 0])]
        empty = len(rect) == 4 and rect[0] == rect[2] and rect[1] == rect[3]
        ap = annot.get("/AP")
        if not isinstance(ap, pikepdf.Dictionary):
            if not empty:
                self.add("6.3.3", f"{subtype[1:]} annotation has no appearance stream", page)
            return
        if set(ap.keys()) != {"/N"}:
            self.add("6.3.3", f"{subtype[1:]} appearance dictionary has keys other than /N", page)
        normal = ap.get("/N")
        is_button = subtype == "/Widget" and annot.get("/FT", annot.get("/Parent", {}).get("/FT")) == "/Btn"
        if is_button and not isinstance(normal, pikepdf.Dictionary):
            self.add("6.3.3", "button widget /N appearance is not a sub-dictionary", page)
        if not is_button and not isinstance(normal, pikepdf.Stream):
            self.add("6.3.3", f"{subtype[1:]} /N appearance is not a stream", page)
        streams = [normal] if isinstance(normal, pikepdf.Stream) else (
            [v for v in normal.values() if isinstance(v, pikepdf.Stream)] if isinstance(normal, pikepdf.Dictionary)
            else [])
        for stream in streams:
            self.form(stream, None, page)

    def form(self, stream: pikepdf.Stream, inherited: pikepdf.Object | None, page: int) -> None:
        if stream.objgen in self._seen_forms:
            return
        self._seen_forms.add(stream.objgen)
        self.content(stream, stream.get("/Resources", inherited), page)

    def content(self, holder: pikepdf.Object, resources: pikepdf.Object | None, page: int) -> None:
        """Fonts used for rendering, device colour operators and inline images of one content stream."""
        try:
            instructions = pikepdf.parse_content_stream(holder)
        except pikepdf.PdfError as exc:
            self.add("6.2.2", f"content stream cannot be parsed: {exc}", page)
            return
        fonts = resources.get("/Font") if isinstance(resources, pikepdf.Dictionary) else None
        xobjects = resources.get("/XObject") if isinstance(resources, pikepdf.Dictionary) else None
        stack: list[tuple[int, str | None]] = []
        mode, font = 0, None
        for inst in instructions:
            if isinstance(inst, pikepdf.ContentStreamInlineImage):
                names = {str(f) for f in inst.iimage.filters}
                if names & {"/LZW", "/LZWDecode"}:
                    self.add("6.1.7.2", "inline image uses LZW", page)
                continue
            op, operands = str(inst.operator), inst.operands
            if op == "q":
                stack.append((mode, font))
            elif op == "Q" and stack:
                mode, font = stack.pop()
            elif op == "Tr" and operands:
                mode = int(operands[0])
            elif op == "Tf" and operands:
                font = str(operands[0])
            elif op in TEXT_SHOW and mode != 3 and font and isinstance(fonts, pikepdf.Dictionary):
                used = fonts.get(font)
                if isinstance(used, pikepdf.Dictionary):
                    self._rendered_fonts.add(used.objgen)
                    self.check_embedded(used, page)
            elif op in OP_SPACES:
                self._device_seen.setdefault(OP_SPACES[op], page)
            elif op in ("cs", "CS") and operands and pdf_name(operands[0]) in DEVICE_NEEDS:
                self._device_seen.setdefault(str(operands[0]), page)
            elif op == "Do" and operands and isinstance(xobjects, pikepdf.Dictionary):
                target = xobjects.get(str(operands[0]))
                if isinstance(target, pikepdf.Stream) and target.get("/Subtype") == pikepdf.Name.Form:
                    self.form(target, resources, page)

    def check_embedded(self, font: pikepdf.Object, page: int) -> None:
        if font.get("/Subtype") == pikepdf.Name.Type3:
            return
        target = font
        if font.get("/Subtype") == pikepdf.Name.Type0:
            descendants = font.get("/DescendantFonts")
            target = descendants[0] if isinstance(descendants, pikepdf.Array) and len(descendants) else font
        descriptor = target.get("/FontDescriptor")
        if not (isinstance(descriptor, pikepdf.Dictionary)
                and any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))):
            self.add("6.2.11.4.1", f"font {font.get('/BaseFont', '?')} is used for visible text but not embedded",
                     page)

    def check_fonts(self) -> None:
        for font in self.fonts.values():
            subtype = font.get("/Subtype")
            base = str(font.get("/BaseFont", "?"))
            if subtype in (pikepdf.Name.CIDFontType0, pikepdf.Name.CIDFontType2):
                if subtype == pikepdf.Name.CIDFontType2 and "/CIDToGIDMap" not in font \
                        and "/FontFile2" in font.get("/FontDescriptor", {}):
                    self.add("6.2.11.3.2", f"CIDFontType2 {base} has no /CIDToGIDMap")
                problem = textlayer.cid_width_problem(font)
            else:
                encoding = font.get("/Encoding")
                standard = pdf_name(encoding) in STANDARD_ENCODINGS or (
                    subtype == pikepdf.Name.Type0 and pdf_name(encoding) not in (None, "/Identity-H", "/Identity-V"))
                if "/ToUnicode" not in font and not standard and subtype != pikepdf.Name.Type3:
                    self.add("6.2.11.7.2", f"font {base} has neither /ToUnicode nor a standard encoding")
                problem = textlayer.simple_width_problem(font) if subtype == pikepdf.Name.TrueType else None
            if problem:
                self.add("6.2.11.5", f"font {base}: {problem}")
