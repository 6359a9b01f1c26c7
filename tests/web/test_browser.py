"""Real browser: Playwright drives Debian's Chromium (/usr/bin/chromium; Playwright never downloads a
browser here) against ``sohoa serve``'s app on a loopback port. Logs in, verifies a valid and a
tampered signed PDF, searches a dossier with and without diacritics, opens a document. The server
listens on a socket the fixture bound to port 0 itself (no "free port" guessed and handed over).
Screenshots go to tests/web/artifacts/ (not committed)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sohoa.config.signing import SigningSettings
from sohoa.web import create_app
from sohoa.web.tokens import Tokens
from tests.web.conftest import CODE, make_settings, pdf_bytes, seed, serving, web_settings

pytestmark = pytest.mark.slow
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture
def server(tmp_path: Path, signing_settings: SigningSettings, case: Callable[[str], Path]) -> Iterator[tuple[str, str]]:
    settings = make_settings(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'sohoa.db'}", signing_settings)
    app = create_app(settings, web_settings())
    seed(app.state.web.records, case("b-lt"))
    _info, secret = Tokens(app.state.web.records).create("clerk", "Quầy 1")
    with serving(app) as base:
        yield base, secret


def test_counter_in_a_real_browser(server: tuple[str, str], case: Callable[[str], Path], tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.fail("Chromium missing: apt-get install -y chromium (scripts/setup.sh --test)")
    from playwright.sync_api import expect, sync_playwright

    base, secret = server
    ARTIFACTS.mkdir(exist_ok=True)
    valid, tampered = tmp_path / "hop-le.pdf", tmp_path / "bi-sua.pdf"
    valid.write_bytes(pdf_bytes("valid", case))
    tampered.write_bytes(pdf_bytes("tampered", case))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page(locale="vi-VN")
            page.goto(f"{base}/verify")
            assert page.url.endswith("/login"), f"not sent to the login page: {page.url}"
            page.fill("#token", secret)
            page.click("#login-button")
            page.wait_for_url(f"{base}/verify")
            assert "Quầy 1" in page.inner_text("header"), "the signed-in clerk is not shown"

            page.set_input_files("#file", str(valid))
            page.click("#verify-button")
            page.wait_for_selector("#verdict")
            assert page.inner_text("#verdict") == "HỢP LỆ", page.inner_text("#report")
            assert CODE in page.inner_text("#record"), page.inner_text("#record")
            page.screenshot(path=str(ARTIFACTS / "verify-valid.png"), full_page=True)

            page.set_input_files("#file", str(tampered))
            page.click("#verify-button")
            page.wait_for_selector("#verdict")
            assert page.inner_text("#verdict") == "KHÔNG HỢP LỆ", page.inner_text("#report")
            page.screenshot(path=str(ARTIFACTS / "verify-tampered.png"), full_page=True)

            for query, shot in [("Nguyễn Văn Định", "search-diacritics"), ("nguyen van dinh", "search-plain")]:
                page.click("#nav-dossiers")
                page.fill("#q", query)
                page.click("#search-button")
                page.wait_for_url(lambda url: "q=" in url, timeout=30_000)  # the results page, not the form's
                page.wait_for_load_state()
                assert page.locator(f"a[href='/dossiers/{CODE}']").count() > 0, f"{query!r}: {CODE} not listed"
                page.screenshot(path=str(ARTIFACTS / f"{shot}.png"), full_page=True)

            page.locator(f"a[href='/dossiers/{CODE}']").first.click()
            page.wait_for_selector("#dossier-code")
            page.locator("a.open-doc").first.click()
            page.wait_for_selector("#doc-title")
            assert page.inner_text("#doc-title") == "Giấy chứng nhận"
            # The thumbnail is rendered on request (pdftoppm); wait until the browser has finished
            # loading or failing it, then check it has pixels (reading naturalWidth at once raced it).
            page.wait_for_function("document.getElementById('thumb').complete", timeout=60_000)
            loaded = page.evaluate("document.getElementById('thumb').naturalWidth")
            assert loaded > 0, "the page-1 thumbnail did not load (the server sent no image)"
            page.screenshot(path=str(ARTIFACTS / "document.png"), full_page=True)

            page.click("#lang-switch")
            # The switch reloads the page: wait for the English heading instead of reading the old one.
            expect(page.locator("h1")).to_contain_text("Document", timeout=30_000)
        finally:
            browser.close()
