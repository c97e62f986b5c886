"""The demo as an officer meets it: `geo-screen demo`'s own data (install_demo on a fresh
database, as the command does), served by uvicorn, read in headless Chromium.

Lead 7 is the demo's major case (a 较大突发环境事件 in a league): its page must name the
supervising department by name — 自治区生态环境厅 — and never show Python's repr of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from real_cases import python_repr_in
from support import demo_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, admin token) of a server over a fresh demo database."""
    with demo_server(tmp_path_factory.mktemp("demo"), "admin", "demo") as served:
        yield served


def test_demo_major_case_names_its_supervisor(
    browser: Browser, demo: tuple[str, str], tmp_path: Path
) -> None:
    base, token = demo
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/leads/7")
    assert "较大突发环境事件（重大案件）" in page.locator("#lead-title").inner_text()
    major = page.locator("#sec-major_case")
    assert "属于重大生态环境损害赔偿案件" in major.inner_text()
    supervisor = major.locator("ul.facts li", has_text=re.compile(r"^\s*督办单位："))
    assert supervisor.count() == 1
    assert supervisor.inner_text().strip() == "督办单位：自治区生态环境厅（第三十五条第二款）"
    body = page.locator("body").inner_text()
    assert python_repr_in(body) == [], python_repr_in(body)
    page.goto(f"{base}/leads/7/opinion")
    opinion = page.locator("body").inner_text()
    assert "督办单位：自治区生态环境厅" in opinion
    assert python_repr_in(opinion) == []
    context.close()
