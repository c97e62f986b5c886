"""End to end in headless Chromium (Debian's /usr/bin/chromium) against a running server.

No internet: every request must go to 127.0.0.1, none may fail, no console error; the case map
draws its polygons; drawing on /screen returns a decision; XSS payloads never run. Screenshots
go to test-artifacts/.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page
from web_helpers import XSS, Tokens

pytestmark = pytest.mark.browser


@dataclass
class Watch:
    """What a page did: requests, failures, console errors, dialogs."""

    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def clean(self) -> None:
        foreign = [
            u
            for u in self.requests
            if urlsplit(u).scheme in ("http", "https") and urlsplit(u).hostname != "127.0.0.1"
        ]
        assert foreign == [], f"requests to other hosts: {foreign}"
        # A page's own data fetches (the leads map, the layer overview) are cancelled when the
        # test navigates on before they finish: net::ERR_ABORTED is the browser's, not a failure.
        failed = [f for f in self.failed if not f.endswith("net::ERR_ABORTED")]
        assert failed == [], f"failed requests: {failed}"
        assert self.errors == [], f"console errors: {self.errors}"
        assert self.dialogs == [], f"dialogs opened (script ran): {self.dialogs}"


def _open(browser: Browser, base: str, token: str) -> tuple[Page, Watch]:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    watch = Watch()
    page.on("request", lambda r: watch.requests.append(r.url))
    page.on("requestfailed", lambda r: watch.failed.append(f"{r.url} {r.failure}"))
    page.on("response", lambda r: r.status >= 400 and watch.failed.append(f"{r.status} {r.url}"))
    page.on("console", lambda m: m.type == "error" and watch.errors.append(m.text))
    page.on("pageerror", lambda e: watch.errors.append(str(e)))
    page.on("dialog", lambda d: (watch.dialogs.append(d.message), d.dismiss()))
    # Log in as a person would: the form, then the session cookie.
    page.goto(f"{base}/login")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page, watch


def test_case_map_renders_polygons_offline(
    browser: Browser, live_server: str, tokens: Tokens, seeded: dict[str, int], artifacts: Path
) -> None:
    page, watch = _open(browser, live_server, tokens.viewer)
    page.goto(f"{live_server}/leads/{seeded['xss']}/map")
    page.wait_for_selector("path.leaflet-interactive")
    assert page.locator("path.leaflet-interactive").count() >= 3  # damage, league, county …
    assert page.locator(".leaflet-control-scale").count() == 1
    assert page.locator(".leaflet-control-layers").count() == 1
    assert page.locator("#gs-legend").inner_text().startswith("图例")
    assert page.locator(".gs-label", has_text="呼伦贝尔市").count() >= 1
    page.screenshot(path=str(artifacts / "case-map.png"))
    watch.clean()
    assert page.evaluate("window.__xss") is None
    page.context.close()


def test_xss_in_a_lead_never_executes(
    browser: Browser, live_server: str, tokens: Tokens, seeded: dict[str, int], artifacts: Path
) -> None:
    page, watch = _open(browser, live_server, tokens.screener)
    for path in ("/", f"/leads/{seeded['xss']}", f"/leads/{seeded['xss']}/opinion"):
        page.goto(f"{live_server}{path}")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__xss") is None, path
        assert page.locator("img[src='x']").count() == 0, path
    # The payload is shown as text, whole.
    assert "window.__xss=1" in page.locator(".doc-table").inner_text()
    page.goto(f"{live_server}/leads/{seeded['xss']}")
    frame = page.frame_locator("#case-map")
    frame.locator("path.leaflet-interactive").first.wait_for()
    frame.locator("#gs-summary summary").click()  # open the folded decision panel
    assert "window.__xss=2" in frame.locator("#gs-summary h1").inner_text()
    map_frame = next(f for f in page.frames if f.url.endswith("/map?embed=1"))
    assert map_frame.evaluate("window.__xss") is None
    assert XSS in page.locator("#lead-title").inner_text()  # shown whole, as text
    page.screenshot(path=str(artifacts / "case-page.png"), full_page=True)
    watch.clean()
    page.context.close()


# Leaflet.draw marks each vertex it takes, then ignores clicks until it re-arms (50 ms after
# the mouse-up): wait for both, instead of sleeping between clicks.
VERTEX_TAKEN = """n => {
  const handler = (window.GS_SCREEN.map._events.mouseup || [])
    .map(listener => listener.ctx).find(ctx => ctx && '_disableMarkers' in ctx);
  return document.querySelectorAll('#screen-map .leaflet-editing-icon').length >= n
    && handler !== undefined && !handler._disableMarkers;
}"""


def test_drawing_a_polygon_on_screen_returns_a_decision(
    browser: Browser, live_server: str, tokens: Tokens, artifacts: Path
) -> None:
    page, watch = _open(browser, live_server, tokens.screener)
    page.goto(f"{live_server}/screen")
    page.wait_for_selector("#screen-map .leaflet-overlay-pane path")  # the league boundaries
    # Zoom onto Hulunbuir (呼伦贝尔市) and draw a small triangle there.
    page.evaluate("window.GS_SCREEN.map.setView([49.2, 119.8], 9, {animate: false})")
    page.click(".leaflet-draw-draw-polygon")
    box = page.locator("#screen-map").bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for n, (dx, dy) in enumerate(((-60, -40), (60, -40), (0, 50)), start=1):
        page.mouse.click(cx + dx, cy + dy)
        page.wait_for_function(VERTEX_TAKEN, arg=n)
    page.mouse.click(cx - 60, cy - 40)  # back on the first vertex closes the polygon
    result = page.locator("#result .decision")
    result.wait_for(timeout=60_000)
    text = result.inner_text()
    assert "呼伦贝尔市" in text
    assert "第五条第二款" in text
    assert page.locator("#save-form").is_visible()
    page.screenshot(path=str(artifacts / "screen-drawn.png"))
    # Save it as a lead: the case page opens with the same decision.
    page.fill("#save-form input[name=title]", "浏览器绘制的线索")
    page.click("#save-form button[type=submit]")
    page.wait_for_url(f"{live_server}/leads/*")
    assert "浏览器绘制的线索" in page.locator("#lead-title").inner_text()
    assert "呼伦贝尔市" in page.locator("#decision").inner_text()
    watch.clean()
    page.context.close()


def test_typed_coordinates_in_gcj02(
    browser: Browser, live_server: str, tokens: Tokens, artifacts: Path
) -> None:
    page, watch = _open(browser, live_server, tokens.screener)
    page.goto(f"{live_server}/screen")
    page.select_option("#crs", "GCJ02")
    page.fill("#coords", "111.75, 40.84")  # 呼和浩特 city centre as a phone shares it
    page.click("#coords-form button[type=submit]")
    page.locator("#result .decision").wait_for(timeout=60_000)
    assert "呼和浩特市" in page.locator("#result").inner_text()
    page.fill("#coords", "40.84, 111.75")  # swapped: the API says so, the page shows it
    page.click("#coords-form button[type=submit]")
    page.locator("#result .problem").wait_for(timeout=60_000)
    assert page.locator("#result .problem").inner_text().strip()
    page.screenshot(path=str(artifacts / "screen-typed.png"))
    # A 4xx answer from the API is a logged failed response, nothing else.
    watch.failed = [f for f in watch.failed if "/api/v1/screen" not in f]
    watch.errors = [e for e in watch.errors if "422" not in e and "400" not in e]
    watch.clean()
    page.context.close()


def test_case_list_and_layers_pages_offline(
    browser: Browser, live_server: str, tokens: Tokens, seeded: dict[str, int], artifacts: Path
) -> None:
    page, watch = _open(browser, live_server, tokens.analyst)
    assert page.locator("#lead-table tbody tr").count() >= 3
    assert page.locator(".due.overdue").count() >= 1
    page.screenshot(path=str(artifacts / "case-list.png"))
    page.goto(f"{live_server}/layers")
    page.locator("tr.active .show-version").first.click()
    page.wait_for_selector("#layers-map path.leaflet-interactive", timeout=60_000)
    page.screenshot(path=str(artifacts / "layers.png"))
    watch.clean()
    page.context.close()


def _red_line_file(tmp: Path, name: str, dx: float) -> Path:
    ring = [
        [119.70 + dx, 49.15],
        [119.80 + dx, 49.15],
        [119.80 + dx, 49.22],
        [119.70 + dx, 49.22],
        [119.70 + dx, 49.15],
    ]
    gj = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": "RL-WEB-1", "name": name},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        ],
    }
    path = tmp / f"red-line-{dx}.geojson"
    path.write_text(json.dumps(gj, ensure_ascii=False), encoding="utf-8")
    return path


def test_layer_upload_report_diff_and_activation(
    browser: Browser, live_server: str, tokens: Tokens, artifacts: Path, tmp_path: Path
) -> None:
    page, watch = _open(browser, live_server, tokens.analyst)
    series = "web_test_red_line"
    for i, dx in enumerate((0.0, 0.05)):
        page.goto(f"{live_server}/layers")
        page.set_input_files(
            "#upload-form input[name=file]", str(_red_line_file(tmp_path, "测试红线" + XSS, dx))
        )
        page.select_option("#upload-form select[name=kind]", "red_line")
        page.fill("#upload-form input[name=name]", series)
        page.click("#upload-form button[type=submit]")
        page.locator("#report-title").wait_for(timeout=60_000)
        assert "要素 1 个" in page.locator("#upload-report").inner_text()
        page.click("#compare-uploaded")
        page.wait_for_selector("#layers-map path.leaflet-interactive", timeout=60_000)
        if i == 0:
            page.screenshot(path=str(artifacts / "layers-uploaded.png"))
            page.click("#activate-uploaded")
            # Wait for the condition itself (the page reloads its table after activating; the
            # layer overview keeps fetching outlines, so "network idle" says nothing).
            active = page.locator("tr.active", has_text="启用中").filter(
                has=page.locator(f"[data-series='{series}']")
            )
            active.first.wait_for(timeout=60_000)
            assert active.count() == 1
        else:
            # A second version against the active one: the diff, on the map and in words.
            info = page.locator("#diff-info")
            info.locator("p").first.wait_for(timeout=60_000)
            assert "与启用版本" in info.inner_text()
            page.screenshot(path=str(artifacts / "layers-diff.png"))
            info.locator("button").click()
            done = page.locator("#diff-info p:has-text('检查未结线索'), #layers-error:visible")
            done.first.wait_for(timeout=120_000)
            error = page.locator("#layers-error")
            assert error.is_hidden(), error.inner_text()
    assert page.evaluate("window.__xss") is None
    watch.clean()
    page.context.close()


def test_filing_form_shows_the_refusal_then_files(
    browser: Browser, live_server: str, tokens: Tokens, web_services, artifacts: Path
) -> None:
    from web_helpers import insert_lead, sample_decision

    from geo_service.db.models import Lead

    lead = insert_lead(web_services, title="红线内的显著轻微线索", decision=sample_decision())
    # The filing decides on current facts (issue 10): give the lead facts under which
    # 第十五条第五款 holds now — the region decided a claim must start (第（三）项).
    with web_services.sessions() as s:
        row = s.get(Lead, lead)
        row.request = {**row.request, "damage_amount_yuan": 2000, "region_decides_start": True}
        s.commit()
    page, watch = _open(browser, live_server, tokens.screener)
    page.goto(f"{live_server}/leads/{lead}")
    form = page.locator("#filing-form")
    form.locator("input[value=not_file]").check()
    form.locator("input[name=grounds][value=minor]").check()
    # 第十五条第二款第（三）项: 显著轻微，且不需要赔偿 — the second finding is recorded too.
    form.locator("input[name=no_compensation_needed]").check()
    form.locator("textarea[name=reasons]").fill("损害数额 2000 元，显著轻微")
    form.locator("input[name=approved_by]").fill("负责人甲")
    form.locator("button[type=submit]").click()
    error = page.locator("#filing-error")
    error.wait_for(timeout=60_000)
    assert "第十五条第五款" in error.inner_text()  # the override forbids it, and says why
    page.screenshot(path=str(artifacts / "filing-refused.png"), full_page=True)
    form.locator("input[value=file]").check()
    form.locator("input[name=grounds][value=minor]").uncheck()
    form.locator("textarea[name=reasons]").fill("位于生态保护红线内，依法应当启动索赔")
    form.locator("button[type=submit]").click()
    page.locator("#filings").wait_for(timeout=60_000)
    assert "立案" in page.locator("#filings").inner_text()
    # The refused POST is the one failed response, by design.
    watch.failed = [f for f in watch.failed if not f.startswith("409 ")]
    watch.errors = [e for e in watch.errors if "409" not in e]
    watch.clean()
    page.context.close()
