"""The overlay engine: share arithmetic on hand-made squares, snapshots, and real boundaries."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from equal_area import albers_area_m2
from shapely.geometry import GeometryCollection, LineString, MultiPoint, Point, box

from layers.builtin import builtin_layers
from layers.errors import GeometryError
from layers.measure import GEOD
from layers.model import LayerFeature, LayerVersionData
from layers.overlay import OverlayEngine

# Two 1°×1° squares side by side at 40°N, split at 111°E; a reserve east of them.
A = box(110.0, 40.0, 111.0, 41.0)
B = box(111.0, 40.0, 112.0, 41.0)
RESERVE = box(112.1, 40.4, 112.2, 40.6)
FAR_RESERVE = box(113.0, 40.4, 113.1, 40.6)


def feature(fid, code, geometry, name=None):
    return LayerFeature(feature_id=fid, code=code, name=name or code, geometry=geometry)


def version(vid, series, kind, *features):
    return LayerVersionData(version_id=vid, series=series, kind=kind, features=tuple(features))


LEAGUES = version(1, "league", "league", feature(1, "A", A), feature(2, "B", B))
RESERVES = version(
    5, "reserves", "nature_reserve", feature(10, "R1", RESERVE), feature(11, "R2", FAR_RESERVE)
)


@pytest.fixture
def engine():
    return OverlayEngine([LEAGUES, RESERVES])


def shares(result, kind="league"):
    return {h.code: h.share for h in result.hits[kind]}


# --- shares ------------------------------------------------------------------------------------


def test_polygon_half_and_half(engine):
    result = engine.overlay(box(110.5, 40.2, 111.5, 40.8))  # mirror-symmetric about 111°E
    assert result.footprint_type == "polygon"
    assert shares(result) == pytest.approx({"A": 0.5, "B": 0.5}, abs=1e-6)
    # Checked against an equal-area projection, not the engine's own geodesic_area.
    assert result.footprint_measure == pytest.approx(
        albers_area_m2(box(110.5, 40.2, 111.5, 40.8)), rel=1e-4
    )


def test_polygon_quarter(engine):
    # 110.75..111.25 around the split; shares are geodesic: compare with areas of the halves
    fp = box(110.75, 40.0, 111.75, 40.5)
    expected_a = albers_area_m2(box(110.75, 40.0, 111.0, 40.5)) / albers_area_m2(fp)
    result = engine.overlay(fp)
    assert shares(result)["A"] == pytest.approx(expected_a, abs=1e-5)
    assert shares(result)["A"] == pytest.approx(0.25, abs=1e-3)
    assert sum(shares(result).values()) == pytest.approx(1.0, abs=1e-9)
    assert [h.code for h in result.hits["league"]] == ["B", "A"]  # largest share first


def test_polygon_inside_one_unit(engine):
    result = engine.overlay(box(110.2, 40.2, 110.3, 40.3))
    assert shares(result) == {"A": 1.0}


def test_line_along_a_meridian(engine):
    # meridian arcs are geodesics, so the expected split is exact arithmetic on arc lengths
    line = LineString([(111.5, 40.25), (111.5, 40.75)])
    split = version(9, "halves", "county", feature(1, "S", box(110, 40, 112, 40.5)),
                    feature(2, "N", box(110, 40.5, 112, 41)))  # fmt: skip
    result = OverlayEngine([split]).overlay(line)
    south = GEOD.inv(111.5, 40.25, 111.5, 40.5)[2]
    total = GEOD.inv(111.5, 40.25, 111.5, 40.75)[2]
    assert result.footprint_type == "line"
    assert result.footprint_measure == pytest.approx(total, rel=1e-12)
    assert shares(result, "county") == pytest.approx(
        {"S": south / total, "N": 1 - south / total}, abs=1e-9
    )


def test_line_half_and_half(engine):
    result = engine.overlay(LineString([(110.5, 40.5), (111.5, 40.5)]))
    assert shares(result) == pytest.approx({"A": 0.5, "B": 0.5}, abs=1e-6)


def test_points_by_count(engine):
    pts = MultiPoint([(110.1, 40.1), (110.2, 40.2), (110.3, 40.3), (111.5, 40.5)])
    result = engine.overlay(pts)
    assert result.footprint_type == "point" and result.footprint_measure == 4
    assert shares(result) == {"A": 0.75, "B": 0.25}


def test_point_on_shared_boundary_is_in_both_at_full_share(engine):
    result = engine.overlay(Point(111.0, 40.5))
    assert shares(result) == {"A": 1.0, "B": 1.0}
    assert result.boundary_distance_m["league"] == 0.0


def test_mixed_collection_measures_the_highest_dimension(engine):
    gc = GeometryCollection([box(110.2, 40.2, 110.3, 40.3), Point(111.5, 40.5)])
    result = engine.overlay(gc)
    assert result.footprint_type == "polygon"
    # the point touches B but has no area: reported at share 0.0, not dropped
    assert shares(result) == {"A": 1.0, "B": 0.0}


def test_edge_contact_is_a_zero_share_hit(engine):
    result = engine.overlay(box(111.0, 40.2, 111.5, 40.8))
    assert shares(result) == {"B": 1.0, "A": 0.0}


def test_every_active_kind_is_present(engine):
    result = engine.overlay(Point(110.5, 40.5))
    assert set(result.hits) == {"league", "nature_reserve"} == engine.active_kinds
    assert result.hits["nature_reserve"] == ()
    assert result.layer_versions == {"league": 1, "reserves": 5}


def test_order_independence():
    reversed_leagues = version(1, "league", "league", *reversed(LEAGUES.features))
    fp = box(110.75, 40.0, 111.75, 40.5)
    one = OverlayEngine([LEAGUES, RESERVES]).overlay(fp)
    two = OverlayEngine([RESERVES, reversed_leagues]).overlay(fp)
    assert one == two


# --- nearby, gaps, boundary distance ------------------------------------------------------


def test_nearby_sensitive_features_nearest_first(engine):
    point = Point(112.0, 40.5)  # on B's east edge, 0.1° west of the reserve
    result = engine.overlay(point, nearby_radius_m=10_000)
    assert [n.code for n in result.nearby] == ["R1"]
    expected = GEOD.inv(112.0, 40.5, 112.1, 40.5)[2]
    assert result.nearby[0].distance_m == pytest.approx(expected, abs=1.0)
    assert result.nearby[0].kind == "nature_reserve" and result.nearby[0].version_id == 5
    wide = engine.overlay(point, nearby_radius_m=100_000)
    assert [n.code for n in wide.nearby] == ["R1", "R2"]
    assert engine.overlay(point, nearby_radius_m=8000).nearby == ()


def test_touched_features_are_hits_not_nearby(engine):
    result = engine.overlay(box(112.0, 40.45, 112.15, 40.55), nearby_radius_m=100_000)
    assert [h.code for h in result.hits["nature_reserve"]] == ["R1"]
    assert [n.code for n in result.nearby] == ["R2"]


def test_gap_point_gets_nearest_unit():
    gapped = version(
        1, "league", "league", feature(1, "A", A), feature(2, "B", box(111.01, 40, 112, 41))
    )
    engine = OverlayEngine([gapped])
    result = engine.overlay(Point(111.003, 40.5))
    assert result.hits["league"] == ()
    near = result.nearest_unit["league"]
    assert near.code == "A"
    assert near.distance_m == pytest.approx(GEOD.inv(111.003, 40.5, 111.0, 40.5)[2], abs=0.5)
    assert engine.overlay(Point(111.003, 40.5), gap_search_m=100).nearest_unit == {}


def test_boundary_distance_of_a_point(engine):
    result = engine.overlay(Point(110.99, 40.5))
    expected = GEOD.inv(110.99, 40.5, 111.0, 40.5)[2]
    assert result.boundary_distance_m["league"] == pytest.approx(expected, abs=0.5)
    assert "nature_reserve" not in result.boundary_distance_m


@pytest.mark.parametrize("cap_factor", [1.001, 1.5, 10.0])
def test_boundary_distance_within_the_cap_is_exact(engine, cap_factor):
    expected = GEOD.inv(110.99, 40.5, 111.0, 40.5)[2]
    capped = engine.overlay(Point(110.99, 40.5), boundary_search_m=expected * cap_factor)
    assert capped.boundary_distance_m["league"] == pytest.approx(expected, abs=0.5)


def test_boundary_distance_beyond_the_cap_is_left_out(engine):
    expected = GEOD.inv(110.99, 40.5, 111.0, 40.5)[2]
    capped = engine.overlay(Point(110.99, 40.5), boundary_search_m=expected * 0.99)
    assert "league" not in capped.boundary_distance_m
    many = engine.overlay_many([Point(110.99, 40.5)] * 3, boundary_search_m=expected * 0.99)
    assert all("league" not in r.boundary_distance_m for r in many)


def test_real_boundary_cap_agrees_with_exact_distances(real_engine):
    """Across random points, the capped query reports exactly the distances ≤ cap."""
    rng = np.random.default_rng(7)
    xs, ys = rng.uniform(107, 122, 300), rng.uniform(38, 50, 300)
    points = [Point(x, y) for x, y in zip(xs, ys, strict=True)]
    cap = 20_000.0
    exact = real_engine.overlay_many(points)
    capped = real_engine.overlay_many(points, boundary_search_m=cap)
    for e, c in zip(exact, capped, strict=True):
        want = {k: d for k, d in e.boundary_distance_m.items() if d <= cap}
        assert dict(c.boundary_distance_m) == pytest.approx(want)


# --- snapshots ----------------------------------------------------------------------------------


def zone_version(vid: int) -> LayerVersionData:
    """Version `vid` of series "zone": one feature coded v<vid> covering the test point."""
    return version(vid, "zone", "red_line", feature(vid * 100, f"v{vid}", box(110, 40, 111, 41)))


def test_preview_leaves_the_engine_unchanged(engine):
    engine.activate(zone_version(1))
    preview = engine.preview(zone_version(2))
    point = Point(110.5, 40.5)
    assert [h.code for h in engine.overlay(point).hits["red_line"]] == ["v1"]
    assert [h.code for h in preview.overlay(point).hits["red_line"]] == ["v2"]
    assert engine.layer_versions["zone"] == 1 and preview.layer_versions["zone"] == 2


def test_activate_and_deactivate(engine):
    engine.activate(zone_version(3))
    assert "red_line" in engine.active_kinds
    engine.deactivate("zone")
    assert "red_line" not in engine.active_kinds
    assert "zone" not in engine.overlay(Point(110.5, 40.5)).layer_versions


def test_swaps_are_atomic_for_readers(engine):
    """While versions 1 and 2 of "zone" are swapped in a loop, every query must see one
    snapshot: each hit's version is the one its result reports, and its code matches."""
    stop = threading.Event()
    problems: list[str] = []
    seen: set[int] = set()
    point = Point(110.5, 40.5)

    def reader() -> None:
        while not stop.is_set():
            result = engine.overlay(point, nearby_radius_m=0)
            for hits in result.hits.values():
                for h in hits:
                    if result.layer_versions.get(h.series) != h.version_id:
                        problems.append(f"{h.series}: hit v{h.version_id}, {result.layer_versions}")
                    if h.series == "zone":
                        seen.add(h.version_id)
                        if h.code != f"v{h.version_id}":
                            problems.append(f"code {h.code} in version {h.version_id}")

    engine.activate(zone_version(1))
    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for i in range(1000):
            engine.activate(zone_version(1 + i % 2))
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert problems == []
    assert seen == {1, 2}


# --- input checks and bulk --------------------------------------------------------------------


def test_empty_geometry_is_refused(engine):
    with pytest.raises(GeometryError):
        engine.overlay(Point())


def test_negative_radius_is_refused(engine):
    with pytest.raises(GeometryError) as err:
        engine.overlay(Point(110.5, 40.5), nearby_radius_m=-1)
    assert err.value.field == "nearby_radius_m"


def test_overlay_many_matches_overlay(engine):
    points = [Point(110.5, 40.5), Point(111.0, 40.5), Point(112.05, 40.5), Point(120, 30)]
    assert engine.overlay_many(points) == [engine.overlay(p) for p in points]
    mixed = [*points, box(110.5, 40.2, 111.5, 40.8)]
    assert engine.overlay_many(mixed) == [engine.overlay(g) for g in mixed]
    assert engine.overlay_many([]) == []


# --- real boundaries --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_engine():
    return OverlayEngine(
        LayerVersionData(i + 1, layer.series, layer.kind, layer.features)
        for i, layer in enumerate(builtin_layers())
    )


def test_manzhouli(real_engine):
    result = real_engine.overlay(Point(117.43, 49.59))
    assert [h.code for h in result.hits["league"]] == ["150700"]
    assert [h.code for h in result.hits["county"]] == ["150781"]
    assert [h.code for h in result.hits["province"]] == ["150000"]
    assert result.hits["country"] == ()
    # 满洲里 is a few km from the Russian border
    assert 1000 < result.boundary_distance_m["province"] < 20_000


def test_real_polygon_across_the_shanxi_border(real_engine):
    fp = box(111.0, 39.9, 112.5, 40.5)
    result = real_engine.overlay(fp)
    provinces = shares(result, "province")
    assert set(provinces) == {"150000", "140000"}
    assert sum(provinces.values()) == pytest.approx(1.0, abs=1e-6)
    leagues = shares(result, "league")
    assert sum(leagues.values()) == pytest.approx(provinces["150000"], abs=1e-6)


def test_real_point_in_mongolia(real_engine):
    result = real_engine.overlay(Point(106.9, 47.9))  # Ulaanbaatar
    assert [h.code for h in result.hits["country"]] == ["MNG"]
    assert result.hits["league"] == () and result.hits["province"] == ()
