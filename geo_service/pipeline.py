"""The screening pipeline: request → location → overlay → facts → decision (R1–R9).

The one place that turns a validated `ScreenRequest` into the rulebook's facts and back into the
API's decision. Stateless apart from reading the obligor's established earlier damage (filed
cases and imported historical cases) for the two-year rule (第十五条第五款第（二）项).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo_service.auth import Principal
from geo_service.db.models import Filing, HistoricalCase, Lead
from geo_service.errors import DomainError, FieldError, InvalidGeometry, InvalidInput, UnknownCRS
from geo_service.schemas import ScreenRequest
from geo_service.services import Services
from layers import SENSITIVE_KINDS
from layers.admin_names import resolve_admin_name
from layers.errors import GeometryError, LayerError, UnknownCRSError
from layers.location import LocationWarning, ParsedLocation, parse_location, parse_locations
from layers.overlay import OverlayEngine, OverlayResult
from layers.textloc import UnitLayers
from layers.textloc import request as textloc
from screening.facts import AreaHit, CoarseLocation, LeadFacts, NearbyHit, SpatialFacts


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
) -> SpatialFacts:
    """OverlayResult → the rulebook's SpatialFacts; sensitive kinds with no layer are `missing`."""
    missing = tuple(k for k in SENSITIVE_KINDS if k not in active_kinds)
    if result is None:
        return SpatialFacts(
            footprint_type=None,
            layer_versions=dict(layer_versions),
            precision_m=precision_m,
            coarse=coarse,
            missing_kinds=missing,
        )
    hits = {
        kind: tuple(
            AreaHit(
                kind=h.kind,
                layer=h.series,
                layer_version=h.version_id,
                feature_id=h.feature_id,
                code=h.code,
                name=h.name,
                share=h.share,
            )
            for h in kind_hits
        )
        for kind, kind_hits in result.hits.items()
    }
    return SpatialFacts(
        footprint_type=result.footprint_type,
        hits=hits,
        nearby=tuple(_near(n) for n in result.nearby),
        nearest_unit={kind: _near(n) for kind, n in result.nearest_unit.items()},
        boundary_distance_m=dict(result.boundary_distance_m),
        layer_versions=dict(result.layer_versions),
        precision_m=precision_m,
        missing_kinds=missing,
    )


def _near(n: Any) -> NearbyHit:
    return NearbyHit(
        kind=n.kind,
        layer=n.series,
        layer_version=n.version_id,
        feature_id=n.feature_id,
        code=n.code,
        name=n.name,
        distance_m=n.distance_m,
    )


def lead_facts(request: ScreenRequest, prior_dates: Iterable[date] = ()) -> LeadFacts:
    obligor = request.obligor
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
        obligor_id=obligor.id if obligor else None,
        obligor_name=obligor.name if obligor else None,
        prior_damage_dates=tuple(sorted(set(request.prior_damage_dates) | set(prior_dates))),
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


def established_damage_dates(
    session: Session, obligor_ids: Collection[str], *, exclude_lead_id: int | None = None
) -> dict[str, list[date]]:
    """Earlier established damage per obligor: filed cases (立案) and imported historical cases.

    A mere lead does not count (RULES.md R5 2.). The lead being re-screened is left out.
    """
    out: dict[str, list[date]] = defaultdict(list)
    ids = sorted({i for i in obligor_ids if i})
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        filed = select(Lead.obligor_id, Filing.damage_date).join(Filing, Filing.lead_id == Lead.id)
        filed = filed.where(
            Lead.obligor_id.in_(chunk), Filing.decision == "file", Filing.damage_date.is_not(None)
        )
        if exclude_lead_id is not None:
            filed = filed.where(Lead.id != exclude_lead_id)
        for obligor_id, d in session.execute(filed):
            if obligor_id is not None and d is not None:
                out[obligor_id].append(d)
        history = select(HistoricalCase.obligor_id, HistoricalCase.damage_date).where(
            HistoricalCase.obligor_id.in_(chunk)
        )
        for obligor_id, d in session.execute(history):
            out[obligor_id].append(d)
    return dict(out)


def _decide(services: Services, facts: LeadFacts, spatial: SpatialFacts) -> dict[str, Any]:
    from screening import decide

    return decide(facts, spatial, services.rules, services.calendar).to_dict()


def _finish(
    services: Services,
    request: ScreenRequest,
    located: Located,
    result: OverlayResult | None,
    engine: OverlayEngine,
    prior: Iterable[date],
) -> ScreenOutcome:
    spatial = spatial_facts(
        result,
        active_kinds=engine.active_kinds,
        layer_versions=engine.layer_versions,
        precision_m=located.precision_m,
        coarse=located.coarse,
    )
    facts = lead_facts(request, prior)
    decision = _decide(services, facts, spatial)
    extra = [w.to_dict() for w in located.warnings]
    decision["warnings"] = [*extra, *decision.get("warnings", [])]
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
    prior = list(extra_prior_dates)
    obligor_id = request.obligor.id if request.obligor else None
    if obligor_id:
        if session is None:
            with services.sessions() as own:
                found = established_damage_dates(own, [obligor_id], exclude_lead_id=exclude_lead_id)
        else:
            found = established_damage_dates(session, [obligor_id], exclude_lead_id=exclude_lead_id)
        prior.extend(found.get(obligor_id, ()))
    return _finish(services, request, located, result, engine, prior)


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
    for i, item in enumerate(requests):
        if isinstance(item, DomainError):
            continue
        try:
            located[i] = locate(item, services, parsed.get(i))
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
    obligors = {
        r.obligor.id
        for i, r in enumerate(requests)
        if i in located and isinstance(r, ScreenRequest) and r.obligor and r.obligor.id
    }
    prior: dict[str, list[date]] = {}
    if obligors:
        with services.sessions() as session:
            prior = established_damage_dates(session, obligors)
    for i, loc in located.items():
        request = requests[i]
        assert isinstance(request, ScreenRequest)
        obligor_id = request.obligor.id if request.obligor else None
        out[i] = _finish(
            services, request, loc, results.get(i), engine, prior.get(obligor_id or "", ())
        )
    return out
