"""Issue 11 in headless Chromium: the /reports page draws its charts offline with no console
error, and a case whose talks failed (第二十九条第（一）项) appears in the must-sue work list."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser
from web_helpers import Tokens

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def must_sue(client: TestClient, tokens: Tokens) -> int:
    """A filed case whose notice was served 2026-07-03 and no reply came in 5 working days."""
    auth = {"Authorization": f"Bearer {tokens.screener}"}
    r = client.post("/api/v1/leads", headers=auth, json={
        "location": {"geometry": {"type": "Point", "coordinates": [119.76, 49.21]},
                     "precision_m": 30},
        "title": "磋商不成待起诉的案件", "received_on": "2026-06-01",
        "occurred_on": "2026-05-28", "case_type": "pollution_discharge",
        "source_channel": "petition_media",
    })
    assert r.status_code == 201, r.text
    lead_id = int(r.json()["id"])
    r = client.post(f"/api/v1/leads/{lead_id}/filing", headers=auth, json={
        "decision": "file", "grounds": [], "reasons": "经初步核查。", "approved_by": "张局长",
        "decided_on": "2026-06-10",
    })
    assert r.status_code == 201, r.text
    r = client.post(f"/api/v1/leads/{lead_id}/events", headers=auth,
                    json={"type": "notice_served", "on": "2026-07-03"})
    assert r.status_code == 201, r.text
    return lead_id


def test_reports_charts_offline_and_the_must_sue_work_list(
    browser: Browser, live_server: str, tokens: Tokens, must_sue: int, artifacts: Path
) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    requests: list[str] = []
    problems: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    # A fetch the page itself cancels when the test navigates on (net::ERR_ABORTED) is not a
    # failed request; anything else (refused, blocked, not found) is.
    page.on("requestfailed", lambda r: None if "ERR_ABORTED" in (r.failure or "")
            else problems.append(f"{r.url} {r.failure}"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{live_server}/login")
    page.fill("#token", tokens.viewer)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/")

    page.goto(f"{live_server}/reports")
    page.wait_for_load_state("networkidle")
    status_bars = page.locator("#chart-by_status svg rect")
    assert status_bars.count() >= 1
    assert int(page.locator("#total").inner_text()) >= 1
    assert page.locator("#chart-overdue svg rect").count() >= 1  # 第二十三条 at least
    assert "第二十三条" in page.locator("#chart-overdue").inner_text()
    page.screenshot(path=str(artifacts / "reports.png"), full_page=True)

    page.goto(f"{live_server}/")
    link = page.locator("#work-must_sue")
    assert int(link.locator("strong").inner_text()) >= 1
    link.click()
    page.wait_for_url("**work=must_sue**")
    rows = page.locator("#lead-table tbody tr")
    titles = rows.all_inner_texts()
    assert any("磋商不成待起诉的案件" in t for t in titles)
    assert all("逾期的线索" not in t for t in titles)  # a screening lead is not in this list
    page.screenshot(path=str(artifacts / "work-list-must-sue.png"), full_page=True)

    foreign = [u for u in requests if urlsplit(u).scheme in ("http", "https")
               and urlsplit(u).hostname != "127.0.0.1"]
    assert foreign == [] and problems == []
    context.close()


def test_the_case_page_shows_the_duties_and_records_an_event(
    browser: Browser, live_server: str, tokens: Tokens, must_sue: int, artifacts: Path
) -> None:
    """The screener records the lawsuit through the form (cookie session, CSRF header): the
    第三十条 duty to sue clears, the one to notify the procuratorate stays."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{live_server}/login")
    page.fill("#token", tokens.screener)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/leads/{must_sue}")
    duties = page.locator("#duties")
    assert "第二十九条第（一）项" in duties.inner_text()
    assert "提起诉讼" in duties.inner_text() and "书面告知同级检察机关" in duties.inner_text()
    assert "2026-10-08" in page.locator("#course-deadlines").inner_text()  # 国庆 roll
    form = page.locator("#event-form")
    form.locator("select[name=type]").select_option("lawsuit_filed")
    form.locator("input[name=on]").fill("2026-07-20")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    duties = page.locator("#duties")
    assert "书面告知同级检察机关" in duties.inner_text()
    assert "提起诉讼" not in duties.inner_text()
    assert "提起诉讼" in page.locator("#events").inner_text()
    page.screenshot(path=str(artifacts / "case-course.png"), full_page=True)
    assert problems == []
    context.close()
