"""The demo's red-line point (lead 1) in Chromium: the case map opens on a view that holds the
red line's edge, with the measured line to it and its length in metres."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from demo_cases import RED_LINE_POINT
from playwright.sync_api import Browser
from support import demo_server

pytestmark = pytest.mark.browser

RED_LINE_EAST_EDGE = 117.7  # the demo red line is the box 117.0–117.7 E, 48.6–49.2 N

_MAP_STATE = """() => {
  const map = Object.values(window).find(v => v instanceof L.Map);
  const b = map.getBounds();
  const edges = [];
  map.eachLayer(l => {
    const p = l.feature && l.feature.properties;
    if (p && String(p.labelClass || '').includes('gs-edge') && l.getLatLngs) {
      edges.push({label: p.label, coords: l.getLatLngs().map(q => [q.lng, q.lat])});
    }
  });
  return {bounds: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()], edges};
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    with demo_server(tmp_path_factory.mktemp("demo-map"), "viewer", "查看员") as served:
        yield served


def test_red_line_point_map_shows_the_edge_and_the_distance(
    browser: Browser, server: tuple[str, str], tmp_path: Path
) -> None:
    base, token = server
    context = browser.new_context(locale="zh-CN", viewport={"width": 1200, "height": 800})
    context.set_extra_http_headers({"Authorization": f"Bearer {token}"})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/leads/{RED_LINE_POINT}/map")
    page.wait_for_function("() => Object.values(window).some(v => v instanceof L.Map)")
    state = page.evaluate(_MAP_STATE)
    west, south, east, north = state["bounds"]
    (edge,) = state["edges"]
    (x0, y0), (x1, y1) = edge["coords"]
    assert (x0, y0) == pytest.approx((117.4, 48.9), abs=1e-4)  # from the case ...
    assert x1 == pytest.approx(RED_LINE_EAST_EDGE, abs=1e-4)  # ... to the red line's edge
    # Both ends, and so the red line's edge, lie inside the viewport the map opens on.
    for x, y in ((x0, y0), (x1, y1)):
        assert west < x < east and south < y < north, (x, y, state["bounds"])
    assert "米" in edge["label"] and "生态保护红线" in edge["label"]
    label = page.locator(".leaflet-tooltip.gs-edge")
    assert label.count() == 1 and label.is_visible()
    assert label.inner_text() == edge["label"]
    page.screenshot(path=str(tmp_path / "map.png"))
    assert errors == []
    context.close()


def test_layers_preview_shows_every_active_layer_until_one_is_chosen(
    browser: Browser, server: tuple[str, str]
) -> None:
    base, token = server
    context = browser.new_context(locale="zh-CN")
    context.set_extra_http_headers({"Authorization": f"Bearer {token}"})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/layers")
    active = page.locator("tr.active .show-version").count()
    assert active >= 4  # the built-in boundaries and the demo's three sensitive layers
    page.wait_for_selector("#layers-map[data-overview]", timeout=60_000)
    assert page.get_attribute("#layers-map", "data-overview") == str(active)
    assert page.locator("#layers-map .leaflet-overlay-pane path").count() >= active
    assert f"显示全部 {active} 个启用图层的轮廓" in page.locator("#overview-note").inner_text()
    # Choosing one replaces the overview with that version alone.
    page.locator("tr.active .show-version").first.click()
    page.wait_for_selector("#diff-info p:has-text('版本 #')", timeout=60_000)
    assert page.locator("#overview-note").count() == 0
    assert errors == []
    context.close()
