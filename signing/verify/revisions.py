"""What each revision of a PDF changed, and the hash of the file as it stood after each revision.

Why: a returned document is often the issued file plus incremental updates (a citizen's or another
agency's signature, a document timestamp, validation data — or a forged page). The clerk must see, per
later revision, *what* was added; the records match needs the bytes of every earlier revision, because
the center stored the file as issued, not as returned.

The modification level per revision comes from pyHanko's standard diff policy (revision by revision);
the concrete facts (pages added/removed, page content touched, annotations) are read from the
objects the revision rewrote, so annotations can be judged against a DocMDP level 3 certification,
which pyHanko's policy does not model.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, ModificationLevel, SuspiciousModification
from pyhanko.sign.fields import MDPPerm

from sohoa.signing.pdfinput import LIBRARY_FAILURES

log = logging.getLogger(__name__)

# Change codes that never count as tampering after a signature (PAdES LTV, further signatures).
BENIGN = frozenset({"signature", "document-timestamp", "dss", "form-filling", "metadata", "rewritten",
                    "signature-objects"})
# Changes that prove nothing by themselves (a tool may rewrite resources or annotations harmlessly): the
# pages are rendered before and after, and only a visible difference counts (see modifications.py).
EXPLAINED_BY_RENDERING = frozenset({"resources", "annotations"})


@dataclass
class RevisionInfo:
    """One revision (0 = the original file). ``sha256`` is the hash of the file up to its end."""

    index: int
    end: int
    sha256: str
    page_count: int | None
    modification_level: str | None = None  # pyHanko's level vs the previous revision (None for revision 0)
    changes: list[str] = field(default_factory=list)  # codes, see verdicts.CHANGE_WORDS
    detail: str | None = None  # pyHanko's explanation when it found the update suspicious
    signatures: list[str] = field(default_factory=list)  # signature/timestamp fields signed in this revision
    pages_touched: list[int] = field(default_factory=list)  # 0-based pages whose drawing this revision may change
    unexplained: list[str] = field(default_factory=list)  # objects ("12 0 R") no rule or fact accounts for

    @property
    def benign(self) -> bool:
        return set(self.changes) <= BENIGN

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "end": self.end, "sha256": self.sha256, "page_count": self.page_count,
                "modification_level": self.modification_level, "changes": self.changes, "detail": self.detail,
                "signatures": self.signatures, "pages_touched": self.pages_touched,
                "unexplained_objects": self.unexplained}


def revision_ends(data: bytes, reader: PdfFileReader) -> list[int]:
    """Byte offset just past each revision's ``%%EOF`` (and its end-of-line), oldest first."""
    ends: list[int] = []
    for rev in range(reader.xrefs.total_revisions):
        start = reader.xrefs.get_startxref_for_revision(rev)
        eof = data.find(b"%%EOF", start)
        if eof < 0:
            ends.append(len(data))
            continue
        end = eof + 5
        if data[end:end + 2] == b"\r\n":
            end += 2
        elif data[end:end + 1] in (b"\n", b"\r"):
            end += 1
        ends.append(end)
    return ends


def prefix_hashes(data: bytes, ends: list[int]) -> list[str]:
    return [hashlib.sha256(data[:end]).hexdigest() for end in ends]


def page_refs(resolver: HistoricalResolver) -> list[generic.Reference]:
    """Page object references in document order, walking the page tree of that revision."""
    out: list[generic.Reference] = []
    stack: list[Any] = [resolver.root.raw_get("/Pages")]
    seen: set[tuple[int, int]] = set()
    while stack:
        node_ref = stack.pop()
        if not isinstance(node_ref, generic.IndirectObject | generic.Reference):
            continue
        key = (node_ref.idnum, node_ref.generation)
        if key in seen:  # a loop in a hostile page tree
            continue
        seen.add(key)
        node = resolver(node_ref.reference if isinstance(node_ref, generic.IndirectObject) else node_ref)
        if not isinstance(node, generic.DictionaryObject):
            continue
        if node.get("/Type") == "/Pages" or "/Kids" in node:
            kids = node.get("/Kids")
            if isinstance(kids, generic.ArrayObject):
                stack.extend(reversed([kids.raw_get(i) for i in range(len(kids))]))
        else:
            out.append(generic.Reference(node_ref.idnum, node_ref.generation))
    return out


def _raw(obj: generic.DictionaryObject, key: str) -> str:
    try:
        value = obj.raw_get(key)
    except KeyError:
        return ""
    return repr(value)


def _refs_of(value: Any) -> set[tuple[int, int]]:
    if isinstance(value, generic.IndirectObject | generic.Reference):
        return {(value.idnum, value.generation)}
    if isinstance(value, generic.ArrayObject):
        found: set[tuple[int, int]] = set()
        for i in range(len(value)):
            found |= _refs_of(value.raw_get(i))
        return found
    return set()


def _deep_refs(resolver: HistoricalResolver, value: Any, *, depth: int, limit: int = 2000) -> set[tuple[int, int]]:
    """Indirect objects reachable from ``value`` within ``depth`` hops (fonts, XObjects, their resources)."""
    found: set[tuple[int, int]] = set()
    frontier: list[tuple[Any, int]] = [(value, depth)]
    while frontier and len(found) < limit:
        item, hops = frontier.pop()
        if isinstance(item, generic.IndirectObject | generic.Reference):
            key = (item.idnum, item.generation)
            if key in found or hops <= 0:
                continue
            found.add(key)
            item = resolver(item.reference if isinstance(item, generic.IndirectObject) else item)
            hops -= 1
        if isinstance(item, generic.DictionaryObject):
            frontier.extend((item.raw_get(k), hops) for k in item if k not in ("/Parent", "/P"))
        elif isinstance(item, generic.ArrayObject):
            frontier.extend((item.raw_get(i), hops) for i in range(len(item)))
    return found


def _same_object(old: HistoricalResolver, new: HistoricalResolver, key: tuple[int, int]) -> bool:
    """True when a rewritten object says the same as before (an object-stream or xref-stream rewrite)."""
    ref = generic.Reference(*key)
    before, after = old(ref), new(ref)
    if isinstance(before, generic.StreamObject) and isinstance(after, generic.StreamObject):
        try:
            if before.data != after.data:
                return False
        except LIBRARY_FAILURES:
            if before.encoded_data != after.encoded_data:
                return False
        return {k: repr(before.raw_get(k)) for k in before if k not in _STREAM_CODING} == \
            {k: repr(after.raw_get(k)) for k in after if k not in _STREAM_CODING}
    return repr(before) == repr(after)


_STREAM_CODING = frozenset({"/Length", "/Filter", "/DecodeParms"})


def _annot_refs(resolver: HistoricalResolver, page: generic.DictionaryObject) -> set[tuple[int, int]]:
    if "/Annots" not in page:
        return set()
    value = page.raw_get("/Annots")
    if isinstance(value, generic.IndirectObject | generic.Reference):
        value = resolver(value.reference if isinstance(value, generic.IndirectObject) else value)
    return _refs_of(value)


def _is_widget(resolver: HistoricalResolver, key: tuple[int, int]) -> bool:
    obj = resolver(generic.Reference(*key))
    return isinstance(obj, generic.DictionaryObject) and obj.get("/Subtype") == "/Widget"


def _annotations_changed(old: HistoricalResolver, new: HistoricalResolver, before: generic.DictionaryObject,
                         after: generic.DictionaryObject, changed: set[tuple[int, int]]) -> bool:
    """Non-widget annotations added, removed or rewritten (signature/form widgets are not annotations here)."""
    old_refs, new_refs = _annot_refs(old, before), _annot_refs(new, after)
    if old_refs - new_refs:
        return True
    candidates = (new_refs - old_refs) | (new_refs & changed)
    return any(not _is_widget(new, key) for key in candidates)


def _page_facts(old: HistoricalResolver, new: HistoricalResolver, ref: generic.Reference,
                changed: set[tuple[int, int]]) -> list[str]:
    """What a revision changed on one page that exists in both: content, resources, annotations, widgets."""
    key = (ref.idnum, ref.generation)
    before, after = old(ref), new(ref)
    facts: list[str] = []
    if any(_raw(before, k) != _raw(after, k) for k in ("/Contents", "/MediaBox", "/CropBox", "/Rotate")) \
            or (changed & _refs_of(before.raw_get("/Contents")) if "/Contents" in before else False):
        facts.append("content")
    resources_before = before.raw_get("/Resources") if "/Resources" in before else None
    if _raw(before, "/Resources") != _raw(after, "/Resources") \
            or changed & _deep_refs(old, resources_before, depth=3):
        facts.append("resources")
    if _annotations_changed(old, new, before, after, changed):
        facts.append("annotations")
    elif key in changed or _annot_refs(old, before) != _annot_refs(new, after) \
            or changed & _deep_refs(new, after.raw_get("/Annots") if "/Annots" in after else None, depth=3):
        facts.append("widgets")  # signature or form widgets: judged with pyHanko's form rules
    return facts


def _facts(old: HistoricalResolver, new: HistoricalResolver, touched: set[tuple[int, int]]
           ) -> tuple[list[str], list[int]]:
    """Concrete changes between two consecutive revisions, from the objects the later one rewrote, and
    the (0-based) pages they touch."""
    changes: list[str] = []
    pages_touched: list[int] = []
    old_pages, new_pages = page_refs(old), page_refs(new)
    old_keys = [(r.idnum, r.generation) for r in old_pages]
    new_keys = [(r.idnum, r.generation) for r in new_pages]
    if len(new_keys) > len(old_keys) or set(new_keys) - set(old_keys):
        changes.append("pages-added")
    if len(new_keys) < len(old_keys) or set(old_keys) - set(new_keys):
        changes.append("pages-removed")
    changed = {key for key in touched if not _existed_same(old, new, key)}
    for index, ref in enumerate(old_pages):
        if (ref.idnum, ref.generation) not in new_keys:
            continue
        page_changes = _page_facts(old, new, ref, changed)
        if page_changes:
            pages_touched.append(index)
            changes.extend(c for c in page_changes if c != "widgets")
    old_root, new_root = old.root, new.root
    for key, code in (("/DSS", "dss"), ("/Metadata", "metadata")):
        value = new_root.raw_get(key) if key in new_root else None
        if _raw(old_root, key) != _raw(new_root, key) or changed & _deep_refs(new, value, depth=3):
            changes.append(code)
    if not changes and touched and not changed:
        changes.append("rewritten")  # objects written again with the same value (an object-stream rewrite)
    return list(dict.fromkeys(changes)), pages_touched


def _existed_same(old: HistoricalResolver, new: HistoricalResolver, key: tuple[int, int]) -> bool:
    if old.reader.xrefs.get_historical_ref(generic.Reference(*key), old.revision) is None:
        return False  # a new object
    try:
        return _same_object(old, new, key)
    except LIBRARY_FAILURES:
        return False


def _annotation_only_suspicion(changes: list[str]) -> bool:
    return bool({"annotations", "resources"} & set(changes)) and set(changes) <= BENIGN | EXPLAINED_BY_RENDERING


def unexplained_objects(detail: str) -> list[str]:
    """The objects pyHanko's policy could not justify, as ``12 0 R``, read from its explanation."""
    found = re.findall(r"Reference\(idnum=(\d+), generation=(\d+)\)|IndirectObject\((\d+), (\d+)\)", detail)
    refs = [f"{a or c} {b or d} R" for a, b, c, d in found]
    return list(dict.fromkeys(refs))[:20]


def _signature_owned(old: HistoricalResolver, new: HistoricalResolver, touched: set[tuple[int, int]]) -> set[str]:
    """Objects ("12 0 R") that a revision adding a signature needs for it: the new or re-filled signature
    fields and their widgets with everything their appearance uses, the form's default resources (the
    appearance font), the catalog and form dictionaries, and pages whose only change is their widgets.

    Why: poppler's ``pdfsig`` (and other signers) write the signature's appearance font and the form's
    /DR along with the field; pyHanko's policy does not whitelist those, yet they draw only the new
    widget — and the pages are rendered before a pass is given (modifications.py)."""
    owned: set[tuple[int, int]] = set()
    root = new.root
    form = root.raw_get("/AcroForm") if "/AcroForm" in root else None
    owned |= _refs_of(form)
    form_dict = new(form.reference) if isinstance(form, generic.IndirectObject) else form
    if isinstance(form_dict, generic.DictionaryObject) and "/DR" in form_dict:
        owned |= _deep_refs(new, form_dict.raw_get("/DR"), depth=4)
    for index, ref in enumerate(page_refs(new)):
        page = new(ref)
        owned.add((ref.idnum, ref.generation))  # its facts were checked: only /Annots may differ
        owned |= _refs_of(page.raw_get("/Annots")) if "/Annots" in page else set()  # an indirect array
        for key in _annot_refs(new, page):
            widget = new(generic.Reference(*key))
            holder = widget.get("/Parent") if isinstance(widget, generic.DictionaryObject) and "/FT" not in widget \
                else widget
            if isinstance(holder, generic.DictionaryObject) and holder.get("/FT") == "/Sig" and key in touched:
                owned |= {key} | _deep_refs(new, widget, depth=6)
        del index
    catalog = new.trailer_view.raw_get("/Root")
    owned |= _refs_of(catalog)
    return {f"{a} {b} R" for a, b in owned}


def _written(old: HistoricalResolver, new: HistoricalResolver, touched: set[tuple[int, int]]) -> list[str]:
    """The objects a revision rewrote with a different value, as ``1 0 R /Catalog`` (when pyHanko's
    explanation names none)."""
    out: list[str] = []
    allowed = _refs_of(new.root.raw_get("/Metadata")) if "/Metadata" in new.root else set()
    try:
        trailer = new.trailer_view
        allowed |= _refs_of(trailer.raw_get("/Info")) if "/Info" in trailer else set()
    except LIBRARY_FAILURES:
        pass
    for key in sorted(touched - allowed):
        if _existed_same(old, new, key):
            continue
        try:
            obj = new(generic.Reference(*key))
            kind = obj.get("/Type") if isinstance(obj, generic.DictionaryObject) else None
        except LIBRARY_FAILURES:
            kind = None
        out.append(f"{key[0]} {key[1]} R" + (f" {kind}" if kind else ""))
    return out[:20]


def analyse(data: bytes, reader: PdfFileReader, sig_fields_by_revision: dict[int, list[tuple[str, str]]],
            docmdp: MDPPerm | None = None) -> list[RevisionInfo]:
    """Every revision with its hash; for later revisions what changed and pyHanko's modification level.

    ``sig_fields_by_revision`` maps a revision to the (field name, kind) of the signatures and document
    timestamps it carries, kind being ``"signature"`` or ``"document-timestamp"``.
    """
    ends = revision_ends(data, reader)
    first_signed = min(sig_fields_by_revision, default=len(ends))
    hashes = prefix_hashes(data, ends)
    infos: list[RevisionInfo] = []
    for rev, (end, sha) in enumerate(zip(ends, hashes, strict=True)):
        resolver = reader.get_historical_resolver(rev)
        try:
            pages = len(page_refs(resolver))
        except LIBRARY_FAILURES:
            pages = None
        signed_here = sig_fields_by_revision.get(rev, [])
        info = RevisionInfo(rev, end, sha, pages, signatures=[name for name, _ in signed_here])
        if rev > 0:
            _describe(info, reader, rev, docmdp, reviewed=rev > first_signed)
            info.changes = list(dict.fromkeys([kind for _, kind in signed_here] + info.changes))
        infos.append(info)
    return infos


def _describe(info: RevisionInfo, reader: PdfFileReader, rev: int, docmdp: MDPPerm | None, *, reviewed: bool) -> None:
    """Fill in what revision ``rev`` changed; ``reviewed``: a signature precedes it, so ask pyHanko's policy too
    (its rules only make sense for updates after a signature)."""
    old, new = reader.get_historical_resolver(rev - 1), reader.get_historical_resolver(rev)
    touched = {(r.idnum, r.generation) for r in reader.xrefs.explicit_refs_in_revision(rev)}
    try:
        facts, info.pages_touched = _facts(old, new, touched)
    except LIBRARY_FAILURES as exc:
        facts = ["objects-replaced"]
        info.detail = f"{type(exc).__name__}: {exc}"
    if reviewed:
        try:
            result = DEFAULT_DIFF_POLICY.apply(old, new, doc_mdp=docmdp)
        except SuspiciousModification as exc:
            info.modification_level = ModificationLevel.OTHER.name
            info.detail = info.detail or str(exc)
            unexplained = unexplained_objects(str(exc))
            if {"content", "pages-added", "pages-removed"} & set(facts) or _annotation_only_suspicion(facts):
                pass
            elif info.signatures and unexplained and set(unexplained) <= _signature_owned(old, new, touched):
                facts.append("signature-objects")  # a new signature's own appearance, fonts and form entries
            else:
                facts.append("objects-replaced")
                info.unexplained = unexplained or _written(old, new, touched)
        except LIBRARY_FAILURES as exc:
            info.modification_level = ModificationLevel.OTHER.name
            info.detail = info.detail or f"{type(exc).__name__}: {exc}"
            facts.append("objects-replaced")
        else:
            info.modification_level = result.modification_level.name
            if result.modification_level == ModificationLevel.FORM_FILLING and result.changed_form_fields:
                if not info.signatures or set(result.changed_form_fields) - set(info.signatures):
                    facts.append("form-filling")
    info.changes = facts
