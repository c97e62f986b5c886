"""A deterministic corpus of varied leads for the rulebook: (LeadFacts, SpatialFacts, config,
calendar) drawn from a seeded generator, covering every branch a screen can take — case types
and channels (known, unknown, missing), dates around holidays and in a year without a schedule,
amounts, obligors and their earlier damage, hits across leagues, provinces and countries,
slivers, sensitive areas and their neighbours, act locations, coarse locations, missing layers.

Used by test_decision_corpus.py; also runnable to print the corpus's decisions as JSON lines
(`python tests/screening/decision_corpus.py [N]`) to compare two versions of the rulebook.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from stdnum.cn import ric, uscc

from screening import CaseType, Department, Grade, RulebookConfig, SourceChannel, WorkCalendar
from screening.facts import AreaHit, CoarseLocation, LeadFacts, NearbyHit, PriorDamage, SpatialFacts
from screening.units import LEAGUES

SCHEDULE_2027 = {
    "year": 2027,
    "source": "test",
    "holidays": [{"start": "2027-02-06", "end": "2027-02-12", "name": "春节"}, "2027-01-01",
                 {"start": "2027-10-01", "end": "2027-10-07", "name": "国庆节"}],
    "workdays": [{"date": "2027-02-13", "name": "春节"}, "2027-10-09"],
}  # fmt: skip

_USCC = "91150100MA0N2X7U3" + uscc.calc_check_digit("91150100MA0N2X7U3")
_RIC = "15010219800101123" + ric.calc_check_digit("15010219800101123")
OBLIGOR_IDS = (None, None, _USCC, _RIC, "123", "91150100MA0N2X7U3Q", "150102198013011234", "")

DATES = tuple(
    date.fromisoformat(d)
    for d in (
        "2026-01-01", "2026-02-13", "2026-02-16", "2026-04-30", "2026-05-06", "2026-09-05",
        "2026-09-30", "2026-10-01", "2026-10-08", "2026-11-20", "2026-12-18", "2026-12-31",
        "2027-01-15", "2027-02-01", "2027-09-25", "2025-06-30", "2024-02-29", "2028-02-29",
        "2025-12-31", "2027-12-31",
    )
)  # fmt: skip

OTHER_PROVINCES = (("640000", "宁夏回族自治区"), ("620000", "甘肃省"), ("230000", "黑龙江省"))
COUNTRIES = (("MNG", "Mongolia"), ("RUS", "Russia"), ("CHN", "China"))
RESERVE_NAMES = ("贺兰山国家级自然保护区", "大兴安岭国家公园", "乌兰湿地公园", "某风景名胜区", None)
SENSITIVE = ("red_line", "nature_reserve", "key_function_zone", "prohibited_zone")


def configs() -> list[RulebookConfig]:
    """The default rulebook and two adjusted ones (第六条第三款, tolerances, the roll)."""
    return [
        RulebookConfig(),
        RulebookConfig.from_mapping(
            {
                "league_department_overrides": {
                    "150700": {"illegal_mining": "forestry_grassland", "other": "water_resources"},
                    "152900": {"pollution_discharge": None},
                },
                "holiday_roll": False,
                "paused_by_appraisal": ["consultation"],
                "min_share": 0.05,
                "layer_accuracy_m": 10,
                "preliminary_check_days": 20,
                "major_incident_grade": "major",
            }
        ),
        RulebookConfig.from_mapping(
            {"department_table": {"other": "ecology_environment"}, "consultation_days": 60,
             "obligor_reply_working_days": 7, "boundary_buffer_m": 200, "repeat_window_years": 3}
        ),
    ]  # fmt: skip


def calendars() -> list[WorkCalendar]:
    """The shipped calendar, one with a 2027 schedule, and weekends only."""
    return [
        WorkCalendar.load(None),
        WorkCalendar.from_mappings([SCHEDULE_2027]),
        WorkCalendar(official=False),
    ]


def _maybe(rng: random.Random, value: Any, p: float = 0.5) -> Any:
    return value if rng.random() < p else None


def lead(rng: random.Random) -> LeadFacts:
    received = _maybe(rng, rng.choice(DATES), 0.9)
    occurred = None
    if received is not None and rng.random() < 0.6:
        occurred = received - timedelta(days=rng.choice((0, 1, 30, 200, 700)))
    elif received is None and rng.random() < 0.3:
        occurred = rng.choice(DATES)
    ref = occurred or received or date(2026, 6, 1)
    prior_dates = tuple(
        sorted({ref - timedelta(days=rng.choice((1, 100, 365, 729, 730, 731, 1000, 2000)))
                for _ in range(rng.choice((0, 0, 1, 2, 3)))})
    )  # fmt: skip
    records = tuple(
        PriorDamage(
            ref - timedelta(days=rng.choice((10, 400, 800))),
            source=rng.choice(("lead", "history", "caller")),
            lead_id=rng.choice((None, 3, 17)),
            ref=rng.choice((None, "（2024）内01民初1号")),
            match=rng.choice(("id", "name")),
        )
        for _ in range(rng.choice((0, 0, 1, 2)))
    )
    pauses: tuple[tuple[date, date], ...] = ()
    if received is not None and rng.random() < 0.3:
        a = received + timedelta(days=rng.choice((1, 5, 20)))
        b = a + timedelta(days=rng.choice((0, 9, 40)))
        pauses = ((a, b),) if rng.random() < 0.8 else ((b, a), (a, a))
    served = _maybe(rng, rng.choice(DATES), 0.3)
    amount = _maybe(rng, rng.choice((0.0, 800.0, 2999.99, 3000.0, 3000.5, 250_000.0, 300_000.0,
                                     300_001.0, 1.5e7)), 0.8)  # fmt: skip
    grades = [g.value for g in Grade] + ["bogus"]
    return LeadFacts(
        case_type=rng.choice([c.value for c in CaseType] + ["bogus", None, None]),
        source_channel=rng.choice([c.value for c in SourceChannel] + ["bogus", None]),
        penalty_department=rng.choice([d.value for d in Department] + ["police", None, None]),
        received_on=received,
        occurred_on=occurred,
        damage_amount_yuan=amount,
        no_obvious_impact=rng.random() < 0.3,
        no_obvious_impact_criterion=rng.choice((None, None, 1, 3, 5)),
        obligor_id=rng.choice(OBLIGOR_IDS),
        obligor_name=rng.choice((None, "某矿业有限公司")),
        prior_damage_dates=prior_dates,
        prior_damage=records,
        region_decides_start=rng.random() < 0.1,
        national_impact=rng.random() < 0.1,
        incident_grade=rng.choice([None, None, *grades]),
        eco_destruction_grade=rng.choice([None, None, *grades]),
        central_inspection_important=rng.random() < 0.15,
        nationally_supervised=rng.random() < 0.1,
        major_impact=rng.random() < 0.1,
        already_remediated=rng.random() < 0.08,
        appraisal_periods=pauses,
        consultation_notice_served_on=served,
        supervision_started_on=_maybe(rng, rng.choice(DATES), 0.2),
        case_closed_on=_maybe(rng, rng.choice(DATES), 0.2),
    )


def _shares(rng: random.Random, n: int) -> list[float]:
    kind = rng.random()
    if kind < 0.2:
        return [1.0] * n  # a point on a shared boundary, or overlapping polygons
    raw = [rng.choice((1e-7, 1e-5, 0.004, 0.02, 0.3, 1.0)) * rng.random() + 1e-9 for _ in range(n)]
    total = sum(raw) * rng.choice((1.0, 1.0, 0.8, 1.3))
    return [min(1.0, r / total) for r in raw]


def _area(rng: random.Random, kind: str, i: int, share: float) -> AreaHit:
    name = (
        rng.choice(RESERVE_NAMES) if kind == "nature_reserve" else rng.choice((f"{kind}{i}", None))
    )
    layer = rng.choice((kind, f"{kind}_b"))
    fid: int | str = rng.choice((i, f"f{i}"))
    return AreaHit(kind, layer, rng.choice((1, 7)), fid, None, name, share)


def spatial(rng: random.Random) -> SpatialFacts:
    if rng.random() < 0.06:
        unit = rng.choice(LEAGUES)
        level = rng.choice(("county", "league"))
        code = unit.code[:4] + "02" if level == "county" else unit.code
        coarse = CoarseLocation(code, "某旗", level, unit.code, unit.name)  # type: ignore[arg-type]
        return SpatialFacts(None, coarse=coarse)
    footprint = rng.choice(("point", "point", "line", "polygon", "polygon"))
    hits: dict[str, list[AreaHit]] = {}
    leagues = rng.sample(LEAGUES, rng.choice((0, 1, 1, 1, 2, 3)))
    for u, s in zip(leagues, _shares(rng, len(leagues)), strict=True):
        hits.setdefault("league", []).append(
            AreaHit("league", "league_2024", 3, int(u.code), u.code, u.name, s)
        )
        if rng.random() < 0.7:
            county = u.code[:4] + rng.choice(("02", "21", "22"))
            hits.setdefault("county", []).append(
                AreaHit("county", "county_2024", 4, int(county), county, f"{u.name}某旗", s)
            )
    provinces = [("150000", "内蒙古自治区")] if leagues or rng.random() < 0.3 else []
    if rng.random() < 0.2:
        provinces.append(rng.choice(OTHER_PROVINCES))
    for (code, name), s in zip(provinces, _shares(rng, len(provinces)), strict=True):
        hits.setdefault("province", []).append(
            AreaHit("province", "province", 2, code, code, name, s)
        )
    if rng.random() < 0.1:
        for code, name in rng.sample(COUNTRIES, 2):
            hits.setdefault("country", []).append(
                AreaHit("country", "country", 1, code, code, name, rng.random())
            )
    for kind in SENSITIVE:
        n = rng.choice((0, 0, 1, 1, 2, 4))
        for i, s in enumerate(_shares(rng, n)):
            hits.setdefault(kind, []).append(_area(rng, kind, i, s))
    near_kinds = [rng.choice((*SENSITIVE, "league")) for _ in range(rng.choice((0, 1, 3, 6)))]
    nearby = tuple(
        NearbyHit(kind, kind, 7, f"n{i}", None, rng.choice((f"近{kind}{i}", None)),
                  rng.choice((0.0, 12.5, 49.99, 50.0, 180.0, 1234.56, 4999.0)))
        for i, kind in enumerate(near_kinds)
    )  # fmt: skip
    nearest = {}
    if "league" not in hits and rng.random() < 0.6:
        u = rng.choice(LEAGUES)
        nearest["league"] = NearbyHit("league", "league_2024", 3, 1, u.code, u.name,
                                      rng.choice((20.0, 99.0, 100.0, 400.0)))  # fmt: skip
    boundary = {}
    if footprint == "point":
        for kind in ("league", "province", "county"):
            if rng.random() < 0.4:
                boundary[kind] = rng.choice((3.2, 49.0, 50.0, 80.0))
    versions = {f"{k}_series": 1 + i for i, k in enumerate(hits)}
    if rng.random() < 0.8:
        versions["league_2024"] = 3
    missing = tuple(k for k in SENSITIVE if rng.random() < 0.12 and k not in hits)
    measure = {"point": float(rng.choice((1, 2))), "line": rng.choice((35.0, 2500.0)),
               "polygon": rng.choice((400.0, 2.5e6, 8e8))}[footprint]  # fmt: skip
    bbox = rng.choice(((110.0, 40.0, 110.1, 40.1), (124.0, 50.3, 124.2, 50.5), None))
    act: dict[str, list[AreaHit]] = {}
    if rng.random() < 0.2:
        for kind in rng.sample((*SENSITIVE, "league"), 2):
            act[kind] = [_area(rng, kind, 9, rng.choice((0.0, 0.5, 1.0)))]
    return SpatialFacts(
        footprint,  # type: ignore[arg-type]
        hits={k: tuple(v) for k, v in hits.items()},
        nearby=nearby,
        nearest_unit=nearest,
        boundary_distance_m=boundary,
        layer_versions=versions,
        precision_m=rng.choice((None, 5.0, 30.0, 120.0)),
        missing_kinds=missing,
        footprint_measure=_maybe(rng, measure, 0.85),
        bbox=bbox,
        act_hits={k: tuple(v) for k, v in act.items()},
    )


def corpus(
    n: int = 600, seed: int = 20250509
) -> Iterator[tuple[LeadFacts, SpatialFacts, int, int]]:
    """`n` (lead, spatial, config index, calendar index), the same for a seed."""
    rng = random.Random(seed)
    for _ in range(n):
        yield lead(rng), spatial(rng), rng.choice((0, 0, 0, 1, 2)), rng.choice((0, 0, 1, 2))


def decisions_json(n: int = 600, seed: int = 20250509) -> Iterator[str]:
    """The corpus's decisions, one JSON line each (to compare two versions byte for byte)."""
    from screening import decide

    cfgs, cals = configs(), calendars()
    for lf, sf, c, k in corpus(n, seed):
        yield json.dumps(decide(lf, sf, cfgs[c], cals[k]).to_dict(), ensure_ascii=False)


if __name__ == "__main__":
    for line in decisions_json(int(sys.argv[1]) if len(sys.argv) > 1 else 600):
        print(line)
