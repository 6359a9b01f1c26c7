"""``create_app(settings)``: the FastAPI application of ``sohoa serve`` (API, pages, static files).

Why the records database is opened here, once: one engine and connection pool per process, shared by
every request thread; the app closes it at shutdown. Middleware order (outermost first): request body
limit (413 before any parsing), signed session cookie (SameSite=Strict, HttpOnly, Secure unless
configured off), security headers. Errors: typed ``SohoaError`` → 4xx/503 JSON for ``/api`` and an HTML
page elsewhere; validation errors → 422; anything else goes to the documented last-resort handler,
which logs the traceback and answers 500 without details (no secrets, no paths).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from sohoa.common.errors import SohoaError
from sohoa.common.reasons import validation_problems
from sohoa.config import Settings
from sohoa.config.web import WebSettings
from sohoa.records import Records
from sohoa.web import api, pages, review_pages
from sohoa.web.errors import Unexpected, ValidationFailed, http_error_body, status_for
from sohoa.web.security import session_secret
from sohoa.web.service import WebService
from sohoa.web.uploads import BodyLimit, error_body

log = logging.getLogger(__name__)
SESSION_COOKIE = "sohoa_session"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "script-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'",
}


def create_app(settings: Settings, web: WebSettings | None = None) -> FastAPI:
    """The application; ``web`` overrides ``settings.web`` (tests, ``sohoa serve --port``)."""
    web = web or settings.web
    records = Records.open(settings.records, settings.data_dir)
    try:
        secret = session_secret(settings.resolve(web.session_secret_file))
    except BaseException:
        records.close()
        raise

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        records.close()

    app = FastAPI(title="sohoa", version="1", lifespan=lifespan,
                  description="Dossier records, documents, search and signature verification for one-stop "
                              "service centers. Authenticate with `Authorization: Bearer <token>` "
                              "(tokens from `sohoa token create`).")
    app.state.web = WebService(settings, web, records)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(review_pages.router)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")

    app.add_exception_handler(SohoaError, _sohoa_error)
    app.add_exception_handler(pages.LoginRequired, pages.login_redirect)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _last_resort)

    @app.middleware("http")
    async def headers(request: Request, call_next: object) -> Response:
        response: Response = await call_next(request)  # type: ignore[operator]
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    app.add_middleware(SessionMiddleware, secret_key=secret, session_cookie=SESSION_COOKIE,
                       max_age=web.session_max_age_s, same_site="strict", https_only=web.cookie_secure)
    app.add_middleware(BodyLimit, limit_bytes=app.state.web.limit_bytes)
    return app


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def _sohoa_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SohoaError)
    status = status_for(exc)
    if status >= 500:
        log.error("%s %s: %s", request.method, request.url.path, exc)
    if _is_api(request) or "text/html" not in request.headers.get("accept", ""):
        return JSONResponse(error_body(exc), status_code=status)
    return pages.error_page(request, exc)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    err = ValidationFailed(detail=validation_problems(exc.errors()))
    if _is_api(request) or "text/html" not in request.headers.get("accept", ""):
        return JSONResponse(error_body(err), status_code=422)
    return pages.error_page(request, err)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    log.info("%s %s: HTTP %d %s", request.method, request.url.path, exc.status_code, exc.detail)
    if not _is_api(request) and "text/html" in request.headers.get("accept", ""):
        return pages.http_error_page(request, exc.status_code)  # a browser: the site's page, not JSON
    return JSONResponse(http_error_body(exc.status_code), status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))


async def _last_resort(request: Request, exc: Exception) -> Response:
    # Documented last-resort boundary: a bug, not bad input. Log it; tell the client nothing internal.
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(error_body(Unexpected()), status_code=500)
