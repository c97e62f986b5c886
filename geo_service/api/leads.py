"""Persistent leads (R3, R5, R9): create (idempotent), read, list, re-screen, filing, dossier.

Statuses (RULES.md R3/R5): received → preliminary_check (初步核查中) → filed / not_filed;
excluded at creation when already remediated (第十二条第二款); filed → terminated (第十五条第四款).
Every state change is written to the audit log in the same transaction as the change.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from shapely.geometry import mapping
from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from geo_service.auth import Decider, Principal, Reader, Screener
from geo_service.db.models import AuditEntry, DecisionRow, Filing, Lead
from geo_service.deps import ServicesDep
from geo_service.errors import FieldError, InvalidInput, NotFound, RuleConflict
from geo_service.history import import_history_csv
from geo_service.layer_store import audit, now
from geo_service.pipeline import ScreenOutcome, screen
from geo_service.schemas import (
    DB_ID_MAX,
    DOCUMENT_BEARER,
    FILING_GROUND_TEXT,
    PROBLEM_RESPONSES,
    ChineseValidationRoute,
    DbIdPath,
    FilingDecision,
    FilingGround,
    FilingIn,
    LeadCreate,
)
from geo_service.services import Services

router = APIRouter(route_class=ChineseValidationRoute, dependencies=DOCUMENT_BEARER)

STATUSES = {
    "received": "已接收",
    "preliminary_check": "初步核查中",
    "filed": "已立案",
    "not_filed": "不启动索赔程序",
    "excluded": "不予筛查（已修复）",
    "terminated": "已终止索赔程序",
}
OPEN_STATUSES = ("received", "preliminary_check")


# --- Serialisation -------------------------------------------------------------------------


def _iso(value: date | datetime | None) -> str | None:
    """ISO 8601; a stored timestamp without zone (SQLite) is UTC, as it was written."""
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat() if value is not None else None


def lead_summary(lead: Lead) -> dict[str, Any]:
    return {
        "id": lead.id,
        "status": lead.status,
        "status_label": STATUSES.get(lead.status, lead.status),
        "title": lead.title,
        "source_system": lead.source_system,
        "external_ref": lead.external_ref,
        "created_at": _iso(lead.created_at),
        "created_by": lead.created_by,
        "obligor": {"id": lead.obligor_id, "name": lead.obligor_name},
        "league_code": lead.league_code,
        "is_major": lead.is_major,
        "minor_override": lead.minor_override,
        "next_due": _iso(lead.next_due),
        "occurred_on": _iso(lead.occurred_on),
    }


def _decision_record(row: DecisionRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "created_at": _iso(row.created_at),
        "created_by": row.created_by,
        "trigger": row.trigger,
        "rulebook_version": row.rulebook_version,
        "layer_versions": row.layer_versions,
        "result": row.result,
    }


def _filing_record(row: Filing) -> dict[str, Any]:
    return {
        "id": row.id,
        "decision": row.decision,
        "grounds": row.grounds,
        "citations": [
            FILING_GROUND_TEXT[FilingGround(g)][0]
            for g in row.grounds
            if g in FilingGround._value2member_map_
        ],
        "reasons": row.reasons,
        "approved_by": row.approved_by,
        "created_at": _iso(row.created_at),
        "created_by": row.created_by,
        "damage_date": _iso(row.damage_date),
    }


def lead_detail(lead: Lead) -> dict[str, Any]:
    decisions = [_decision_record(d) for d in lead.decisions]
    return {
        **lead_summary(lead),
        "description": lead.description,
        "request": lead.request,
        "geometry": mapping(lead.damage_geom) if lead.damage_geom is not None else None,
        "act_geometry": mapping(lead.act_geom) if lead.act_geom is not None else None,
        "decision": decisions[-1]["result"] if decisions else None,
        "decisions": decisions,
        "filings": [_filing_record(f) for f in lead.filings],
    }


# --- Helpers -------------------------------------------------------------------------------


def touched_leagues(decision: dict[str, Any]) -> str | None:
    """The leagues the damage area touches (",150100,150200,"), coarse locations included."""
    jurisdiction = decision.get("jurisdiction") or {}
    codes = {str(u.get("code")) for u in jurisdiction.get("leagues") or [] if u.get("code")}
    return "," + ",".join(sorted(codes)) + "," if codes else None


def in_league(code: str) -> ColumnElement[bool]:
    """Leads whose rights holder is `code`, or whose area touches it (region-level cases)."""
    return or_(Lead.league_code == code, Lead.leagues.contains(f",{code},"))


def filtered_leads(
    *,
    league: str | None = None,
    status: str | None = None,
    major: bool | None = None,
    override: bool | None = None,
) -> Select[Lead]:
    """The list filters the API and the case-list page share."""
    query = select(Lead)
    if league:
        query = query.where(in_league(league))
    if status:
        query = query.where(Lead.status == status)
    if major is not None:
        query = query.where(Lead.is_major.is_(major))
    if override is not None:
        query = query.where(Lead.minor_override.is_(override))
    return query


def _league_code(decision: dict[str, Any]) -> str | None:
    """The rights holder's code (a league, or 150000 for the region), for the list filter."""
    holder = (decision.get("jurisdiction") or {}).get("rights_holder") or {}
    return holder.get("code")


def _next_due(decision: dict[str, Any], status: str) -> date | None:
    """The earliest open deadline: the preliminary check while it runs, later ones after."""
    if status in ("not_filed", "excluded", "terminated"):
        return None
    dues = []
    for d in decision.get("deadlines") or []:
        if status == "filed" and d.get("name") == "preliminary_check":
            continue
        try:
            dues.append(date.fromisoformat(str(d.get("due"))))
        except ValueError:
            continue
    return min(dues) if dues else None


def _apply_decision(lead: Lead, decision: dict[str, Any]) -> None:
    lead.league_code = _league_code(decision)
    lead.leagues = touched_leagues(decision)
    lead.is_major = bool((decision.get("major_case") or {}).get("is_major"))
    lead.minor_override = (decision.get("minor") or {}).get("override") is True
    lead.next_due = _next_due(decision, lead.status)


def _decision_row(
    lead: Lead, outcome: ScreenOutcome, principal: Principal, trigger: str, request: dict
) -> DecisionRow:
    decision = outcome.decision
    located = outcome.located
    return DecisionRow(
        lead_id=lead.id,
        created_at=now(),
        created_by=principal.actor,
        rulebook_version=str(decision.get("rulebook_version", "")),
        layer_versions=dict(decision.get("layer_versions") or {}),
        inputs={
            "request": request,
            "prior_damage_dates": [d.isoformat() for d in outcome.facts.prior_damage_dates],
            "input_crs": located.crs if located else None,
            "conversion": located.conversion if located else None,
            "coarse": located.summary().get("admin") if located else None,
        },
        result=decision,
        trigger=trigger,
    )


def _find_existing(session: Session, body: LeadCreate, idempotency_key: str | None) -> Lead | None:
    if idempotency_key:
        lead = session.scalars(select(Lead).where(Lead.idempotency_key == idempotency_key)).first()
        if lead is not None:
            return lead
    if body.source_system and body.external_ref:
        return session.scalars(
            select(Lead).where(
                Lead.source_system == body.source_system, Lead.external_ref == body.external_ref
            )
        ).first()
    return None


def _get_lead(session: Session, lead_id: int, *, for_update: bool = False) -> Lead:
    lead = session.get(Lead, lead_id, with_for_update=for_update or None)
    if lead is None:
        raise NotFound(
            f"案件线索 {lead_id} 不存在。", [FieldError("lead_id", "没有这个编号的线索。")]
        )
    return lead


def _set_status(session: Session, lead: Lead, status: str, actor: str, **detail: Any) -> None:
    audit(
        session,
        actor,
        "lead_status_changed",
        "lead",
        lead.id,
        {"from": lead.status, "to": status, **detail},
    )
    lead.status = status


def create_lead(
    services: Services,
    body: LeadCreate,
    principal: Principal,
    idempotency_key: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """Create (or find) a lead; returns (lead detail, created). Safe under concurrent retries:
    the database's unique constraints decide, the loser rolls back and returns the winner."""
    with services.sessions() as session:
        existing = _find_existing(session, body, idempotency_key)
        if existing is not None:
            return lead_detail(existing), False
        outcome = screen(services, body, principal, session=session)
        request = body.model_dump(mode="json")
        obligor = body.obligor
        lead = Lead(
            created_at=now(),
            created_by=principal.actor,
            source_system=body.source_system,
            external_ref=body.external_ref,
            idempotency_key=idempotency_key,
            title=body.title,
            description=body.description,
            status="received",
            obligor_id=obligor.id if obligor else None,
            obligor_name=obligor.name if obligor else None,
            occurred_on=body.occurred_on,
            request=request,
            damage_geom=outcome.geometry,
            act_geom=outcome.act_geometry,
        )
        try:
            session.add(lead)
            session.flush()
            audit(
                session,
                principal.actor,
                "lead_created",
                "lead",
                lead.id,
                {
                    "status": "received",
                    "source_system": body.source_system,
                    "external_ref": body.external_ref,
                    "idempotency_key": idempotency_key,
                },
            )
            row = _decision_row(lead, outcome, principal, "created", request)
            session.add(row)
            session.flush()
            audit(
                session,
                principal.actor,
                "decision_recorded",
                "lead",
                lead.id,
                {"decision_id": row.id, "trigger": "created"},
            )
            if body.already_remediated:
                _set_status(session, lead, "excluded", principal.actor, basis="第十二条第二款")
            else:
                _set_status(session, lead, "preliminary_check", principal.actor, basis="第十四条")
            _apply_decision(lead, outcome.decision)
            session.commit()
        except IntegrityError:
            session.rollback()
            existing = _find_existing(session, body, idempotency_key)
            if existing is None:
                raise
            return lead_detail(existing), False
        session.refresh(lead)
        return lead_detail(lead), True


# --- Routes --------------------------------------------------------------------------------

LEAD_EXAMPLE_RESPONSE = {
    "id": 1,
    "status": "preliminary_check",
    "status_label": "初步核查中",
    "title": "呼伦湖西岸排污投诉",
    "decision": {"jurisdiction": {"status": "decided"}},
    "decisions": [{"id": 1, "trigger": "created", "result": {"jurisdiction": {}}}],
}


@router.post(
    "/leads",
    status_code=201,
    summary="新建案件线索（筛查并保存；重复提交返回已有线索）",
    description="同一 `source_system` + `external_ref`，或同一 `Idempotency-Key` 请求头，"
    "返回已有线索（200），不会重复创建。已修复的线索（already_remediated）直接记为不予筛查"
    "（第十二条第二款）。",
    responses={
        201: {"content": {"application/json": {"example": LEAD_EXAMPLE_RESPONSE}}},
        200: {"description": "已存在的线索（重复提交）"},
        **PROBLEM_RESPONSES,
    },
)
def post_lead(
    body: LeadCreate,
    services: ServicesDep,
    principal: Screener,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", max_length=200, description="幂等键")
    ] = None,
) -> JSONResponse:
    detail, created = create_lead(services, body, principal, idempotency_key or None)
    return JSONResponse(detail, status_code=201 if created else 200)


@router.get("/leads", summary="线索列表（可按盟市、状态、期限、重大案件、例外情形筛选）")
def list_leads(
    services: ServicesDep,
    principal: Reader,
    league: Annotated[
        str | None,
        Query(
            pattern=r"^\d{6}$",
            description="盟市代码，如 150700：赔偿权利人为该盟市，或损害涉及该盟市的自治区级案件",
        ),
    ] = None,
    status: Annotated[str | None, Query(description="状态：" + "、".join(STATUSES))] = None,
    due_before: Annotated[date | None, Query(description="下一期限早于该日期")] = None,
    major: Annotated[bool | None, Query(description="是否重大案件")] = None,
    override: Annotated[
        bool | None, Query(description="是否适用第十五条第五款（须启动索赔）")
    ] = None,
    obligor_id: Annotated[
        str | None,
        Query(max_length=30, pattern=r"^[0-9A-Za-z]*$", description="赔偿义务人证件号码"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=DB_ID_MAX)] = 0,
) -> dict[str, Any]:
    if status is not None and status not in STATUSES:
        raise InvalidInput(
            f"未知的状态 {status!r}。",
            [FieldError("status", f"取值 {status!r} 无效。可用：{', '.join(STATUSES)}。")],
        )
    query = filtered_leads(league=league, status=status, major=major, override=override)
    if due_before:
        query = query.where(Lead.next_due.is_not(None), Lead.next_due < due_before)
    if obligor_id:
        query = query.where(Lead.obligor_id == obligor_id.strip().upper())
    with services.sessions() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(query.order_by(Lead.id.desc()).limit(limit).offset(offset)).all()
        return {
            "items": [lead_summary(r) for r in rows],
            "total": total,
            "limit": limit,
            "offset": offset,
        }


@router.get("/leads/{lead_id}", summary="线索详情：当前结论（decision）与全部历次结论（decisions）")
def get_lead(lead_id: DbIdPath, services: ServicesDep, principal: Reader) -> dict[str, Any]:
    with services.sessions() as session:
        return lead_detail(_get_lead(session, lead_id))


@router.post(
    "/leads/{lead_id}/rescreen",
    status_code=201,
    summary="重新筛查（如图层更新后）：新增一条结论，原结论保留不改",
    responses=PROBLEM_RESPONSES,
)
def rescreen(lead_id: DbIdPath, services: ServicesDep, principal: Screener) -> dict[str, Any]:
    with services.sessions() as session:
        lead = _get_lead(session, lead_id, for_update=True)
        body = LeadCreate.model_validate(lead.request)
        outcome = screen(services, body, principal, session=session, exclude_lead_id=lead.id)
        previous = lead.decisions[-1] if lead.decisions else None
        row = _decision_row(lead, outcome, principal, "rescreen", lead.request)
        session.add(row)
        session.flush()
        changed = previous is None or _core(previous.result) != _core(outcome.decision)
        audit(
            session,
            principal.actor,
            "lead_rescreened",
            "lead",
            lead.id,
            {
                "decision_id": row.id,
                "previous_decision_id": previous.id if previous else None,
                "changed": changed,
                "layer_versions": row.layer_versions,
            },
        )
        _apply_decision(lead, outcome.decision)
        session.commit()
        session.refresh(lead)
        return lead_detail(lead)


def _core(decision: dict[str, Any]) -> dict[str, Any]:
    """What a re-screen compares: the decision without its warnings' wording."""
    return {k: v for k, v in decision.items() if k not in ("warnings",)}


@router.post(
    "/leads/{lead_id}/filing",
    status_code=201,
    summary="立案、不启动索赔程序或终止（第十五条）：须写明理由并经负责人同意",
    description="以“显著轻微”（minor）为由不启动或终止索赔，而当前结论适用第十五条第五款"
    "（位于生态保护红线或自然保护地、两年内再次发生、自治区决定启动）时，返回 409。",
    responses={409: {"description": "与第十五条第五款冲突或状态不允许"}, **PROBLEM_RESPONSES},
)
def post_filing(
    lead_id: DbIdPath, body: FilingIn, services: ServicesDep, principal: Decider
) -> dict[str, Any]:
    with services.sessions() as session:
        lead = _get_lead(session, lead_id, for_update=True)
        _check_transition(lead, body)
        current = lead.decisions[-1].result if lead.decisions else {}
        _check_override(current, body)
        damage_date = lead.occurred_on or _received_on(lead)
        filing = Filing(
            lead_id=lead.id,
            decision=body.decision.value,
            grounds=[g.value for g in body.grounds],
            reasons=body.reasons,
            approved_by=body.approved_by,
            created_at=now(),
            created_by=principal.actor,
            damage_date=damage_date if body.decision == FilingDecision.FILE else None,
        )
        session.add(filing)
        session.flush()
        audit(
            session,
            principal.actor,
            "filing_recorded",
            "lead",
            lead.id,
            {
                "filing_id": filing.id,
                "decision": filing.decision,
                "grounds": filing.grounds,
                "approved_by": filing.approved_by,
                "override_checked": body.override_checked,
            },
        )
        to = {"file": "filed", "not_file": "not_filed", "terminate": "terminated"}[filing.decision]
        citation = {
            "file": "第十五条第一款",
            "not_file": "第十五条第二款、第三款",
            "terminate": "第十五条第四款",
        }[filing.decision]
        _set_status(session, lead, to, principal.actor, basis=citation, filing_id=filing.id)
        lead.next_due = _next_due(current, lead.status)
        session.commit()
        session.refresh(lead)
        return lead_detail(lead)


def _received_on(lead: Lead) -> date | None:
    try:
        value = (lead.request or {}).get("received_on")
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def _check_transition(lead: Lead, body: FilingIn) -> None:
    label = STATUSES.get(lead.status, lead.status)
    if body.decision == FilingDecision.TERMINATE:
        if lead.status != "filed":
            raise RuleConflict(
                f"线索当前状态为“{label}”：只有已立案的案件才能终止索赔程序（第十五条第四款）。",
                [FieldError("decision", "当前状态不能终止。")],
            )
        return
    if lead.status not in OPEN_STATUSES:
        raise RuleConflict(
            f"线索当前状态为“{label}”，已有结论，不能再作立案或不启动的决定。"
            + (
                "已立案的案件可决定终止（terminate，第十五条第四款）。"
                if lead.status == "filed"
                else ""
            ),
            [FieldError("decision", f"当前状态“{label}”不允许此操作。")],
        )


def _check_override(current: dict[str, Any], body: FilingIn) -> None:
    """第十五条第五款: a minor case that the override catches must be claimed."""
    if body.decision == FilingDecision.FILE or FilingGround.MINOR not in body.grounds:
        return
    minor = current.get("minor") or {}
    if minor.get("override") is None and minor.get("is_minor") and not body.override_checked:
        # The rulebook could not establish whether 第十五条第五款 applies (no red line / nature
        # reserve layer, or a coarse location): never let "minor" pass on a guess.
        raise RuleConflict(
            "无法自动判断是否存在第十五条第五款规定的情形（生态保护红线、自然保护地图层缺失或定位"
            "过粗）。请核实损害是否位于生态保护红线或自然保护地内、同一赔偿义务人两年内是否再次"
            "发生，将核实情况写入理由，并将 override_checked 置为 true 后重新提交。",
            [FieldError("override_checked", "须先核实第十五条第五款情形。")],
        )
    if minor.get("override") is not True:
        return
    reasons = minor.get("override_reasons") or []
    names = {
        "red_line": "损害位于生态保护红线内（第十五条第五款第（一）项）",
        "nature_reserve": "损害位于自然保护地内（第十五条第五款第（一）项）",
        "repeat_within_2_years": "同一赔偿义务人两年内再次发生（第十五条第五款第（二）项）",
        "region_decision": "自治区人民政府或其指定部门决定启动（第十五条第五款第（三）项）",
    }
    listed = "；".join(names.get(r, r) for r in reasons) or "当前结论认定适用"
    action = "不启动索赔程序" if body.decision == FilingDecision.NOT_FILE else "终止索赔程序"
    raise RuleConflict(
        f"不能以“显著轻微”（第十五条第二款第（三）项）为由{action}：依照第十五条第五款，"
        f"存在下列情形之一的，应当启动索赔程序——{listed}。",
        [FieldError("grounds", f"第十五条第五款排除“显著轻微”情形：{listed}。")],
    )


@router.get(
    "/leads/{lead_id}/dossier",
    summary="一案一卷：下载案件全部记录（zip）",
    description="包含 lead.json、每次筛查结论（decisions/）、立案决定（filings.json）、"
    "审计记录（audit.json），以及案件地图（case_map.html，需能访问本服务的 /static）。",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
def dossier(
    lead_id: DbIdPath, request: Request, services: ServicesDep, principal: Reader
) -> Response:
    with services.sessions() as session:
        lead = _get_lead(session, lead_id)
        detail = lead_detail(lead)
        decision_ids = [str(d.id) for d in lead.decisions]
        filing_ids = [str(f.id) for f in lead.filings]
        entries = session.scalars(
            select(AuditEntry)
            .where(
                or_(
                    (AuditEntry.entity == "lead") & (AuditEntry.entity_id == str(lead.id)),
                    (AuditEntry.entity == "decision") & AuditEntry.entity_id.in_(decision_ids),
                    (AuditEntry.entity == "filing") & AuditEntry.entity_id.in_(filing_ids),
                )
            )
            .order_by(AuditEntry.id)
        ).all()
        audit_log = [
            {
                "id": e.id,
                "at": _iso(e.at),
                "actor": e.actor,
                "action": e.action,
                "entity": e.entity,
                "entity_id": e.entity_id,
                "detail": e.detail,
            }
            for e in entries
        ]
        case_map = _case_map(request, services, session, lead)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        lead_json = {k: v for k, v in detail.items() if k not in ("decisions", "filings")}
        z.writestr("lead.json", _dump(lead_json))
        for i, d in enumerate(detail["decisions"], start=1):
            z.writestr(f"decisions/{i:03d}-decision-{d['id']}.json", _dump(d))
        z.writestr("filings.json", _dump(detail["filings"]))
        z.writestr("audit.json", _dump(audit_log))
        if case_map is not None:
            z.writestr("case_map.html", case_map)
        z.writestr("README.txt", _readme(lead, len(detail["decisions"]), case_map is not None))
    filename = f"lead-{lead.id}-dossier.zip"
    return Response(
        buffer.getvalue(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


def _readme(lead: Lead, decisions: int, has_map: bool) -> str:
    lines = [
        f"案件线索 {lead.id}：{lead.title or '（无标题）'}",
        f"状态：{STATUSES.get(lead.status, lead.status)}",
        f"导出时间：{now().isoformat()}",
        "",
        "lead.json         线索及当前筛查结论",
        f"decisions/        全部 {decisions} 次筛查结论（按时间先后，结论从不修改）",
        "filings.json      立案、不启动索赔程序、终止的决定（第十五条）",
        "audit.json        审计记录（谁在何时做了什么）",
    ]
    if has_map:
        lines.append("case_map.html     案件地图（脚本与样式取自本服务的 /static）")
    return "\n".join(lines) + "\n"


def _case_map(request: Request, services: Services, session: Session, lead: Lead) -> str | None:
    """The case map, when the maps package and the pages' feature index are available."""
    if lead.damage_geom is None:
        return None
    try:
        from geo_service.web.features import DisplayIndex, case_features
        from maps import BasemapConfig, render_case_map
    except ImportError:  # the maps work has not landed in this build
        return None
    index = getattr(request.app.state, "display_index", None) or DisplayIndex()
    decision = lead.decisions[-1].result if lead.decisions else {}
    s = services.settings
    return render_case_map(
        damage=lead.damage_geom,
        act=lead.act_geom,
        decision=decision,
        context_features=case_features(index, session, lead.damage_geom, lead.act_geom, decision),
        title=lead.title or f"案件线索 {lead.id}",
        basemap=BasemapConfig.from_setting(
            s.basemap, token=s.tianditu_token, frame=s.basemap_frame
        ),
        asset_base_url=s.public_base_url + "/static",  # never from the Host header
    )


# --- Historical cases (the two-year rule from day one) ---------------------------------------


@router.post(
    "/history/import",
    summary="导入历史案件（供“两年内再次发生”判断，第十五条第五款第（二）项）",
    description="CSV（UTF-8，首行为表头）：obligor_id, damage_date, case_ref, note。"
    "可用 multipart 上传 `file`，或直接以 text/csv 作为请求体。逐行校验，报告被拒绝的行号与原因。",
    responses=PROBLEM_RESPONSES,
)
async def import_history(
    request: Request, services: ServicesDep, principal: Decider
) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput(
                "缺少上传文件。", [FieldError("file", "请以 multipart 字段 file 上传 CSV。")]
            )
        raw = await upload.read()
    else:
        raw = await request.body()
    if not raw:
        raise InvalidInput("请求体为空。", [FieldError("file", "请上传 CSV 文件。")])

    def run() -> dict[str, Any]:
        with services.sessions() as session:
            return import_history_csv(session, raw, actor=principal.actor).to_dict()

    return await run_in_threadpool(run)
