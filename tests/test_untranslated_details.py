"""No English library detail inside a Vietnamese sentence: real failures, raised the way production meets them.

Why real ones: the bug was that sqlite's "database is locked", a PDF parser's "EOF marker not found" or
Starlette's "Not Found" were pasted into the Vietnamese sentence. Each case here makes the library say
its English words (a SQLite file locked by another connection, a PDF cut in half, a URL that does not
exist, a method the route does not take, a query parameter of the wrong type) and asserts the
Vietnamese message carries none of them, while the English message still does (nothing is lost).
"""

from __future__ import annotations

import os
import re
import sqlite3
import zlib
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest
from fastapi.testclient import TestClient

from sohoa.common.errors import InputCorrupt, SohoaError
from sohoa.common.reasons import UNKNOWN, Foreign, classify
from sohoa.config import Settings
from sohoa.config.records import RecordsSettings
from sohoa.config.settings import IngestSettings
from sohoa.config.web import WebSettings
from sohoa.database.errors import DatabaseBusy
from sohoa.records import NewDossier, Records
from sohoa.runners.watch.journal import Journal
from sohoa.signing.pdfinput import read_pdf
from sohoa.stages.ingest import load_page, scan_inputs
from sohoa.web import create_app
from sohoa.web.tokens import Tokens
from tests.services import refused_url

VIETNAMESE = re.compile(r"[ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ]", re.I)


def _english_words(raw: str) -> set[str]:
    """The blacklist: the raw detail's own words (4+ letters), which must not survive into Vietnamese."""
    return {w.lower() for w in re.findall(r"[A-Za-z]{4,}", raw)}


def assert_no_english(vi: str, raw_words: set[str], *, en: str | None = None) -> None:
    found = {w for w in raw_words if re.search(rf"\b{w}\b", vi, re.I)}
    assert not found, f"English detail words {sorted(found)} in the Vietnamese sentence: {vi!r}"
    assert VIETNAMESE.search(vi), f"not a Vietnamese sentence: {vi!r}"
    if en is not None:
        assert any(re.search(rf"\b{w}\b", en, re.I) for w in raw_words), f"the English lost the detail: {en!r}"


def _raw_detail(err: SohoaError) -> str:
    """The library's text the error carries (kept for English), wherever it is nested."""
    texts: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, Foreign):
            texts.append(value.text)
        for inner in getattr(value, "fields", {}).values() if not isinstance(value, SohoaError) else ():
            walk(inner)
        for item in getattr(value, "items", ()) if not isinstance(value, dict) else ():
            walk(item)

    for value in err.fields.values():
        walk(value)
    assert texts, f"{type(err).__name__} carries no library detail: {err.fields}"
    return " ".join(texts)


# --- a locked SQLite database ------------------------------------------------------------------


def test_a_locked_sqlite_database_is_busy_in_vietnamese(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sohoa.db'}"
    records = Records.open(RecordsSettings(database_url=url, store_path=tmp_path / "store",
                                           sqlite_busy_timeout_s=0.2), tmp_path)
    holder = sqlite3.connect(tmp_path / "sohoa.db", isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
        with pytest.raises(DatabaseBusy) as caught:
            records.create_dossier(NewDossier(code="000.00.31.H50-220906-0001"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        records.close()
    err = caught.value
    raw = _raw_detail(err)
    assert "locked" in raw, raw
    assert_no_english(err.message("vi"), _english_words(raw), en=err.message("en"))
    assert "khóa" in err.message("vi")  # the reason, translated: locked by another writer
    assert err.to_dict()["message_en"] == err.message("en") and err.transient


# --- truncated PDFs -----------------------------------------------------------------------------


def _pdf(path: Path, *, stream_cut: bool = False) -> Path:
    """An image-only PDF as a scanner writes it (random pixels: its Flate stream does not shrink)."""
    pdf = pikepdf.new()
    side = 300
    data = zlib.compress(os.urandom(side * side * 3))
    image = pikepdf.Stream(pdf, data[: len(data) // 3] if stream_cut else data)
    image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    image.Width, image.Height, image.BitsPerComponent = side, side, 8
    image.ColorSpace, image.Filter = pikepdf.Name.DeviceRGB, pikepdf.Name.FlateDecode
    page = pdf.add_blank_page(page_size=(108, 108))
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    page.Contents = pikepdf.Stream(pdf, b"q 108 0 0 108 0 0 cm /Im0 Do Q")
    pdf.save(path)
    return path


def _truncated(tmp_path: Path) -> Path:
    whole = _pdf(tmp_path / "whole.pdf").read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(whole[: len(whole) * 2 // 3])
    return cut


def test_a_truncated_pdf_read_for_signing_or_verifying(tmp_path: Path) -> None:
    with pytest.raises(InputCorrupt) as caught:
        read_pdf(_truncated(tmp_path))
    err = caught.value
    assert_no_english(err.message("vi"), _english_words(_raw_detail(err)), en=err.message("en"))
    assert "cắt cụt" in err.message("vi")


def test_a_truncated_pdf_scanned_for_ocr(tmp_path: Path) -> None:
    settings = IngestSettings()
    with pytest.raises(InputCorrupt) as caught:
        for ref in scan_inputs([_truncated(tmp_path)], settings):
            load_page(ref, settings)
    err = caught.value
    assert_no_english(err.message("vi"), _english_words(_raw_detail(err)), en=err.message("en"))


def test_a_pdf_whose_image_stream_is_cut(tmp_path: Path) -> None:
    settings = IngestSettings()
    with pytest.raises(InputCorrupt) as caught:
        for ref in scan_inputs([_pdf(tmp_path / "cut-stream.pdf", stream_cut=True)], settings):
            load_page(ref, settings)
    err = caught.value
    assert_no_english(err.message("vi"), _english_words(_raw_detail(err)), en=err.message("en"))


# --- HTTP errors Starlette answers by itself ------------------------------------------------------


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    settings = Settings(data_dir=tmp_path, records=RecordsSettings(database_url=f"sqlite:///{tmp_path / 'r.db'}",
                                                                   store_path=tmp_path / "store"))
    app = create_app(settings, WebSettings(cookie_secure=False, daemon_health_url=refused_url("")))
    token = Tokens(app.state.web.records).create("clerk", "test")[1]
    with TestClient(app) as test_client:
        yield test_client, token


@pytest.mark.parametrize(("method", "url", "status", "raw"), [
    ("GET", "/api/v1/khong-co-trang-nay", 404, "Not Found"),
    ("GET", "/khong-co-trang-nay", 404, "Not Found"),
    ("DELETE", "/api/v1/health", 405, "Method Not Allowed"),
])
def test_http_errors_have_vietnamese_sentences(client: tuple[TestClient, str], method: str, url: str,
                                               status: int, raw: str) -> None:
    test_client, _token = client
    response = test_client.request(method, url)
    assert response.status_code == status
    body = response.json()
    assert body["error"] == f"http_{status}"
    assert_no_english(body["message_vi"], _english_words(raw))
    assert body["message_vi"] != body["message_en"]


def test_a_validation_error_names_the_field_in_vietnamese(client: tuple[TestClient, str]) -> None:
    test_client, token = client
    response = test_client.get("/api/v1/dossiers", params={"limit": "nhieu"},
                               headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422
    body = response.json()
    raw = "Input should be a valid integer, unable to parse string as an integer"
    assert_no_english(body["message_vi"], _english_words(raw) - {"query"}, en=body["message_en"])
    assert "limit" in body["message_vi"], "the Vietnamese sentence must still say which field is wrong"


def test_the_status_page_shows_failure_reasons_in_the_page_language(client: tuple[TestClient, str]) -> None:
    """A failed watch job: the Vietnamese page shows the outcome's Vietnamese sentence, not the English log line."""
    test_client, token = client
    records = test_client.app.state.web.records  # type: ignore[attr-defined]
    journal = Journal(records)
    journal.claim("job-1", "inbox", ["hong.pdf"], None)
    err = InputCorrupt(path="hong.pdf", detail="EOF marker not found")
    journal.update("job-1", state="failed", error=f"{err.code}: {err.message('en')}",
                   result={"documents": [{"name": "hong", "outcome": "failed", "error": err.code,
                                          "reason_vi": err.message("vi"), "reason_en": err.message("en")}]})
    html = {"Accept": "text/html"}
    login = test_client.get("/login", headers=html).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', login)
    assert csrf is not None
    test_client.post("/login", data={"token": token, "csrf": csrf.group(1)}, headers=html)
    vi = test_client.get("/status?lang=vi", headers=html).text
    en = test_client.get("/status?lang=en", headers=html).text
    assert err.message("vi") in vi and "EOF marker" not in vi
    assert "EOF marker not found" in en


# --- every error kind, and the classifier ----------------------------------------------------------


def _kinds() -> list[type[SohoaError]]:
    import sohoa.cli.commands.batch  # noqa: F401 - its own error kind
    import sohoa.runners.batch.runner  # noqa: F401 - imports every error kind of the layers below
    import sohoa.web.app  # noqa: F401

    found: list[type[SohoaError]] = []
    todo = [SohoaError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_no_error_kind_puts_a_plain_detail_into_vietnamese() -> None:
    """Whatever a raiser passes as ``detail``, the Vietnamese sentence has the reason, not the English."""
    raw = "connection to server at 127.0.0.1 failed: Connection refused"
    kinds = _kinds()
    assert len(kinds) > 50
    for cls in kinds:
        names = set(re.findall(r"\{(\w+)", cls.text)) - {"detail"}
        err = cls(**{name: "X" for name in names}, detail=raw)
        vi = err.message("vi")
        if "{detail}" in cls.text:
            assert_no_english(vi, _english_words(raw), en=err.message("en"))
            assert "từ chối kết nối" in vi, f"{cls.__name__}: {vi!r}"


@pytest.mark.parametrize(("text", "reason"), [
    ("database is locked", "the database is locked by another writer"),
    ("Error -5 while decompressing data: incomplete or truncated stream", "compressed data inside the file is damaged"),
    ('connection to server at "127.0.0.1", port 1 failed: Connection refused',
     "the server refused the connection (is it running?)"),
    ("could not translate host name \"db.invalid\" to address", "the server name cannot be resolved"),
    ("EOF marker not found", "the file is truncated (it ends too early)"),
    ("image file is truncated (3 bytes not processed)", "the file is truncated (it ends too early)"),
    ("No space left on device", "the disk is full"),
    ("[Errno 13] Permission denied: '/srv/inbox/a.pdf'", "permission denied"),
    ("unable to find trailer dictionary while recovering damaged file", "the PDF structure is damaged"),
    ("something no rule knows about", UNKNOWN),
])
def test_library_texts_are_classified(text: str, reason: str) -> None:
    assert classify(text) == reason


def test_os_errors_are_classified_by_errno_not_by_their_words() -> None:
    import errno

    assert classify("Keine Berechtigung", errno_value=errno.EACCES) == "permission denied"
