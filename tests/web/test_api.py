"""The JSON API against the real app and records (SQLite and PostgreSQL): auth, roles, dossiers,
attach/download, search with and without diacritics, verify verdicts and bad uploads (4xx, never 5xx)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.web.conftest import CODE, CODE2, Web, pdf_bytes

pytestmark = pytest.mark.slow  # the session PKI and the signed cases take a few seconds to make


def test_health_needs_no_token(web: Web) -> None:
    r = web.client.get("/api/v1/health")
    assert r.status_code == 200 and r.json()["status"] == "ok", r.text


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer sohoa_wrong"}, {"Authorization": "Basic x"}])
def test_api_refuses_missing_or_wrong_tokens(web: Web, headers: dict[str, str]) -> None:
    r = web.client.get("/api/v1/dossiers", headers=headers)
    assert r.status_code == 401, f"{headers}: {r.status_code} {r.text}"
    assert r.json()["error"] == "auth_required" and "Bearer" in r.json()["message_en"]


def test_roles_limit_what_each_may_do(web: Web) -> None:
    body = {"code": "000.00.31.H50-220908-0007", "applicant_name": "Lê Thị Ánh"}
    r = web.client.post("/api/v1/dossiers", json=body, headers=web.auth("clerk"))
    assert r.status_code == 403, f"a clerk created a dossier: {r.status_code} {r.text}"
    assert "clerk" in r.json()["message_en"]
    r = web.client.post("/api/v1/dossiers", json=body, headers=web.auth("system"))
    assert r.status_code == 201, r.text
    assert r.json()["code"] == body["code"] and r.json()["applicant_name"] == "Lê Thị Ánh"
    r = web.client.post("/api/v1/dossiers", json=body, headers=web.auth("system"))
    assert r.status_code == 409, f"duplicate dossier: {r.status_code} {r.text}"
    tokens = web.client.get("/api/v1/tokens", headers=web.auth("admin")).json()
    clerk_id = next(t["id"] for t in tokens if t["role"] == "clerk")
    assert all("token" not in t and "token_hash" not in t for t in tokens), "a listing exposed a secret"
    r = web.client.delete(f"/api/v1/tokens/{clerk_id}", headers=web.auth("system"))
    assert r.status_code == 403, f"system revoked a token: {r.status_code}"
    r = web.client.delete(f"/api/v1/tokens/{clerk_id}", headers=web.auth("admin"))
    assert r.status_code == 200 and r.json()["revoked_at"], r.text
    r = web.client.get("/api/v1/dossiers", headers=web.auth("clerk"))
    assert r.status_code == 401, f"a revoked token still works: {r.status_code}"


def test_dossier_documents_download_and_attach(web: Web, case: Callable[[str], Path]) -> None:
    h = web.auth("clerk")
    r = web.client.get(f"/api/v1/dossiers/{CODE}", headers=h)
    assert r.status_code == 200 and r.json()["document_count"] == 1, r.text
    docs = web.client.get(f"/api/v1/dossiers/{CODE}/documents", headers=h).json()
    assert len(docs) == 1 and "path" not in docs[0] and "storage_key" not in docs[0], docs
    r = web.client.get(f"/api/v1/dossiers/{CODE}/documents/{docs[0]['id']}/file", headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(r.content).hexdigest() == docs[0]["sha256"], "downloaded bytes differ from the stored ones"
    data = case("b-b").read_bytes()
    files = {"file": ("../../etc/ket-qua.pdf", data, "application/pdf")}
    r = web.client.post(f"/api/v1/dossiers/{CODE2}/documents", headers=h, files=files,
                        data={"kind": "result", "title": "Quyết định"})
    assert r.status_code == 201, r.text
    doc = r.json()["document"]
    assert doc["extra"]["uploaded_as"] == "ket-qua.pdf", "the client's folders must not survive in the label"
    assert doc["page_count"] == 2 and doc["kind"] == "result"
    again = web.client.post(f"/api/v1/dossiers/{CODE2}/documents", headers=h, files=files)
    assert again.status_code == 200 and again.json()["created"] is False, again.text
    r = web.client.get(f"/api/v1/dossiers/{CODE}/documents/{doc['id']}", headers=h)
    assert r.status_code == 404, f"a document of another dossier was served: {r.status_code}"


@pytest.mark.parametrize("query", ["giấy chứng nhận quyền", "giay chung nhan quyen", "HOA PHUOC"])
def test_search_is_diacritic_insensitive(web: Web, query: str) -> None:
    r = web.client.get("/api/v1/search", params={"q": query}, headers=web.auth("clerk"))
    assert r.status_code == 200, r.text
    assert [h["dossier_code"] for h in r.json()] == [CODE], f"{query!r}: {r.json()}"


@pytest.mark.parametrize("code", ["..%2F..%2Fetc%2Fpasswd", "000.00.31.H50-220906-9999", "not a code", "%00"])
def test_bad_or_unknown_codes_are_4xx(web: Web, code: str) -> None:
    for path in (f"/api/v1/dossiers/{code}", f"/api/v1/dossiers/{code}/documents",
                 f"/api/v1/dossiers/{code}/documents/1/file"):
        r = web.client.get(path, headers=web.auth("clerk"))
        assert 400 <= r.status_code < 500, f"{path}: {r.status_code} {r.text}"


def test_verify_valid_and_tampered(web: Web, case: Callable[[str], Path]) -> None:
    h = web.auth("clerk")
    ok = web.client.post("/api/v1/verify", headers=h, files={"file": ("ket-qua.pdf", pdf_bytes("valid", case),
                                                                      "application/pdf")})
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["indication"] == "TOTAL-PASSED", body
    assert body["file"] == "ket-qua.pdf", "the report must name the upload, not a server path"
    assert body["record_match"] and body["record_match"]["dossier_code"] == CODE, body["record_match"]
    bad = web.client.post("/api/v1/verify?lang=en", headers=h,
                          files={"file": ("sua.pdf", pdf_bytes("tampered", case), "application/pdf")})
    assert bad.status_code == 200 and bad.json()["indication"] == "TOTAL-FAILED", bad.text


@pytest.mark.parametrize(("kind", "status", "error"), [
    ("not-pdf", 415, "input_wrong_type"), ("empty", 400, "input_empty"), ("truncated", 422, "input_corrupt"),
    ("encrypted", 422, "input_encrypted"), ("too-large", 413, "upload_too_large")])
def test_bad_uploads_get_4xx_json(web: Web, case: Callable[[str], Path], kind: str, status: int, error: str) -> None:
    data = pdf_bytes(kind, case)
    for url in ("/api/v1/verify", f"/api/v1/dossiers/{CODE2}/documents"):
        r = web.client.post(url, headers=web.auth("clerk"), files={"file": (f"{kind}.pdf", data, "application/pdf")})
        assert r.status_code == status, f"{kind} → {url}: {r.status_code} {r.text[:300]}"
        assert r.json()["error"] == error and r.json()["message_vi"], r.text[:300]
    docs = web.client.get(f"/api/v1/dossiers/{CODE2}/documents", headers=web.auth("clerk")).json()
    assert docs == [], f"a bad upload was attached: {docs}"


def test_wrong_content_type_and_missing_file(web: Web, case: Callable[[str], Path]) -> None:
    h = web.auth("clerk")
    r = web.client.post("/api/v1/verify", headers=h, files={"file": ("a.pdf", pdf_bytes("valid", case), "image/png")})
    assert r.status_code == 415, r.text
    r = web.client.post("/api/v1/verify", headers=h, data={"other": "x"})
    assert r.status_code == 400 and r.json()["error"] == "upload_missing", r.text


def test_status_copes_with_daemon_down(web: Web) -> None:
    r = web.client.get("/api/v1/status", headers=web.auth("clerk"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["daemon"] is None and body["daemon_error"], body
    month = body["digitization"]["month"]
    assert month is not None and "components_pct" in month, body


def test_results_an_applicant_owns_and_their_reuse(web: Web, case: Callable[[str], Path]) -> None:
    from sohoa.records import AttachMeta, NewDossier

    code = "000.00.31.H50-220906-0077"
    web.records.create_dossier(NewDossier(code=code, applicant_name="Phan Thị Lan", applicant_id="079301001234"))
    web.records.attach(case("b-lt"), dossier_code=code, kind="result", meta=AttachMeta(
        title="Giấy phép xây dựng", extra={"metadata": {"fields": {
            "doc_type": {"value": "GIẤY PHÉP", "confidence": 0.95, "page": 1, "box": [1, 2, 3, 4]},
            "valid_until": {"value": "2030-01-01", "confidence": 0.9, "page": 1, "box": [1, 2, 3, 4]}}}}))
    answer = web.client.get("/api/v1/results", params={"applicant": "079301001234", "type": "giay phep"},
                            headers=web.auth("clerk"))
    assert answer.status_code == 200, answer.text
    [entry] = answer.json()
    assert entry["valid"] and entry["valid_until"] == "2030-01-01" and entry["fields"]["doc_type"] == "GIẤY PHÉP"
    assert entry["signature"]["indication"] == "TOTAL-PASSED", entry["signature"]
    expired = web.client.get("/api/v1/results", params={"applicant": "079301001234", "valid_on": "2031-01-01"},
                             headers=web.auth("clerk"))
    assert expired.json() == [], "a result past its validity is not offered for reuse on that day"
    reused = web.client.post(f"/api/v1/results/{entry['document_id']}/reuse", params={"dossier": CODE2},
                             headers=web.auth("clerk"))
    assert reused.status_code == 201 and reused.json()["created"] is True, reused.text
    docs = web.client.get(f"/api/v1/dossiers/{CODE2}/documents", headers=web.auth("clerk")).json()
    assert docs[-1]["sha256"] == entry["sha256"], "the same stored file, filed under the other dossier"
    missing = web.client.post("/api/v1/results/999999/reuse", params={"dossier": CODE2}, headers=web.auth("clerk"))
    assert missing.status_code == 404, missing.text
