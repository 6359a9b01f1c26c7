"""Our own PDF/A-2B conformance check, for our output and for it after (incremental) signing.

Why our own: veraPDF needs a JVM we do not ship, and we must re-check every file after pyHanko has
appended its signature (a visible stamp with a non-embedded font, or an XMP rewrite, silently breaks
PDF/A). This is not a full validator: it checks the clauses that our pipeline, scanners' PDFs and
signers can actually get wrong. ``check_pdfa`` returns ``[]`` for a conforming file.

=================  ==========================================================================
ISO 19005-2        What is checked
=================  ==========================================================================
6.1.2              header ``%PDF-1.n`` at byte 0, then a comment with >= 4 bytes > 127
6.1.3              trailer ``/ID`` (two strings); no ``/Encrypt``; nothing but an EOL after the
                   last ``%%EOF`` (incremental updates included)
6.1.4              cross-reference data readable without repair (qpdf warnings)
6.1.13             page MediaBox: four numbers, 3 to 14,400 units a side (implementation limits)
6.1.7.1            no stream with ``/F``, ``/FFilter`` or ``/FDecodeParms`` (external streams)
6.1.7.2            no ``LZWDecode`` (streams and inline images), no ``Crypt`` filter
6.2.3              one GTS_PDFA1 output intent profile; valid ICC header (v2/v4, allowed
                   class, ``/N`` matching the profile's colour space)
6.2.4.2            ICCBased colour spaces: ``/N`` matches the embedded profile
6.2.4.3            DeviceRGB / DeviceCMYK / DeviceGray (images, content operators, transparency
                   groups) only when consistent with the output intent
6.2.5              ExtGState: no ``/TR``, ``/TR2`` only ``/Default``, no ``/HTP``, no ``/HTO``
6.2.8              images: no ``/Alternates``, no ``/OPI``, ``/Interpolate`` not true
6.2.9              form XObjects: no ``/OPI``, no ``/Subtype2 /PS``, no ``/Ref``; no PostScript XObjects
6.2.10             transparency: blend modes are standard ones
6.2.11.3.2         CIDFontType2 fonts have a ``/CIDToGIDMap`` (Identity or stream)
6.2.11.4.1         every font used with a rendering mode other than 3 is embedded
                   (FontFile/FontFile2/FontFile3; Type 3 fonts exempt)
6.2.11.5           widths in the font dictionary match the embedded TrueType program
                   (spot-check of up to 16 glyphs per font; CIDFontType2 and simple TrueType)
6.2.11.7.2         every font has ``/ToUnicode`` or a standard encoding (a level U rule; sohoa
                   policy so that search and copy/paste of Vietnamese work)
6.3.1              no 3D, Sound, Screen, Movie annotations
6.3.2              annotation ``/F``: Print set; Hidden, Invisible, NoView, ToggleNoView clear
6.3.3              appearance dictionary with only ``/N`` for annotations with a non-empty
                   Rect (signature widgets included); Btn widgets use a sub-dictionary
6.4.1              AcroForm ``/NeedAppearances`` not true; no ``/XFA``
6.5.1              no Launch, Sound, Movie, ResetForm, ImportData, Hide, SetOCGState,
                   Rendition, Trans, GoTo3DView or JavaScript actions; Named actions limited
                   to Next/Prev/First/LastPage; no JavaScript name tree
6.5.2              no ``/AA`` on the catalog, pages or annotations
6.6.2.1            catalog ``/Metadata`` XMP stream, unfiltered, well-formed, xpacket header
                   without ``bytes``/``encoding``
6.6.2.3.1          properties outside the predefined schemas are declared in
                   ``pdfaExtension:schemas``
6.6.3              Info entries (Title, Author, Subject, Keywords, Creator, Producer,
                   CreationDate, ModDate) equivalent to their XMP properties
6.6.4              ``pdfaid:part`` = 2 and ``pdfaid:conformance`` in A/B/U
6.8                no embedded files (sohoa policy; PDF/A-2 would allow PDF/A attachments)
=================  ==========================================================================

Not checked: implementation limits (6.1.13) other than the page size, optional content, halftone types,
Separation/DeviceN details, CMap embedding, non-TrueType width checks, predefined-schema property names.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pikepdf

from sohoa.stages import pdfa
from sohoa.stages.conformance_pages import DEVICE_NEEDS, FontKey, PageChecks, pdf_name

__all__ = ["Violation", "check_pdfa"]


@dataclass
class Violation:
    clause: str
    message: str
    page: int | None = None

    def __str__(self) -> str:
        where = f" (page {self.page})" if self.page else ""
        return f"{self.clause}: {self.message}{where}"


FORBIDDEN_ACTIONS = {"/Launch", "/Sound", "/Movie", "/ResetForm", "/ImportData", "/Hide", "/SetOCGState",
                     "/Rendition", "/Trans", "/GoTo3DView", "/JavaScript"}
ALLOWED_NAMED = {"/NextPage", "/PrevPage", "/FirstPage", "/LastPage"}
BLEND_MODES = {"/Normal", "/Compatible", "/Multiply", "/Screen", "/Overlay", "/Darken", "/Lighten",
               "/ColorDodge", "/ColorBurn", "/HardLight", "/SoftLight", "/Difference", "/Exclusion",
               "/Hue", "/Saturation", "/Color", "/Luminosity"}
_HEADER = re.compile(rb"%PDF-1\.[0-7](\r\n|\r|\n)")


def check_pdfa(source: str | Path | bytes | pikepdf.Pdf) -> list[Violation]:
    """Violations of the PDF/A-2B clauses listed in the module docstring; ``[]`` = conforming.

    With a ``pikepdf.Pdf`` the byte-level checks (6.1.2, end of file) run only if it was opened from a
    file that still exists.
    """
    # Only the head and the tail of the file matter to the byte-level checks; a 200-page output is never
    # read into memory whole, and pikepdf streams the file instead of mapping it.
    ends: tuple[bytes, bytes] | None
    if isinstance(source, pikepdf.Pdf):
        pdf = source
        name = Path(source.filename) if source.filename else None
        ends = _file_ends(name) if name and name.is_file() else None
    elif isinstance(source, bytes):
        ends = (source[:_HEAD_BYTES], source[-_TAIL_BYTES:])
        try:
            pdf = pikepdf.open(io.BytesIO(source))
        except pikepdf.PasswordError:
            return [Violation("6.1.3", "file is encrypted (password required)")]
    else:
        ends = _file_ends(Path(source))
        try:
            pdf = pikepdf.open(source, access_mode=pikepdf.AccessMode.stream)
        except pikepdf.PasswordError:
            return [Violation("6.1.3", "file is encrypted (password required)")]
    checker = _Checker(pdf)
    if ends is not None:
        checker.check_bytes(*ends)
    checker.run()
    if not isinstance(source, pikepdf.Pdf):
        pdf.close()
    return checker.violations


_HEAD_BYTES = 64
_TAIL_BYTES = 4096


def _file_ends(path: Path) -> tuple[bytes, bytes]:
    with path.open("rb") as handle:
        head = handle.read(_HEAD_BYTES)
        handle.seek(0, io.SEEK_END)
        handle.seek(max(0, handle.tell() - _TAIL_BYTES))
        return head, handle.read()


def _flag(obj: pikepdf.Object, key: str) -> bool:
    value = obj.get(key)
    return isinstance(value, bool) and value


def _filters(d: pikepdf.Object) -> list[str]:
    value = d.get("/Filter")
    if value is None:
        return []
    items = value if isinstance(value, pikepdf.Array) else [value]
    return [str(v) for v in items if isinstance(v, pikepdf.Name)]


class _Checker:
    def __init__(self, pdf: pikepdf.Pdf) -> None:
        self.pdf = pdf
        self.violations: list[Violation] = []
        self.oi_components: int | None = None
        self.fonts: dict[FontKey, pikepdf.Object] = {}
        self._device_seen: dict[str, int | None] = {}
        self.pages = PageChecks(self.add, self._device_seen, self.fonts)

    def add(self, clause: str, message: str, page: int | None = None) -> None:
        violation = Violation(clause, message, page)
        if all((v.clause, v.message, v.page) != (clause, message, page) for v in self.violations):
            self.violations.append(violation)

    # -- bytes and trailer ------------------------------------------------------------------------

    def check_bytes(self, head: bytes, tail: bytes) -> None:
        match = _HEADER.match(head)
        if not match:
            self.add("6.1.2", "file does not start with '%PDF-1.n' and an end-of-line")
        else:
            comment = head[match.end():match.end() + 5]
            if not (comment[:1] == b"%" and len(comment) == 5 and all(b > 127 for b in comment[1:])):
                self.add("6.1.2", "header is not followed by a binary comment (4 bytes above 127)")
        end = tail.rfind(b"%%EOF")
        if end < 0:
            self.add("6.1.3", "no %%EOF marker near the end of the file")
        elif tail[end + 5:] not in (b"", b"\n", b"\r", b"\r\n"):
            self.add("6.1.3", f"{len(tail) - end - 5} bytes of data after the last %%EOF")

    def run(self) -> None:
        pdf = self.pdf
        for warning in pdf.get_warnings():
            if "reported number of objects" not in warning:  # a /Size larger than needed is harmless
                self.add("6.1.4", f"file structure needed repair: {warning}")
        file_id = pdf.trailer.get("/ID")
        if not (isinstance(file_id, pikepdf.Array) and len(file_id) == 2
                and all(isinstance(x, pikepdf.String) for x in file_id)):
            self.add("6.1.3", "trailer has no valid /ID")
        if "/Encrypt" in pdf.trailer or pdf.is_encrypted:
            self.add("6.1.3", "file is encrypted (/Encrypt in trailer)")
        self.check_catalog()
        self.check_output_intent()
        for obj in pdf.objects:
            self.walk(obj)
        for number, page in enumerate(pdf.pages, 1):
            self.check_page_box(page.obj, number)
            self.pages.check_page(page.obj, number)
        self.pages.check_fonts()
        for space, page_no in self._device_seen.items():
            need = DEVICE_NEEDS[space]
            if self.oi_components is None or (need and need != self.oi_components):
                intent = "none" if self.oi_components is None else f"{self.oi_components} components"
                self.add("6.2.4.3", f"{space[1:]} used but the PDF/A output intent is {intent}", page_no)
        for clause, message in pdfa.metadata_problems(pdf):
            self.add(clause, message)

    def check_page_box(self, page: pikepdf.Object, number: int) -> None:
        """6.1.13 / ISO 32000-1 Annex C: a page box is 4 numbers, 3 to 14,400 units a side.

        Why: a 1x1-pixel image once became a 0x0 MediaBox that this check let through.
        """
        box = page.get("/MediaBox")
        try:
            values = [float(v) for v in box] if isinstance(box, pikepdf.Array) else []
        except (TypeError, ValueError):
            values = []
        if len(values) != 4:
            self.add("6.1.13", "page has no valid /MediaBox (four numbers)", number)
            return
        width, height = abs(values[2] - values[0]), abs(values[3] - values[1])
        if not (3 <= width <= 14400 and 3 <= height <= 14400):
            self.add("6.1.13", f"page size {width:g} x {height:g} is outside 3..14400 units", number)

    def check_catalog(self) -> None:
        root = self.pdf.Root
        if "/AA" in root:
            self.add("6.5.2", "document catalog has additional actions (/AA)")
        names = root.get("/Names")
        if isinstance(names, pikepdf.Dictionary):
            if "/JavaScript" in names:
                self.add("6.5.1", "document has a JavaScript name tree")
            if "/EmbeddedFiles" in names:
                self.add("6.8", "document has embedded files")
        form = root.get("/AcroForm")
        if isinstance(form, pikepdf.Dictionary):
            if _flag(form, "/NeedAppearances"):
                self.add("6.4.1", "AcroForm /NeedAppearances is true")
            if "/XFA" in form:
                self.add("6.4.1", "AcroForm contains XFA")

    def check_output_intent(self) -> None:
        intents = self.pdf.Root.get("/OutputIntents")
        profiles = []
        for intent in intents if isinstance(intents, pikepdf.Array) else []:
            if isinstance(intent, pikepdf.Dictionary) and intent.get("/S") == pikepdf.Name.GTS_PDFA1:
                profiles.append(intent.get("/DestOutputProfile"))
        if not profiles:
            self.add("6.2.3", "no GTS_PDFA1 output intent")
            return
        if len({p.objgen if isinstance(p, pikepdf.Stream) else None for p in profiles}) > 1:
            self.add("6.2.3", "several GTS_PDFA1 output intents with different profiles")
        profile = profiles[0]
        if not isinstance(profile, pikepdf.Stream):
            self.add("6.2.3", "output intent has no DestOutputProfile stream")
            return
        n = profile.get("/N")
        problem = pdfa.icc_header_problem(profile.read_bytes(), int(n) if isinstance(n, int) else None)
        if problem or not isinstance(n, int):
            self.add("6.2.3", f"output intent profile: {problem or '/N missing'}")
            return
        self.oi_components = int(n)

    # -- every object ----------------------------------------------------------------------------

    def walk(self, obj: pikepdf.Object, depth: int = 0) -> None:
        """Visit ``obj`` and its direct children (indirect ones are visited on their own)."""
        if depth > 64:
            return
        if isinstance(obj, pikepdf.Stream):
            self.check_stream(obj)
            self.check_dict(obj)
            children: Iterator[pikepdf.Object] = iter(obj.stream_dict.values())
        elif isinstance(obj, pikepdf.Dictionary):
            self.check_dict(obj)
            children = iter(obj.values())
        elif isinstance(obj, pikepdf.Array):
            children = iter(obj)
        else:
            return
        for child in children:
            if isinstance(child, (pikepdf.Dictionary, pikepdf.Array, pikepdf.Stream)) and not child.is_indirect:
                self.walk(child, depth + 1)

    def check_stream(self, stream: pikepdf.Stream) -> None:
        for key in ("/F", "/FFilter", "/FDecodeParms"):
            if key in stream.stream_dict:
                self.add("6.1.7.1", f"stream {stream.objgen} refers to external data ({key})")
        for name in _filters(stream):
            if name == "/LZWDecode":
                self.add("6.1.7.2", f"stream {stream.objgen} uses LZWDecode")
            elif name == "/Crypt":
                self.add("6.1.7.2", f"stream {stream.objgen} uses the Crypt filter")

    def check_dict(self, d: pikepdf.Object) -> None:
        kind, subtype = d.get("/Type"), d.get("/Subtype")
        action = pdf_name(d.get("/S"))
        if action in FORBIDDEN_ACTIONS and ("/Type" not in d or kind == pikepdf.Name.Action):
            self.add("6.5.1", f"forbidden action {action[1:]}")
        if action == "/Named" and pdf_name(d.get("/N")) not in ALLOWED_NAMED:
            self.add("6.5.1", f"named action {d.get('/N')} is not allowed")
        if subtype == pikepdf.Name.Image:
            for key in ("/Alternates", "/OPI"):
                if key in d:
                    self.add("6.2.8", f"image has {key}")
            if _flag(d, "/Interpolate"):
                self.add("6.2.8", "image has /Interpolate true")
            if "/ColorSpace" in d:
                self.colour_space(d.ColorSpace, None)
        elif subtype == pikepdf.Name.Form:
            if "/OPI" in d:
                self.add("6.2.9", "form XObject has /OPI")
            if d.get("/Subtype2") == pikepdf.Name.PS:
                self.add("6.2.9", "PostScript form XObject")
            if "/Ref" in d:
                self.add("6.2.9", "reference XObject (/Ref)")
        elif subtype == pikepdf.Name.PS and kind == pikepdf.Name.XObject:
            self.add("6.2.9", "PostScript XObject")
        if kind == pikepdf.Name.ExtGState or "/TR" in d or "/HTP" in d:
            self.check_gstate(d)
        group = d.get("/Group")
        if isinstance(group, pikepdf.Dictionary) and "/CS" in group:
            self.colour_space(group.CS, None)
        if kind == pikepdf.Name.Font and subtype is not None:
            self.fonts[d.objgen if d.is_indirect else (id(d), -1)] = d

    def check_gstate(self, d: pikepdf.Object) -> None:
        if "/TR" in d:
            self.add("6.2.5", "graphics state has a transfer function (/TR)")
        if "/TR2" in d and d.TR2 != pikepdf.Name.Default:
            self.add("6.2.5", "graphics state /TR2 is not /Default")
        for key in ("/HTP", "/HTO"):
            if key in d:
                self.add("6.2.5", f"graphics state has {key}")
        modes = d.get("/BM")
        for mode in modes if isinstance(modes, pikepdf.Array) else [modes] if modes is not None else []:
            if str(mode) not in BLEND_MODES:
                self.add("6.2.10", f"non-standard blend mode {mode}")

    def colour_space(self, cs: pikepdf.Object, page: int | None) -> None:
        name = pdf_name(cs)
        if name in DEVICE_NEEDS:
            self._device_seen.setdefault(name, page)
        if not isinstance(cs, pikepdf.Array) or len(cs) == 0:
            return
        family = pdf_name(cs[0])
        if family == "/ICCBased" and len(cs) > 1 and isinstance(cs[1], pikepdf.Stream):
            n = cs[1].get("/N")
            problem = pdfa.icc_header_problem(cs[1].read_bytes(), int(n) if isinstance(n, int) else None)
            if problem and "class" not in problem:
                self.add("6.2.4.2", f"ICCBased colour space: {problem}", page)
        elif family == "/Indexed" and len(cs) > 1:
            self.colour_space(cs[1], page)
        elif family in ("/Separation", "/DeviceN") and len(cs) > 2:
            self.colour_space(cs[2], page)
