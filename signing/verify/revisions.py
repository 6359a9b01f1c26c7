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
from dataclasses import dataclass, field
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, DiffResult, ModificationLevel, SuspiciousModification
from pyhanko.sign.fields import MDPPerm

log = logging.getLogger(__name__)

# Change codes that never count as tampering after a signature (PAdES LTV, further signatures).
BENIGN = frozenset({"signature", "document-timestamp", "dss", "form-filling", "metadata"})


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

    @property
    def benign(self) -> bool:
        return set(self.changes) <= BENIGN

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "end": self.end, "sha256": self.sha256, "page_count": self.page_count,
                "modification_level": self.modification_level, "changes": self.changes, "detail": self.detail,
                "signatures": self.signatures}


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


def _page_refs(resolver: HistoricalResolver) -> list[generic.Reference]:
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
                         after: generic.DictionaryObject, touched: set[tuple[int, int]]) -> bool:
    """Non-widget annotations added, removed or rewritten (signature/form widgets are not annotations here)."""
    old_refs, new_refs = _annot_refs(old, before), _annot_refs(new, after)
    if old_refs - new_refs:
        return True
    candidates = (new_refs - old_refs) | (new_refs & touched)
    return any(not _is_widget(new, key) for key in candidates)


def _facts(old: HistoricalResolver, new: HistoricalResolver, touched: set[tuple[int, int]]) -> list[str]:
    """Concrete changes between two consecutive revisions, from the objects the later one rewrote."""
    changes: list[str] = []
    old_pages, new_pages = _page_refs(old), _page_refs(new)
    old_keys = [(r.idnum, r.generation) for r in old_pages]
    new_keys = [(r.idnum, r.generation) for r in new_pages]
    if len(new_keys) > len(old_keys) or set(new_keys) - set(old_keys):
        changes.append("pages-added")
    if len(new_keys) < len(old_keys) or set(old_keys) - set(new_keys):
        changes.append("pages-removed")
    content_refs: set[tuple[int, int]] = set()
    for ref in old_pages:
        key = (ref.idnum, ref.generation)
        before = old(ref)
        content_refs |= _refs_of(before.raw_get("/Contents")) if "/Contents" in before else set()
        if key not in touched or key not in new_keys:
            continue
        after = new(ref)
        if any(_raw(before, k) != _raw(after, k) for k in ("/Contents", "/Resources", "/MediaBox", "/CropBox",
                                                            "/Rotate")):
            changes.append("content")
        if _annotations_changed(old, new, before, after, touched):
            changes.append("annotations")
    if touched & content_refs:
        changes.append("content")
    old_root, new_root = old.root, new.root
    if _raw(old_root, "/DSS") != _raw(new_root, "/DSS"):
        changes.append("dss")
    if _raw(old_root, "/Metadata") != _raw(new_root, "/Metadata"):
        changes.append("metadata")
    return changes


def _annotation_only_suspicion(changes: list[str]) -> bool:
    return "annotations" in changes and set(changes) <= BENIGN | {"annotations"}


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
            pages = len(_page_refs(resolver))
        except (PdfError, KeyError, TypeError, AttributeError):
            pages = None
        signed_here = sig_fields_by_revision.get(rev, [])
        info = RevisionInfo(rev, end, sha, pages, signatures=[name for name, _ in signed_here])
        if rev > 0:
            old = reader.get_historical_resolver(rev - 1)
            touched = {(r.idnum, r.generation) for r in reader.xrefs.explicit_refs_in_revision(rev)}
            try:
                facts = _facts(old, resolver, touched)
            except (PdfError, KeyError, TypeError, AttributeError) as exc:
                facts = ["objects-replaced"]
                info.detail = f"{type(exc).__name__}: {exc}"
            if rev <= first_signed:  # nothing signed before: pyHanko's policy only reviews updates after a signature
                facts[:0] = [kind for _, kind in signed_here]
                info.changes = list(dict.fromkeys(facts))
                infos.append(info)
                continue
            try:
                result = DEFAULT_DIFF_POLICY.apply(old, resolver, doc_mdp=docmdp)
            except SuspiciousModification as exc:
                info.modification_level = ModificationLevel.OTHER.name
                info.detail = info.detail or str(exc)
                if not ({"content", "pages-added", "pages-removed"} & set(facts)
                        or _annotation_only_suspicion(facts)):
                    facts.append("objects-replaced")
            except (PdfError, KeyError, TypeError, ValueError) as exc:
                info.modification_level = ModificationLevel.OTHER.name
                info.detail = info.detail or f"{type(exc).__name__}: {exc}"
                facts.append("objects-replaced")
            else:
                assert isinstance(result, DiffResult)
                info.modification_level = result.modification_level.name
                if result.modification_level == ModificationLevel.FORM_FILLING and result.changed_form_fields:
                    if not info.signatures or set(result.changed_form_fields) - set(info.signatures):
                        facts.append("form-filling")
            facts[:0] = [kind for _, kind in signed_here]
            info.changes = list(dict.fromkeys(facts))
        infos.append(info)
    return infos
