"""PDF/A-2B document-level pieces: sRGB output intent, XMP metadata, Info dictionary, dates.

Why by hand rather than through a converter: the pages are already PDF/A-ready (embedded font, device
RGB/grey images under an sRGB intent), so PDF/A only needs a correct output intent and metadata that
agrees with the Info dictionary. Writing the XMP packet ourselves keeps it exactly as PDF/A wants it
(uncompressed, no ``bytes``/``encoding`` attributes, our custom ``sohoa`` schema declared through
``pdfaExtension:schemas``), and nothing can silently bump ``pdfaid`` or the producer.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache, partial
from html import escape as _html_escape

import pikepdf
from lxml.etree import QName, XMLParser, XMLSyntaxError, fromstring
from lxml.etree import _Element as Element

from sohoa.common.errors import InternalError
from sohoa.common.messages import _
from sohoa.common.reasons import foreign
from sohoa.stages.model import DocumentMeta

# XML character data (&, <, >), as xml.sax.saxutils.escape, which would import urllib, http and ssl (16 ms)
escape = partial(_html_escape, quote=False)


SOHOA_NS = "https://sohoa.vn/ns/1.0/"
SOHOA_PREFIX = "sohoa"
SRGB_IDENTIFIER = "sRGB IEC61966-2.1"
ACCEPTED_ICC_CLASSES = (b"prtr", b"mntr", b"scnr", b"spac")
_ICC_FIXED_DATE = (2024, 1, 1, 0, 0, 0)  # header creation date pinned so the profile bytes are stable

# Custom properties we write, with the description that goes into the extension schema declaration.
SOHOA_PROPERTIES = {
    "dossierCode": "Dossier code (ma ho so) the document belongs to, Circular 01/2018/TT-VPCP art. 19",
    "documentKind": "Kind of document in the dossier: component, result or copy",
    # the Decree-30 data of a result as extracted at digitization (stages/extract.py), Circular 01/2023
    "issuingAgency": "Issuing agency (co quan ban hanh)",
    "parentAgency": "Parent agency (co quan chu quan)",
    "docNumber": "Number and symbol (so, ky hieu)",
    "docType": "Document type (ten loai van ban)",
    "issuePlace": "Place of issue (dia danh)",
    "issueDate": "Date of issue, ISO 8601 (ngay ban hanh)",
    "documentSubject": "Subject line (trich yeu noi dung)",
    "signerAuthority": "Signing authority (TM., KT., TL. ...)",
    "signerTitle": "Title of the signer (chuc vu)",
    "signerName": "Name of the signer (nguoi ky)",
    "recipients": "Recipients (noi nhan)",
    "validUntil": "End of validity, ISO 8601 (thoi han hieu luc)",
}
# stages.extract field name → its XMP property
RESULT_PROPERTIES = {"issuing_agency": "issuingAgency", "parent_agency": "parentAgency", "doc_number": "docNumber",
                     "doc_type": "docType", "issue_place": "issuePlace", "issue_date": "issueDate",
                     "subject": "documentSubject", "signer_authority": "signerAuthority",
                     "signer_title": "signerTitle", "signer_name": "signerName", "recipients": "recipients",
                     "valid_until": "validUntil"}


def icc_header_problem(profile: bytes, expected_components: int | None = None) -> str | None:
    """Why ``profile`` is unusable as a PDF/A-2 output intent, or ``None`` when it is fine.

    PDF/A-2 (via ISO 32000-1) takes ICC profiles up to version 4; the output-intent profile must be an
    output, monitor, input or colour-space class profile; ``/N`` must match its colour space.
    """
    if len(profile) < 128 or profile[36:40] != b"acsp":
        return "not an ICC profile (no 'acsp' signature)"
    declared = struct.unpack(">I", profile[0:4])[0]
    if declared != len(profile):
        return f"ICC header size {declared} differs from stream length {len(profile)}"
    if profile[8] not in (2, 4):
        return f"ICC version {profile[8]}.{profile[9] >> 4} is not 2.x or 4.x"
    if profile[12:16] not in ACCEPTED_ICC_CLASSES:
        return f"ICC device class {profile[12:16]!r} is not allowed for an output intent"
    components = {b"RGB ": 3, b"GRAY": 1, b"CMYK": 4}.get(profile[16:20])
    if components is None:
        return f"ICC colour space {profile[16:20]!r} is not RGB, GRAY or CMYK"
    if expected_components is not None and components != expected_components:
        return f"/N {expected_components} does not match the profile's {components} components"
    return None


@lru_cache(maxsize=1)
def srgb_profile() -> bytes:
    """sRGB ICC profile from LittleCMS (via Pillow), header date pinned, checked for PDF/A-2 use."""
    from PIL import ImageCms

    raw = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    raw[24:36] = struct.pack(">6H", *_ICC_FIXED_DATE)
    problem = icc_header_problem(bytes(raw), 3)
    if problem:
        raise InternalError(detail=_("built-in sRGB profile unusable for PDF/A: {problem}", problem=foreign(problem)))
    return bytes(raw)


def add_output_intent(pdf: pikepdf.Pdf) -> None:
    """Attach the GTS_PDFA1 sRGB output intent that makes DeviceRGB/DeviceGray images legal."""
    profile = pikepdf.Stream(pdf, srgb_profile())
    profile.N = 3
    intent = pikepdf.Dictionary(
        Type=pikepdf.Name.OutputIntent, S=pikepdf.Name.GTS_PDFA1,
        OutputConditionIdentifier=pikepdf.String(SRGB_IDENTIFIER), Info=pikepdf.String(SRGB_IDENTIFIER),
        RegistryName=pikepdf.String("http://www.color.org"), DestOutputProfile=pdf.make_indirect(profile),
    )
    pdf.Root.OutputIntents = pikepdf.Array([pdf.make_indirect(intent)])


def pdf_date(moment: datetime) -> str:
    """PDF date string ``D:YYYYMMDDHHmmSS+07'00'`` (offset kept, so it names the same instant as the XMP)."""
    moment = _aware(moment)
    offset = moment.utcoffset()
    assert offset is not None
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return moment.strftime("D:%Y%m%d%H%M%S") + f"{sign}{hours:02d}'{mins:02d}'"


def xmp_date(moment: datetime) -> str:
    """ISO 8601 with offset, seconds precision, e.g. ``2024-06-20T09:30:00+07:00``."""
    return _aware(moment).replace(microsecond=0).isoformat()


def _aware(moment: datetime) -> datetime:
    return (moment if moment.tzinfo else moment.astimezone()).replace(microsecond=0)


@dataclass(frozen=True)
class DocInfo:
    """The values written to both Info and XMP, computed once so the two cannot disagree."""

    title: str | None
    author: str | None
    subject: str | None
    keywords: str | None
    creator: str
    producer: str
    created: datetime
    modified: datetime
    dossier_code: str | None = None
    kind: str | None = None
    result_data: dict[str, str] = field(default_factory=dict)  # stages.extract field name → value


def doc_info(meta: DocumentMeta, *, creator: str, producer: str, now: datetime) -> DocInfo:
    keywords = ", ".join(k for k in meta.keywords if k) or None
    return DocInfo(title=meta.title or None, author=meta.author or None, subject=meta.subject or None,
                   keywords=keywords, creator=creator, producer=producer, created=_aware(now),
                   modified=_aware(now), dossier_code=meta.dossier_code or None, kind=meta.kind or None,
                   result_data={k: v for k, v in meta.result_data.items() if k in RESULT_PROPERTIES and v})


def set_info(pdf: pikepdf.Pdf, info: DocInfo) -> None:
    entries: dict[str, pikepdf.String] = {
        "/Creator": pikepdf.String(info.creator), "/Producer": pikepdf.String(info.producer),
        "/CreationDate": pikepdf.String(pdf_date(info.created)),
        "/ModDate": pikepdf.String(pdf_date(info.modified)),
    }
    for key, value in (("/Title", info.title), ("/Author", info.author), ("/Subject", info.subject),
                       ("/Keywords", info.keywords)):
        if value:
            entries[key] = pikepdf.String(value)
    pdf.trailer.Info = pdf.make_indirect(pikepdf.Dictionary(entries))


def _lang_alt(tag: str, value: str) -> str:
    return (f"<{tag}><rdf:Alt><rdf:li xml:lang=\"x-default\">{escape(value)}</rdf:li></rdf:Alt></{tag}>")


def _extension_schema(result_data: dict[str, str]) -> str:
    """The PDF/A extension schema of the sohoa properties: the dossier ones always, the result-data ones
    only when the document carries them (each declaration costs ~250 bytes per file)."""
    used = {RESULT_PROPERTIES[name] for name in result_data}
    props = "".join(
        "<rdf:li rdf:parseType=\"Resource\">"
        f"<pdfaProperty:name>{name}</pdfaProperty:name>"
        "<pdfaProperty:valueType>Text</pdfaProperty:valueType>"
        "<pdfaProperty:category>external</pdfaProperty:category>"
        f"<pdfaProperty:description>{escape(desc)}</pdfaProperty:description>"
        "</rdf:li>"
        for name, desc in SOHOA_PROPERTIES.items() if name in ("dossierCode", "documentKind") or name in used
    )
    return (
        "<rdf:Description rdf:about=\"\""
        " xmlns:pdfaExtension=\"http://www.aiim.org/pdfa/ns/extension/\""
        " xmlns:pdfaSchema=\"http://www.aiim.org/pdfa/ns/schema#\""
        " xmlns:pdfaProperty=\"http://www.aiim.org/pdfa/ns/property#\">"
        "<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType=\"Resource\">"
        "<pdfaSchema:schema>sohoa dossier metadata</pdfaSchema:schema>"
        f"<pdfaSchema:namespaceURI>{SOHOA_NS}</pdfaSchema:namespaceURI>"
        f"<pdfaSchema:prefix>{SOHOA_PREFIX}</pdfaSchema:prefix>"
        f"<pdfaSchema:property><rdf:Seq>{props}</rdf:Seq></pdfaSchema:property>"
        "</rdf:li></rdf:Bag></pdfaExtension:schemas></rdf:Description>"
    )


def xmp_packet(info: DocInfo, *, padding: int = 2048) -> bytes:
    """A complete XMP packet (UTF-8) declaring PDF/A-2B and mirroring ``info``.

    Trailing whitespace padding lets a later editor (e.g. a signer) rewrite the packet in place.
    """
    dc: list[str] = []
    if info.title:
        dc.append(_lang_alt("dc:title", info.title))
    if info.author:
        dc.append(f"<dc:creator><rdf:Seq><rdf:li>{escape(info.author)}</rdf:li></rdf:Seq></dc:creator>")
    if info.subject:
        dc.append(_lang_alt("dc:description", info.subject))
    pdf_props = [f"<pdf:Producer>{escape(info.producer)}</pdf:Producer>"]
    if info.keywords:
        pdf_props.append(f"<pdf:Keywords>{escape(info.keywords)}</pdf:Keywords>")
    sohoa: list[str] = []
    if info.dossier_code:
        sohoa.append(f"<sohoa:dossierCode>{escape(info.dossier_code)}</sohoa:dossierCode>")
    if info.kind:
        sohoa.append(f"<sohoa:documentKind>{escape(info.kind)}</sohoa:documentKind>")
    for name, value in info.result_data.items():
        prop = RESULT_PROPERTIES[name]
        sohoa.append(f"<sohoa:{prop}>{escape(value)}</sohoa:{prop}>")
    parts = [
        "<rdf:Description rdf:about=\"\" xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\">"
        "<pdfaid:part>2</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance></rdf:Description>",
        "<rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
        "<dc:format>application/pdf</dc:format>" + "".join(dc) + "</rdf:Description>",
        "<rdf:Description rdf:about=\"\" xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\">"
        f"<xmp:CreatorTool>{escape(info.creator)}</xmp:CreatorTool>"
        f"<xmp:CreateDate>{xmp_date(info.created)}</xmp:CreateDate>"
        f"<xmp:ModifyDate>{xmp_date(info.modified)}</xmp:ModifyDate>"
        f"<xmp:MetadataDate>{xmp_date(info.modified)}</xmp:MetadataDate></rdf:Description>",
        "<rdf:Description rdf:about=\"\" xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\">"
        + "".join(pdf_props) + "</rdf:Description>",
    ]
    if sohoa:
        parts.append(f"<rdf:Description rdf:about=\"\" xmlns:{SOHOA_PREFIX}=\"{SOHOA_NS}\">"
                     + "".join(sohoa) + "</rdf:Description>")
    parts.append(_extension_schema(info.result_data))
    body = (
        "<?xpacket begin=\"\ufeff\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
        "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n"
        "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n"
        + "\n".join(parts) + "\n</rdf:RDF>\n</x:xmpmeta>\n"
    )
    pad = (" " * 99 + "\n") * (padding // 100)
    return (body + pad + "<?xpacket end=\"w\"?>").encode("utf-8")


def add_metadata(pdf: pikepdf.Pdf, info: DocInfo) -> None:
    """Info dictionary + uncompressed XMP stream on the catalog, from the same ``DocInfo``."""
    set_info(pdf, info)
    stream = pikepdf.Stream(pdf, xmp_packet(info))
    stream.Type = pikepdf.Name.Metadata
    stream.Subtype = pikepdf.Name.XML
    pdf.Root.Metadata = pdf.make_indirect(stream)


# --- reading metadata back (used by stages.conformance) -------------------------------------------

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_NS = {"dc": "http://purl.org/dc/elements/1.1/", "xmp": "http://ns.adobe.com/xap/1.0/",
       "pdf": "http://ns.adobe.com/pdf/1.3/", "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
       "pdfaExtension": "http://www.aiim.org/pdfa/ns/extension/",
       "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#", "pdfaProperty": "http://www.aiim.org/pdfa/ns/property#"}
# Schemas PDF/A-2 treats as predefined (XMP 2005 + PDF/A schemas); anything else must be declared.
PREDEFINED_NAMESPACES = {
    _NS["dc"], _NS["xmp"], _NS["pdf"], _NS["pdfaid"], _NS["pdfaExtension"], _NS["pdfaSchema"],
    _NS["pdfaProperty"], "http://www.aiim.org/pdfa/ns/type#", "http://www.aiim.org/pdfa/ns/field#",
    "http://ns.adobe.com/xap/1.0/rights/", "http://ns.adobe.com/xap/1.0/mm/", "http://ns.adobe.com/xap/1.0/bj/",
    "http://ns.adobe.com/xap/1.0/t/pg/", "http://ns.adobe.com/xmp/1.0/DynamicMedia/",
    "http://ns.adobe.com/photoshop/1.0/", "http://ns.adobe.com/camera-raw-settings/1.0/",
    "http://ns.adobe.com/tiff/1.0/", "http://ns.adobe.com/exif/1.0/", "http://ns.adobe.com/exif/1.0/aux/",
    "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#", "http://ns.adobe.com/xap/1.0/sType/ResourceRef#",
    "http://ns.adobe.com/xap/1.0/sType/Dimensions#", "http://ns.adobe.com/xap/1.0/sType/Version#",
    "http://ns.adobe.com/xap/1.0/sType/Job#", "http://ns.adobe.com/xap/1.0/g/", "http://ns.adobe.com/xap/1.0/g/img/",
    "http://ns.adobe.com/xmp/Identifier/qual/1.0/",
}
_INFO_TO_XMP = {"/Title": ("dc", "title"), "/Author": ("dc", "creator"), "/Subject": ("dc", "description"),
                "/Keywords": ("pdf", "Keywords"), "/Creator": ("xmp", "CreatorTool"),
                "/Producer": ("pdf", "Producer"), "/CreationDate": ("xmp", "CreateDate"),
                "/ModDate": ("xmp", "ModifyDate")}
_PDF_DATE = re.compile(r"D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:([Zz+-])(\d{2})?'?(\d{2})?'?)?")


def parse_pdf_date(text: str) -> datetime | None:
    """``D:YYYYMMDDHHmmSSOHH'mm'`` with optional tail → datetime (aware when an offset is given)."""
    match = _PDF_DATE.match(text.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, sign, oh, om = match.groups()
    try:
        moment = datetime(int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0),
                          int(second or 0))
    except ValueError:
        return None
    if sign in ("Z", "z"):
        return moment.replace(tzinfo=UTC)
    if sign:
        delta = timedelta(hours=int(oh or 0), minutes=int(om or 0))
        return moment.replace(tzinfo=timezone(delta if sign == "+" else -delta))
    return moment


def parse_xmp_date(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def _same_instant(info_value: str, xmp_value: str) -> bool:
    a, b = parse_pdf_date(info_value), parse_xmp_date(xmp_value)
    if a is None or b is None:
        return False
    if (a.tzinfo is None) != (b.tzinfo is None):
        a, b = a.replace(tzinfo=None), b.replace(tzinfo=None)
    return a == b


def _xmp_value(element: Element) -> str:
    """Text of a simple property, x-default (or first) of an Alt, items of a Seq/Bag joined by ', '."""
    container = next(iter(element), None)
    if container is None:
        return (element.text or "").strip()
    items = [li for li in container if li.tag == f"{{{_RDF}}}li"]
    if container.tag == f"{{{_RDF}}}Alt":
        chosen = next((li for li in items if li.get(_XML_LANG) == "x-default"), items[0] if items else None)
        return (chosen.text or "").strip() if chosen is not None else ""
    return ", ".join((li.text or "").strip() for li in items)


def _field(node: Element, ns: str, local: str) -> str | None:
    """A struct field of ``node``: attribute, child text, or child ``rdf:resource`` (all valid RDF)."""
    if not isinstance(node.tag, str):
        return None
    value = node.get(f"{{{ns}}}{local}")
    if value is None:
        child = node.find(f"{{{ns}}}{local}")
        if child is None:
            return None
        value = child.get(f"{{{_RDF}}}resource") or child.text
    return (value or "").strip() or None


def metadata_problems(pdf: pikepdf.Pdf) -> list[tuple[str, str]]:
    """(clause, message) pairs for the catalog XMP: presence, form, pdfaid, declared schemas, Info match."""
    stream = pdf.Root.get("/Metadata")
    if not isinstance(stream, pikepdf.Stream):
        return [("6.6.2.1", "catalog has no XMP /Metadata stream")]
    problems: list[tuple[str, str]] = []
    if "/Filter" in stream.stream_dict:
        problems.append(("6.6.2.1", "XMP metadata stream is compressed (/Filter)"))
    data = stream.read_bytes()
    header = re.search(rb"<\?xpacket\s+begin=[^>]*\?>", data)
    if header is None:
        problems.append(("6.6.2.1", "XMP packet has no xpacket header"))
    elif re.search(rb"\s(bytes|encoding)=", header.group(0)):
        problems.append(("6.6.2.1", "xpacket header has a bytes or encoding attribute"))
    try:
        root = fromstring(data, parser=XMLParser(resolve_entities=False, no_network=True))
    except XMLSyntaxError as exc:
        return problems + [("6.6.2.1", f"XMP is not well-formed XML: {exc}")]
    props: dict[tuple[str, str], str] = {}
    declared: dict[str, set[str]] = {}
    undeclared: list[str] = []
    descriptions = root.iter(f"{{{_RDF}}}Description")
    for desc in descriptions:
        if desc.getparent() is None or desc.getparent().tag != f"{{{_RDF}}}RDF":
            continue
        entries = [(QName(k).namespace or "", QName(k).localname, v) for k, v in desc.attrib.items()
                   if QName(k).namespace not in (_RDF, None)]
        entries += [(QName(c).namespace or "", QName(c).localname, _xmp_value(c)) for c in desc
                    if isinstance(c.tag, str)]
        for ns, local, value in entries:
            props[(ns, local)] = value
    for holder in root.iter():
        uri = _field(holder, _NS["pdfaSchema"], "namespaceURI")
        if uri:  # a schema struct, written either as elements or as attributes (pyHanko does the latter)
            names = {_field(n, _NS["pdfaProperty"], "name") for n in holder.iter()} - {None}
            declared.setdefault(uri, set()).update(n for n in names if n)
    for ns, local in props:
        if ns not in PREDEFINED_NAMESPACES and local not in declared.get(ns, set()):
            undeclared.append(f"{{{ns}}}{local}")
    if undeclared:
        problems.append(("6.6.2.3.1", "XMP properties not declared in an extension schema: "
                         + ", ".join(sorted(undeclared))))
    if props.get((_NS["pdfaid"], "part")) != "2":
        problems.append(("6.6.4", f"pdfaid:part is {props.get((_NS['pdfaid'], 'part'))!r}, not 2"))
    if props.get((_NS["pdfaid"], "conformance")) not in ("A", "B", "U"):
        problems.append(("6.6.4", f"pdfaid:conformance is {props.get((_NS['pdfaid'], 'conformance'))!r}"))
    info = pdf.trailer.get("/Info")
    for key, (prefix, local) in _INFO_TO_XMP.items():
        if not isinstance(info, pikepdf.Dictionary) or key not in info:
            continue
        value = str(info[key])
        xmp = props.get((_NS[prefix], local))
        same = xmp is not None and (_same_instant(value, xmp) if key.endswith("Date") else xmp == value)
        if not same:
            problems.append(("6.6.3", f"Info {key[1:]} {value!r} differs from XMP {prefix}:{local} {xmp!r}"))
    return problems
