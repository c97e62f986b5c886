"""Bulk point overlay (OverlayEngine.overlay_many) in CPU time. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bulk_points.py --db sqlite:///layers.db [--n 10000]
        [--repeat 5] [--profile]

Points are seeded uniform points inside Inner Mongolia (province 150000). CPU time
(time.process_time) of the best of --repeat runs, back to back on the same points:
- full: overlay_many with boundary_search_m=1000 (the batch endpoint's answer);
- containment + results: overlay_many with every radius 0;
- containment step: the tree query and layers.overlay._contained alone.
--profile prints a cProfile of one full run (process time).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from speed import region_points  # benchmarks/ is this script's folder

from geo_service.services import Services
from geo_service.settings import Settings
from layers.overlay import _contained


def best_of(repeat: int, fn) -> float:
    fn()  # warm: lazily built structures
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        fn()
        best = min(best, time.process_time() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20250509)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    services = Services.open(Settings(_env_file=None, database_url=args.db))  # type: ignore[call-arg]
    engine = services.overlay
    points = list(region_points(services, np.random.default_rng(args.seed), args.n))
    n = len(points)

    def full():
        return engine.overlay_many(points, boundary_search_m=1000.0)

    def contained_results():
        return engine.overlay_many(points, nearby_radius_m=0, gap_search_m=0, boundary_search_m=0)

    xy = shapely.get_coordinates(np.array(points, dtype=object))
    snapshot = engine._snapshot

    def contained_step():
        p, g = snapshot.tree.query(shapely.points(xy))
        return _contained(snapshot, xy[:, 0], xy[:, 1], p, g)

    for label, fn in (
        ("full answer", full),
        ("containment + results", contained_results),
        ("containment step", contained_step),
    ):
        seconds = best_of(args.repeat, fn)
        print(f"{label:<24} {n / seconds:>12,.0f} points/s  ({seconds * 1e3:8.1f} ms CPU)")
    if args.profile:
        profile = cProfile.Profile(time.process_time)
        profile.enable()
        full()
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main()
