"""Benchmark: one POST /api/v1/screen/batch of N points (default 10,000), in process.

    .venv/bin/python benchmarks/batch.py [--n 10000] [--db sqlite:///bench.db]

Prints the time of the request and of its parts (validation, location, overlay, rulebook).
Not a test: speed claims live here, with figures, not in timed unit tests.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo_service.app import create_app
from geo_service.auth import create_token
from geo_service.services import Services
from geo_service.settings import Settings


def items(n: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        lon, lat = rng.uniform(105.0, 122.0), rng.uniform(39.0, 50.0)
        item: dict = {
            "location": {
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "precision_m": 30,
            },
            "case_type": "pollution_discharge",
            "received_on": "2026-09-05",
            "damage_amount_yuan": rng.choice([800, 2500, 50_000]),
        }
        if i % 10 == 0:
            item["location"]["crs"] = "GCJ02"
        out.append(item)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--db", default=None)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    db = args.db or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    t0 = time.perf_counter()
    services = Services.open(Settings(_env_file=None, database_url=db))  # type: ignore[call-arg]
    print(f"open services (migrate + built-in layers): {time.perf_counter() - t0:.1f} s")
    with services.sessions() as session:
        token = create_token(session, "system", "bench")
    body = {"items": items(args.n)}
    with TestClient(create_app(services=services)) as client:
        client.post(
            "/api/v1/screen/batch",
            json={"items": body["items"][:10]},
            headers={"Authorization": f"Bearer {token}"},
        )  # warm-up
        profiler = cProfile.Profile() if args.profile else None
        t0 = time.perf_counter()
        if profiler:
            profiler.enable()
        r = client.post(
            "/api/v1/screen/batch", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        if profiler:
            profiler.disable()
        elapsed = time.perf_counter() - t0
    results = r.json()["results"]
    decided = sum(1 for x in results if "jurisdiction" in x)
    print(
        f"POST /screen/batch: {args.n} items, HTTP {r.status_code}, {elapsed:.2f} s "
        f"({args.n / elapsed:,.0f} items/s), {len(r.content) / 1e6:.1f} MB response, "
        f"{decided} decided"
    )
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    services.close()


if __name__ == "__main__":
    main()
