"""What the rulebook decides from: plain facts about the lead and its place (docs/rules.md §R1).

CONTRACT between geo_service (which fills these from the request and the overlay engine) and the
rulebook (screening.decide). Screening imports nothing from layers, maps or geo_service.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal


@dataclass(frozen=True, slots=True)
class AreaHit:
    """A layer feature the damage area touches; share of the footprint in (0, 1]."""

    kind: str  # league, county, province, country, red_line, nature_reserve, key_function_zone, …
    layer: str  # the layer series name
    layer_version: int
    feature_id: int | str
    code: str | None  # 6-digit division code for admin units; ISO alpha-3 for countries
    name: str | None
    share: float


@dataclass(frozen=True, slots=True)
class NearbyHit:
    kind: str
    layer: str
    layer_version: int
    feature_id: int | str
    code: str | None
    name: str | None
    distance_m: float


@dataclass(frozen=True, slots=True)
class CoarseLocation:
    """A lead located only by an administrative name (R1): decide what it can, never guess."""

    code: str  # the banner/county or league code given
    name: str
    level: Literal["county", "league"]
    league_code: str
    league_name: str


@dataclass(frozen=True, slots=True)
class SpatialFacts:
    """The overlay result as the rulebook sees it. `coarse` set => hits/nearby are empty."""

    footprint_type: Literal["point", "line", "polygon"] | None
    hits: Mapping[str, Sequence[AreaHit]] = field(default_factory=dict)
    nearby: Sequence[NearbyHit] = ()
    nearest_unit: Mapping[str, NearbyHit] = field(default_factory=dict)
    boundary_distance_m: Mapping[str, float] = field(default_factory=dict)
    layer_versions: Mapping[str, int] = field(default_factory=dict)
    precision_m: float | None = None
    coarse: CoarseLocation | None = None
    # Sensitive kinds with no active layer: their status is unknown, not "none" (say so).
    missing_kinds: Sequence[str] = ()
    # The footprint's own measure (m² / m / points), for absolute tolerances (§R2.6).
    footprint_measure: float | None = None
    # (min lon, min lat, max lon, max lat), for the special-status areas table (§R2.7).
    bbox: tuple[float, float, float, float] | None = None
    # What the act location (行为发生地) touches, by kind: 第六条's 行为 clause (§R4.2).
    act_hits: Mapping[str, Sequence[AreaHit]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PriorDamage:
    """Established earlier damage by the same obligor (docs/rules.md §R5.2).

    `source`: a lead of this service whose preliminary check found damage (`lead`), an
    imported historical case (`history`), or a date the caller supplied (`caller`).
    `match`: how the obligor was matched — by identifier, or by normalised name when the
    lead has no identifier (flagged: an officer must confirm it is the same obligor).
    """

    on: date
    source: Literal["lead", "history", "caller"] = "caller"
    lead_id: int | None = None
    ref: str | None = None
    match: Literal["id", "name"] = "id"

    def to_dict(self) -> dict[str, object]:
        return {
            "date": self.on.isoformat(),
            "source": self.source,
            "lead_id": self.lead_id,
            "ref": self.ref,
            "match": self.match,
        }


@dataclass(frozen=True, slots=True)
class LeadFacts:
    """The lead's own attributes (API.md screen request, minus the location)."""

    case_type: str | None = None
    source_channel: str | None = None
    penalty_department: str | None = None
    received_on: date | None = None
    occurred_on: date | None = None
    damage_amount_yuan: float | None = None
    no_obvious_impact: bool = False
    # 第四十八条第（二）项 目 1–5: the criterion that supports "no obvious impact".
    no_obvious_impact_criterion: int | None = None
    obligor_id: str | None = None
    obligor_name: str | None = None
    # Established earlier damage by the same obligor: dates the caller supplies, and the
    # service's own records (leads whose check found damage, imported history) as PriorDamage.
    prior_damage_dates: Sequence[date] = ()
    prior_damage: Sequence[PriorDamage] = ()
    region_decides_start: bool = False
    national_impact: bool = False
    incident_grade: str | None = None  # general | larger | major | especially_major
    eco_destruction_grade: str | None = None
    central_inspection_important: bool = False
    nationally_supervised: bool = False
    major_impact: bool = False
    already_remediated: bool = False
    # 第十七条: appraisal/assessment periods (start, end inclusive) that pause the clock.
    appraisal_periods: Sequence[tuple[date, date]] = ()
    # Added for R8 deadlines that start from later steps (all optional):
    consultation_notice_served_on: date | None = None  # 磋商告知书送达之日 (第二十三、二十七条)
    supervision_started_on: date | None = None  # 重大案件督办开始之日 (第三十八条第一款)
    case_closed_on: date | None = None  # 案件办结之日 (第三十八条第三款)
