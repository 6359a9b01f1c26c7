"""Counter pages through the real app (SQLite and PostgreSQL): login + CSRF, verify verdicts and bad
uploads shown on the page with a 4xx, dossier search with and without diacritics, document page,
thumbnail, status with the daemon down, language switch, session secret file mode."""

from __future__ import annotations

import re
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.web.conftest import CODE, Web, pdf_bytes

pytestmark = pytest.mark.slow
HTML = {"Accept": "text/html"}


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the form"
    return found.group(1)


def login(web: Web, role: str = "clerk") -> str:
    page = web.client.get("/login", headers=HTML)
    r = web.client.post("/login", data={"token": web.tokens[role], "csrf": csrf_of(page.text)}, headers=HTML,
                        follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/verify", f"login: {r.status_code} {r.text[:200]}"
    return csrf_of(web.client.get("/verify", headers=HTML).text)


def test_pages_need_login_and_login_needs_csrf(web: Web) -> None:
    r = web.client.get("/dossiers", headers=HTML, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    web.client.get("/login", headers=HTML)
    r = web.client.post("/login", data={"token": web.tokens["clerk"], "csrf": "forged"}, headers=HTML)
    assert r.status_code == 403, f"login without the form's CSRF value: {r.status_code}"
    page = web.client.get("/login", headers=HTML)
    r = web.client.post("/login", data={"token": "sohoa_nope", "csrf": csrf_of(page.text)}, headers=HTML)
    assert r.status_code == 401 and "không đúng" in r.text
    assert web.tokens["clerk"] not in r.text, "a secret was echoed into a page"


def test_session_cookie_flags_and_csrf_on_posts(web: Web, case: Callable[[str], Path]) -> None:
    page = web.client.get("/login", headers=HTML)
    cookie = page.headers.get("set-cookie", "")
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower(), cookie
    login(web)
    files = {"file": ("a.pdf", pdf_bytes("valid", case), "application/pdf")}
    r = web.client.post("/verify", files=files, data={"csrf": "wrong"}, headers=HTML)
    assert r.status_code == 403, f"a form post without CSRF was accepted: {r.status_code}"


def test_verify_page_verdicts_and_bad_upload(web: Web, case: Callable[[str], Path]) -> None:
    token = login(web)
    r = web.client.post("/verify", headers=HTML, data={"csrf": token},
                        files={"file": ("ket-qua.pdf", pdf_bytes("valid", case), "application/pdf")})
    assert r.status_code == 200, r.text[:300]
    assert 'class="v TOTAL-PASSED" id="verdict">HỢP LỆ' in r.text, "no green verdict on the page"
    assert CODE in r.text, "the records match (dossier code) is missing"
    r = web.client.post("/verify", headers=HTML, data={"csrf": token},
                        files={"file": ("sua.pdf", pdf_bytes("tampered", case), "application/pdf")})
    assert 'id="verdict">KHÔNG HỢP LỆ' in r.text, "tampered file not shown as invalid"
    for kind, fragment in [("encrypted", "mã hóa"), ("empty", "0 byte"), ("not-pdf", "không phải"),
                           ("truncated", "hỏng")]:
        r = web.client.post("/verify", headers=HTML, data={"csrf": token},
                            files={"file": (f"{kind}.pdf", pdf_bytes(kind, case), "application/pdf")})
        assert 400 <= r.status_code < 500, f"{kind}: {r.status_code}"
        assert 'id="verify-error"' in r.text and fragment in r.text, f"{kind}: no clear message on the page"
    r = web.client.post("/verify", headers=HTML, data={"csrf": token},
                        files={"file": ("lon.pdf", pdf_bytes("too-large", case), "application/pdf")})
    assert r.status_code == 413 and "quá lớn" in r.text, f"too large: {r.status_code} {r.text[:200]}"


@pytest.mark.parametrize("query", ["Nguyễn Văn Định", "nguyen van dinh", CODE, "000.00.31.H50"])
def test_dossier_search_page(web: Web, query: str) -> None:
    login(web)
    r = web.client.get("/dossiers", params={"q": query}, headers=HTML)
    assert r.status_code == 200 and f'href="/dossiers/{CODE}"' in r.text, f"{query!r} did not find {CODE}"


def test_search_is_at_the_obvious_url(web: Web) -> None:
    login(web)
    r = web.client.get("/search", params={"q": "dinh"}, headers=HTML)
    assert r.status_code == 200 and f'href="/dossiers/{CODE}"' in r.text, "/search must be the search page"


def test_dossier_document_thumbnail_and_download(web: Web) -> None:
    login(web)
    r = web.client.get(f"/dossiers/{CODE}", headers=HTML)
    assert r.status_code == 200 and "Giấy chứng nhận" in r.text
    doc_id = re.search(rf'/dossiers/{re.escape(CODE)}/documents/(\d+)"', r.text).group(1)
    r = web.client.get(f"/dossiers/{CODE}/documents/{doc_id}", headers=HTML)
    assert r.status_code == 200 and "quyền sử dụng đất" in r.text, "document page lacks its OCR text"
    thumb = web.client.get(f"/dossiers/{CODE}/documents/{doc_id}/thumb.png")
    assert thumb.status_code == 200 and thumb.content.startswith(b"\x89PNG"), thumb.status_code
    pdf = web.client.get(f"/dossiers/{CODE}/documents/{doc_id}/file")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    r = web.client.get("/dossiers/..%2F..%2Fetc%2Fpasswd/documents/1/file", headers=HTML)
    assert 400 <= r.status_code < 500, f"path-like code: {r.status_code}"


def test_attach_page_bad_and_good(web: Web, case: Callable[[str], Path]) -> None:
    token = login(web)
    url = "/dossiers/000.00.31.H50-220907-0002/attach"
    r = web.client.post(url, headers=HTML, data={"csrf": token, "kind": "component"},
                        files={"file": ("x.pdf", pdf_bytes("truncated", case), "application/pdf")})
    assert r.status_code == 422 and 'id="attach-error"' in r.text, f"{r.status_code}"
    r = web.client.post(url, headers=HTML, data={"csrf": token, "kind": "component", "title": "Tờ khai"},
                        files={"file": ("x.pdf", pdf_bytes("valid", case), "application/pdf")})
    assert r.status_code == 200 and 'id="attached"' in r.text and "Tờ khai" in r.text, r.text[:300]


def test_status_page_and_language_switch(web: Web) -> None:
    login(web)
    r = web.client.get("/status", headers=HTML)
    assert r.status_code == 200 and 'id="daemon-down"' in r.text and "Tỷ lệ số hóa" in r.text
    r = web.client.get("/status?lang=en", headers=HTML)
    assert "Digitization rate" in r.text and 'lang="en"' in r.text
    r = web.client.get("/status", headers=HTML)
    assert "Digitization rate" in r.text, "the language choice was not remembered"


def test_session_secret_is_private(web: Web) -> None:
    path = web.data_dir / "web" / "session.key"
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode == 0o600, f"session secret mode {mode:o}"
    assert path.read_text() not in web.client.get("/login", headers=HTML).text
