"""/docs in headless Chromium with no internet: Swagger UI renders from the service's own files,
and a person can authorize, try POST /api/v1/screen with its Chinese example, and get a decision."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import sync_playwright
from support import CHROMIUM, CHROMIUM_ARGS, live_server

from geo_service.app import create_app
from geo_service.auth import create_token
from geo_service.services import Services

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_docs(services_by_backend: dict[str, Services]) -> Iterator[tuple[str, str]]:
    services = services_by_backend["sqlite"]
    with services.sessions() as session:
        token = create_token(session, "screener", "docs-browser", actor="test")
    with live_server(create_app(services=services)) as url:
        yield url, token


def test_docs_render_offline_and_try_it_out_works(live_docs: tuple[str, str]) -> None:
    base, token = live_docs
    requests: list[str] = []
    failed: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        page.on("request", lambda r: requests.append(r.url))
        page.on("requestfailed", lambda r: failed.append(f"{r.url} {r.failure}"))
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.goto(f"{base}/docs")  # the docs need a login: the login page, then back
        page.fill("#token", token)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/docs")
        page.wait_for_selector(".opblock", timeout=20_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        for path in (
            "/api/v1/screen",
            "/api/v1/screen/batch",
            "/api/v1/leads",
            "/api/v1/leads/{lead_id}/filing",
            "/api/v1/leads/{lead_id}/dossier",
        ):
            assert any(path in p.replace("\u200b", "") for p in paths), paths

        page.click("button.authorize")
        page.fill(".auth-container input[type=text], .auth-container input[type=password]", token)
        page.click(".auth-btn-wrapper button.authorize")
        page.click(".auth-btn-wrapper button.btn-done")

        block = (
            page.locator(".opblock-post")
            .filter(has=page.locator('[data-path="/api/v1/screen"]'))
            .first
        )
        block.locator(".opblock-summary").click()
        block.locator("button.try-out__btn").click()
        body = block.locator("textarea.body-param__text").input_value()
        assert "某某公司" in body  # the Chinese example is prefilled
        block.locator("button.execute").click()
        status = block.locator(".live-responses-table tbody .response-col_status").first
        status.wait_for(timeout=20_000)
        assert status.inner_text().strip().startswith("200")
        assert "呼伦贝尔市" in block.locator(".live-responses-table").inner_text()
        browser.close()
    foreign = [
        u
        for u in requests
        if urlsplit(u).scheme in ("http", "https") and urlsplit(u).hostname != "127.0.0.1"
    ]
    assert foreign == []
    assert failed == []
    assert errors == []
