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
    vi = "Cần mã truy cập hợp lệ (Authorization: Bearer …) hoặc đăng nhập."
    en = "A valid API token (Authorization: Bearer …) or a login is required."


class Forbidden(WebError):
    code = "forbidden"
    vi = "Vai trò {role} không được phép {action}."
    en = "The {role} role may not {action}."


class CsrfFailed(WebError):
    code = "csrf_failed"
    vi = "Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ; hãy tải lại trang và thử lại."
    en = "The session expired or the form is not valid; reload the page and try again."


class NotFound(WebError):
    code = "not_found"
    vi = "Không tìm thấy {what}."
    en = "{what} not found."


class BadRequest(WebError):
    code = "bad_request"
    vi = "Yêu cầu không hợp lệ: {detail}"
    en = "Invalid request: {detail}"


STATUS: list[tuple[type[SohoaError], int]] = [
    (AuthRequired, 401), (Forbidden, 403), (CsrfFailed, 403), (NotFound, 404), (BadRequest, 400),
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
