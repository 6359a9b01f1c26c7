"""Was the document changed after a signature in a way that is allowed? Decided the way DSS and pyHanko do.

Why this order (issue 11): a verifier's worst mistake is to tell a citizen that a valid document was
tampered with, and the next worst is to pass a forgery. So:

1. **Evidence of a forbidden change** fails the signature: pages added or removed, a page's content
   stream replaced, a change the certification (DocMDP) or a field lock (FieldMDP) forbids, or a page
   that *renders* differently from the signed revision outside the widgets and annotations that were
   allowed to be added (shadow attacks hide, replace and hide-and-replace end up here).
2. **Allowed changes** pass, and are listed: pyHanko's difference analysis (its whitelist rules and
   modification levels: DSS/VRI, document timestamps, new signature fields, XMP/Info, form filling,
   objects rewritten unchanged) justifies every object, within the DocMDP level; annotations pass when
   the document's permissions allow them and nothing visible changed outside them.
3. **Neither** (objects replaced that no rule explains, and the pages look the same): INDETERMINATE,
   naming the objects — not TOTAL-FAILED without evidence.

The renderer runs only when a later revision touches a page or leaves objects unexplained.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader
from pyhanko.sign.diff_analysis import DiffResult, SuspiciousModification

from sohoa.signing import rendering
from sohoa.signing.pdfinput import LIBRARY_FAILURES
from sohoa.signing.verify.revisions import BENIGN, RevisionInfo, page_refs, unexplained_objects
from sohoa.signing.verify.verdicts import Reason, change_list, reason

Outcome = Literal["allowed", "failed", "unexplained"]
EVIDENCE = ("pages-added", "pages-removed", "content")  # forbidden whatever the permissions
MAX_RENDERED_PAGES = 40  # an unexplained update on a longer file renders the pages it touches only


@dataclass
class Judgement:
    """The answer for one signature: what changed after it, and whether that is allowed."""

    outcome: Outcome
    changes: list[str] = field(default_factory=list)  # every change code after the signed revision
    forbidden: list[str] = field(default_factory=list)  # the codes that fail it
    pages_different: list[int] = field(default_factory=list)  # 1-based pages that render differently
    objects: list[str] = field(default_factory=list)  # unexplained objects ("12 0 R")
    rendered: bool = False  # whether pages were rendered to decide
    later_revisions: int = 0


def allowed_codes(permission: int | None) -> set[str]:
    """Change codes a document's certification allows after signing (None: an approval signature only)."""
    if permission == 1:
        return {"dss", "document-timestamp", "metadata", "rewritten"}
    allowed = set(BENIGN)
    if permission in (None, 3):
        allowed.add("annotations")
    return allowed


class ModificationJudge:
    """One per verified file: judges each signature's later revisions; renders each page at most once."""

    def __init__(self, data: bytes, reader: PdfFileReader, revisions: list[RevisionInfo], permission: int | None):
        self.data, self.reader, self.revisions, self.permission = data, reader, revisions, permission
        self._renders: dict[tuple[int, int, bool], np.ndarray | None] = {}

    def judge(self, signed_revision: int, diff: DiffResult | SuspiciousModification | None,
              docmdp_ok: bool | None) -> Judgement:
        later = [r for r in self.revisions if r.index > signed_revision]
        changes = list(dict.fromkeys(c for r in later for c in r.changes))
        if not later:
            return Judgement("allowed")
        judgement = self._judge(signed_revision, later, changes, diff, docmdp_ok)
        judgement.later_revisions = len(later)
        return judgement

    def _judge(self, signed_revision: int, later: list[RevisionInfo], changes: list[str],
               diff: DiffResult | SuspiciousModification | None, docmdp_ok: bool | None) -> Judgement:
        hard = [c for c in changes if c in EVIDENCE]
        if hard:
            return Judgement("failed", changes, hard)
        message = str(diff) if isinstance(diff, SuspiciousModification) else ""
        if "is locked" in message:
            return Judgement("failed", changes, ["field-locked"])
        if "certification signature" in message or (isinstance(diff, DiffResult) and docmdp_ok is False):
            return Judgement("failed", changes, ["certification"])
        forbidden = [c for c in changes if c not in allowed_codes(self.permission)
                     and c not in ("resources", "objects-replaced")]
        if forbidden:
            return Judgement("failed", changes, forbidden)
        objects = list(dict.fromkeys([o for r in later for o in r.unexplained] + unexplained_objects(message)))
        explained = isinstance(diff, DiffResult) and not ({"resources", "objects-replaced"} & set(changes))
        pages = sorted({p for r in later for p in r.pages_touched})
        if not explained and (objects or "objects-replaced" in changes):
            total = self.revisions[-1].page_count or 0
            if total <= MAX_RENDERED_PAGES:
                pages = list(range(total))
        judgement = Judgement("allowed", changes, objects=objects)
        if explained:
            pages = [p for p in pages if not self._only_invisible_signatures(signed_revision, p)]
        if pages:
            judgement.rendered = True
            judgement.pages_different = self._different_pages(signed_revision, pages, diff)
            if judgement.pages_different:
                judgement.outcome, judgement.forbidden = "failed", ["rendering"]
                return judgement
        if explained or not ({"resources", "objects-replaced"} & set(changes)) and (
                not isinstance(diff, SuspiciousModification) or {"annotations", "signature-objects"} & set(changes)):
            return judgement  # pyHanko's rules, or permitted annotations or a new signature's own objects
        judgement.outcome = "unexplained"
        return judgement

    def _only_invisible_signatures(self, signed_revision: int, index: int) -> bool:
        """Whether the page differs from the signed one only by new invisible signature widgets (what a
        document timestamp or an invisible signature adds): nothing to draw, so nothing to render."""
        old = self.reader.get_historical_resolver(signed_revision)
        new = self.reader.get_historical_resolver(len(self.revisions) - 1)
        try:
            old_page, new_page = _page(old, index), _page(new, index)
            if old_page is None or new_page is None:
                return False
            if any(repr(old_page.raw_get(k)) != repr(new_page.raw_get(k)) if k in old_page else True
                   for k in new_page if k != "/Annots") or set(old_page) - set(new_page):
                return False
            before = dict(_annotations(old, old_page))
            for key, annot in _annotations(new, new_page):
                if key in before:
                    if repr(before[key]) != repr(annot) or _appearance_changed(old, new, annot):
                        return False
                    continue
                rect = _rect(annot)
                invisible = rect is None or abs(rect[2] - rect[0]) < 1 or abs(rect[3] - rect[1]) < 1 \
                    or int(annot.get("/F", 0)) & 2
                if not (_is_signature_widget(annot) and invisible):
                    return False
            return len(before) <= len(_annotations(new, new_page))
        except LIBRARY_FAILURES:
            return False

    # --- rendering ---------------------------------------------------------------------------------------------

    def _render(self, revision: int, page: int, *, hide_annotations: bool = False) -> np.ndarray | None:
        key = (revision, page, hide_annotations)
        if key not in self._renders:
            end = self.revisions[revision].end
            self._renders[key] = rendering.render(self.data[:end], page, hide_annotations=hide_annotations)
        return self._renders[key]

    def _different_pages(self, signed_revision: int, pages: list[int],
                         diff: DiffResult | SuspiciousModification | None) -> list[int]:
        final = len(self.revisions) - 1
        old = self.reader.get_historical_resolver(signed_revision)
        new = self.reader.get_historical_resolver(final)
        different: list[int] = []
        for index in pages:
            try:
                old_page, new_page = _page(old, index), _page(new, index)
            except LIBRARY_FAILURES:
                continue
            if old_page is None or new_page is None:
                continue
            before, after = self._render(signed_revision, index), self._render(final, index)
            if before is None or after is None:
                continue  # poppler cannot draw it: no evidence either way
            box = _box(new_page)
            masks = self._masks(signed_revision, index, old, new, old_page, new_page, box, diff)
            if rendering.differing_pixels(before, after, box, masks) >= rendering.MIN_PIXELS:
                different.append(index + 1)
        return different

    def _masks(self, signed_revision: int, index: int, old: HistoricalResolver, new: HistoricalResolver,
               old_page: generic.DictionaryObject, new_page: generic.DictionaryObject, box: rendering.PageBox,
               diff: DiffResult | SuspiciousModification | None) -> list[rendering.Rect]:
        """Areas where a visible change is allowed: widgets of new signature fields; annotations added when
        the permissions allow them; existing widgets or annotations whose permitted update draws over
        nothing that the signed page shows (else the update could hide or replace signed content)."""
        before = {k: v for k, v in _annotations(old, old_page)}
        annotations_ok = self.permission in (None, 3)
        form_ok = isinstance(diff, DiffResult)
        masks: list[rendering.Rect] = []
        bare: np.ndarray | None = None
        for key, annot in _annotations(new, new_page):
            rect = _rect(annot)
            if rect is None:
                continue
            widget = annot.get("/Subtype") == "/Widget"
            if key not in before:
                if (widget and _is_signature_widget(annot)) or (not widget and annotations_ok):
                    masks.append(rect)
                continue
            if repr(before[key]) == repr(annot) and not _appearance_changed(old, new, annot):
                continue
            if not ((widget and form_ok) or (not widget and annotations_ok)):
                continue
            if bare is None:
                bare = self._render(signed_revision, index, hide_annotations=True)
            if bare is not None and not rendering.has_ink(bare, rect, box):
                masks.append(rect)
        return masks


def _page(resolver: HistoricalResolver, index: int) -> generic.DictionaryObject | None:
    refs = page_refs(resolver)
    if index >= len(refs):
        return None
    page = resolver(refs[index])
    return page if isinstance(page, generic.DictionaryObject) else None


def _inherited(page: generic.DictionaryObject, key: str) -> Any:
    node: Any = page
    for _ in range(32):  # a hostile /Parent loop ends here
        if not isinstance(node, generic.DictionaryObject):
            return None
        if key in node:
            return node[key]
        node = node.get("/Parent")
    return None


def _box(page: generic.DictionaryObject) -> rendering.PageBox:
    box = _inherited(page, "/CropBox") or _inherited(page, "/MediaBox")
    try:
        x0, y0, x1, y1 = (float(v) for v in box)
        rotate = int(_inherited(page, "/Rotate") or 0)
    except (TypeError, ValueError):
        x0, y0, x1, y1, rotate = 0.0, 0.0, 612.0, 792.0, 0
    return rendering.PageBox(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1), rotate)


def _annotations(resolver: HistoricalResolver, page: generic.DictionaryObject
                 ) -> list[tuple[tuple[int, int], generic.DictionaryObject]]:
    if "/Annots" not in page:
        return []
    annots = page["/Annots"]
    out: list[tuple[tuple[int, int], generic.DictionaryObject]] = []
    if not isinstance(annots, generic.ArrayObject):
        return out
    for i in range(len(annots)):
        raw = annots.raw_get(i)
        if isinstance(raw, generic.IndirectObject | generic.Reference):
            obj = resolver(raw.reference if isinstance(raw, generic.IndirectObject) else raw)
            if isinstance(obj, generic.DictionaryObject):
                out.append(((raw.idnum, raw.generation), obj))
    return out


def _rect(annot: generic.DictionaryObject) -> rendering.Rect | None:
    try:
        x0, y0, x1, y1 = (float(v) for v in annot["/Rect"])
    except (KeyError, TypeError, ValueError):
        return None
    return x0, y0, x1, y1


def _is_signature_widget(annot: generic.DictionaryObject) -> bool:
    node: Any = annot
    for _ in range(16):
        if not isinstance(node, generic.DictionaryObject):
            return False
        if "/FT" in node:
            return node["/FT"] == "/Sig"
        node = node.get("/Parent")
    return False


def _appearance_changed(old: HistoricalResolver, new: HistoricalResolver, annot: generic.DictionaryObject) -> bool:
    """Whether the annotation's normal appearance stream says something else now than when signed."""
    try:
        ap = annot.raw_get("/AP") if "/AP" in annot else None
    except LIBRARY_FAILURES:
        return True
    if ap is None:
        return False
    try:
        appearance_new = new(ap.reference) if isinstance(ap, generic.IndirectObject) else ap
        normal = appearance_new.raw_get("/N") if "/N" in appearance_new else None
        if not isinstance(normal, generic.IndirectObject):
            return False  # appearance states live in the annotation dictionary compared by the caller
        before, after = old(normal.reference), new(normal.reference)
        if isinstance(before, generic.StreamObject) and isinstance(after, generic.StreamObject):
            return bool(before.data != after.data)
        return repr(before) != repr(after)
    except LIBRARY_FAILURES:
        return True


def modification_verdict(found: Judgement) -> tuple[tuple[str, Reason] | None, list[Reason]]:
    """The judgement as a (sub-indication, sentence) when it is not a pass, and the notes of a pass."""
    if found.outcome == "failed":
        if found.forbidden == ["rendering"]:
            pages = ", ".join(str(p) for p in found.pages_different)
            sentence = reason("RENDERED_DIFFERENCE", pages=pages, changes=change_list(found.changes))
            return ("FORMAT_FAILURE", sentence), []
        return ("FORMAT_FAILURE", reason("MODIFIED", changes=change_list(found.forbidden))), []
    if found.outcome == "unexplained":
        objects = ", ".join(found.objects) if found.objects else "?"
        return ("GENERIC", reason("UNEXPLAINED_CHANGES", objects=objects, changes=change_list(found.changes))), []
    notes: list[Reason] = []
    if found.later_revisions:
        notes.append(reason("later_revisions_allowed", count=found.later_revisions,
                            changes=change_list(found.changes)))
    if "annotations" in found.changes:
        notes.append(reason("annotations_allowed"))
    if found.rendered:
        notes.append(reason("rendered_same"))
    return None, notes
