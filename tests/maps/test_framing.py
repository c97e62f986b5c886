"""Case map framing: a case deep inside a red line shows where the red line ends and how far."""

from __future__ import annotations

import pytest
from pyproj import Geod
from shapely.geometry import LineString, Point, box, shape

from maps import MapFeature, render_case_map
from maps.case_map import embedded_geojson
from maps.display import make_view
from maps.edges import edge_lines, format_metres

RED = box(117.0, 48.6, 117.7, 49.2)  # the demo red line
POINT = Point(117.4, 48.9)  # demo lead 1: 0.3° from the east edge, farther from the others
LEAGUE = box(115.0, 47.0, 121.0, 50.0)


def _decision(near_boundary: bool = False) -> dict[str, object]:
    return {
        "jurisdiction": {"status": "decided", "level": "league", "near_boundary": near_boundary,
                         "leagues": [{"code": "150700", "name": "呼伦贝尔市"}]},
        "sensitive_areas": {"red_line": [{"name": "红线甲", "feature_id": 0}]},
    }


def _lines(html: str, css: str) -> list[dict[str, object]]:
    return [f for p in embedded_geojson(html) for f in p["features"]
            if f["geometry"]["type"] == "LineString"
            and css in str(f["properties"].get("labelClass", ""))]


def test_the_edge_of_a_containing_red_line_is_measured_geodesically() -> None:
    red = MapFeature("red_line", "红线甲", "RL-1", RED, highlight=True)
    (edge,) = edge_lines(POINT, [red])
    (x0, y0), (x1, y1) = edge.line.coords
    assert (x0, y0) == pytest.approx((117.4, 48.9))
    # The east edge is the nearest (in degrees the south edge ties with it; in metres not).
    assert (x1, y1) == pytest.approx((117.7, 48.9), abs=1e-3)
    geod = Geod(ellps="GRS80")
    expected = geod.line_length([x0, x1], [y0, y1])
    assert edge.length_m == pytest.approx(expected, rel=1e-9)
    assert edge.length_m <= geod.line_length([117.4, 117.7], [48.9, 48.9]) + 0.01
    assert 21_000 < edge.length_m < 23_000
    assert edge.label == f"距生态保护红线“红线甲”边界 {format_metres(expected)}"


def test_the_view_holds_the_edge_and_the_line_is_drawn_with_its_length() -> None:
    red = MapFeature("red_line", "红线甲", "RL-1", RED, highlight=True)
    html = render_case_map(damage=POINT, act=None, decision=_decision(), title="t",
                           context_features=[red])
    (line,) = _lines(html, "gs-edge")
    assert "米" in str(line["properties"]["label"])  # type: ignore[index]
    end = Point(line["geometry"]["coordinates"][-1])  # type: ignore[index]
    assert end.distance(RED.boundary) < 1e-5
    # The map opens on a view holding both the case and that edge point.
    view = make_view([POINT, LineString([POINT, end])])
    minx, miny, maxx, maxy = view.bounds
    assert minx < POINT.x < maxx and minx < end.x < maxx
    assert miny < POINT.y < maxy and miny < end.y < maxy
    assert "到所在敏感区域边界的距离" in html


def test_without_the_edge_the_view_would_be_all_fill() -> None:
    # What the issue saw: the old view around the point alone lay wholly inside the red line.
    assert RED.contains(box(*make_view([POINT]).bounds))
    assert not RED.contains(box(*make_view([POINT, Point(117.7, 48.9)]).bounds))


def test_a_league_boundary_is_measured_only_when_the_case_is_near_it() -> None:
    league = MapFeature("league", "呼伦贝尔市", "150700", LEAGUE, highlight=True)
    assert edge_lines(POINT, [league], near_boundary=False) == []
    (b,) = edge_lines(POINT, [league], near_boundary=True)
    assert b.role == "boundary" and b.label.startswith("距盟市“呼伦贝尔市”边界")
    html = render_case_map(damage=POINT, act=None, decision=_decision(near_boundary=True),
                           title="t", context_features=[league])
    assert len(_lines(html, "gs-boundary")) == 1


def test_a_feature_the_case_crosses_has_no_edge_line() -> None:
    red = MapFeature("red_line", "红线甲", "RL-1", RED, highlight=True)
    assert edge_lines(box(117.6, 48.8, 117.8, 48.9), [red]) == []


def test_context_layers_are_drawn_in_their_own_style() -> None:
    river = MapFeature("river_lake", "呼伦湖", "RL", Point(117.45, 48.95).buffer(0.02))
    town = MapFeature("township", "某苏木", "150700100", box(117.3, 48.8, 117.5, 49.0))
    html = render_case_map(damage=POINT, act=None, decision={}, title="t",
                           context_features=[river, town])
    labels = {f["properties"]["label"] for p in embedded_geojson(html) for f in p["features"]}
    assert {"呼伦湖", "某苏木"} <= labels
    assert "河湖管理范围" in html and "乡镇（苏木）" in html
    shapes = [shape(f["geometry"]) for p in embedded_geojson(html) for f in p["features"]
              if f["properties"]["label"] == "呼伦湖"]
    assert shapes and shapes[0].area > 0
