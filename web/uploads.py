"""Uploaded PDFs: size limit on the wire, content-type and magic-byte checks, private temp files.

Why a private temp file named by us: ``signing.verify`` and ``records.attach`` read paths, and nothing a
client sends (file name, form field, URL) may become part of a path on this machine. The client's file
name is kept only as a display label (``display_name``), cleaned of folders and control characters.
Why the limit is enforced twice: the ASGI middleware refuses an oversized body (by its Content-Length,
or by counting a chunked body) before the multipart parser spools it to disk; the copy below re-checks
what was actually received. The temp file is removed when the request ends, whatever happened: uploads
are not kept unless attached to a dossier (and then the records store keeps its own copy).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pikepdf
from starlette.datastructures import UploadFile
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sohoa.common.errors import InputCorrupt, InputEmpty, InputEncrypted, InputError, InputWrongType
from sohoa.common.messages import N_, _

PDF_TYPES = frozenset({"application/pdf", "application/x-pdf", "application/octet-stream",
                       "binary/octet-stream", "application/download", ""})
MAGIC_WINDOW = 1024
CHUNK = 1 << 20
MULTIPART_OVERHEAD = 64 * 1024  # form fields and boundaries around the file


class UploadTooLarge(InputError):
    code = "upload_too_large"
    exit_code = 15
    text = N_("{path}: the upload is too large (limit {limit} MB).")


class UploadMissing(InputError):
    code = "upload_missing"
    exit_code = 10
    text = N_("No PDF file was chosen for upload.")


_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]+")


def display_name(raw: str | None) -> str:
    """The client's file name for messages only: last component, NFC, no control chars, ≤ 120 chars."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip() or "tep-tai-len.pdf"
    return name[:120]


@contextlib.contextmanager
def received_pdf(upload: UploadFile | None, limit_bytes: int) -> Iterator[tuple[Path, str]]:
    """Copy an upload into a private temp file after checking it looks like a PDF; yield (path, label).

    Raises ``InputError`` subclasses (empty, wrong type, too large) naming the client's file name.
    """
    if upload is None or not isinstance(upload, UploadFile):
        raise UploadMissing()
    label = display_name(upload.filename)
    ctype = (upload.content_type or "").split(";")[0].strip().lower()
    if ctype not in PDF_TYPES:
        raise InputWrongType(path=label, detail=_("content type {ctype}, expected application/pdf", ctype=ctype[:60]))
    folder = Path(tempfile.mkdtemp(prefix="sohoa-web-"))
    try:
        target = folder / "upload.pdf"
        size = 0
        with open(target, "wb") as out:
            head = b""
            while chunk := upload.file.read(CHUNK):
                size += len(chunk)
                if size > limit_bytes:
                    raise UploadTooLarge(path=label, limit=_mb(limit_bytes))
                if len(head) < MAGIC_WINDOW:
                    head += chunk[:MAGIC_WINDOW]
                out.write(chunk)
        if size == 0:
            raise InputEmpty(path=label)
        if b"%PDF-" not in head[:MAGIC_WINDOW]:
            raise InputWrongType(path=label, detail=_("no %PDF- header"))
        yield target, label
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def check_pdf_structure(path: Path, label: str) -> int:
    """Refuse truncated, damaged or encrypted PDFs before they are filed; returns the page count.

    Why the ``%%EOF`` check: qpdf repairs truncated files silently, which is right for reading a scan
    but wrong for accepting a signed document into the records (its signature would no longer cover it).
    """
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - MAGIC_WINDOW))
        tail = fh.read()
    if b"%%EOF" not in tail:
        raise InputCorrupt(path=label, detail=_("no %%EOF marker at the end: the file is truncated"))
    try:
        with pikepdf.open(path) as pdf:
            if pdf.is_encrypted:
                raise InputEncrypted(path=label)
            return len(pdf.pages)
    except pikepdf.PasswordError:
        raise InputEncrypted(path=label) from None
    except pikepdf.PdfError as exc:
        raise InputCorrupt(path=label, detail=str(exc)[:200]) from None


def _mb(limit_bytes: int) -> str:
    return f"{limit_bytes / (1 << 20):g}"


class BodyLimit:
    """ASGI middleware: 413 for request bodies above ``limit_bytes`` (+ multipart overhead).

    Declared sizes are refused before reading; undeclared (chunked) bodies are counted as they arrive
    and cut off with 413 if no response has started yet.
    """

    def __init__(self, app: ASGIApp, limit_bytes: int) -> None:
        self.app = app
        self.limit = limit_bytes + MULTIPART_OVERHEAD
        self.limit_bytes = limit_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, headers, send)
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(scope, headers, send)

    async def _refuse(self, scope: Scope, headers: dict[str, str], send: Send) -> None:
        import json

        err = UploadTooLarge(path="upload", limit=_mb(self.limit_bytes))
        wants_html = "text/html" in headers.get("accept", "") and not scope.get("path", "").startswith("/api/")
        if wants_html:
            body = (f"<!DOCTYPE html><html lang='vi'><meta charset='utf-8'><title>413</title>"
                    f"<p class='error'>{err.message('vi')}</p><p>{err.message('en')}</p>"
                    f"<p><a href='javascript:history.back()'>←</a></p></html>").encode()
            ctype = b"text/html; charset=utf-8"
        else:
            body = json.dumps(error_body(err), ensure_ascii=False).encode("utf-8")
            ctype = b"application/json"
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(BaseException):
    """Raised inside the app's receive() when a chunked body passes the limit.

    A ``BaseException`` on purpose: FastAPI turns any ``Exception`` raised while parsing a form into a
    400 "error parsing the body", which would hide the real reason (413) from the client.
    """


def error_body(err: Any) -> dict[str, Any]:
    """The API's error object: the typed error's code and both sentences (no exit code, no paths)."""
    return {"error": err.code, "message_vi": err.message("vi"), "message_en": err.message("en")}
