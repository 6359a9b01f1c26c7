"""Search through the API and the page: match counts (exact, then "more than") and superseded versions."""

from __future__ import annotations

from pathlib import Path

import pytest

from sohoa.records import AttachMeta, search
from tests.web.conftest import CODE2, Web
from tests.web.test_pages import HTML, login


def _versions(web: Web, tmp_path: Path) -> None:
    """Two versions of one document in CODE2: v1 superseded by v2."""
    v1 = tmp_path / "v1.pdf"
    v1.write_bytes(b"%PDF-1.7\n% v1\n%%EOF\n")
    v2 = tmp_path / "v2.pdf"
    v2.write_bytes(b"%PDF-1.7\n% v2\n%%EOF\n")
    old = web.records.attach(v1, dossier_code=CODE2, kind="result",
                             meta=AttachMeta(title="Giấy phép v1", page_texts=["Giấy phép kinh doanh bản một"]))
    web.records.attach(v2, dossier_code=CODE2, kind="result",
                       meta=AttachMeta(title="Giấy phép v2", page_texts=["Giấy phép kinh doanh bản hai"],
                                       supersedes=old.document.sha256))


def test_api_counts_and_superseded(web: Web, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _versions(web, tmp_path)
    h = web.auth("clerk")
    r = web.client.get("/api/v1/search", params={"q": "giay phep kinh doanh"}, headers=h)
    assert r.status_code == 200, r.text
    assert [x["title"] for x in r.json()] == ["Giấy phép v2"], "the superseded version is hidden by default"
    assert (r.headers["X-Total-Count"], r.headers["X-Total-Capped"]) == ("1", "false")
    r = web.client.get("/api/v1/search", params={"q": "giay phep kinh doanh", "include_superseded": "true"},
                       headers=h)
    assert sorted(x["title"] for x in r.json()) == ["Giấy phép v1", "Giấy phép v2"]
    assert r.headers["X-Total-Count"] == "2"
    monkeypatch.setattr(search, "COUNT_CAP", 1)
    r = web.client.get("/api/v1/search", params={"q": "giay", "include_superseded": "true"}, headers=h)
    assert (r.headers["X-Total-Count"], r.headers["X-Total-Capped"]) == ("1", "true")


def test_page_shows_counts_and_superseded_option(web: Web, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _versions(web, tmp_path)
    login(web)
    r = web.client.get("/search", params={"q": "giấy phép kinh doanh", "lang": "en"}, headers=HTML)
    assert r.status_code == 200
    assert "1 document matches." in r.text and "Giấy phép v1" not in r.text
    assert 'name="superseded"' in r.text
    r = web.client.get("/search", params={"q": "giay phep kinh doanh", "superseded": "true", "lang": "vi"},
                       headers=HTML)
    assert "Có 2 văn bản phù hợp." in r.text and "Giấy phép v1" in r.text, "the Vietnamese page, both versions"
    assert 'id="superseded" checked' in r.text
    monkeypatch.setattr(search, "COUNT_CAP", 1)
    r = web.client.get("/search", params={"q": "giay", "superseded": "true", "lang": "en"}, headers=HTML)
    assert "More than 1 documents match" in r.text
