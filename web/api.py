"""The JSON API under ``/api/v1`` (OpenAPI at ``/docs``): dossiers, documents, search, verify, status.

Roles (``sohoa.web.tokens``): ``clerk`` reads, searches, verifies and attaches; ``system`` also creates
dossiers; ``admin`` also lists and revokes tokens (there is no other delete: documents are never removed
through the API). Errors are ``{"error", "message_vi", "message_en"}`` with a 4xx status for anything
the client sent (see ``web.errors``); server paths and storage keys never appear in responses.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from sohoa.common.messages import _
from sohoa.records import DocumentInfo, NewDossier
from sohoa.records.errors import StoreFileMissing
from sohoa.web import status as status_mod
from sohoa.web.errors import NotFound
from sohoa.web.i18n import request_lang
from sohoa.web.security import api_token, require
from sohoa.web.service import WebService
from sohoa.web.tokens import TokenInfo

router = APIRouter(prefix="/api/v1", tags=["api"])
bearer_scheme = HTTPBearer(auto_error=False, description="A token from `sohoa token create`")

CODE_PATH = Path(description="Dossier code, e.g. 000.00.31.H50-220906-0001", max_length=64)
HIDDEN_DOC_KEYS = ("path", "storage_key")


def service(request: Request) -> WebService:
    return request.app.state.web


def _caller(request: Request,
            _creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)] = None) -> TokenInfo:
    return api_token(request, service(request).tokens)


def clerk(info: Annotated[TokenInfo, Depends(_caller)]) -> TokenInfo:
    require(info, "clerk")
    return info


def system(info: Annotated[TokenInfo, Depends(_caller)]) -> TokenInfo:
    require(info, "system")
    return info


def admin(info: Annotated[TokenInfo, Depends(_caller)]) -> TokenInfo:
    require(info, "admin")
    return info


Svc = Annotated[WebService, Depends(service)]
Clerk = Annotated[TokenInfo, Depends(clerk)]


class ErrorOut(BaseModel):
    error: str
    message_vi: str
    message_en: str


class DossierIn(BaseModel):
    """A new dossier. Without ``code`` the next free code for (unit, received date) is made."""

    model_config = ConfigDict(extra="forbid")
    code: str | None = Field(None, max_length=64)
    unit_code: str | None = Field(None, max_length=35)
    received_date: date | None = None
    procedure_code: str | None = Field(None, max_length=64)
    applicant_name: str | None = Field(None, max_length=255)
    applicant_id: str | None = Field(None, max_length=64)
    receiving_unit: str | None = Field(None, max_length=255)
    due_date: date | None = None


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (400, 401, 403, 404, 409, 413, 415, 422, 503)}


def doc_dict(doc: DocumentInfo) -> dict[str, Any]:
    out = doc.to_dict()
    for key in HIDDEN_DOC_KEYS:
        out.pop(key, None)
    return out


@router.get("/health", summary="Service and database health (no token needed)",
            responses={503: {"model": ErrorOut}})
def health(svc: Svc) -> dict[str, Any]:
    svc.records.list_dossiers(limit=1)  # DatabaseUnavailable → 503 through the error handler
    return {"status": "ok", "database": svc.records.where.split(":", 1)[0].split("+")[0]}


@router.post("/verify", summary="Verify an uploaded PDF (the `sohoa verify --json` schema)", responses=ERRORS)
def verify_pdf(request: Request, svc: Svc, _who: Clerk, file: Annotated[UploadFile | None, File()] = None,
               lang: Literal["vi", "en"] | None = None) -> dict[str, Any]:
    report = svc.verify_upload(file, lang or request_lang(request, svc.settings.language))
    return report.to_dict()


@router.get("/dossiers", summary="List dossiers (newest first), optionally by code prefix", responses=ERRORS)
def list_dossiers(svc: Svc, _who: Clerk, prefix: Annotated[str | None, Query(max_length=64)] = None,
                  limit: Annotated[int, Query(ge=1, le=500)] = 50,
                  offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> list[dict[str, Any]]:
    return [d.to_dict() for d in svc.records.list_dossiers(prefix=prefix, limit=limit, offset=offset)]


@router.post("/dossiers", status_code=201, summary="Create a dossier (system/admin)", responses=ERRORS)
def create_dossier(svc: Svc, who: Annotated[TokenInfo, Depends(system)], body: DossierIn) -> dict[str, Any]:
    new = NewDossier(**body.model_dump())
    return svc.records.create_dossier(new, actor=f"api:{who.name}").to_dict()


@router.get("/dossiers/{code}", summary="A dossier", responses=ERRORS)
def get_dossier(svc: Svc, _who: Clerk, code: Annotated[str, CODE_PATH]) -> dict[str, Any]:
    return svc.records.get_dossier(code).to_dict()


@router.get("/dossiers/{code}/documents", summary="Documents of a dossier, in attach order", responses=ERRORS)
def list_documents(svc: Svc, _who: Clerk, code: Annotated[str, CODE_PATH]) -> list[dict[str, Any]]:
    return [doc_dict(d) for d in svc.records.documents(code)]


@router.post("/dossiers/{code}/documents", status_code=201, summary="Attach an uploaded PDF to a dossier",
             responses=ERRORS)
def attach_document(svc: Svc, who: Clerk, code: Annotated[str, CODE_PATH],
                    file: Annotated[UploadFile | None, File()] = None,
                    kind: Annotated[Literal["component", "result", "copy"], Form()] = "component",
                    title: Annotated[str | None, Form(max_length=500)] = None) -> JSONResponse:
    result = svc.attach_upload(code, file, kind=kind, title=title, actor=f"web:{who.name}")
    body: dict[str, object] = {"created": result.created, "already_filed": result.already_filed,
                               "document": doc_dict(result.document)}
    if result.same_source_elsewhere is not None:
        body["needs_review"] = {"reason": "same_source_in_other_dossier",
                                "dossier": result.same_source_elsewhere.dossier_code,
                                "document_id": result.same_source_elsewhere.id}
    return JSONResponse(body,
                        status_code=201 if result.created else 200)


@router.get("/dossiers/{code}/documents/{doc_id}", summary="One document's metadata", responses=ERRORS)
def get_document(svc: Svc, _who: Clerk, code: Annotated[str, CODE_PATH],
                 doc_id: Annotated[int, Path(ge=1, le=2**62)]) -> dict[str, Any]:
    return doc_dict(svc.document(code, doc_id))


@router.get("/dossiers/{code}/documents/{doc_id}/file", summary="Download a document (PDF)",
            response_class=FileResponse, responses={**ERRORS, 200: {"content": {"application/pdf": {}}}})
def download_document(svc: Svc, _who: Clerk, code: Annotated[str, CODE_PATH],
                      doc_id: Annotated[int, Path(ge=1, le=2**62)]) -> FileResponse:
    return pdf_response(svc, code, doc_id, inline=False)


def pdf_response(svc: WebService, code: str, doc_id: int, *, inline: bool) -> FileResponse:
    doc = svc.document(code, doc_id)
    if not doc.path.is_file():
        raise StoreFileMissing(path=doc.storage_key, what=doc.sha256)
    name = f"{doc.dossier_code}-{doc.seq:03d}.pdf"
    return FileResponse(doc.path, media_type="application/pdf", filename=name,
                        content_disposition_type="inline" if inline else "attachment")


SEARCH_HEADERS = {
    "X-Total-Count": {"description": "Documents matching (exact up to the cap, see X-Total-Capped)",
                      "schema": {"type": "integer"}},
    "X-Total-Capped": {"description": "`true`: more than X-Total-Count documents match",
                       "schema": {"type": "string", "enum": ["true", "false"]}},
}


@router.get("/search", summary="Full-text search (diacritic-insensitive), one hit per document",
            responses={**ERRORS, 200: {"description": "The hits, best first", "headers": SEARCH_HEADERS}})
def search(svc: Svc, _who: Clerk, response: Response, q: Annotated[str, Query(max_length=200)] = "",
           code_prefix: Annotated[str | None, Query(max_length=64)] = None,
           kind: Literal["component", "result", "copy"] | None = None,
           date_from: date | None = None, date_to: date | None = None,
           include_superseded: Annotated[bool, Query(description="also documents replaced by a newer version")]
           = False,
           number: Annotated[str | None, Query(max_length=100, description="a result's number, exact")] = None,
           number_prefix: Annotated[str | None, Query(max_length=100)] = None,
           agency: Annotated[str | None, Query(max_length=255, description="issuing agency, exact")] = None,
           doc_type: Annotated[str | None, Query(max_length=100)] = None,
           issued_from: date | None = None, issued_to: date | None = None,
           limit: Annotated[int, Query(ge=1, le=200)] = 20) -> list[dict[str, Any]]:
    """The newest matches are ranked; the body stays a list of hits (as before), the count is in headers.
    Words may be left out when a filter is given; a result's data filters ignore marks, case and spaces."""
    result = svc.records.search_result(q, code_prefix=code_prefix, kind=kind, date_from=date_from, date_to=date_to,
                                       limit=limit, include_superseded=include_superseded, number=number,
                                       number_prefix=number_prefix, agency=agency, doc_type=doc_type,
                                       issued_from=issued_from, issued_to=issued_to)
    response.headers["X-Total-Count"] = str(result.total)
    response.headers["X-Total-Capped"] = "true" if result.capped else "false"
    return [h.__dict__ | {} for h in result.hits]


@router.get("/results", summary="Digitized results an applicant owns: their data, validity, signature verdict",
            responses=ERRORS)
def owned_results(svc: Svc, _who: Clerk, applicant: Annotated[str, Query(min_length=1, max_length=64)],
                  type: Annotated[str | None, Query(max_length=100)] = None,  # noqa: A002 - the API's word
                  valid_on: date | None = None) -> list[dict[str, Any]]:
    from sohoa.pipeline.owned_results import owned_results as find

    return find(svc.records, svc.settings, applicant, doc_type=type, valid_on=valid_on,
                offline=svc.web.verify_offline)


@router.post("/results/{doc_id}/reuse", status_code=201, summary="File an existing result under another dossier "
             "(the same stored file, no copy)", responses=ERRORS)
def reuse_owned_result(svc: Svc, who: Clerk, doc_id: Annotated[int, Path(ge=1, le=2**62)],
                       dossier: Annotated[str, Query(min_length=1, max_length=64)]
                       ) -> dict[str, Any]:
    from sohoa.records.results import result_by_id, reuse_result

    done = reuse_result(svc.records, result_by_id(svc.records, doc_id), dossier_code=dossier, actor=f"api:{who.name}")
    return {"dossier": done.document.dossier_code, "document_id": done.document.id, "created": done.created,
            "reused_from": doc_id}


@router.get("/status", summary="Daemon health, job counts, recent failures, digitization rate", responses=ERRORS)
def status(svc: Svc, _who: Clerk) -> dict[str, Any]:
    return status_mod.collect(svc.records, svc.web.daemon_health_url, svc.web.daemon_timeout_s).to_dict()


@router.get("/tokens", summary="API tokens (admin); never the secrets", responses=ERRORS)
def list_tokens(svc: Svc, _who: Annotated[TokenInfo, Depends(admin)]) -> list[dict[str, Any]]:
    return [t.to_dict() for t in svc.tokens.list()]


@router.delete("/tokens/{token_id}", summary="Revoke a token (admin)", responses=ERRORS)
def revoke_token(svc: Svc, _who: Annotated[TokenInfo, Depends(admin)],
                 token_id: Annotated[int, Path(ge=1, le=2**62)]) -> dict[str, Any]:
    if svc.tokens.get(token_id) is None:
        raise NotFound(what=_("API token {id}", id=token_id))
    return svc.tokens.revoke(token_id).to_dict()
