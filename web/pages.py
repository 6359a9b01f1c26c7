"""Server-rendered pages for the counter (Vietnamese by default, ``?lang=en`` switches and is remembered).

Why forms and no JavaScript: counter PCs run whatever browser the province installed; plain forms with
a file input (which also accepts a dropped file) work everywhere and print cleanly. Each page needs a
login (a token pasted once per shift, kept as a signed session cookie); form posts carry a CSRF value.
Bad uploads render the same page with the typed error's sentence and a 4xx status, never a 500.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from sohoa.common.errors import SohoaError
from sohoa.common.messages import N_, Lang, _, pgettext, translate
from sohoa.common.reasons import foreign
from sohoa.records.dossiers import local_today
from sohoa.signing.verify.model import iso
from sohoa.signing.verify.report import LABELS
from sohoa.web import figures, i18n
from sohoa.web import status as status_mod
from sohoa.web.api import pdf_response
from sohoa.web.errors import HTTP_OTHER, HTTP_SENTENCES, BadRequest, NotFound, status_for
from sohoa.web.i18n import LANG_COOKIE, request_lang
from sohoa.web.security import check_csrf, csrf_token, require, session_token
from sohoa.web.service import WebService
from sohoa.web.tokens import TokenInfo

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.globals["iso"] = iso
i18n.install(templates.env)
KIND_WORDS = {"component": N_("Dossier component"), "result": N_("Result"), "copy": N_("Copy")}
STAGE_WORDS = {"ingest": N_("reading the scan"), "separate": N_("splitting by cover sheet"),
               "clean": N_("cleaning"), "ocr": N_("text recognition"), "assemble": N_("building the PDF/A"),
               "process": N_("processing"), "write": N_("writing the output"), "sign": N_("signing"),
               "attach": N_("filing in the records"), "conformance": N_("PDF/A check")}
FIELD_WORDS = {"doc_number": N_("Number"), "doc_type": N_("Type"), "issue_date": N_("Issued on"),
               "issue_place": N_("Place"), "issuing_agency": N_("Issuing agency"), "parent_agency": N_("Parent agency"),
               "subject": N_("Subject"), "signer_name": N_("Signed by"), "signer_title": N_("Signer's title"),
               "signer_authority": N_("On behalf of"), "recipients": N_("Recipients"), "valid_until": N_("Valid until")}
FIELD_ORDER = ["doc_number", "doc_type", "issue_date", "issuing_agency", "subject", "signer_name", "signer_title",
               "valid_until"]
STATE_WORDS = {"done": pgettext("job state", "done"), "failed": pgettext("job state", "failed"),
               "review": pgettext("job state", "needs review"), "claimed": pgettext("job state", "claimed"),
               "processing": pgettext("job state", "processing"), "released": pgettext("job state", "paused")}


class LoginRequired(Exception):  # noqa: N818 - a redirect signal, not an error
    """Raised by ``user()``; the app turns it into a redirect to /login."""


def svc(request: Request) -> WebService:
    return request.app.state.web


def lang_of(request: Request) -> Lang:
    return request_lang(request, svc(request).settings.language)


def user(request: Request) -> TokenInfo:
    info = session_token(request, svc(request).tokens)
    if info is None:
        raise LoginRequired()
    return info


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    lang = lang_of(request)
    ctx = {"request": request, "lang": lang, "verdicts": LABELS, "kinds": KIND_WORDS, "states": STATE_WORDS,
           "stages": STAGE_WORDS, "field_words": FIELD_WORDS, "field_order": FIELD_ORDER,
           "detail": lambda text: foreign(text).render(lang) if text else "",
           "csrf": csrf_token(request), "user": context.pop("user", None), **context}
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    if request.query_params.get("lang") in ("vi", "en"):
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="strict",
                            secure=svc(request).web.cookie_secure, httponly=True)
    response.headers["Cache-Control"] = "no-store"
    return response


def error_page(request: Request, err: SohoaError, who: TokenInfo | None = None) -> HTMLResponse:
    return render(request, "error.html", {"error": err.message(lang_of(request)), "user": who}, status_for(err))


def http_error_page(request: Request, status: int) -> HTMLResponse:
    """A bare HTTP error (no such page, wrong method) as a page in the site's layout and language."""
    message = translate(HTTP_SENTENCES.get(status, HTTP_OTHER), lang_of(request), status=status)
    return render(request, "error.html", {"error": message, "status": status}, status)


# --- login -----------------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return render(request, "login.html", {"failed": False})


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, token: Annotated[str, Form(max_length=300)] = "",
          csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    check_csrf(request, csrf)
    info = svc(request).tokens.authenticate(token.strip())
    if info is None:
        return render(request, "login.html", {"failed": True}, 401)
    request.session.clear()  # a fresh session (and CSRF value) at each login
    request.session["tid"] = info.id
    return RedirectResponse("/verify", status_code=303)


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    check_csrf(request, csrf)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/")
def home() -> Response:
    return RedirectResponse("/verify", status_code=303)


# --- verify ----------------------------------------------------------------------------------


@router.get("/verify", response_class=HTMLResponse)
def verify_form(request: Request) -> HTMLResponse:
    return render(request, "verify.html", {"user": user(request), "report": None, "error": None})


@router.post("/verify", response_class=HTMLResponse)
def verify_upload(request: Request, file: Annotated[UploadFile | None, File()] = None,
                  csrf: Annotated[str, Form(max_length=200)] = "") -> HTMLResponse:
    who = user(request)
    check_csrf(request, csrf)
    try:
        report = svc(request).verify_upload(file, lang_of(request))
    except SohoaError as err:
        return render(request, "verify.html", {"user": who, "report": None, "error": err.message(lang_of(request))},
                      status_for(err))
    return render(request, "verify.html", {"user": who, "report": report, "error": None})


# --- dossiers --------------------------------------------------------------------------------


@router.get("/search", response_class=HTMLResponse)  # the URL a clerk types; the same page
@router.get("/dossiers", response_class=HTMLResponse)
def dossiers(request: Request, q: str = "", superseded: bool = False) -> HTMLResponse:
    who = user(request)
    found = svc(request).find(q[:200], limit=svc(request).web.page_size, include_superseded=superseded)
    return render(request, "dossiers.html", {"user": who, "found": found, "q": q[:200]})


@router.get("/dossiers/{code}", response_class=HTMLResponse)
def dossier(request: Request, code: str, attached: str = "") -> HTMLResponse:
    who = user(request)
    try:
        info = svc(request).records.get_dossier(code[:64])
        docs = svc(request).records.documents(info.code)
    except SohoaError as err:
        return error_page(request, err, who)
    badges = {doc.id: svc(request).badge(doc) for doc in docs}
    return render(request, "dossier.html", {"user": who, "dossier": info, "docs": docs, "error": None,
                                            "badges": badges,
                                            "attached": attached if attached in ("new", "same") else ""})


@router.post("/dossiers/{code}/attach", response_class=HTMLResponse)
def attach(request: Request, code: str, file: Annotated[UploadFile | None, File()] = None,
           kind: Annotated[str, Form(max_length=20)] = "component", title: Annotated[str, Form(max_length=500)] = "",
           csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    who = user(request)
    check_csrf(request, csrf)
    service = svc(request)
    try:
        require(who, "clerk")
        result = service.attach_upload(code[:64], file, kind=kind, title=title or None, actor=f"web:{who.name}")
    except SohoaError as err:
        try:
            info = service.records.get_dossier(code[:64])
            docs = service.records.documents(info.code)
        except SohoaError:
            return error_page(request, err, who)
        return render(request, "dossier.html", {"user": who, "dossier": info, "docs": docs, "attached": "",
                                                "error": err.message(lang_of(request))}, status_for(err))
    flag = "new" if result.created else "same"
    return RedirectResponse(f"/dossiers/{result.document.dossier_code}?attached={flag}", status_code=303)


@router.get("/dossiers/{code}/documents/{doc_id}", response_class=HTMLResponse)
def document(request: Request, code: str, doc_id: int) -> HTMLResponse:
    who = user(request)
    try:
        doc = svc(request).document(code[:64], doc_id)
        texts = svc(request).records.page_texts(doc)
    except SohoaError as err:
        return error_page(request, err, who)
    return render(request, "document.html", {"user": who, "doc": doc, "first_text": (texts[0] if texts else "")[:3000]})


@router.get("/dossiers/{code}/documents/{doc_id}/file")
def document_file(request: Request, code: str, doc_id: int) -> Response:
    who = user(request)
    try:
        return pdf_response(svc(request), code[:64], doc_id, inline=True)
    except SohoaError as err:
        return error_page(request, err, who)


@router.get("/dossiers/{code}/documents/{doc_id}/thumb.png")
def thumbnail(request: Request, code: str, doc_id: int) -> Response:
    user(request)
    try:
        doc = svc(request).document(code[:64], doc_id)
    except SohoaError as err:
        return Response(status_code=status_for(err))
    png = svc(request).thumbnail(doc) if doc.path.is_file() else b""
    if not png:
        return Response(status_code=404)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


# --- status ----------------------------------------------------------------------------------


@router.get("/status", response_class=HTMLResponse)
def status_page(request: Request) -> HTMLResponse:
    who = user(request)
    service = svc(request)
    try:
        data = status_mod.collect(service.records, service.web.daemon_health_url, service.web.daemon_timeout_s,
                                  service.settings)
    except SohoaError as err:
        return error_page(request, err, who)
    units = {"today": data.units_today, "month": data.units_month}
    month = f"{local_today(service.records.tz):%Y-%m}"
    return render(request, "status.html", {"user": who, "s": data, "units": units, "month": month})


@router.get("/status/monthly.csv")
def monthly_csv(request: Request, month: str = "") -> Response:
    """The month's figures per unit (``?month=YYYY-MM``, default this month) for the provincial report."""
    user(request)
    service = svc(request)
    try:
        day = date.fromisoformat(f"{month}-01") if month else local_today(service.records.tz)
    except ValueError:
        raise BadRequest(detail=_("month must be written YYYY-MM")) from None
    text = figures.monthly_csv(service.records, day)
    return Response(text.encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="so-hoa-{day:%Y-%m}.csv"'})


@router.get("/status/jobs/{job_id}/note.txt")
def failure_note(request: Request, job_id: str) -> Response:
    """The note the daemon left next to a quarantined job's files (``.error.txt`` / ``.review.txt``)."""
    user(request)
    service = svc(request)
    note = status_mod.note_of(service.records, service.settings, job_id)
    if note is None:
        raise NotFound(what=_("The note of this job"))
    return PlainTextResponse(note.read_text(encoding="utf-8", errors="replace"),
                             headers={"Cache-Control": "private, no-store"})


def login_redirect(request: Request, _exc: Exception) -> Response:
    return RedirectResponse("/login", status_code=303)


