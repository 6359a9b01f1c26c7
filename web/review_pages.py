"""The "Cần xem lại" page: extracted result data a clerk must check, each field on its page image with
its box highlighted, and the form that confirms or corrects it (``records.review``).

Why the page image: a clerk decides faster, and better, looking at where the value was read than at the
value alone; the box (upright pixels of the scan) is drawn over the rendered page in percentages of
the page's size (an SVG layer in the page's pixel coordinates), so it lands on the words at any width.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sohoa.common.errors import SohoaError
from sohoa.records.review import correct_field, review_queue
from sohoa.web.errors import status_for
from sohoa.web.pages import FIELD_WORDS, error_page, render, svc, user
from sohoa.web.security import check_csrf, require

router = APIRouter(include_in_schema=False)
PAGE_WIDTH = 640


def _overlay(box: list[int], size: list[int] | None) -> dict[str, int] | None:
    """The page's size and ``box`` for an SVG layer over the page image (None when the size is unknown).
    SVG attributes, not inline CSS: the pages' Content-Security-Policy allows no inline styles."""
    if not size or len(box) != 4 or size[0] <= 0 or size[1] <= 0:
        return None
    return {"w": int(size[0]), "h": int(size[1]), "x": int(box[0]), "y": int(box[1]),
            "bw": max(1, int(box[2] - box[0])), "bh": max(1, int(box[3] - box[1]))}


@router.get("/review", response_class=HTMLResponse)
def review(request: Request, done: str = "") -> HTMLResponse:
    who = user(request)
    try:
        items = review_queue(svc(request).records)
    except SohoaError as err:
        return error_page(request, err, who)
    rows = []
    for item in items:
        for name in item.needs_review:
            found = item.fields.get(name) or {}
            page = int(found.get("page") or 1)
            rows.append({"item": item, "name": name, "field": found, "page": page,
                         "overlay": _overlay(list(found.get("box") or []), item.page_sizes.get(str(page)))})
    return render(request, "review.html", {"user": who, "rows": rows, "field_words": FIELD_WORDS,
                                           "done": done == "1", "page_width": PAGE_WIDTH})


@router.post("/review/{doc_id}")
def correct(request: Request, doc_id: int, field: Annotated[str, Form(max_length=40)],
            value: Annotated[str, Form(max_length=500)] = "",
            csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    who = user(request)
    check_csrf(request, csrf)
    try:
        require(who, "clerk")
        if field not in FIELD_WORDS:
            raise ValueError(field)
        correct_field(svc(request).records, doc_id, field, value, actor=f"web:{who.name}")
    except SohoaError as err:
        return error_page(request, err, who)
    except ValueError:
        return Response(status_code=400)
    return RedirectResponse("/review?done=1", status_code=303)


@router.get("/dossiers/{code}/documents/{doc_id}/pages/{page}.png")
def page_image(request: Request, code: str, doc_id: int, page: int) -> Response:
    user(request)
    try:
        doc = svc(request).document(code[:64], doc_id)
    except SohoaError as err:
        return Response(status_code=status_for(err))
    png = svc(request).thumbnail(doc, page=page, width=PAGE_WIDTH) if doc.path.is_file() else b""
    if not png:
        return Response(status_code=404)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})
