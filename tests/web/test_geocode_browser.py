"""Headless Chromium: paste a lead's text on /screen, see the candidate on the map with the
matched words highlighted, screen it, save it — the lead stores `location_resolution`."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.request import Request, urlopen

import pytest
from playwright.sync_api import Browser, Page
from web_helpers import Tokens

pytestmark = pytest.mark.browser


def _logged_in(browser: Browser, base: str, token: str) -> tuple[Page, list[str]]:
    page = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.goto(f"{base}/login")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page, errors


def _api(base: str, token: str, path: str) -> dict:
    req = Request(f"{base}{path}", headers={"Authorization": f"Bearer {token}"})
    with urlopen(req, timeout=30) as r:  # the local test server
        return json.loads(r.read())


def test_paste_text_pick_candidate_screen_and_save(
    browser: Browser, live_server: str, tokens: Tokens, artifacts: Path
) -> None:
    page, errors = _logged_in(browser, live_server, tokens.screener)
    page.goto(f"{live_server}/screen")
    candidates = page.locator("#text-candidates .candidate")

    # An address: the county outline on the map, the words used highlighted.
    page.fill("#lead-text", "12369热线：鄂尔多斯市准格尔旗薛家湾镇某煤矿排土场北侧有煤矸石倾倒")
    page.click("#text-form button[type=submit]")
    candidates.first.wait_for(timeout=60_000)
    assert candidates.first.locator("mark").inner_text() == "鄂尔多斯市准格尔旗薛家湾镇"
    assert "准格尔旗（150622）" in candidates.first.inner_text()
    assert "薛家湾镇" in candidates.first.inner_text()  # kept as an unresolved part
    assert page.locator("#screen-map path.leaflet-interactive").count() >= 1

    # Coordinates as an inspection transcript writes them: a point, then screened and saved.
    text = "巡查记录：东经111°12′36″，北纬39°50′12″处发现渗坑"
    page.fill("#lead-text", text)
    page.click("#text-form button[type=submit]")
    page.locator("#text-candidates mark", has_text="东经111°12′36″").wait_for(timeout=60_000)
    assert candidates.first.locator("mark").inner_text() == "东经111°12′36″，北纬39°50′12″"
    assert page.locator("#screen-map path.leaflet-interactive").count() >= 1  # the point marker
    page.screenshot(path=str(artifacts / "screen-lead-text.png"))
    candidates.first.locator("button.pick").click()
    result = page.locator("#result .decision")
    result.wait_for(timeout=60_000)
    assert "鄂尔多斯市" in result.inner_text()
    page.fill("#save-form input[name=title]", "文字定位的线索")
    page.click("#save-form button[type=submit]")
    page.wait_for_url(f"{live_server}/leads/*")
    lead_id = page.url.rstrip("/").rsplit("/", 1)[1]
    stored = _api(live_server, tokens.screener, f"/api/v1/leads/{lead_id}")
    resolution = stored["decision"]["location_resolution"]
    assert resolution["method"] == "coordinates_in_text"
    assert resolution["matched"] == "东经111°12′36″，北纬39°50′12″"
    assert resolution["unit"]["code"] == "150622"
    assert stored["request"]["location"]["text"] == text
    assert errors == []
    page.context.close()


def test_hopeless_text_shows_what_is_missing(
    browser: Browser, live_server: str, tokens: Tokens
) -> None:
    page, _ = _logged_in(browser, live_server, tokens.screener)
    page.goto(f"{live_server}/screen")
    page.fill("#lead-text", "<img src=x onerror=window.__xss=1>有人倾倒垃圾")
    page.click("#text-form button[type=submit]")
    problem = page.locator("#text-candidates .problem")
    problem.wait_for(timeout=60_000)
    assert "缺少可定位的信息" in problem.inner_text()
    assert page.evaluate("window.__xss") is None
    page.context.close()
