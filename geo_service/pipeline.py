"""The screening pipeline: request → location → overlay → facts → decision (R1–R9).

The one place that turns a validated `ScreenRequest` into the rulebook's facts and back into the
API's decision. Stateless apart from reading the obligor's established earlier damage (leads
whose check found damage, and imported historical cases) for the two-year rule
(第十五条第五款第（二）项, docs/rules.md §R5.2; geo_service.history.earlier_damage).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from geo_service.auth import Principal
from geo_service.errors import DomainError, FieldError, InvalidGeometry, InvalidInput, UnknownCRS
from geo_service.history import earlier_damage, obligor_priors
from geo_service.schemas import ScreenRequest
from geo_service.services import Services
from layers import SENSITIVE_KINDS
from layers.admin_names import resolve_admin_name
from layers.errors import GeometryError, LayerError, UnknownCRSError
from layers.location import LocationWarning, ParsedLocation, parse_location, parse_locations
from layers.overlay import OverlayEngine, OverlayResult
from layers.textloc import UnitLayers
from layers.textloc import request as textloc
from screening.facts import (
    AreaHit,
    CoarseLocation,
    LeadFacts,
    NearbyHit,
    PriorDamage,
    SpatialFacts,
)
from screening.obligor import normalise_obligor_name
from screening.record import DecisionRecord


@dataclass(frozen=True, slots=True)
class Located:
    """Where the lead is, in EPSG:4490, and what was done to get there."""

    geometry: BaseGeometry | None
    coarse: CoarseLocation | None
    act_geometry: BaseGeometry | None
    precision_m: float | None
    crs: str | None
    conversion: str | None
    warnings: tuple[LocationWarning, ...] = ()
    resolution: dict[str, Any] | None = None  # `location_resolution` (how it was located)

    def summary(self) -> dict[str, Any]:
        """The `location` block of a screen response: what the service understood."""
        out: dict[str, Any] = {
            "input_crs": self.crs,
            "conversion": self.conversion,
            "precision_m": self.precision_m,
            "geometry": mapping(self.geometry) if self.geometry is not None else None,
            "act_geometry": mapping(self.act_geometry) if self.act_geometry is not None else None,
        }
        if self.coarse is not None:
            c = self.coarse
            out["admin"] = {
                "code": c.code,
                "name": c.name,
                "level": c.level,
                "league_code": c.league_code,
                "league_name": c.league_name,
            }
        return out


@dataclass
class ScreenOutcome:
    decision: dict[str, Any]  # the API's decision (Decision.to_dict() plus location warnings)
    facts: LeadFacts
    spatial: SpatialFacts
    geometry: BaseGeometry | None
    act_geometry: BaseGeometry | None
    warnings: list[dict[str, str]] = field(default_factory=list)
    located: Located | None = None

    @property
    def decision_dict(self) -> dict[str, Any]:
        return self.decision

    @property
    def record(self) -> DecisionRecord:
        """The decision, typed (screening.record): what storage, pages and maps read."""
        return DecisionRecord.load(self.decision)

    def response(self) -> dict[str, Any]:
        """The body of `POST /screen`: the decision plus the understood location."""
        body = dict(self.decision)
        if self.located is not None:
            body["location"] = self.located.summary()
        return body


def domain_error(exc: LayerError, default_field: str = "location") -> DomainError:
    """A geometry-layer error as the API's problem (naming the field)."""
    errors = [FieldError(exc.field or default_field, exc.message)]
    if isinstance(exc, UnknownCRSError):
        return UnknownCRS(exc.message, errors)
    if isinstance(exc, GeometryError):
        return InvalidGeometry(exc.message, errors)
    return InvalidInput(exc.message, errors)


def locate(
    request: ScreenRequest, services: Services, parsed: ParsedLocation | LayerError | None = None
) -> Located:
    """Parse, validate and convert the request's location (and act location); DomainError.

    `parsed`: the main location already parsed (batch screening parses them together).
    """
    loc = request.location
    max_vertices = services.settings.max_vertices
    try:
        act = None
        act_warnings: tuple[LocationWarning, ...] = ()
        if request.act_location is not None:
            parsed_act = parse_location(
                request.act_location.geometry,
                request.act_location.crs,
                field="act_location",
                max_vertices=max_vertices,
            )
            act = parsed_act.geometry
            act_warnings = tuple(
                LocationWarning(w.code, "行为发生地：" + w.message) for w in parsed_act.warnings
            )
        if loc.admin_name:
            # The rulebook says what a coarse location can and cannot decide (R1).
            coarse = resolve_admin_name(loc.admin_name, "location.admin_name")
            resolution = textloc.admin_resolution(coarse, loc.admin_name)
            return Located(None, coarse, act, loc.precision_m, None, None, act_warnings, resolution)
        text_crs = loc.crs if "crs" in loc.model_fields_set else None
        if loc.text and loc.geometry is None:
            units = UnitLayers.from_engine(services.overlay)
            found = textloc.resolve_text(loc.text, text_crs, units)
            return Located(
                found.geometry,
                found.coarse,
                act,
                loc.precision_m or found.precision_m,
                found.crs,
                found.conversion,
                (*found.warnings, *act_warnings),
                found.resolution,
            )
        if parsed is None:
            parsed = parse_location(
                loc.geometry, loc.crs, field="location", max_vertices=max_vertices
            )
        if isinstance(parsed, LayerError):
            raise parsed
        resolution = textloc.geometry_resolution(loc.precision_m)
        if loc.text:
            units = UnitLayers.from_engine(services.overlay)
            resolution = textloc.beside_geometry(loc.text, text_crs, units, parsed.geometry)
    except LayerError as exc:
        raise domain_error(exc) from None
    return Located(
        parsed.geometry,
        None,
        act,
        loc.precision_m,
        parsed.crs,
        parsed.conversion,
        (*parsed.warnings, *act_warnings),
        resolution,
    )


def spatial_facts(
    result: OverlayResult | None,
    *,
    active_kinds: Collection[str],
    layer_versions: Mapping[str, int],
    precision_m: float | None,
    coarse: CoarseLocation | None = None,
    geometry: BaseGeometry | None = None,
    act_result: OverlayResult | None = None,
) -> SpatialFacts:
    """OverlayResult → the rulebook's SpatialFacts; sensitive kinds with no layer are `missing`.

    `act_result`: the act location's overlay (第六条's 行为 clause, docs/rules.md §R4.2)."""
    missing = _missing_kinds(frozenset(active_kinds))
    if result is None:
        return SpatialFacts(
            footprint_type=None,
            layer_versions=dict(layer_versions),
            precision_m=precision_m,
            coarse=coarse,
            missing_kinds=missing,
        )
    hits = _area_hits(result)
    act_hits = _area_hits(act_result) if act_result is not None else {}
    return SpatialFacts(
        footprint_type=result.footprint_type,
        hits=hits,
        nearby=tuple(_near(n) for n in result.nearby),
        nearest_unit={kind: _near(n) for kind, n in result.nearest_unit.items()},
        boundary_distance_m=dict(result.boundary_distance_m),
        layer_versions=dict(result.layer_versions),
        precision_m=precision_m,
        missing_kinds=missing,
        footprint_measure=result.footprint_measure,
        bbox=geometry.bounds if geometry is not None else None,
        act_hits={k: v for k, v in act_hits.items() if k in SENSITIVE_KINDS},
    )


@lru_cache(maxsize=64)
def _missing_kinds(active_kinds: frozenset[str]) -> tuple[str, ...]:
    return tuple(k for k in SENSITIVE_KINDS if k not in active_kinds)


def _area_hits(result: OverlayResult) -> dict[str, tuple[AreaHit, ...]]:
    # Positional: the overlay's Hit and AreaHit list the same fields in the same order.
    return {
        kind: tuple(
            [
                AreaHit(h.kind, h.series, h.version_id, h.feature_id, h.code, h.name, h.share)
                for h in kind_hits
            ]
        )
        if kind_hits
        else ()
        for kind, kind_hits in result.hits.items()
    }


def _near(n: Any) -> NearbyHit:
    # Positional: the overlay's Near and NearbyHit list the same fields in the same order.
    return NearbyHit(n.kind, n.series, n.version_id, n.feature_id, n.code, n.name, n.distance_m)


def lead_facts(request: ScreenRequest, prior: Iterable[PriorDamage | date] = ()) -> LeadFacts:
    obligor = request.obligor
    records = [p if isinstance(p, PriorDamage) else PriorDamage(p) for p in prior]
    return LeadFacts(
        case_type=request.case_type.value if request.case_type else None,
        source_channel=request.source_channel.value if request.source_channel else None,
        penalty_department=(
            request.penalty_department.value if request.penalty_department else None
        ),
        received_on=request.received_on,
        occurred_on=request.occurred_on,
        damage_amount_yuan=request.damage_amount_yuan,
        no_obvious_impact=request.no_obvious_impact,
        no_obvious_impact_criterion=request.no_obvious_impact_criterion,
        obligor_id=obligor.id if obligor else None,
        obligor_name=obligor.name if obligor else None,
        prior_damage_dates=tuple(sorted(set(request.prior_damage_dates))),
        prior_damage=tuple(records),
        region_decides_start=request.region_decides_start,
        national_impact=request.national_impact,
        incident_grade=request.incident_grade.value if request.incident_grade else None,
        eco_destruction_grade=(
            request.eco_destruction_grade.value if request.eco_destruction_grade else None
        ),
        central_inspection_important=request.central_inspection_important,
        nationally_supervised=request.nationally_supervised,
        major_impact=request.major_impact,
        already_remediated=request.already_remediated,
        appraisal_periods=tuple((p.start, p.end) for p in request.appraisal_periods),
    )


def obligor_key(request: ScreenRequest) -> tuple[str | None, str | None]:
    """(identifier, normalised name) of the request's obligor; the name only matters without id."""
    obligor = request.obligor
    if obligor is None:
        return None, None
    return obligor.id, (None if obligor.id else normalise_obligor_name(obligor.name))


def prior_damage(
    session: Session, requests: Iterable[ScreenRequest], *, exclude_lead_id: int | None = None
) -> dict[str, list[PriorDamage]]:
    """The service's own records of the obligors' established earlier damage."""
    keys = [obligor_key(r) for r in requests]
    ids = {i for i, _ in keys if i}
    names = {n for _, n in keys if n}
    if not ids and not names:
        return {}
    return earlier_damage(session, ids, names, exclude_lead_id=exclude_lead_id)


HISTORY_UNAVAILABLE = (
    "数据库暂时无法访问，未能查询该赔偿义务人已认定的生态环境损害（第十五条第五款第（二）项，"
    "两年内再次造成损害的不适用显著轻微情形）；显著轻微等结论须待数据库恢复后重新筛查核实。"
)


def prior_damage_if_reachable(
    services: Services, requests: Iterable[ScreenRequest], exclude_lead_id: int | None = None
) -> dict[str, list[PriorDamage]] | None:
    """`prior_damage` in a session of its own; None when the database is down (stateless
    screening still answers, flagged by `flag_history_unavailable`)."""
    from sqlalchemy.exc import SQLAlchemyError

    from geo_service.errors import database_unavailable

    try:
        with services.sessions() as session:
            return prior_damage(session, requests, exclude_lead_id=exclude_lead_id)
    except SQLAlchemyError as exc:
        if not database_unavailable(exc):
            raise
        return None


def flag_history_unavailable(outcome: ScreenOutcome) -> None:
    """Never a silent answer: say the two-year history was not checked, and ask to verify."""
    outcome.decision["warnings"] = [
        *outcome.decision["warnings"],
        {"code": "obligor_history_unavailable", "message": HISTORY_UNAVAILABLE},
    ]
    outcome.decision["needs_verification"] = True


def _decide(services: Services, facts: LeadFacts, spatial: SpatialFacts) -> dict[str, Any]:
    from screening import decide

    return decide(facts, spatial, services.rules, services.calendar).to_dict()


def _finish(
    services: Services,
    request: ScreenRequest,
    located: Located,
    result: OverlayResult | None,
    engine: OverlayEngine,
    prior: Iterable[PriorDamage | date],
) -> ScreenOutcome:
    act_result = None
    if located.act_geometry is not None and located.geometry is not None:
        act_result = engine.overlay(located.act_geometry, **_search_radii(services, [located]))
    spatial = spatial_facts(
        result,
        active_kinds=engine.active_kinds,
        layer_versions=engine.layer_versions,
        precision_m=located.precision_m,
        coarse=located.coarse,
        geometry=located.geometry,
        act_result=act_result,
    )
    facts = lead_facts(request, prior)
    decision = _decide(services, facts, spatial)
    extra = [w.to_dict() for w in located.warnings]
    decision["warnings"] = [*extra, *decision["warnings"]]
    if located.resolution is not None:
        decision["location_resolution"] = located.resolution
    return ScreenOutcome(
        decision=decision,
        facts=facts,
        spatial=spatial,
        geometry=located.geometry,
        act_geometry=located.act_geometry,
        warnings=extra,
        located=located,
    )


def _search_radii(services: Services, located: Sequence[Located]) -> dict[str, float]:
    """How far the overlay looks: the rulebook's nearby radius, and boundary distances only as
    far as the near-boundary rule can use them (R2: the buffer, or the precision if larger)."""
    rules = services.rules
    precision = max((loc.precision_m or 0.0 for loc in located), default=0.0)
    return {
        "nearby_radius_m": rules.nearby_radius_m,
        "boundary_search_m": max(rules.boundary_buffer_m, precision),
    }


def screen(
    services: Services,
    request: ScreenRequest,
    principal: Principal | None,
    *,
    engine: OverlayEngine | None = None,
    extra_prior_dates: Iterable[date] = (),
    exclude_lead_id: int | None = None,
    session: Session | None = None,
) -> ScreenOutcome:
    """Screen one validated request. Raises DomainError (problem+json) on bad locations."""
    engine = engine or services.overlay
    located = locate(request, services)
    result = None
    if located.geometry is not None:
        result = engine.overlay(located.geometry, **_search_radii(services, [located]))
    prior: list[PriorDamage | date] = list(extra_prior_dates)
    obligor_id, name_key = obligor_key(request)
    history_missing = False
    if obligor_id or name_key:
        if session is None:
            found = prior_damage_if_reachable(services, [request], exclude_lead_id)
            history_missing = found is None
        else:
            found = prior_damage(session, [request], exclude_lead_id=exclude_lead_id)
        prior.extend(obligor_priors(found or {}, obligor_id, name_key))
    outcome = _finish(services, request, located, result, engine, prior)
    if history_missing:
        flag_history_unavailable(outcome)
    return outcome


_PENDING = DomainError("not screened")  # placeholder; every slot is replaced below


def screen_many(
    services: Services,
    requests: Sequence[ScreenRequest | DomainError],
    principal: Principal | None,
    *,
    engine: OverlayEngine | None = None,
) -> list[ScreenOutcome | DomainError]:
    """Screen a batch: one overlay pass for all geometries, one query for all obligors.

    An item that is already a DomainError (it failed validation) stays in its slot; an item
    whose location is bad becomes one. The others are unaffected.
    """
    engine = engine or services.overlay
    out: list[ScreenOutcome | DomainError] = [
        r if isinstance(r, DomainError) else _PENDING for r in requests
    ]
    located: dict[int, Located] = {}
    geometric = [
        i
        for i, r in enumerate(requests)
        if isinstance(r, ScreenRequest) and r.location.geometry is not None
    ]
    parsed = dict(
        zip(
            geometric,
            parse_locations(
                [
                    (r.location.geometry, r.location.crs, "location")
                    for r in (requests[i] for i in geometric)
                    if isinstance(r, ScreenRequest)
                ],
                max_vertices=services.settings.max_vertices,
            ),
            strict=True,
        )
    )
    max_extent = services.settings.batch_max_item_extent_deg2
    for i, item in enumerate(requests):
        if isinstance(item, DomainError):
            continue
        try:
            located[i] = too_wide_for_batch(locate(item, services, parsed.get(i)), max_extent)
        except DomainError as exc:
            out[i] = exc
    with_geometry = [i for i, loc in located.items() if loc.geometry is not None]
    results: dict[int, OverlayResult] = {}
    if with_geometry:
        overlays = engine.overlay_many(
            [g for g in (located[i].geometry for i in with_geometry) if g is not None],
            **_search_radii(services, [located[i] for i in with_geometry]),
        )
        results = dict(zip(with_geometry, overlays, strict=True))
    with_obligor = [
        r
        for i, r in enumerate(requests)
        if i in located and isinstance(r, ScreenRequest) and r.obligor is not None
    ]
    prior: dict[str, list[PriorDamage]] | None = {}
    if with_obligor:
        prior = prior_damage_if_reachable(services, with_obligor)
    for i, loc in located.items():
        request = requests[i]
        assert isinstance(request, ScreenRequest)
        keys = obligor_key(request)
        outcome = _finish(
            services, request, loc, results.get(i), engine, obligor_priors(prior or {}, *keys)
        )
        if prior is None and any(keys):
            flag_history_unavailable(outcome)
        out[i] = outcome
    return out


def too_wide_for_batch(located: Located, max_extent_deg2: float) -> Located:
    """Batch cost budget per item: a damage area whose bounding box spans more than
    `max_extent_deg2` square degrees (GEO_SCREEN_BATCH_MAX_ITEM_EXTENT_DEG2) would be overlaid
    with every boundary of the region; refused in its slot before any overlay work."""
    if located.geometry is None:
        return located
    minx, miny, maxx, maxy = located.geometry.bounds
    extent = (maxx - minx) * (maxy - miny)
    if extent > max_extent_deg2:
        message = (
            f"损害范围的外包矩形约 {extent:,.0f} 平方度，超过批量筛查的单项上限 "
            f"{max_extent_deg2:,.0f} 平方度（设置项 GEO_SCREEN_BATCH_MAX_ITEM_EXTENT_DEG2）；"
            "请核对坐标，或将该项单独提交 POST /api/v1/screen。"
        )
        raise InvalidGeometry(message, [FieldError("location.geometry", message)])
    return located
