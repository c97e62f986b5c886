"""Coordinates written in lead text: every writing of one point lands on the same CGCS2000 point."""

from __future__ import annotations

import pytest
from layer_files import builtin_features
from pyproj import Transformer
from shapely.geometry import Point, Polygon

from layers.crs import wgs84_to_bd09, wgs84_to_gcj02
from layers.measure import GEOD
from layers.textloc import TextNotLocated, UnitLayers, locate_text

# 111°12′36″E, 39°50′12″N: in 准格尔旗 (150622), Gauss-Krüger 3° zone 37 (central meridian 111°).
LON, LAT = 111 + 12 / 60 + 36 / 3600, 39 + 50 / 60 + 12 / 3600


@pytest.fixture(scope="module")
def units() -> UnitLayers:
    return UnitLayers({"county": builtin_features("county"), "league": builtin_features("league")})


def _metres(point: Point, lon: float = LON, lat: float = LAT) -> float:
    return float(GEOD.inv(lon, lat, point.x, point.y)[2])


def _survey(lon: float, lat: float, epsg: int) -> tuple[float, float]:
    easting, northing = Transformer.from_crs(4490, epsg, always_xy=True).transform(lon, lat)
    return northing, easting


def _writings() -> dict[str, str]:
    northing, easting = _survey(LON, LAT, 4525)  # zone 37, easting with zone prefix
    n2, e2 = _survey(LON, LAT, 4546)  # CM 111°, no prefix
    gx, gy = (float(v) for v in wgs84_to_gcj02(LON, LAT))
    bx, by = (float(v) for v in wgs84_to_bd09(LON, LAT))
    return {
        "dms_symbols": "东经111°12′36″，北纬39°50′12″",
        "dms_chinese": "北纬39度50分12秒，东经111度12分36秒",
        "dms_hyphen": "E111-12-36 N39-50-12",
        "dms_ascii": "N 39°50'12\" E 111°12'36\"",
        "dms_fullwidth": "东经１１１°１２′３６″，北纬３９°５０′１２″",
        "dm_decimal": "111°12.6′E, 39°50.2′N",
        "decimal_labels": f"经度：{LON:.8f}，纬度：{LAT:.8f}",
        "decimal_lat_first": f"位置 {LAT:.8f}, {LON:.8f}",
        "survey_zone_prefix": f"X={northing:.3f}，Y={easting:.3f}",
        "survey_central_meridian": f"中央子午线111°，X={n2:.3f}，Y={e2:.3f}",
        "survey_swapped_like_geojson": f"X={easting:.3f}, Y={northing:.3f}",
        "amap_link": f"https://uri.amap.com/marker?position={gx:.8f},{gy:.8f}&name=排土场",
        "gcj02_words": f"高德坐标 {gx:.8f},{gy:.8f}",
        "tencent_link": f"https://apis.map.qq.com/uri/v1/marker?marker=coord:{gy:.8f},{gx:.8f};title:x",
        "baidu_link": f"http://api.map.baidu.com/marker?location={by:.8f},{bx:.8f}&title=x",
    }


@pytest.mark.parametrize("style", list(_writings()))
def test_every_writing_lands_on_the_same_point(units: UnitLayers, style: str) -> None:
    text = _writings()[style]
    located = locate_text(text, units=units)
    best = located.best
    assert best.method == "coordinates_in_text"
    assert best.unit is not None and best.unit.code == "150622"
    # DMS to whole seconds and minutes to 0.1′ are exact for this point; decimals to 1e-8°.
    assert _metres(best.geometry) < 0.5, (style, best.geometry.wkt)
    assert best.matched and best.matched in text


def test_frames_are_said(units: UnitLayers) -> None:
    w = _writings()
    amap = locate_text(w["amap_link"], units=units).best
    assert amap.crs == "GCJ-02"
    assert any(x.code == "frame_from_link" for x in amap.warnings)
    baidu = locate_text(w["baidu_link"], units=units).best
    assert baidu.crs == "BD-09"
    plain = locate_text(w["dms_symbols"], units=units).best
    assert plain.crs == "EPSG:4490"
    assert any(x.code == "frame_assumed" for x in plain.warnings)


def test_request_crs_states_the_frame_and_the_text_overrides_it(units: UnitLayers) -> None:
    gx, gy = (float(v) for v in wgs84_to_gcj02(LON, LAT))
    stated = locate_text(f"{gx:.8f},{gy:.8f}", "GCJ02", units=units).best
    assert stated.crs == "GCJ-02" and _metres(stated.geometry) < 0.5
    # the request says WGS84 but the text says GCJ-02: the text wins, and says so
    overridden = locate_text(f"GCJ-02坐标：{gx:.8f},{gy:.8f}", "EPSG:4326", units=units).best
    assert overridden.crs == "GCJ-02" and _metres(overridden.geometry) < 0.5
    assert any("与文字不符" in x.message for x in overridden.warnings)
    # not converting would have been hundreds of metres off
    assert _metres(Point(gx, gy)) > 100


def test_three_zones_of_survey_coordinates(units: UnitLayers) -> None:
    for lon, lat, epsg, county in (
        (111.75, 40.80, 4525, "15010"),  # Hohhot, zone 37
        (116.08, 43.94, 4527, "152502"),  # Xilinhot, zone 39
        (122.05, 46.08, 4529, "1522"),  # Hinggan, zone 41
    ):
        northing, easting = _survey(lon, lat, epsg)
        best = locate_text(f"X={northing:.2f}，Y={easting:.2f}", units=units).best
        assert best.crs == f"EPSG:{epsg}"
        assert _metres(best.geometry, lon, lat) < 0.5
        assert best.unit is not None and best.unit.code.startswith(county)


def test_polygon_corner_list(units: UnitLayers) -> None:
    corners = [(111.20, 39.83), (111.22, 39.83), (111.22, 39.845), (111.20, 39.845)]
    lines = []
    for i, (lon, lat) in enumerate(corners, 1):
        n, e = _survey(lon, lat, 4525)
        lines.append(f"{i}、X={n:.2f}，Y={e:.2f}")
    best = locate_text("拐点坐标：\n" + "\n".join(lines), units=units).best
    assert best.geometry.geom_type == "Polygon"
    expected = Polygon(corners)
    assert (
        best.geometry.symmetric_difference(expected).area / expected.area < 1e-4
    )  # corners written to the centimetre


def test_zone_unknown_is_ambiguous(units: UnitLayers) -> None:
    northing, easting = _survey(LON, LAT, 4546)
    located = locate_text(f"X={northing:.2f}，Y={easting:.2f}", units=units)
    assert located.needs_verification
    assert len(located.candidates) >= 2
    assert {c.crs for c in located.candidates} >= {"EPSG:4546"}
    assert all(c.unit is not None for c in located.candidates)  # only readings in the region
    assert located.resolution()["needs_verification"] is True


def test_hopeless_text_says_what_was_read(units: UnitLayers) -> None:
    with pytest.raises(TextNotLocated) as caught:
        locate_text("群众反映有人在河边倾倒垃圾，面积约3.5亩", units=units)
    assert caught.value.field == "location.text"
    assert "缺少可定位的信息" in caught.value.message
    with pytest.raises(TextNotLocated) as outside:
        locate_text("河北省承德市围场县某处", units=units)
    assert "不在内蒙古自治区" in outside.value.message


def test_dates_and_areas_are_not_coordinates(units: UnitLayers) -> None:
    with pytest.raises(TextNotLocated):
        locate_text("2024-05-12 举报，面积12.50公顷，电话13912345678", units=units)


def test_six_degree_zone_and_old_datum_are_read(units: UnitLayers) -> None:
    northing, easting = _survey(LON, LAT, 4497)  # CGCS2000 6° zone 19 (CM 111°)
    best = locate_text(f"X={northing:.2f}，Y={easting:.2f}", units=units).best
    assert best.crs == "EPSG:4497" and _metres(best.geometry) < 0.5
    n80, e80 = _survey(LON, LAT, 2361)  # Xian 1980 3° zone 37, through PROJ both ways
    old = locate_text(f"西安80坐标系：X={n80:.2f}，Y={e80:.2f}", units=units).best
    assert old.crs == "EPSG:2361"
    assert any(w.code == "old_datum" for w in old.warnings)  # said: no official parameters


def test_a_broken_link_falls_back_to_the_address(units: UnitLayers) -> None:
    best = locate_text("https://uri.amap.com/marker?lon=abc&lat=1 准旗某地", units=units).best
    assert best.method == "address" and best.unit is not None and best.unit.code == "150622"
