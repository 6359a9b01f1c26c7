"""The clerk's screens in a real browser (issue 18): people and times written for a person, the
digitizer taken from its certificate, a result's extracted data with the fields to check, the review
queue (issue 16: the field's box on its page, corrected by the clerk), a failure's whole sentence with
its stage and note file, an unknown address as a page of the site, thumbnails that keep their place.

Playwright drives Debian's Chromium against the app on a loopback socket bound to port 0 by the fixture.
Screenshots go to tests/web/artifacts/ (ignored by git) for a developer to look at.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sohoa.config.signing import SigningSettings
from sohoa.config.watch import WatchFolder
from sohoa.records.types import AttachMeta, NewDossier, SignatureInfo
from sohoa.runners.watch.journal import Journal
from sohoa.web import create_app
from sohoa.web.tokens import Tokens
from tests.web.conftest import make_settings, serving, web_settings
from tests.web.test_browser import ARGS, ARTIFACTS, CHROMIUM

pytestmark = pytest.mark.slow
CODE = "000.00.31.H50-220906-0009"
JOB = "a1b2c3d4e5f60718"
# How older records stored signers: the certificate's whole distinguished name.
OLD_STYLE = "Common Name: Nguyễn Thị Số Hóa; Organization: Trung tâm PVHCC; Country: VN"


@pytest.fixture
def server(tmp_path: Path, signing_settings: SigningSettings, case: Callable[[str], Path]) -> Iterator[tuple[str, str]]:
    data = tmp_path / "data"
    settings = make_settings(data, f"sqlite:///{data / 'sohoa.db'}", signing_settings)
    settings.watch.folders = [WatchFolder(path=Path("inbox"), name="quay-1")]
    app = create_app(settings, web_settings())
    records = app.state.web.records
    records.create_dossier(NewDossier(code=CODE, applicant_name="Lê Thị Thu"))
    when = dt.datetime(2026, 12, 1, 15, 54, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    records.attach(case("b-lt"), dossier_code=CODE, kind="result", meta=AttachMeta(
        title="Đơn đề nghị", page_texts=["Đơn đề nghị cấp giấy phép"],
        extra={"metadata": {"fields": {
            "doc_number": {"value": "123/QĐ-STP", "confidence": 0.97, "page": 1, "box": [1, 2, 3, 4]},
            "signer_name": {"value": "Nguyen Van Hung", "confidence": 0.61, "page": 1, "box": [420, 900, 700, 940]}},
            "needs_review": ["signer_name"], "page_sizes": {"1": [827, 1169]}}}, signatures=[
            SignatureInfo(profile="digitizer", signer=OLD_STYLE, time=when, level="B-LT"),
            SignatureInfo(profile="organization", signer="Trung tâm PVHCC", time=when, level="B-LT")]))
    journal = Journal(records)
    journal.claim(JOB, "quay-1", ["hong.jpg"], None)
    journal.update(JOB, state="failed", result={"documents": [{
        "name": "hong.jpg", "outcome": "failed", "stage": "ingest", "error": "input_corrupt",
        "reason_vi": "hong.jpg: tệp ảnh bị hỏng (cắt cụt).",
        "reason_en": "hong.jpg: the image is damaged (truncated)."}]})
    failed = data / "inbox" / "failed"
    failed.mkdir(parents=True)
    (failed / "hong.jpg").write_bytes(b"\xff\xd8 cut")
    (failed / "hong.jpg.error.txt").write_text("Tệp: hong.jpg\nCông đoạn: ingest\n", encoding="utf-8")
    _info, secret = Tokens(records).create("clerk", "Quầy 1")
    with serving(app) as base:
        yield base, secret


def test_clerk_screens(server: tuple[str, str]) -> None:
    if not CHROMIUM.exists():
        pytest.fail("Chromium missing: apt-get install -y chromium (scripts/setup.sh --test)")
    from playwright.sync_api import expect, sync_playwright

    base, secret = server
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page(locale="vi-VN", viewport={"width": 1366, "height": 768})
            page.goto(f"{base}/login")
            page.fill("#token", secret)
            page.click("#login-button")
            page.wait_for_url(f"{base}/verify")

            page.goto(f"{base}/dossiers/{CODE}")
            signers = page.locator(".sigtag").all_inner_texts()
            assert signers and not any("Common Name:" in s for s in signers), signers
            assert any(s.startswith("người số hóa: Nguyễn Thị Số Hóa — Trung tâm PVHCC") for s in signers), signers
            assert any("15:54 ngày 01/12/2026" in s for s in signers), signers
            assert page.inner_text(".digitized-by") == "Nguyễn Thị Số Hóa — Trung tâm PVHCC"
            data = page.inner_text("dl.result-data")
            assert "Số, ký hiệu" in data and "123/QĐ-STP" in data and "Nguyen Van Hung" in data, data
            assert page.locator("dd.review").count() == 1, "the field to review is not marked"
            box = page.locator("img.thumb").first.bounding_box()
            assert box is not None and box["height"] > 100, f"the thumbnail keeps no room while loading: {box}"
            page.screenshot(path=str(ARTIFACTS / "clerk-dossier.png"), full_page=True)

            page.click("#nav-review")  # the review queue: the field on its page, corrected by the clerk
            page.wait_for_selector(".review-item")
            box = page.locator(".field-box").bounding_box()
            image = page.locator(".page-with-box img").bounding_box()
            assert box and image and image["x"] < box["x"] < image["x"] + image["width"], (box, image)
            assert box["y"] > image["y"] + image["height"] / 2, "the signer's box is in the page's lower half"
            page.screenshot(path=str(ARTIFACTS / "clerk-review.png"), full_page=True)
            page.fill(".review-form input[name=value]", "Nguyễn Văn Hùng")
            page.click(".review-form .confirm")
            page.wait_for_selector("#corrected")
            assert page.locator("#nothing").count() == 1, "the corrected field is still on the queue"
            page.goto(f"{base}/dossiers/{CODE}")
            assert "Nguyễn Văn Hùng" in page.inner_text("dl.result-data") and page.locator("dd.review").count() == 0
            page.goto(f"{base}/status")
            reason = page.locator("#failures .reason").first.inner_text()
            assert "tệp ảnh bị hỏng" in reason, reason
            assert "đọc bản quét" in page.locator("#failures .failure").first.inner_text()
            page.click(".note-link")
            expect(page.locator("body")).to_contain_text("Công đoạn: ingest", timeout=30_000)  # after the navigation
            page.go_back()
            page.screenshot(path=str(ARTIFACTS / "clerk-status.png"), full_page=True)

            answer = page.goto(f"{base}/no-such-page")
            assert answer is not None and answer.status == 404
            assert page.locator("#error").count() == 1, page.content()[:300]
            assert "không tìm thấy" in page.inner_text("#error").lower(), page.inner_text("#error")
            assert page.locator("a#home").count() == 1, "no way back from the error page"
            page.screenshot(path=str(ARTIFACTS / "clerk-404.png"), full_page=True)
        finally:
            browser.close()
