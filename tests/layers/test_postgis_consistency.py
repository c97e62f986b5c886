"""The in-memory overlay engine agrees with PostGIS on the same stored boundaries.

The built-in layers are stored in a throwaway PostGIS database and the engine is loaded from
those rows (geo_service.Services.open). For seeded random points and small polygons across the
real boundaries, many of them within a few hundred metres of a league boundary:
- league and county memberships equal ST_Intersects on the active rows;
- polygon shares equal ST_Area(ST_Intersection(g, geom)::geography) / ST_Area(g::geography)
  within 1e-6 (the test polygons have edges under 0.05°, which the engine measures exactly as
  PostGIS geography does; see layers.measure).
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from sqlalchemy import text

from layers.builtin import builtin_layers

pytestmark = pytest.mark.postgis

SERIES = ("league", "county")
SEED = 20250509
SHARE_TOLERANCE = 1e-6

MEMBERSHIP_SQL = text(
    "SELECT series, code, version_id FROM active_layer_feature "
    "WHERE series IN ('league', 'county') "
    "AND ST_Intersects(geom, ST_GeomFromText(:wkt, 4490))"
)
SHARE_SQL = text(
    "SELECT series, code, "
    "ST_Area(ST_Intersection(g.geom, f.geom)::geography) / ST_Area(g.geom::geography) "
    "FROM active_layer_feature f, (SELECT ST_GeomFromText(:wkt, 4490) AS geom) g "
    "WHERE f.series IN ('league', 'county') AND ST_Intersects(f.geom, g.geom)"
)


@pytest.fixture(scope="module")
def postgis(services_by_backend):
    return services_by_backend["postgis"]


def _near_league_boundaries(rng: np.random.Generator, n: int) -> np.ndarray:
    """Points jittered up to ~500 m around vertices of the leagues' shared boundaries."""
    leagues = builtin_layers(["league"])[0].features
    lines = [
        shapely.intersection(a.geometry.boundary, b.geometry.boundary)
        for i, a in enumerate(leagues)
        for b in leagues[i + 1 :]
        if a.geometry.intersects(b.geometry)
    ]
    xy = np.vstack([shapely.get_coordinates(line) for line in lines])
    picks = xy[rng.choice(len(xy), size=n, replace=False)]
    return picks + rng.uniform(-0.005, 0.005, size=picks.shape)


def _small_polygon(rng: np.random.Generator, x: float, y: float) -> shapely.Polygon:
    """A random convex-ish quadrilateral of roughly 0.5–3 km around (x, y)."""
    angles = np.sort(rng.uniform(0, 2 * np.pi, 5))
    radius = rng.uniform(0.004, 0.02, 5)
    ring = np.column_stack([x + radius * np.cos(angles), y + radius * np.sin(angles)])
    polygon = shapely.Polygon(ring)
    return polygon if polygon.is_valid else polygon.convex_hull


@pytest.fixture(scope="module")
def samples():
    rng = np.random.default_rng(SEED)
    spread = np.column_stack([rng.uniform(97.2, 126.0, 150), rng.uniform(37.4, 53.3, 150)])
    near = _near_league_boundaries(rng, 150)
    points = [shapely.Point(x, y) for x, y in np.vstack([spread, near])]
    centres = np.vstack([near[:60], spread[:40]])
    polygons = [_small_polygon(rng, x, y) for x, y in centres]
    return points, polygons


def _engine_memberships(result) -> set[tuple[str, str]]:
    return {(h.series, h.code) for s in SERIES for h in result.hits.get(s, ())}


def test_the_engine_holds_the_stored_versions(postgis):
    with postgis.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT series, version_id, count(*) FROM active_layer_feature "
                "WHERE series IN ('league', 'county') GROUP BY series, version_id"
            )
        ).all()
    stored = {series: (version, count) for series, version, count in rows}
    assert stored["league"][1] == 12 and stored["county"][1] == 103
    for series in SERIES:
        assert postgis.overlay.layer_versions[series] == stored[series][0]


def test_memberships_match_st_intersects(postgis, samples):
    points, polygons = samples
    engine = postgis.overlay
    mismatches = []
    hit_any = 0
    with postgis.engine.connect() as conn:
        for geometry in [*points, *polygons]:
            rows = conn.execute(MEMBERSHIP_SQL, {"wkt": geometry.wkt}).all()
            expected = {(series, code) for series, code, _ in rows}
            result = engine.overlay(geometry, nearby_radius_m=0, gap_search_m=0)
            got = _engine_memberships(result)
            if got != expected:
                mismatches.append((geometry.wkt[:80], sorted(got), sorted(expected)))
            for series, _code, version_id in rows:
                assert result.layer_versions[series] == version_id
            hit_any += bool(expected)
    assert mismatches == []
    assert hit_any > 200  # most samples are inside the region, not vacuous agreement


def test_bulk_point_memberships_match_too(postgis, samples):
    points, _ = samples
    bulk = postgis.overlay.overlay_many(points, nearby_radius_m=0)
    single = [postgis.overlay.overlay(p, nearby_radius_m=0) for p in points]
    assert [_engine_memberships(r) for r in bulk] == [_engine_memberships(r) for r in single]


def test_polygon_shares_match_postgis_geography(postgis, samples):
    _, polygons = samples
    split = 0
    with postgis.engine.connect() as conn:
        for polygon in polygons:
            expected = {
                (series, code): share
                for series, code, share in conn.execute(SHARE_SQL, {"wkt": polygon.wkt})
            }
            result = postgis.overlay.overlay(polygon, nearby_radius_m=0, gap_search_m=0)
            got = {(h.series, h.code): h.share for s in SERIES for h in result.hits[s]}
            assert got.keys() == expected.keys()
            for key, share in expected.items():
                assert got[key] == pytest.approx(share, abs=SHARE_TOLERANCE), (polygon.wkt, key)
            split += sum(1 for (series, _), share in got.items()
                         if series == "league" and 0 < share < 1)  # fmt: skip
    assert split >= 20  # many polygons really straddle a league boundary
