"""CPU per screened lead after the overlay: facts, the rulebook, the decision's dict.

    .venv/bin/python benchmarks/rulebook.py [DATABASE_URL] [--rounds N] [--profile]

DATABASE_URL: a service database, ideally with the synthetic red line and reserves imported
(benchmarks/speed.py's `import_layers`), so that leads have sensitive hits, nearby features and
boundary distances; without one, a throwaway SQLite database with the built-in boundaries only.
Leads: seeded random points of the region (lon 107–122, lat 40–50) touching a sensitive area or
with one nearby, some plain, a third turned into 0.04° squares, with varied attributes.

Prints, per lead, the CPU time (time.process_time, best of 5) of `pipeline._finish` and of its
parts (spatial_facts, lead_facts, decide, Decision.to_dict), then decide + to_dict over the pure
decision corpus of tests/screening. Asserts nothing; on a shared machine compare runs made back
to back.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "screening")]

from shapely.geometry import Point  # noqa: E402

from geo_service import pipeline  # noqa: E402
from geo_service.schemas import ScreenRequest  # noqa: E402
from geo_service.services import Services  # noqa: E402
from geo_service.settings import Settings  # noqa: E402
from layers.overlay import OverlayResult  # noqa: E402
from screening import SpatialFacts, decide  # noqa: E402

CASES = ("pollution_discharge", "illegal_mining", "forest_grass_wetland_damage", "other", None)
CHANNELS = ("inspection", "admin_penalty", "criminal", "sensitive_area", None, "petition_media")
DATES = ("2026-09-05", "2026-09-30", "2026-01-20", "2025-12-31", "2026-04-30", "2026-11-20")


def per_lead(label: str, count: int, rounds: int, run: Callable[[], object]) -> None:
    run()
    best = min(_timed(run, rounds) for _ in range(5))
    print(f"{label:34} {best / rounds / count * 1e6:8.1f} µs/lead")


def _timed(run: Callable[[], object], rounds: int) -> float:
    started = time.process_time()
    for _ in range(rounds):
        run()
    return time.process_time() - started


def requests(services: Services, n: int = 48) -> list[ScreenRequest]:
    rng = random.Random(20261130)
    candidates = [(rng.uniform(107, 122), rng.uniform(40, 50)) for _ in range(4000)]
    rules = services.rules
    results = services.overlay.overlay_many(
        [Point(x, y) for x, y in candidates],
        nearby_radius_m=rules.nearby_radius_m,
        boundary_search_m=rules.boundary_buffer_m,
    )
    rich = [
        c for c, r in zip(candidates, results, strict=True) if r.nearby or r.hits.get("red_line")
    ]
    plain = [c for c, r in zip(candidates, results, strict=True) if not r.nearby]
    points = rich[: n * 5 // 6] + plain[: n - min(len(rich), n * 5 // 6)]
    out = []
    for i, (x, y) in enumerate(points):
        geometry: dict = {"type": "Point", "coordinates": [x, y]}
        if i % 3 == 1:
            d = 0.02
            ring = [[x - d, y - d], [x + d, y - d], [x + d, y + d], [x - d, y + d], [x - d, y - d]]
            geometry = {"type": "Polygon", "coordinates": [ring]}
        body: dict = {
            "location": {"geometry": geometry, "precision_m": rng.choice([10, 30, 100])},
            "case_type": CASES[i % len(CASES)],
            "source_channel": CHANNELS[i % len(CHANNELS)],
            "received_on": DATES[i % len(DATES)],
            "damage_amount_yuan": rng.choice([None, 800, 2500, 5000, 250000, 1e6]),
        }
        if body["source_channel"] == "admin_penalty":
            body["penalty_department"] = "natural_resources"
        if i % 4 == 0:
            body["occurred_on"] = "2025-12-01"
            body["prior_damage_dates"] = ["2025-03-01", "2023-01-01"]
            body["obligor"] = {"id": "91150100MA0N2X7U3X", "name": "某公司"}
        if i % 5 == 0:
            body["incident_grade"] = "major"
            body["no_obvious_impact"] = True
        if i % 6 == 2:
            body["appraisal_periods"] = [{"start": "2026-09-10", "end": "2026-09-20"}]
        out.append(ScreenRequest.model_validate({k: v for k, v in body.items() if v is not None}))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("database_url", nargs="?")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--profile", action="store_true", help="cProfile of _finish (CPU time)")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/rulebook-bench.db"
    services = Services.open(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]
    try:
        run(services, args.rounds, args.profile)
    finally:
        services.close()


def run(services: Services, rounds: int, profile: bool) -> None:
    engine = services.overlay
    leads = []
    for request in requests(services):
        located = pipeline.locate(request, services)
        assert located.geometry is not None
        result = engine.overlay(located.geometry, **pipeline._search_radii(services, [located]))
        leads.append((request, located, result))
    n = len(leads)

    def spatial(located: pipeline.Located, result: OverlayResult) -> SpatialFacts:
        return pipeline.spatial_facts(
            result,
            active_kinds=engine.active_kinds,
            layer_versions=engine.layer_versions,
            precision_m=located.precision_m,
            geometry=located.geometry,
        )

    facts = [(pipeline.lead_facts(q, []), spatial(loc, r)) for q, loc, r in leads]
    decisions = [decide(lf, sf, services.rules, services.calendar) for lf, sf in facts]
    hits = sum(len(v) for _, sf in facts for v in sf.hits.values()) / n
    nearby = sum(len(sf.nearby) for _, sf in facts) / n
    print(f"{n} leads; {hits:.1f} hits and {nearby:.1f} nearby features per lead")

    finish = pipeline._finish
    per_lead("_finish", n, rounds, lambda: [finish(services, *x, engine, []) for x in leads])
    per_lead("  spatial_facts", n, rounds, lambda: [spatial(loc, r) for _, loc, r in leads])
    per_lead("  lead_facts", n, rounds, lambda: [pipeline.lead_facts(q, []) for q, _, _ in leads])
    per_lead(
        "  decide",
        n,
        rounds,
        lambda: [decide(lf, sf, services.rules, services.calendar) for lf, sf in facts],
    )
    per_lead("  Decision.to_dict", n, rounds, lambda: [d.to_dict() for d in decisions])

    from decision_corpus import calendars, configs, corpus

    cfgs, cals = configs(), calendars()
    items = [(lf, sf, cfgs[c], cals[k]) for lf, sf, c, k in corpus(600)]
    per_lead(
        "decision corpus: decide + to_dict",
        len(items),
        max(1, rounds // 10),
        lambda: [decide(*item).to_dict() for item in items],
    )

    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        for _ in range(rounds):
            for x in leads:
                finish(services, *x, engine, [])
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main()
