"""The array path: bulk and single answers agree, and distances are exact to 0.1 m.

Built-in boundaries plus a small seeded synthetic sensitive layer (irregular polygons with holes,
a line and points) across the middle of Inner Mongolia; seeded points and polygons around it.
The distance reference is independent of the engine: an azimuthal-equidistant projection
centred on the point (distances from its centre are exact geodesics) of the feature with its
edges densified along longitude/latitude (the edges as GEOS draws them).
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from layers.builtin import builtin_layers
from layers.model import LayerFeature, LayerVersionData
from layers.overlay import OverlayEngine

BOX = (110.0, 40.0, 113.0, 42.5)  # 呼和浩特 / 乌兰察布 / 包头 and their league boundaries


def _blob(rng: np.random.Generator, x: float, y: float, size: float) -> shapely.Polygon:
    """An irregular star-shaped polygon of ~60 vertices, sometimes with a hole."""
    angles = np.sort(rng.uniform(0, 2 * np.pi, 60))
    radii = size * rng.uniform(0.5, 1.0, 60)
    shell = np.column_stack([x + radii * np.cos(angles) / 0.76, y + radii * np.sin(angles)])
    polygon = shapely.Polygon(shell)
    if rng.uniform() < 0.3:
        hole = shapely.Point(x, y).buffer(size * 0.2, quad_segs=3)
        polygon = polygon.difference(hole)
    return shapely.make_valid(polygon)


def _sensitive(rng: np.random.Generator) -> LayerVersionData:
    x0, y0, x1, y1 = BOX
    features = []
    for i in range(120):
        g = _blob(rng, rng.uniform(x0, x1), rng.uniform(y0, y1), rng.uniform(0.01, 0.06))
        features.append(LayerFeature(i, f"R{i}", f"红线{i}", g))
    river = shapely.LineString(
        np.column_stack([np.linspace(x0, x1, 40), 41.2 + 0.05 * rng.standard_normal(40)])
    )
    features.append(LayerFeature(200, "L", "河道", river))
    for j, (x, y) in enumerate(rng.uniform((x0, y0), (x1, y1), (5, 2))):
        features.append(LayerFeature(300 + j, f"P{j}", f"点{j}", shapely.Point(x, y)))
    return LayerVersionData(90, "synthetic_red_line", "red_line", tuple(features))


@pytest.fixture(scope="module")
def engine() -> OverlayEngine:
    rng = np.random.default_rng(20251129)
    admin = [
        LayerVersionData(i + 1, layer.series, layer.kind, layer.features)
        for i, layer in enumerate(builtin_layers())
    ]
    return OverlayEngine([*admin, _sensitive(rng)])


def _points(n: int, seed: int) -> list[shapely.Point]:
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = BOX
    return list(
        shapely.points(rng.uniform(x0 - 0.2, x1 + 0.2, n), rng.uniform(y0 - 0.2, y1 + 0.2, n))
    )


def _polygons(n: int, seed: int) -> list[shapely.Polygon]:
    rng = np.random.default_rng(seed)
    out = []
    for p in _points(n, seed + 1):
        ring = np.column_stack(
            [p.x + rng.uniform(-0.01, 0.01, 7), p.y + rng.uniform(-0.008, 0.008, 7)]
        )
        out.append(shapely.MultiPoint(ring).convex_hull)
    return out


def test_bulk_equals_single_on_10000_points_and_300_polygons(engine):
    """overlay() of one point takes its own path (no arrays over points); overlay_many the
    array path: the same hits, shares, nearby, nearest units and distances, to the float."""
    points = _points(10_000, 7)
    polygons = _polygons(300, 8)
    kw = {"boundary_search_m": 3000.0}
    bulk = engine.overlay_many([*points, *polygons], **kw)
    single = [engine.overlay(g, **kw) for g in [*points, *polygons]]
    assert bulk == single
    # the answers are not empty: every kind of answer occurs many times
    point_answers = bulk[: len(points)]
    assert sum(bool(r.hits.get("red_line")) for r in point_answers) > 300
    assert sum(bool(r.nearby) for r in point_answers) > 2000
    assert sum("league" in r.boundary_distance_m for r in point_answers) > 300
    assert sum(bool(r.nearest_unit) for r in point_answers) > 0
    assert sum(bool(r.hits.get("red_line") and r.nearby) for r in bulk[len(points) :]) > 5


@pytest.mark.parametrize(
    "kw",
    [
        {"nearby_radius_m": 5000.0, "gap_search_m": 1000.0, "boundary_search_m": 1000.0},
        {"nearby_radius_m": 2000.0, "gap_search_m": 8000.0, "boundary_search_m": None},
    ],
    ids=["as the service asks", "boundaries uncapped, wide gap search"],
)
def test_single_point_equals_bulk_with_other_radii(engine, kw):
    points = _points(3000, 17)
    bulk = engine.overlay_many(points, **kw)
    assert bulk == [engine.overlay(p, **kw) for p in points]
    assert sum(bool(r.nearby) for r in bulk) > 200
    assert sum(bool(r.boundary_distance_m) for r in bulk) > 50
    assert sum(bool(r.nearest_unit) for r in bulk) > 0


def test_bulk_hits_match_brute_force(engine):
    points = _points(3000, 11)
    features = engine._snapshot.geoms
    results = engine.overlay_many(points)
    xy = shapely.get_coordinates(np.array(points, dtype=object))
    for kind in ("league", "county", "red_line"):
        geoms = np.array(
            [g for g, k in zip(features, engine._snapshot.kind_names, strict=True) if k == kind]
        )
        codes = [f.code for ix in engine._snapshot.by_kind[kind] for f in ix.version.features]
        for (x, y), result in zip(xy, results, strict=True):
            inside = shapely.intersects_xy(geoms, x, y)
            assert sorted(h.code for h in result.hits[kind]) == sorted(
                c for c, i in zip(codes, inside, strict=True) if i
            )


def _reference_m(x: float, y: float, geometry) -> float:
    """Geodesic m from (x, y) to `geometry`: AEQD centred on the point, edges densified."""
    near = shapely.clip_by_rect(geometry, x - 0.12, y - 0.08, x + 0.12, y + 0.08)
    lines = shapely.boundary(near) if near.geom_type in ("Polygon", "MultiPolygon") else near
    dense = shapely.segmentize(lines, 0.00005)  # ~5 m in longitude/latitude
    aeqd = Transformer.from_crs(
        "EPSG:4490", f"+proj=aeqd +lat_0={y} +lon_0={x} +ellps=GRS80 +units=m", always_xy=True
    )
    projected = shapely.transform(
        dense, lambda c: np.column_stack(aeqd.transform(c[:, 0], c[:, 1]))
    )
    return float(shapely.distance(shapely.Point(0, 0), projected))


def test_distances_exact_to_a_tenth_of_a_metre(engine):
    """Nearby, nearest-unit and boundary distances against the AEQD reference, out to 5 km."""
    snapshot = engine._snapshot
    by_code = {
        (ix.series, f.code): f.geometry
        for ix in snapshot.series.values()
        for f in ix.version.features
    }
    checked = {"nearby": 0, "boundary": 0, "unit": 0}
    worst = 0.0
    for result, p in zip(
        engine.overlay_many(_points(400, 13), boundary_search_m=5000.0, gap_search_m=5000.0),
        _points(400, 13),
        strict=True,
    ):
        for near in result.nearby:
            ref = _reference_m(p.x, p.y, by_code[(near.series, near.code)])
            worst = max(worst, abs(near.distance_m - ref))
            checked["nearby"] += 1
        for near in result.nearest_unit.values():
            ref = _reference_m(p.x, p.y, by_code[(near.series, near.code)])
            worst = max(worst, abs(near.distance_m - ref))
            checked["unit"] += 1
        for kind, d in result.boundary_distance_m.items():
            (hit,) = [h for h in result.hits[kind]] or [None]
            ref = _reference_m(p.x, p.y, by_code[(hit.series, hit.code)])
            worst = max(worst, abs(d - ref))
            checked["boundary"] += 1
    assert worst < 0.1, worst
    assert checked["nearby"] > 100 and checked["boundary"] > 100 and checked["unit"] > 0, checked


def test_a_distance_with_two_nearly_equal_candidates():
    """Two arms of one feature nearly equally far in a local frame, 4.9 km away at 50°N: the
    nearest must be measured, not the one a plain cos(lat) frame prefers."""
    x, y = 120.0, 50.0
    aeqd = Transformer.from_crs(
        f"+proj=aeqd +lat_0={y} +lon_0={x} +ellps=GRS80 +units=m", "EPSG:4490", always_xy=True
    )
    # one arm 4,900 m due north, one 4,901 m due east (in metres, exactly)
    north = [aeqd.transform(dx, 4900.0) for dx in (-300.0, 300.0)]
    east = [aeqd.transform(4901.0, dy) for dy in (-300.0, 300.0)]
    arms = shapely.MultiLineString([north, east])
    version = LayerVersionData(1, "arms", "red_line", (LayerFeature(1, "A", "A", arms),))
    (near,) = OverlayEngine([version]).overlay(shapely.Point(x, y)).nearby
    assert near.distance_m == pytest.approx(_reference_m(x, y, arms), abs=0.1)
    assert near.distance_m == pytest.approx(4900.0, abs=0.1)
