"""CRS parsing and conversion: GCJ-02/BD-09 exact inverses, Gauss-Krüger zones, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from layers.crs import (
    BD09_NOTE,
    GCJ02_NOTE,
    IDENTITY_NOTE,
    WGS84_NOTE,
    _transformer,
    bd09_to_gcj02,
    bd09_to_wgs84,
    cgcs2000_to_gcj02,
    from_cgcs2000,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    out_of_china,
    parse_crs,
    to_cgcs2000,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from layers.errors import GeometryError, UnknownCRSError
from layers.measure import GEOD

# Published reference pairs (eviltransform's test data): WGS84 lat, lon → GCJ-02 lat, lon.
REFERENCE = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]

china_lon = st.floats(min_value=73.7, max_value=135.0)
china_lat = st.floats(min_value=18.0, max_value=53.5)


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), REFERENCE)
def test_gcj02_forward_matches_reference(wlat, wlon, glat, glon):
    x, y = wgs84_to_gcj02(wlon, wlat)
    assert float(x) == pytest.approx(glon, abs=1e-12)
    assert float(y) == pytest.approx(glat, abs=1e-12)


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), REFERENCE)
def test_gcj02_inverse_recovers_reference(wlat, wlon, glat, glon):
    x, y = gcj02_to_wgs84(glon, glat)
    assert abs(float(x) - wlon) < 1e-9
    assert abs(float(y) - wlat) < 1e-9


@settings(max_examples=300, deadline=None)
@given(lon=china_lon, lat=china_lat)
def test_gcj02_inverse_is_exact(lon, lat):
    gx, gy = wgs84_to_gcj02(lon, lat)
    x, y = gcj02_to_wgs84(gx, gy)
    assert abs(float(x) - lon) < 1e-9 and abs(float(y) - lat) < 1e-9
    # and the shift it undoes is the famous few hundred metres, not nothing
    assert 1.0 < GEOD.inv(lon, lat, float(gx), float(gy))[2] < 1200.0


@settings(max_examples=300, deadline=None)
@given(lon=china_lon, lat=china_lat)
def test_bd09_inverse_is_exact(lon, lat):
    bx, by = gcj02_to_bd09(lon, lat)
    x, y = bd09_to_gcj02(bx, by)
    assert abs(float(x) - lon) < 1e-9 and abs(float(y) - lat) < 1e-9
    bx, by = wgs84_to_bd09(lon, lat)
    x, y = bd09_to_wgs84(bx, by)
    assert abs(float(x) - lon) < 1e-9 and abs(float(y) - lat) < 1e-9


def test_out_of_china_is_not_shifted():
    lon = np.array([10.0, 150.0, 117.0])
    lat = np.array([50.0, 40.0, 60.0])
    assert out_of_china(lon, lat).all()
    x, y = wgs84_to_gcj02(lon, lat)
    assert np.array_equal(x, lon) and np.array_equal(y, lat)
    x, y = gcj02_to_wgs84(lon, lat)
    assert np.array_equal(x, lon) and np.array_equal(y, lat)


def test_inverse_is_elementwise_deterministic():
    """A vertex converts to the same bits alone or inside any array: shared edges stay shared."""
    rng = np.random.default_rng(7)
    lon = rng.uniform(97, 126, 5000)
    lat = rng.uniform(37, 53, 5000)
    x_all, y_all = gcj02_to_wgs84(lon, lat)
    for i in (0, 17, 4999):
        x1, y1 = gcj02_to_wgs84(lon[i : i + 1], lat[i : i + 1])
        assert x1[0] == x_all[i] and y1[0] == y_all[i]


def test_scalars_and_shapes_are_kept():
    x, y = gcj02_to_wgs84(117.0, 45.0)
    assert np.shape(x) == () and np.shape(y) == ()
    x, y = gcj02_to_wgs84(np.full((2, 3), 117.0), np.full((2, 3), 45.0))
    assert x.shape == (2, 3)


@pytest.mark.parametrize(
    ("text", "name", "kind"),
    [
        ("EPSG:4490", "EPSG:4490", "geographic"),
        ("epsg:4326", "EPSG:4326", "geographic"),
        ("GCJ02", "GCJ-02", "gcj02"),
        ("gcj-02", "GCJ-02", "gcj02"),
        (" BD09 ", "BD-09", "bd09"),
        ("bd-09", "BD-09", "bd09"),
        ("EPSG:4513", "EPSG:4513", "projected"),
        ("EPSG:4549", "EPSG:4549", "projected"),
        ("EPSG:4554", "EPSG:4554", "projected"),
        ("urn:ogc:def:crs:EPSG::4490", "EPSG:4490", "geographic"),
        ("urn:ogc:def:crs:OGC:1.3:CRS84", "EPSG:4326", "geographic"),
        ("EPSG:32650", "EPSG:32650", "projected"),
    ],
)
def test_parse_crs_accepts(text, name, kind):
    spec = parse_crs(text)
    assert (spec.name, spec.kind) == (name, kind)


def test_parse_crs_none_is_cgcs2000():
    assert parse_crs(None).name == "EPSG:4490"


@pytest.mark.parametrize("text", ["WGS-1984-WebMercator", "EPSG:99999", "EPSG:5773", "", "4490x"])
def test_parse_crs_rejects_with_chinese_list(text):
    with pytest.raises(UnknownCRSError) as err:
        parse_crs(text, field="location.crs")
    assert err.value.field == "location.crs"
    for accepted in ("EPSG:4490", "EPSG:4326", "GCJ02", "BD09", "4513", "4554"):
        assert accepted in err.value.message
    assert "坐标系" in err.value.message


def test_gauss_kruger_zone_to_cgcs2000():
    # CM 120°E without zone prefix (4549) and with it (zone 40: 4528): false easting 500 km.
    for crs, easting in (("EPSG:4549", 500_000.0), ("EPSG:4528", 40_500_000.0)):
        point, note = to_cgcs2000(shapely.Point(easting, 4_500_000.0), crs)
        assert point.x == pytest.approx(120.0, abs=1e-9)
        assert 40.5 < point.y < 40.7
        assert crs in note and "EPSG:4490" in note
        back = from_cgcs2000(point, crs)
        assert back.x == pytest.approx(easting, abs=1e-4)
        assert back.y == pytest.approx(4_500_000.0, abs=1e-4)


def test_transformers_are_cached():
    assert _transformer(4549, 4490) is _transformer(4549, 4490)


def test_identity_notes():
    p = shapely.Point(117.4, 48.9)
    assert to_cgcs2000(p, "EPSG:4490") == (p, IDENTITY_NOTE)
    same, note = to_cgcs2000(p, "EPSG:4326")
    assert same.equals(p) and note == WGS84_NOTE and "厘米" in note


def test_gcj02_geometry_round_trip():
    poly = shapely.Polygon([(117.0, 49.0), (117.5, 49.0), (117.5, 49.5), (117.0, 49.0)])
    true, note = to_cgcs2000(poly, "GCJ02")
    assert note == GCJ02_NOTE
    assert shapely.get_coordinates(true).shape == shapely.get_coordinates(poly).shape
    back = cgcs2000_to_gcj02(true)
    assert np.abs(shapely.get_coordinates(back) - shapely.get_coordinates(poly)).max() < 1e-9
    moved = GEOD.inv(117.0, 49.0, *shapely.get_coordinates(true)[0])[2]
    assert 100 < moved < 1000
    _, note = to_cgcs2000(poly, "BD09")
    assert note == BD09_NOTE


def test_swapped_lon_lat_is_named():
    with pytest.raises(GeometryError) as err:
        to_cgcs2000(shapely.Point(40.8, 111.7), "EPSG:4490", field="location.geometry")
    assert err.value.field == "location.geometry"
    assert "111.7" in err.value.message and "写反" in err.value.message


def test_metres_in_a_degree_crs_are_named():
    with pytest.raises(GeometryError) as err:
        to_cgcs2000(shapely.Point(500_000, 4_500_000), "EPSG:4490")
    assert "EPSG" in err.value.message and "投影" in err.value.message


def test_out_of_range_projected_coordinates_fail_cleanly():
    with pytest.raises(GeometryError):
        to_cgcs2000(shapely.Point(1e30, 1e30), "EPSG:4549")
