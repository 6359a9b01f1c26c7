"""Typed errors of the web service and the one mapping from any ``SohoaError`` to an HTTP status.

Why one mapping: the API and the pages must agree on what is the client's fault (4xx, with the typed
error's Vietnamese and English sentences) and what is ours (503 when the database is down; 500 only
from the documented last-resort handler in ``web.app``). Bad input never reaches that handler.
"""

from __future__ import annotations

from sohoa.common.errors import (
    ConfigError,
    InputCorrupt,
    InputEmpty,
    InputEncrypted,
    InputError,
    InputMissing,
    InputTooLarge,
    InputWrongType,
    RecordsError,
    SohoaError,
    UsageError,
)
from sohoa.common.messages import N_, translate
from sohoa.database.errors import DatabaseBusy, DatabaseUnavailable, SchemaOutdated
from sohoa.records.errors import (
    AlreadySuperseded,
    DocumentNotFound,
    DossierExists,
    DossierNotFound,
    DossierRefused,
    InvalidDossierCode,
    InvalidRecordInput,
    StoreFileMissing,
)
from sohoa.web.tokens import TokenError, TokenNotFound
from sohoa.web.uploads import UploadMissing, UploadTooLarge


class WebError(SohoaError):
    code = "web"
    exit_code = 90


class AuthRequired(WebError):
    code = "auth_required"
    text = N_("A valid API token (Authorization: Bearer …) or a login is required.")


class Forbidden(WebError):
    code = "forbidden"
    text = N_("The {role} role may not {action}.")


class CsrfFailed(WebError):
    code = "csrf_failed"
    text = N_("The session expired or the form is not valid; reload the page and try again.")


class NotFound(WebError):
    code = "not_found"
    text = N_("{what} not found.")


class BadRequest(WebError):
    code = "bad_request"
    text = N_("Invalid request: {detail}")


class ValidationFailed(WebError):
    """FastAPI's request validation (422); ``detail`` is ``common.reasons.validation_problems``."""

    code = "validation"
    text = N_("Invalid request data: {detail}")


class Unexpected(WebError):
    """The last-resort 500: the traceback goes to the log, the client gets this sentence only."""

    code = "internal"
    text = N_("Unexpected internal error; it has been logged.")


# Statuses Starlette answers by itself (no route, wrong method, ...): its ``detail`` is the English
# reason phrase ("Not Found"), so each gets a sentence of the catalog instead.
HTTP_SENTENCES: dict[int, str] = {
    400: N_("The request is not valid."),
    401: N_("Authentication is required."),
    403: N_("Access to this address is not allowed."),
    404: N_("The page or resource was not found; check the address."),
    405: N_("This address does not accept this method (for example GET instead of POST)."),
    406: N_("The requested format is not available."),
    408: N_("The request took too long; try again."),
    409: N_("The request conflicts with the current state of the data."),
    410: N_("The resource is no longer available."),
    413: N_("The request is too large."),
    415: N_("The type of the data sent is not supported."),
    422: N_("The data sent is not valid."),
    429: N_("Too many requests; wait a moment and try again."),
    500: N_("Unexpected internal error; it has been logged."),
    502: N_("A server behind this one did not answer properly."),
    503: N_("The service is temporarily unavailable; try again later."),
}
HTTP_OTHER = N_("The request failed (HTTP status {status}).")


def http_error_body(status: int) -> dict[str, str]:
    """The API error object of a bare HTTP status, in both languages (no English reason phrase in Vietnamese)."""
    msgid = HTTP_SENTENCES.get(status, HTTP_OTHER)
    return {"error": f"http_{status}", "message_vi": translate(msgid, "vi", status=status),
            "message_en": translate(msgid, "en", status=status)}


STATUS: list[tuple[type[SohoaError], int]] = [
    (AuthRequired, 401), (Forbidden, 403), (CsrfFailed, 403), (NotFound, 404), (BadRequest, 400),
    (ValidationFailed, 422), (Unexpected, 500),
    (UploadTooLarge, 413), (InputTooLarge, 413), (UploadMissing, 400), (InputWrongType, 415),
    (InputEmpty, 400), (InputCorrupt, 422), (InputEncrypted, 422), (InputMissing, 400), (InputError, 400),
    (DossierNotFound, 404), (DocumentNotFound, 404), (TokenNotFound, 404), (StoreFileMissing, 410),
    (DossierExists, 409), (AlreadySuperseded, 409), (DossierRefused, 409),
    (InvalidDossierCode, 422), (InvalidRecordInput, 422), (TokenError, 422),
    (DatabaseUnavailable, 503), (DatabaseBusy, 503), (SchemaOutdated, 503),
    (UsageError, 400), (ConfigError, 500), (RecordsError, 500),
]


def status_for(err: SohoaError) -> int:
    for cls, status in STATUS:
        if isinstance(err, cls):
            return status
    return 500
