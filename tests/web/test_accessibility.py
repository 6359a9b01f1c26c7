"""The counter's pages pass axe-core's WCAG 2 A/AA rules in Chromium, work from the keyboard, and fit the
counter's 1366x768 screens; the dossier page shows each document's current signature verdict, and the
status page the figures per receiving unit with a CSV of the month.

axe-core comes from the npm registry (tests/web/axe, installed by ``scripts/setup.sh --test``) and is
injected into each page; a violation names the rule and the elements, so the failure says what to fix.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sohoa.config.signing import SigningSettings
from sohoa.records.types import AttachMeta, NewDossier
from sohoa.web import create_app
from sohoa.web.tokens import Tokens
from tests.web.conftest import make_settings, serving, web_settings
from tests.web.test_browser import ARGS, ARTIFACTS, CHROMIUM

pytestmark = pytest.mark.slow
AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
GOOD, BAD = "000.00.31.H50-220906-0011", "000.00.32.H50-220906-0012"


@pytest.fixture
def server(tmp_path: Path, signing_settings: SigningSettings, case: Callable[[str], Path]) -> Iterator[tuple[str, str]]:
    data = tmp_path / "data"
    app = create_app(make_settings(data, f"sqlite:///{data / 'sohoa.db'}", signing_settings), web_settings())
    records = app.state.web.records
    records.create_dossier(NewDossier(code=GOOD, applicant_name="Phạm Văn Bình"))
    records.create_dossier(NewDossier(code=BAD, applicant_name="Đỗ Thị Mai"))
    records.attach(case("b-lt"), dossier_code=GOOD, kind="result", meta=AttachMeta(title="Giấy phép"))
    records.attach(case("tampered"), dossier_code=BAD, kind="component", meta=AttachMeta(title="Đơn"))
    _info, secret = Tokens(records).create("clerk", "Quầy 2")
    with serving(app) as base:
        yield base, secret


def _violations(page: object) -> list[str]:
    page.add_script_tag(path=str(AXE))  # type: ignore[attr-defined]
    found = page.evaluate(  # type: ignore[attr-defined]
        "async () => (await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}}))"
        ".violations.map(v => ({id: v.id, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))")
    return [f"{v['id']}: {', '.join(v['nodes'])}" for v in found]


def test_pages_accessible_badges_and_figures(server: tuple[str, str]) -> None:
    if not CHROMIUM.exists():
        pytest.fail("Chromium missing: apt-get install -y chromium (scripts/setup.sh --test)")
    if not AXE.exists():
        pytest.fail(f"{AXE} missing: run scripts/setup.sh --test (npm ci in tests/web/axe)")
    from playwright.sync_api import sync_playwright

    base, secret = server
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page(locale="vi-VN", viewport={"width": 1366, "height": 768}, accept_downloads=True)
            page.goto(f"{base}/login")
            assert not _violations(page), _violations(page)
            page.evaluate("document.body.insertAdjacentHTML('beforeend', '<img src=\"/static/x.png\">')")
            assert any(v.startswith("image-alt") for v in _violations(page)), "axe-core does not see a missing alt"
            page.reload()
            page.focus("#token")  # the keyboard alone signs in: type, Enter
            page.keyboard.type(secret)
            page.keyboard.press("Enter")
            page.wait_for_url(f"{base}/verify")
            problems: dict[str, list[str]] = {}
            for path in ("/verify", "/dossiers", f"/dossiers/{GOOD}", f"/dossiers/{BAD}", "/status", "/nope"):
                page.goto(f"{base}{path}")
                problems[path] = _violations(page)
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= 1366, f"{path}: the page is {width} px wide, wider than the counter's screen"
            assert not any(problems.values()), json.dumps(problems, ensure_ascii=False, indent=1)

            page.goto(f"{base}/dossiers/{GOOD}")
            assert page.inner_text(".badge") == "HỢP LỆ", page.inner_text(".docs")
            page.goto(f"{base}/dossiers/{BAD}")
            assert page.inner_text(".badge") == "KHÔNG HỢP LỆ", page.inner_text(".docs")
            page.screenshot(path=str(ARTIFACTS / "dossier-badge-failed.png"), full_page=True)

            page.goto(f"{base}/status")
            units = page.inner_text("#units-month")
            assert "000.00.31.H50" in units and "000.00.32.H50" in units, units
            with page.expect_download() as download:
                page.click("#monthly-csv")
            rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
            this_month = {r["unit_code"]: r for r in rows}  # documents digitized now, dossiers received in 2022
            assert this_month["000.00.31.H50"]["results_digitized"] == "1", rows
            assert this_month["000.00.32.H50"]["components_digitized"] == "1", rows
            answer = page.request.get(f"{base}/status/monthly.csv?month=2022-09")  # the codes' receiving month
            assert answer.ok, answer.status
            rows = list(csv.DictReader(io.StringIO(answer.body().decode("utf-8-sig"))))
            received = {r["unit_code"]: r for r in rows}
            assert received["000.00.31.H50"]["with_digitized_results"] == "1", rows
            assert received["000.00.31.H50"]["results_pct"] == "100.00", rows
            assert received["000.00.32.H50"]["components_pct"] == "100.00", rows
            assert received["*"]["dossiers_received"] == "2", rows
            page.screenshot(path=str(ARTIFACTS / "status-units.png"), full_page=True)
        finally:
            browser.close()
