"""The leads map: every filtered lead on one map (case list page and /map), and the sensitive
layers it can show.

`/web/leads.geojson` takes the case list's own filters and answers compact GeoJSON: one point
per lead (where its marker and cluster go), a short title, its urgency band; a simplified
footprint only for areas and lines (for zoomed-in views). Coordinates are rounded to about a
metre; 10,000 leads are well under a few megabytes and draw clustered without stalling.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from shapely.geometry import mapping
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo_service.db.models import LayerSeries, Lead
from geo_service.deps import ServicesDep, SessionDep
from geo_service.layer_store import active_version_ids
from geo_service.web.pages import (
    LEAGUES,
    IndexDep,
    User,
    _urgency,
    basemap_of,
    list_query,
    render,
)
from maps.display import for_display
from maps.frames import to_display_frame

router = APIRouter(include_in_schema=False)

POINT_DECIMALS = 5  # about a metre
FOOTPRINT_TOLERANCE_DEG = 0.0005  # about 50 m: a footprint at the zoom it is drawn at
TITLE_CHARS = 40
SENSITIVE_SHOWN = ("red_line", "nature_reserve")
SENSITIVE_TOLERANCE_DEG = 0.003
_SENSITIVE_CACHE: dict[tuple[Any, ...], bytes] = {}


@router.get("/web/leads.geojson")
def leads_geojson(
    user: User,
    session: SessionDep,
    services: ServicesDep,
    league: Annotated[str | None, Query(pattern=r"^(\d{6})?$")] = None,
    status: Annotated[str | None, Query(pattern=r"^[a-z_]{0,30}$")] = None,
    due_before: Annotated[str | None, Query(max_length=10)] = None,
    major: Annotated[str | None, Query(max_length=5)] = None,
    override: Annotated[str | None, Query(max_length=5)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    work: Annotated[str | None, Query(pattern=r"^[a-z_0-9]{0,20}$")] = None,
    supervisor: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    frame = basemap_of(services).frame
    stmt = list_query(
        session, services.calendar, date.today(), league=league, status=status,
        due_before=due_before, major=major, override=override, q=q, supervisor=supervisor,
        work=work,
    ).with_only_columns(
        Lead.id, Lead.title, Lead.next_due, Lead.damage_geom
    ).where(Lead.damage_geom.is_not(None))
    today = date.today()
    feats = []
    for lead_id, title, next_due, geom in session.execute(stmt):
        if geom is None or geom.is_empty:
            continue
        geom = to_display_frame(geom, frame)
        p = geom if geom.geom_type == "Point" else geom.representative_point()
        props: dict[str, Any] = {"id": lead_id, "t": (title or "")[:TITLE_CHARS],
                                 "u": _urgency(next_due, today)}
        if geom.geom_type not in ("Point", "MultiPoint"):
            fp = for_display(geom, FOOTPRINT_TOLERANCE_DEG)
            if fp is not None:
                props["f"] = mapping(fp)
        feats.append({"type": "Feature", "properties": props, "geometry": {
            "type": "Point",
            "coordinates": [round(p.x, POINT_DECIMALS), round(p.y, POINT_DECIMALS)]}})
    body = json.dumps({"type": "FeatureCollection", "features": feats},
                      ensure_ascii=False, separators=(",", ":"))
    return Response(body.encode("utf-8"), media_type="application/geo+json")


@router.get("/web/sensitive.geojson")
def sensitive_geojson(
    user: User, session: SessionDep, index: IndexDep, services: ServicesDep
) -> Response:
    """The active red line and nature reserve layers, simplified, for the leads map's toggles."""
    frame = basemap_of(services).frame
    kinds = _series_kinds(session)
    ids = tuple(sorted((kinds[name], vid) for name, vid in active_version_ids(session).items()
                       if kinds.get(name) in SENSITIVE_SHOWN))
    key = (str(session.get_bind().engine.url), frame, *ids)  # never another database's layers
    body = _SENSITIVE_CACHE.get(key)
    if body is None:
        feats = []
        for kind, vid in ids:
            indexed = index.version(session, vid)
            if indexed is None:
                continue
            for f in indexed.data.features:
                g = for_display(f.geometry, SENSITIVE_TOLERANCE_DEG)
                if g is not None:
                    feats.append({"type": "Feature", "geometry": mapping(
                        to_display_frame(g, frame)),
                        "properties": {"kind": kind, "name": f.name or f.code or ""}})
        body = json.dumps({"type": "FeatureCollection", "features": feats},
                          ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        _SENSITIVE_CACHE.clear()
        _SENSITIVE_CACHE[key] = body
    return Response(body, media_type="application/geo+json",
                    headers={"Cache-Control": "private, max-age=300"})


def _series_kinds(session: Session) -> dict[str, str]:
    return dict(session.execute(select(LayerSeries.name, LayerSeries.kind)).all())


@router.get("/map", response_class=HTMLResponse)
def leads_map_page(request: Request, user: User) -> HTMLResponse:
    """All filtered leads on one map (the case list's filters, passed through)."""
    return render(request, "leads_map.html", {
        "query": request.url.query, "leagues": LEAGUES,
    }, user=user)
