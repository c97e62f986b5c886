"""Browser pages (Chinese): case list, case page and map, screening, layers, printable opinion.

Server-rendered with Jinja2 (autoescaped) from the database; forms post to the JSON API with
`fetch`. No inline page script: data reaches scripts as JSON in `<script type="application/json">`
and every page is served with a Content-Security-Policy that allows this origin only.
"""

from __future__ import annotations

import secrets
import unicodedata
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from shapely.geometry import mapping
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, selectinload

from geo_service.auth import (
    DECIDE,
    MANAGE_LAYERS,
    ROLE_NAMES_ZH,
    SCREEN,
    OptionalPrincipal,
    Principal,
)
from geo_service.case_area import analysis_subject, case_area
from geo_service.db.models import DecisionRow, LayerSeries, Lead
from geo_service.deps import ServicesDep, SessionDep
from geo_service.errors import FieldError, InvalidInput, NotFound
from geo_service.events import (
    WORK_LISTS,
    course_view,
    course_work_lists,
    supervised_by,
    work_list_filter,
)
from geo_service.layer_store import active_version_ids
from geo_service.leads import STATUSES as LEAD_STATUSES
from geo_service.leads import case_map_html, current_record, filtered_leads
from geo_service.schemas import DB_ID_MAX, FILING_GROUND_TEXT, text_problem
from geo_service.web import session as web_session
from geo_service.web.explain import explain, other_warnings
from geo_service.web.features import DisplayIndex
from maps import BasemapConfig
from maps.case_map import add_script_nonce
from maps.display import for_display
from maps.frames import to_display_frame
from maps.labels import DEADLINE_NAMES, KIND_NAMES, LEVEL_NAMES, league_display
from screening.course import EVENT_TEXT, FAILED_ITEMS, item_citation
from screening.record import DecisionRecord

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")

LEAGUES = {
    "150100": "呼和浩特市", "150200": "包头市", "150300": "乌海市", "150400": "赤峰市",
    "150500": "通辽市", "150600": "鄂尔多斯市", "150700": "呼伦贝尔市", "150800": "巴彦淖尔市",
    "150900": "乌兰察布市", "152200": "兴安盟", "152500": "锡林郭勒盟", "152900": "阿拉善盟",
}
STATUS_NAMES = LEAD_STATUSES
FILING_NAMES = {"file": "立案", "not_file": "不启动索赔程序", "terminate": "终止索赔程序"}
# 第十五条第二款第（一）至（六）项
FILING_GROUNDS = [(g.value, f"{text}（{cite}）") for g, (cite, text) in FILING_GROUND_TEXT.items()]
FILING_GROUND_NAMES = {g.value: text for g, (_, text) in FILING_GROUND_TEXT.items()}
CRS_CHOICES = [
    ("EPSG:4490", "CGCS2000 经纬度（EPSG:4490）"),
    ("EPSG:4326", "WGS84 经纬度（GPS，EPSG:4326）"),
    ("GCJ02", "GCJ-02（高德、腾讯、微信位置）"),
    ("BD09", "BD-09（百度地图）"),
    *[(f"EPSG:{4513 + z - 25}",
       f"CGCS2000 3度带高斯-克吕格 第{z}带（带号前缀，EPSG:{4513 + z - 25}）")
      for z in range(33, 43)],
    *[(f"EPSG:{4534 + z - 25}", f"CGCS2000 3度带高斯-克吕格 中央经线{z * 3}°（无带号，"
       f"EPSG:{4534 + z - 25}）") for z in range(33, 43)],
]

router = APIRouter(include_in_schema=False)


class PageNotFound(NotFound):
    """A missing case or layer asked for by a page: answered with an HTML page, not JSON."""


class LoginRequired(Exception):
    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def page_user(request: Request, principal: OptionalPrincipal) -> Principal:
    """Pages: the caller, or a redirect to the login page (never a JSON 401)."""
    if principal is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return principal


User = Annotated[Principal, Depends(page_user)]


def _display_index(request: Request) -> DisplayIndex:
    index: DisplayIndex = request.app.state.display_index
    return index


IndexDep = Annotated[DisplayIndex, Depends(_display_index)]


def basemap_of(services: Any) -> BasemapConfig:
    s = services.settings
    return BasemapConfig.from_setting(s.basemap, token=s.tianditu_token, frame=s.basemap_frame)


def csp(basemap: BasemapConfig, script_nonce: str | None = None) -> str:
    """This origin only (plus the configured tile host for images); the case map's inline
    scripts run by their per-response nonce, never by 'unsafe-inline'."""
    img = "'self' data:"
    url = basemap.tile_url
    if url:
        scheme, _, rest = url.partition("://")
        host = rest.split("/", 1)[0].replace("{s}", "*")
        img += f" {scheme}://{host}"
    script = f"'self' 'nonce-{script_nonce}'" if script_nonce else "'self'"
    return (
        f"default-src 'self'; img-src {img}; style-src 'self' 'unsafe-inline'; "
        f"script-src {script}; connect-src 'self'; font-src 'self'; frame-ancestors 'self'; "
        "base-uri 'self'; form-action 'self'"
    )


def render(
    request: Request, name: str, context: dict[str, Any], *, user: Principal | None,
    status_code: int = 200,
) -> HTMLResponse:
    services = request.app.state.services
    ctx = {"user": user, "role_name": ROLE_NAMES_ZH.get(user.role, user.role) if user else None,
           "can_screen": bool(user and user.role in (*SCREEN, "admin")),
           "can_decide": bool(user and user.role in (*DECIDE, "admin")),
           "can_manage_layers": bool(user and user.role in (*MANAGE_LAYERS, "admin")),
           "path": request.url.path, **context}
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    response.headers["Content-Security-Policy"] = csp(basemap_of(services))
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


# Urgency bands of the next deadline, in days from today (upper bounds, inclusive).
URGENCY_BANDS = (("overdue", -1), ("urgent", 7), ("soon", 15))
PAGE_SIZE = 100


def _urgency(due: date | None, today: date) -> str:
    if due is None:
        return "none"
    days = (due - today).days
    return next((band for band, upto in URGENCY_BANDS if days <= upto), "normal")


def _urgency_counts(session: Session, stmt: Any, today: date) -> dict[str, int]:
    """How many of ALL the filtered leads fall in each band (not just the page shown)."""
    due = stmt.subquery().c.next_due
    cases, lower = [], None
    for band, upto in URGENCY_BANDS:
        upper = today + timedelta(days=upto)
        cond = due <= upper if lower is None else and_(due > lower, due <= upper)
        cases.append(func.sum(case((cond, 1), else_=0)).label(band))
        lower = upper
    cases.append(func.sum(case((due > lower, 1), else_=0)).label("normal"))
    cases.append(func.sum(case((due.is_(None), 1), else_=0)).label("none"))
    row = session.execute(select(*cases)).one()
    return {k: int(v or 0) for k, v in row._mapping.items()}


def _parse_date(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        from geo_service.errors import FieldError, InvalidInput

        raise InvalidInput(f"{field} 应为日期，格式 YYYY-MM-DD，例如 2026-12-01",
                           [FieldError(field, f"“{value}”不是有效日期")]) from None


def _bool_filter(value: str | None) -> bool | None:
    return {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}.get(
        (value or "").lower()
    )


def list_query(
    session: Session, calendar: Any, today: date, *, league: str | None = None,
    status: str | None = None, due_before: str | None = None, major: str | None = None,
    override: str | None = None, q: str | None = None, supervisor: str | None = None,
    work: str | None = None,
) -> Any:
    """The case list's filters, one definition for the list page and the leads map."""
    if q and (problem := text_problem(q)):
        raise InvalidInput(f"标题关键词{problem}", [FieldError("q", problem)])
    due = _parse_date(due_before, "due_before")
    stmt = filtered_leads(
        league=league, status=status, major=_bool_filter(major), override=_bool_filter(override)
    )
    if due:
        stmt = stmt.where(Lead.next_due <= due)
    if q:
        stmt = stmt.where(Lead.title.contains(q))
    if supervisor:
        stmt = stmt.where(Lead.id.in_(supervised_by(session, stmt, calendar, supervisor) or [-1]))
    if work:
        stmt = work_list_filter(stmt, work, course_work_lists(session, stmt, calendar, today),
                                today)
    return stmt


@router.get("/", response_class=HTMLResponse)
def lead_list(
    request: Request,
    user: User,
    session: SessionDep,
    league: Annotated[str | None, Query(pattern=r"^(\d{6})?$")] = None,
    status: Annotated[str | None, Query(pattern=r"^[a-z_]{0,30}$")] = None,
    due_before: Annotated[str | None, Query(max_length=10)] = None,
    major: Annotated[str | None, Query(max_length=5)] = None,
    override: Annotated[str | None, Query(max_length=5)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    work: Annotated[str | None, Query(pattern=r"^[a-z_0-9]{0,20}$")] = None,
    supervisor: Annotated[str | None, Query(max_length=100)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    today = date.today()
    calendar = request.app.state.services.calendar
    base_stmt = list_query(session, calendar, today, league=league, status=status,
                           due_before=due_before, major=major, override=override, q=q,
                           supervisor=supervisor)
    work_ids = course_work_lists(session, base_stmt, calendar, today)
    base = _urgency_counts(session, base_stmt, today)
    work_counts = {"overdue": base["overdue"], "due7": base["urgent"],
                   "due15": base["urgent"] + base["soon"],
                   **{k: len(v) for k, v in work_ids.items()}}
    stmt = work_list_filter(base_stmt, work, work_ids, today)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    counts = _urgency_counts(session, stmt, today)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(page, pages)
    leads = session.scalars(
        stmt.order_by(Lead.next_due.is_(None), Lead.next_due, Lead.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    rows = []
    for lead in leads:
        u = _urgency(lead.next_due, today)
        rows.append({
            "lead": lead, "urgency": u,
            "days_left": (lead.next_due - today).days if lead.next_due else None,
            "league": league_display(lead.league_code),
            "status": STATUS_NAMES.get(lead.status, lead.status),
        })
    statuses = sorted(s for s in session.scalars(select(Lead.status).distinct()) if s)
    return render(request, "leads.html", {
        "rows": rows, "total": total, "shown": len(rows), "counts": counts,
        "page": page, "pages": pages, "page_size": PAGE_SIZE,
        "leagues": LEAGUES, "statuses": [(s, STATUS_NAMES.get(s, s)) for s in statuses],
        "f": {"league": league or "", "status": status or "", "due_before": due_before or "",
              "major": major or "", "override": override or "", "q": q or ""},
        "today": today, "work": work or "", "work_lists": WORK_LISTS,
        "supervisor": supervisor or "",
        "work_counts": work_counts,
    }, user=user)


def _load_lead(session: Session, lead_id: int) -> Lead:
    if not 1 <= lead_id <= DB_ID_MAX:  # no such row; and beyond what the database can compare
        raise PageNotFound(f"案件线索 {lead_id} 不存在")
    lead = session.scalars(
        select(Lead).where(Lead.id == lead_id)
        .options(selectinload(Lead.decisions), selectinload(Lead.filings))
    ).one_or_none()
    if lead is None:
        raise PageNotFound(f"案件线索 {lead_id} 不存在")
    return lead


def _decision_brief(row: DecisionRow) -> dict[str, Any]:
    r = DecisionRecord.load(row.result)
    j = r.jurisdiction
    return {
        "row": row,
        "holder": (j.rights_holder.name if j.rights_holder else None)
        or {"out_of_region": "不属本区", "unresolved": "待人工指定"}.get(str(j.status), "—"),
        "level": LEVEL_NAMES.get(j.level or "", ""),
        "claim_required": r.minor.claim_required,
        "major": r.major_case.is_major,
        "layer_versions": ", ".join(f"{k}:{v}" for k, v in (row.layer_versions or {}).items()),
    }


@router.get("/leads/{lead_id}", response_class=HTMLResponse)
def lead_page(
    request: Request, lead_id: int, user: User, session: SessionDep, services: ServicesDep
) -> HTMLResponse:
    lead = _load_lead(session, lead_id)
    current = lead.decisions[-1] if lead.decisions else None
    decision = current_record(lead)
    area = case_area(services.overlay, lead, decision)
    sections = explain(decision)
    today = date.today()
    deadlines = [
        {**d.model_dump(), "label": DEADLINE_NAMES.get(d.name or "", d.name or ""),
         "urgency": _urgency(d.due_date, today)}
        for d in (decision.deadlines if decision else ())
    ]
    return render(request, "lead.html", {
        "lead": lead, "decision": decision, "current": current, "sections": sections,
        "other_warnings": other_warnings(decision, sections),
        "deadlines": deadlines,
        "history": [_decision_brief(r) for r in reversed(lead.decisions)],
        "filings": lead.filings, "filing_names": FILING_NAMES, "grounds": FILING_GROUNDS,
        "ground_names": FILING_GROUND_NAMES,
        "status": STATUS_NAMES.get(lead.status, lead.status),
        "league": league_display(lead.league_code),
        "has_geometry": area.drawable, "map_missing": area.missing,
        "lead_json": {"id": lead.id},
        "located_text": located_text(lead, decision),
        **_course_context(request, lead, today),
    }, user=user)


LOCATION_METHODS = {
    "coordinates_in_text": "按线索文字中的坐标定位",
    "address": "按线索文字中的地址定位",
    "admin_name": "按行政区名称定位",
    "geometry": "按提交的图形定位",
}


def located_text(lead: Lead, decision: DecisionRecord | None) -> dict[str, Any] | None:
    """The lead text the location was read from, split around the words used (highlighted on
    the case page), with how and to what it was resolved."""
    location = (lead.request or {}).get("location") or {}
    text = location.get("text") if isinstance(location, dict) else None
    if not text:
        return None
    resolution = decision.location_resolution if decision else None
    matched = (resolution.matched if resolution else None) or ""
    at = text.find(matched) if matched else -1
    if at < 0 and matched:  # the locator reads NFKC text: full-width digits, punctuation
        normalised = unicodedata.normalize("NFKC", text)
        if len(normalised) == len(text):
            at = normalised.find(matched)
    parts = (text, "", "") if at < 0 else (
        text[:at], text[at:at + len(matched)], text[at + len(matched):]
    )
    unit = resolution.unit if resolution else None
    return {
        "before": parts[0], "match": parts[1], "after": parts[2],
        "method": LOCATION_METHODS.get(resolution.method or "", "") if resolution else "",
        "unit": f"{unit.name}（{unit.code}）" if unit and unit.name else "",
        "unresolved": "、".join(resolution.unresolved_parts) if resolution else "",
    }


def _course_context(request: Request, lead: Lead, today: date) -> dict[str, Any]:
    """The course after filing (issue 11) for the case page's `_course.html`."""
    course = course_view(lead, request.app.state.services.calendar, today)
    deadlines = [
        {**d, "urgency": _urgency(
            date.fromisoformat(d["due"]) if d["due"] and not d["done_on"] else None, today)}
        for d in course["course_deadlines"]
    ]
    return {"course": {**course, "deadlines": deadlines}, "event_names": EVENT_TEXT,
            "failed_items": FAILED_ITEMS,
            "item_citations": {n: item_citation(n) for n in FAILED_ITEMS}}


@router.get("/leads/{lead_id}/map", response_class=HTMLResponse)
def lead_map(
    request: Request, lead_id: int, user: User, session: SessionDep, services: ServicesDep,
    index: IndexDep, embed: Annotated[bool, Query()] = False,
) -> HTMLResponse:
    """The case map alone; `embed=1` (the case page's frame) folds the decision panel. A lead
    with no damage geometry shows the unit it was located to."""
    lead = _load_lead(session, lead_id)
    html = case_map_html(services, session, lead, index, "/static", summary_open=not embed)
    if html is None:
        raise PageNotFound(case_area(services.overlay, lead, current_record(lead)).missing or "")
    basemap = basemap_of(services)
    nonce = secrets.token_urlsafe(18)
    return HTMLResponse(add_script_nonce(html, nonce), headers={
        "Content-Security-Policy": csp(basemap, script_nonce=nonce),
        "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
    })


@router.get("/leads/{lead_id}/opinion", response_class=HTMLResponse)
def lead_opinion(
    request: Request, lead_id: int, user: User, session: SessionDep, services: ServicesDep
) -> HTMLResponse:
    lead = _load_lead(session, lead_id)
    current = lead.decisions[-1] if lead.decisions else None
    decision = current_record(lead)
    area = case_area(services.overlay, lead, decision)
    sections = explain(decision)
    return render(request, "opinion.html", {
        "lead": lead, "current": current, "decision": decision, "sections": sections,
        "other_warnings": other_warnings(decision, sections), "today": date.today(),
        "league": league_display(lead.league_code),
        "filings": lead.filings, "filing_names": FILING_NAMES,
        "has_geometry": area.drawable, "map_missing": area.missing,
        "analysis_subject": analysis_subject(lead, decision),
    }, user=user)


@router.get("/screen", response_class=HTMLResponse)
def screen_page(request: Request, user: User, services: ServicesDep) -> HTMLResponse:
    basemap = basemap_of(services)
    config = {
        "frame": basemap.frame, "tile_url": basemap.tile_url, "label_url": basemap.label_url,
        "attribution": basemap.attribution, "can_screen": user.role in (*SCREEN, "admin"),
    }
    return render(request, "screen.html", {"crs_choices": CRS_CHOICES, "config": config},
                  user=user)


@router.post("/web/explain", response_class=HTMLResponse)
def explain_fragment(
    request: Request, user: User, decision: Annotated[dict[str, Any], Body()]
) -> HTMLResponse:
    """The article-by-article explanation of a screen response, as an HTML fragment (/screen)."""
    try:
        record = DecisionRecord.load(decision)
        sections = explain(record)
    except (AttributeError, KeyError, TypeError, ValueError):
        # The page posts back what /api/v1/screen answered; anything else is not a decision.
        raise InvalidInput(
            "提交的内容不是本服务的筛查结论，无法逐条说明。",
            [FieldError("body", "请提交 /api/v1/screen 返回的筛查结论 JSON。")],
        ) from None
    return render(request, "_explain_fragment.html", {
        "sections": sections, "other_warnings": other_warnings(record, sections),
        "decision": record,
    }, user=user)


_BOUNDARY_CACHE: dict[tuple[Any, ...], bytes] = {}


@router.get("/web/boundaries.json")
def boundaries(
    user: User, session: SessionDep, index: IndexDep, services: ServicesDep
) -> Response:
    """Simplified league boundaries of the active version, for orientation on /screen, in the
    base map's frame (shifted to GCJ-02 when the tiles are)."""
    frame = basemap_of(services).frame
    ids = tuple(sorted(vid for name, vid in active_version_ids(session).items()
                       if _series_kind(session, name) == "league"))
    body = _BOUNDARY_CACHE.get((frame, *ids))
    if body is None:
        import json

        feats = []
        for vid in ids:
            indexed = index.version(session, vid)
            if indexed is None:
                continue
            for f in indexed.data.features:
                g = for_display(f.geometry, 0.01)
                if g is not None:
                    g = to_display_frame(g, frame)
                    feats.append({"type": "Feature", "geometry": mapping(g),
                                  "properties": {"name": f.name, "code": f.code}})
        body = json.dumps({"type": "FeatureCollection", "features": feats},
                          ensure_ascii=False).encode("utf-8")
        _BOUNDARY_CACHE.clear()
        _BOUNDARY_CACHE[(frame, *ids)] = body
    return Response(body, media_type="application/geo+json",
                    headers={"Cache-Control": "private, max-age=300"})


def _series_kind(session: Session, name: str) -> str | None:
    return session.scalar(select(LayerSeries.kind).where(LayerSeries.name == name))


@router.get("/layers", response_class=HTMLResponse)
def layers_page(request: Request, user: User, session: SessionDep) -> HTMLResponse:
    series = session.scalars(
        select(LayerSeries).options(selectinload(LayerSeries.versions))
        .order_by(LayerSeries.kind, LayerSeries.name)
    ).all()
    return render(request, "layers.html", {
        "series": series, "kind_names": KIND_NAMES,
        "kinds": list(KIND_NAMES.items()),
        "status_names": {"draft": "草稿", "active": "启用中", "retired": "已停用"},
    }, user=user)


def mount(app: FastAPI) -> None:
    """Static assets, the login flow and the pages; called by the app factory."""
    app.state.display_index = DisplayIndex()
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(web_session.router)
    app.include_router(router)
    from geo_service.web import leads_map  # the leads map (reads this module's helpers)

    app.include_router(leads_map.router)

    @app.exception_handler(LoginRequired)
    async def _to_login(_: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={quote(exc.next_url, safe='/')}", status_code=303)

    @app.exception_handler(PageNotFound)
    async def _not_found(request: Request, exc: PageNotFound) -> Response:
        return render(request, "error.html", {"title": exc.title, "detail": exc.detail},
                      user=None, status_code=404)


__all__ = ["STATIC_DIR", "mount", "page_user", "templates"]

