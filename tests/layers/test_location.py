"""A request's location → valid EPSG:4490 geometry, or an error naming the field (R1)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod, Transformer

from layers.crs import wgs84_to_bd09, wgs84_to_gcj02
from layers.errors import GeometryError, LayerError, UnknownCRSError
from layers.location import parse_location

GEOD = Geod(ellps="GRS80")


def point(x: float, y: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [x, y]}


def square(x: float, y: float, d: float = 0.01) -> dict[str, Any]:
    return {
        "type": "Polygon",
        "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]],
    }


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


@pytest.mark.parametrize("crs", [None, "EPSG:4490", "epsg:4490", "EPSG:4326", "CGCS2000"])
def test_geographic_input_is_kept(crs: str | None) -> None:
    loc = parse_location(point(117.4, 48.9), crs)
    assert loc.geometry.coords[0] == (117.4, 48.9)
    assert loc.warnings == ()


@pytest.mark.parametrize(("crs", "forward"), [("GCJ02", wgs84_to_gcj02), ("BD09", wgs84_to_bd09)])
def test_web_map_frames_are_converted(crs: str, forward: Any) -> None:
    true = (111.75, 40.84)
    shifted = tuple(float(v) for v in forward(*true))
    loc = parse_location(point(*shifted), crs)
    got = loc.geometry.coords[0]
    assert distance_m(got, true) < 0.01  # the exact inverse: sub-centimetre
    assert 300 < distance_m(shifted, true) < 1500  # what converting saves
    assert [w.code for w in loc.warnings] == ["crs_converted"]
    assert "CGCS2000" in loc.warnings[0].message


@pytest.mark.parametrize("cm", range(99, 127, 3))
@pytest.mark.parametrize("prefixed", [False, True])
def test_gauss_kruger_zones_of_the_region(cm: int, prefixed: bool) -> None:
    # CGCS2000 3° zones: EPSG:4534 is CM 75°E without zone prefix; 4513 is zone 25 (CM 75°E) with.
    epsg = (4513 if prefixed else 4534) + (cm - 75) // 3
    lon, lat = cm + 0.7, 43.2
    x, y = Transformer.from_crs(4490, epsg, always_xy=True).transform(lon, lat)
    loc = parse_location(point(x, y), f"EPSG:{epsg}")
    got = loc.geometry.coords[0]
    assert distance_m(got, (lon, lat)) < 0.001
    assert loc.crs == f"EPSG:{epsg}"


def test_gauss_kruger_polygon_area_survives() -> None:
    t = Transformer.from_crs(4490, 4548, always_xy=True)
    x, y = t.transform(117.2, 45.0)
    ring = [[x, y], [x + 1000, y], [x + 1000, y + 1000], [x, y + 1000], [x, y]]
    loc = parse_location({"type": "Polygon", "coordinates": [ring]}, "EPSG:4548")
    area = abs(GEOD.geometry_area_perimeter(loc.geometry)[0])
    assert area == pytest.approx(1e6, rel=2e-3)  # Gauss-Krüger scale near the CM is ~1


@pytest.mark.parametrize(
    ("geometry", "crs", "field", "needle"),
    [
        (point(48.9, 117.4), None, "location.geometry.coordinates", "经度和纬度似乎写反了"),
        (point(40.1, 111.7), "EPSG:4326", "location.geometry.coordinates", "纬度 111.7"),
        (point(200.0, 40.0), None, "location.geometry.coordinates", "经度 200"),
        (point(math.nan, 40.0), None, "location.geometry.coordinates[0]", "NaN"),
        (point(117.0, math.inf), None, "location.geometry.coordinates[1]", "NaN"),
        (point(117.4, 48.9), "EPSG:99999", "location.crs", "EPSG:99999"),
        (point(117.4, 48.9), "Beijing54", "location.crs", "无法识别"),
        (point(117.4, 48.9), "EPSG:4548", "location.geometry", "经纬度"),
        (point(4_500_000, 500_000), "EPSG:4548", "location.geometry", "写反了"),
        (point(39_500_000, 4_500_000), "EPSG:4548", "location.geometry", "带号"),
        (point(500_000, 4_500_000), "EPSG:4527", "location.geometry", "EPSG:4548"),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]},
            None,
            "location.geometry.coordinates[0]",
            "未闭合",
        ),
        (
            {"type": "Polygon", "coordinates": [[]]},
            None,
            "location.geometry.coordinates[0]",
            "为空",
        ),
        ({"type": "Polygon", "coordinates": []}, None, "location.geometry.coordinates", "环的数组"),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]},
            None,
            "location.geometry.coordinates[0]",
            "至少需要 4 个",
        ),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
            None,
            "location.geometry",
            "自相交",
        ),
        (
            {"type": "LineString", "coordinates": [[1, 1]]},
            None,
            "location.geometry.coordinates",
            "至少需要 2 个",
        ),
        (
            {"type": "LineString", "coordinates": [[1, 1], [1, 1]]},
            None,
            "location.geometry",
            "重合",
        ),
        (
            {"type": "Point", "coordinates": ["117.4", 48.9]},
            None,
            "location.geometry.coordinates[0]",
            "应为数字",
        ),
        (
            {"type": "Point", "coordinates": [True, 48.9]},
            None,
            "location.geometry.coordinates[0]",
            "应为数字",
        ),
        (
            {"type": "Point", "coordinates": [117.4]},
            None,
            "location.geometry.coordinates",
            "2 个数",
        ),
        ({"type": "Point"}, None, "location.geometry.coordinates", "缺少 coordinates"),
        ({"type": "Circle", "coordinates": [1, 2]}, None, "location.geometry.type", "Circle"),
        ("POINT (117 48)", None, "location.geometry", "GeoJSON 对象"),
        (
            {"type": "GeometryCollection", "geometries": []},
            None,
            "location.geometry.geometries",
            "非空",
        ),
        (
            {
                "type": "MultiPolygon",
                "coordinates": [
                    [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]],
                    [[[1, 1], [3, 1], [3, 3], [1, 3], [1, 1]]],
                ],
            },
            None,
            "location.geometry",
            "重叠",
        ),
    ],
)
def test_bad_locations_name_the_field(
    geometry: Any, crs: str | None, field: str, needle: str
) -> None:
    with pytest.raises(LayerError) as info:
        parse_location(geometry, crs)
    assert info.value.field == field
    assert needle in info.value.message


def test_unknown_crs_is_its_own_error() -> None:
    with pytest.raises(UnknownCRSError):
        parse_location(point(1, 1), "EPSG:99999")


def test_too_many_vertices() -> None:
    ring = [[117 + i * 1e-4, 45.0 + (i % 2) * 1e-4] for i in range(20)]
    line = {"type": "LineString", "coordinates": ring}
    with pytest.raises(GeometryError, match="顶点过多"):
        parse_location(line, max_vertices=10)
    assert parse_location(line, max_vertices=20).geometry.geom_type == "LineString"


def test_spike_is_repaired_with_a_warning() -> None:
    ring = [[0, 0], [2, 0], [2, 2], [2, 3], [2, 2], [0, 2], [0, 0]]  # a zero-area spike
    loc = parse_location({"type": "Polygon", "coordinates": [ring]})
    assert loc.geometry.is_valid
    assert loc.geometry.area == pytest.approx(4.0)
    assert [w.code for w in loc.warnings] == ["geometry_repaired"]


def test_feature_wrapper_and_collections_are_accepted() -> None:
    feature = {"type": "Feature", "properties": {}, "geometry": square(117, 45)}
    assert parse_location(feature).geometry.geom_type == "Polygon"
    collection = {"type": "GeometryCollection", "geometries": [point(117, 45), square(117, 45)]}
    assert parse_location(collection).geometry.geom_type == "GeometryCollection"


def test_third_coordinate_is_dropped() -> None:
    loc = parse_location({"type": "Point", "coordinates": [117.4, 48.9, 650.0]})
    assert loc.geometry.coords[0][:2] == (117.4, 48.9)


json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=True),
    st.text(max_size=5),
)
junk = st.recursive(
    json_leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(
            st.sampled_from(["type", "coordinates", "geometries", "geometry", "x"]),
            children,
            max_size=4,
        ),
    ),
    max_leaves=30,
)
geometry_like = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            [
                "Point",
                "MultiPoint",
                "LineString",
                "MultiLineString",
                "Polygon",
                "MultiPolygon",
                "GeometryCollection",
                "Feature",
            ]
        ),
        "coordinates": junk,
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    obj=st.one_of(junk, geometry_like),
    crs=st.sampled_from([None, "EPSG:4326", "GCJ02", "BD09", "EPSG:4548", "EPSG:4527", "x"]),
)
def test_junk_never_escapes_as_anything_but_a_layer_error(obj: Any, crs: str | None) -> None:
    try:
        loc = parse_location(obj, crs, max_vertices=1000)
    except LayerError as exc:
        assert exc.field and exc.field.startswith("location")
        assert exc.message
    else:
        assert loc.geometry.is_valid and not loc.geometry.is_empty


@settings(max_examples=100, deadline=None)
@given(lon=st.floats(97.2, 126.0), lat=st.floats(37.5, 53.3), d=st.floats(1e-4, 0.05))
def test_valid_squares_in_the_region_round_trip(lon: float, lat: float, d: float) -> None:
    loc = parse_location(square(lon, lat, d))
    assert loc.geometry.is_valid
    assert loc.geometry.bounds == pytest.approx((lon, lat, lon + d, lat + d))


MIXED = [
    (point(111.75, 40.84), None),
    (point(111.75, 40.84), "GCJ02"),
    (point(40.84, 111.75), "GCJ02"),  # swapped: an error in the middle of a group
    (square(111.7, 40.8), "BD09"),
    (point(111.75, 40.84), "EPSG:4326"),
    (point(500_000, 4_500_000), "EPSG:4548"),
    (point(1, 1), "EPSG:99999"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}, "GCJ02"),
    (point(117.2, 45.1), "GCJ02"),
]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, LayerError) or isinstance(b, LayerError):
        return type(a) is type(b) and (a.field, a.message) == (b.field, b.message)
    return a.geometry.equals_exact(b.geometry, 1e-12) and (a.crs, a.warnings) == (b.crs, b.warnings)


def test_batch_parsing_answers_each_item_as_alone() -> None:
    from layers.location import parse_locations

    fields = [f"items[{i}].location" for i in range(len(MIXED))]
    batch = parse_locations([(g, c, f) for (g, c), f in zip(MIXED, fields, strict=True)])
    for (geometry, crs), field, got in zip(MIXED, fields, batch, strict=True):
        try:
            alone: Any = parse_location(geometry, crs, field=field)
        except LayerError as exc:
            alone = exc
        assert _same(got, alone), (geometry, crs, got, alone)
    assert isinstance(batch[2], GeometryError)
    assert batch[2].field == "items[2].location.geometry.coordinates"
