"""The lead service (R3, R5, R9): create (idempotent per caller), re-screen, file, list, dossier.

Used by the API routes, the pages, the CLI and layer impact alike. The rules of a lead's course
are pure functions in `screening.lifecycle`; this module applies them to stored leads, deciding
at the moment of deciding: a filing re-evaluates the decision on current facts first.
Every state change is written to the audit log in the same transaction as the change.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from shapely.geometry import mapping
from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from geo_service.auth import Principal
from geo_service.db.models import AuditEntry, DecisionRow, Filing, Lead
from geo_service.errors import FieldError, InvalidInput, NotFound, RuleConflict
from geo_service.events import add_filed_event
from geo_service.layer_store import audit, now
from geo_service.pipeline import ScreenOutcome, screen
from geo_service.schemas import FilingIn, LeadCreate, today_in_china
from geo_service.services import Services
from screening.calendar import WorkCalendar
from screening.lifecycle import (
    DECISION_CITATION,
    FILING_GROUND_TEXT,
    OPEN_STATUSES,
    STATUS_AFTER,
    STATUS_TEXT,
    FilingDecision,
    FilingGround,
    FilingRefused,
    Status,
    check_minor_ground,
    check_transition,
    establishes_damage,
    is_closed,
)
from screening.obligor import normalise_obligor_name
from screening.record import DecisionRecord

STATUSES = STATUS_TEXT


# --- Serialisation -------------------------------------------------------------------------


def iso(value: date | datetime | None) -> str | None:
    """ISO 8601; a stored timestamp without zone (SQLite) is UTC, as it was written."""
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat() if value is not None else None


def current_record(lead: Lead) -> DecisionRecord | None:
    """The lead's current decision, typed."""
    return DecisionRecord.load(lead.decisions[-1].result) if lead.decisions else None


def lead_summary(lead: Lead) -> dict[str, Any]:
    return {
        "id": lead.id,
        "status": lead.status,
        "status_label": STATUSES.get(lead.status, lead.status),
        "title": lead.title,
        "source_system": lead.source_system,
        "external_ref": lead.external_ref,
        "created_at": iso(lead.created_at),
        "created_by": lead.created_by,
        "obligor": {"id": lead.obligor_id, "name": lead.obligor_name},
        "league_code": lead.league_code,
        "is_major": lead.is_major,
        "minor_override": lead.minor_override,
        "next_due": iso(lead.next_due),
        "occurred_on": iso(lead.occurred_on),
    }


def decision_record(row: DecisionRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "created_at": iso(row.created_at),
        "created_by": row.created_by,
        "trigger": row.trigger,
        "rulebook_version": row.rulebook_version,
        "layer_versions": row.layer_versions,
        "result": DecisionRecord.load(row.result).dump(),
    }


def filing_record(row: Filing) -> dict[str, Any]:
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
        "decided_on": iso(row.decided_on),
        "no_compensation_needed": row.no_compensation_needed,
        "no_obvious_impact_criterion": row.impact_criterion,
        "decision_id": row.decision_id,
        "created_at": iso(row.created_at),
        "created_by": row.created_by,
        "damage_date": iso(row.damage_date),
    }


def screening_deadlines(lead: Lead) -> list[dict[str, Any]]:
    """The deadlines the screening decision set (第十四条 preliminary check), as the course
    lists them: started by the lead's receipt."""
    record = current_record(lead)
    if record is None:
        return []
    decided = next((f.decided_on for f in lead.filings if f.decided_on), None)
    return [
        {**d.model_dump(), "start_event": "received", "start_event_id": None,
         "done_on": iso(decided)}
        for d in record.deadlines
        if d.name == "preliminary_check"
    ]


def lead_detail(
    lead: Lead, calendar: WorkCalendar | None = None, today: date | None = None
) -> dict[str, Any]:
    """The lead with its decisions, filings, and the course after filing: `events` (oldest
    first), `deadlines` recomputed from them and the `duties` of 第三十条."""
    from geo_service.events import course_view

    decisions = [decision_record(d) for d in lead.decisions]
    course = course_view(lead, calendar or WorkCalendar(), today or today_in_china())
    return {
        **lead_summary(lead),
        "description": lead.description,
        "request": lead.request,
        "geometry": mapping(lead.damage_geom) if lead.damage_geom is not None else None,
        "act_geometry": mapping(lead.act_geom) if lead.act_geom is not None else None,
        "decision": decisions[-1]["result"] if decisions else None,
        "decisions": decisions,
        "filings": [filing_record(f) for f in lead.filings],
        "events": course["events"],
        "deadlines": screening_deadlines(lead) + course["course_deadlines"],
        "duties": course["duties"],
        "failures": course["failures"],
    }


# --- List filters --------------------------------------------------------------------------


def touched_leagues(record: DecisionRecord) -> str | None:
    """The leagues the damage area touches (",150100,150200,"), coarse locations included."""
    codes = record.league_codes
    return "," + ",".join(codes) + "," if codes else None


def in_league(code: str) -> ColumnElement[bool]:
    """Leads whose rights holder is `code`, or whose area touches it (region-level cases)."""
    return or_(Lead.league_code == code, Lead.leagues.contains(f",{code},"))


def filtered_leads(
    *,
    league: str | None = None,
    status: str | None = None,
    major: bool | None = None,
    override: bool | None = None,
    due_before: date | None = None,
    obligor_id: str | None = None,
) -> Select[Lead]:
    """The list filters the API and the case-list page share."""
    if status and status not in STATUSES:
        raise InvalidInput(
            f"未知的状态 {status!r}。",
            [FieldError("status", f"取值 {status!r} 无效。可用：{', '.join(STATUSES)}。")],
        )
    query = select(Lead)
    if league:
        query = query.where(in_league(league))
    if status:
        query = query.where(Lead.status == status)
    if major is not None:
        query = query.where(Lead.is_major.is_(major))
    if override is not None:
        query = query.where(Lead.minor_override.is_(override))
    if due_before:
        query = query.where(Lead.next_due.is_not(None), Lead.next_due < due_before)
    if obligor_id:
        query = query.where(Lead.obligor_id == obligor_id.strip().upper())
    return query


# --- Storing decisions ---------------------------------------------------------------------


def next_due(record: DecisionRecord, status: str) -> date | None:
    """The earliest open deadline: the preliminary check while it runs, later ones after."""
    if is_closed(status):
        return None
    dues = [
        d.due_date
        for d in record.deadlines
        if d.due_date is not None and not (status == Status.FILED and d.name == "preliminary_check")
    ]
    return min(dues) if dues else None


def _apply(lead: Lead, record: DecisionRecord) -> None:
    lead.league_code = record.rights_holder_code
    lead.leagues = touched_leagues(record)
    lead.is_major = record.major_case.is_major
    lead.minor_override = record.minor.override is True
    lead.next_due = next_due(record, lead.status)


def _store_decision(
    session: Session, lead: Lead, outcome: ScreenOutcome, principal: Principal, trigger: str
) -> DecisionRow:
    record = outcome.record
    located = outcome.located
    row = DecisionRow(
        lead_id=lead.id,
        created_at=now(),
        created_by=principal.actor,
        rulebook_version=record.rulebook_version or "",
        layer_versions=dict(record.layer_versions),
        inputs={
            "request": lead.request,
            "prior_damage_dates": [d.isoformat() for d in outcome.facts.prior_damage_dates],
            "prior_damage": [p.to_dict() for p in outcome.facts.prior_damage],
            "input_crs": located.crs if located else None,
            "conversion": located.conversion if located else None,
            "coarse": located.summary().get("admin") if located else None,
        },
        result=record.dump(),
        trigger=trigger,
    )
    session.add(row)
    session.flush()
    audit(
        session,
        principal.actor,
        "decision_recorded",
        "lead",
        lead.id,
        {"decision_id": row.id, "trigger": trigger},
    )
    lead.decisions.append(row)
    _apply(lead, record)
    return row


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


def get_lead(session: Session, lead_id: int, *, for_update: bool = False) -> Lead:
    lead = session.get(Lead, lead_id, with_for_update=for_update or None)
    if lead is None:
        raise NotFound(
            f"案件线索 {lead_id} 不存在。", [FieldError("lead_id", "没有这个编号的线索。")]
        )
    return lead


# --- Create (idempotent per caller) --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    """A client's Idempotency-Key, scoped to the caller that sent it (issue 9, hole 13)."""

    stored: str  # sha256(caller, key): what the unique column holds
    body_hash: str  # sha256 of the canonical request body

    @classmethod
    def of(cls, key: str, principal: Principal, body: LeadCreate) -> IdempotencyKey:
        caller = f"{principal.token_id}\x1f{principal.role}\x1f{principal.name}"
        stored = hashlib.sha256(f"{caller}\x1e{key}".encode()).hexdigest()
        canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return cls(stored, hashlib.sha256(canonical.encode()).hexdigest())


def _find_existing(
    session: Session, body: LeadCreate, key: IdempotencyKey | None
) -> Lead | None:
    if key is not None:
        lead = session.scalars(select(Lead).where(Lead.idempotency_key == key.stored)).first()
        if lead is not None:
            if lead.idempotency_body_hash not in (None, key.body_hash):
                raise InvalidInput(
                    "该 Idempotency-Key 已用于另一份不同内容的线索。",
                    [
                        FieldError(
                            "Idempotency-Key",
                            "同一幂等键只能用于重试同一请求；新线索请使用新的幂等键。",
                        )
                    ],
                )
            return lead
    if body.source_system and body.external_ref:
        return session.scalars(
            select(Lead).where(
                Lead.source_system == body.source_system, Lead.external_ref == body.external_ref
            )
        ).first()
    return None


def create_lead(
    services: Services,
    body: LeadCreate,
    principal: Principal,
    idempotency_key: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """Create (or find) a lead; returns (lead detail, created). Safe under concurrent retries:
    the database's unique constraints decide, the loser rolls back and returns the winner."""
    key = IdempotencyKey.of(idempotency_key, principal, body) if idempotency_key else None
    with services.sessions() as session:
        existing = _find_existing(session, body, key)
        if existing is not None:
            return lead_detail(existing, services.calendar), False
        outcome = screen(services, body, principal, session=session)
        obligor = body.obligor
        lead = Lead(
            created_at=now(),
            created_by=principal.actor,
            source_system=body.source_system,
            external_ref=body.external_ref,
            idempotency_key=key.stored if key else None,
            idempotency_body_hash=key.body_hash if key else None,
            title=body.title,
            description=body.description,
            status=Status.RECEIVED,
            obligor_id=obligor.id if obligor else None,
            obligor_name=obligor.name if obligor else None,
            obligor_name_key=normalise_obligor_name(obligor.name) if obligor else None,
            occurred_on=body.occurred_on,
            request=body.model_dump(mode="json"),
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
                    "status": Status.RECEIVED,
                    "source_system": body.source_system,
                    "external_ref": body.external_ref,
                    "idempotency_key": key.stored if key else None,
                },
            )
            _store_decision(session, lead, outcome, principal, "created")
            if body.already_remediated:
                _set_status(session, lead, Status.EXCLUDED, principal.actor, basis="第十二条第二款")
            else:
                _set_status(
                    session, lead, Status.PRELIMINARY_CHECK, principal.actor, basis="第十四条"
                )
            _apply(lead, outcome.record)
            session.commit()
        except IntegrityError:
            session.rollback()
            existing = _find_existing(session, body, key)
            if existing is None:
                raise
            return lead_detail(existing, services.calendar), False
        session.refresh(lead)
        return lead_detail(lead, services.calendar), True


# --- Re-screen -----------------------------------------------------------------------------


def _evaluate(services: Services, session: Session, lead: Lead, principal: Principal
              ) -> ScreenOutcome:
    body = LeadCreate.model_validate(lead.request)
    return screen(services, body, principal, session=session, exclude_lead_id=lead.id)


def rescreen_lead(
    services: Services, lead_id: int, principal: Principal, *, trigger: str = "rescreen"
) -> dict[str, Any]:
    """A new decision beside the old (decisions are never edited, R9)."""
    with services.sessions() as session:
        lead = get_lead(session, lead_id, for_update=True)
        previous = lead.decisions[-1] if lead.decisions else None
        before = current_record(lead)
        outcome = _evaluate(services, session, lead, principal)
        row = _store_decision(session, lead, outcome, principal, trigger)
        changed = before is None or before.core() != outcome.record.core()
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
                "trigger": trigger,
                "layer_versions": row.layer_versions,
            },
        )
        session.commit()
        session.refresh(lead)
        return lead_detail(lead, services.calendar)


def rescreen_obligor_leads(
    services: Services, lead: Lead, principal: Principal
) -> list[int]:
    """When `lead` establishes damage, the obligor's other open leads are decided again
    (第十五条第五款第（二）项 on current facts). Returns the re-screened lead ids."""
    with services.sessions() as session:
        same = []
        if lead.obligor_id:
            same.append(Lead.obligor_id == lead.obligor_id)
        if lead.obligor_name_key:
            same.append(Lead.obligor_name_key == lead.obligor_name_key)
        if not same:
            return []
        ids = list(
            session.scalars(
                select(Lead.id)
                .where(or_(*same), Lead.id != lead.id, Lead.status.in_(OPEN_STATUSES))
                .order_by(Lead.id)
            )
        )
    for other in ids:
        rescreen_lead(services, other, principal, trigger="obligor_history")
    return ids


# --- Filing (第十五条), decided on current facts -------------------------------------------


def _decided_on(lead: Lead, body: FilingIn) -> date:
    decided = body.decided_on or today_in_china()
    received = _received_on(lead)
    if received is not None and decided < received:
        raise InvalidInput(
            f"决定日期 {decided} 早于接到线索之日 {received}。",
            [FieldError("decided_on", f"不得早于接到线索之日（{received}）。")],
        )
    return decided


def _received_on(lead: Lead) -> date | None:
    try:
        value = (lead.request or {}).get("received_on")
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def _refusal(
    exc: FilingRefused, decision_id: int | None = None, record: DecisionRecord | None = None
) -> Exception:
    """The refusal as a problem; it answers with the decision the check ran against."""
    errors = [FieldError(exc.field, exc.message)]
    detail = exc.detail
    extra: dict[str, Any] = {}
    if decision_id is not None and record is not None:
        detail += f"（依据当前结论 {decision_id}）"
        extra = {"decision_id": decision_id, "decision": record.dump()}
    if exc.kind == "incomplete":
        return InvalidInput(detail, errors, extra)
    return RuleConflict(detail, errors, extra)


def file_lead(
    services: Services, lead_id: int, body: FilingIn, principal: Principal
) -> dict[str, Any]:
    """立案 / 不启动 / 终止 (第十五条) on the facts as they are now.

    The override (第十五条第五款) is re-evaluated first; a decision that differs from the stored
    one is stored (trigger `filing_check`) before anything else, and kept even when the filing
    is then refused (409). A decision that establishes damage re-screens the obligor's other
    open leads.
    """
    with services.sessions() as session:
        lead = get_lead(session, lead_id, for_update=True)
        try:
            check_transition(lead.status, body.decision)
        except FilingRefused as exc:
            raise _refusal(exc) from None
        decided_on = _decided_on(lead, body)
        outcome = _evaluate(services, session, lead, principal)
        stored = current_record(lead)
        row = lead.decisions[-1] if lead.decisions else None
        if stored is None or stored.core() != outcome.record.core():
            row = _store_decision(session, lead, outcome, principal, "filing_check")
            session.commit()
        record = outcome.record
        minor = record.minor
        criterion = body.no_obvious_impact_criterion or minor.no_obvious_impact_criterion
        try:
            check_minor_ground(
                body.decision,
                [g.value for g in body.grounds],
                is_minor=bool(minor.is_minor),
                override=minor.override,
                override_reasons=minor.override_reasons,
                override_checked=body.override_checked,
                no_compensation_needed=body.no_compensation_needed,
                impact_only=minor.basis == ["no_obvious_impact"],
                impact_criterion=criterion,
            )
        except FilingRefused as exc:
            raise _refusal(exc, row.id if row else None, record) from None
        damage_date = lead.occurred_on or _received_on(lead)
        filing = Filing(
            lead_id=lead.id,
            decision=body.decision.value,
            grounds=[g.value for g in body.grounds],
            reasons=body.reasons,
            approved_by=body.approved_by,
            created_at=now(),
            created_by=principal.actor,
            damage_date=damage_date,
            no_compensation_needed=body.no_compensation_needed,
            impact_criterion=criterion,
            decided_on=decided_on,
            decision_id=row.id if row else None,
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
                "decided_on": iso(decided_on),
                "no_compensation_needed": body.no_compensation_needed,
                "override_checked": body.override_checked,
                "decision_id": filing.decision_id,
            },
        )
        to = STATUS_AFTER[body.decision]
        citation = DECISION_CITATION[body.decision]
        _set_status(session, lead, to, principal.actor, basis=citation, filing_id=filing.id)
        if body.decision == FilingDecision.FILE:
            add_filed_event(session, lead, filing, principal.actor)
        lead.next_due = next_due(record, lead.status)
        session.commit()
        session.refresh(lead)
        establishes = establishes_damage(lead.status, filing.grounds)
    if establishes:
        rescreen_obligor_leads(services, lead, principal)
    with services.sessions() as session:
        return lead_detail(get_lead(session, lead_id), services.calendar)


# --- Dossier (一案一卷) ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Dossier:
    filename: str
    content: bytes


def _audit_log(session: Session, lead: Lead) -> list[dict[str, Any]]:
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
    return [
        {
            "id": e.id,
            "at": iso(e.at),
            "actor": e.actor,
            "action": e.action,
            "entity": e.entity,
            "entity_id": e.entity_id,
            "detail": e.detail,
        }
        for e in entries
    ]


def build_dossier(
    services: Services, lead_id: int, *, display_index: Any, asset_base_url: str
) -> Dossier:
    """The whole case record in one zip: lead, every decision, filings, audit log, case map."""
    with services.sessions() as session:
        lead = get_lead(session, lead_id)
        detail = lead_detail(lead, services.calendar)
        audit_log = _audit_log(session, lead)
        case_map = case_map_html(services, session, lead, display_index, asset_base_url)
        case_map_png = _case_map_png(services, session, lead, display_index) if case_map else None
        readme = _readme(lead, len(detail["decisions"]), case_map is not None)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        lead_json = {
            k: v for k, v in detail.items()
            if k not in ("decisions", "filings", "events", "deadlines", "duties", "failures")
        }
        z.writestr("lead.json", _dump(lead_json))
        for i, d in enumerate(detail["decisions"], start=1):
            z.writestr(f"decisions/{i:03d}-decision-{d['id']}.json", _dump(d))
        z.writestr("filings.json", _dump(detail["filings"]))
        z.writestr("events.json", _dump(detail["events"]))
        z.writestr("deadlines.json", _dump({
            "deadlines": detail["deadlines"], "duties": detail["duties"],
            "failures": detail["failures"],
        }))
        z.writestr("audit.json", _dump(audit_log))
        if case_map is not None:
            z.writestr("case_map.html", case_map)
        if case_map_png is not None:
            z.writestr("case_map.png", case_map_png)
        z.writestr("README.txt", readme)
    return Dossier(f"lead-{lead_id}-dossier.zip", buffer.getvalue())


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
        "events.json       立案后的办理事件时间线（只追加；作废的事件标明 voided_by）",
        "deadlines.json    全部期限（起算事件、截止日期、依据条款及计算说明）与第三十条义务",
        "audit.json        审计记录（谁在何时做了什么）",
    ]
    if has_map:
        lines.append("case_map.html     案件地图（脚本与样式取自本服务的 /static）")
        lines.append("case_map.png      案件位置示意图（静态图片，可直接归档、打印）")
    else:
        lines.append("（本线索既无损害结果发生地的图形，定位到的行政区在启用图层中也没有范围，"
                     "故无案件地图）")
    return "\n".join(lines) + "\n"


def _case_map_png(services: Services, session: Session, lead: Lead, display_index: Any) -> bytes:
    from geo_service.documents import case_figure

    return case_figure(services, session, lead, display_index)


def case_map_html(
    services: Services, session: Session, lead: Lead, display_index: Any, asset_base_url: str,
    *, summary_open: bool = True,
) -> str | None:
    """The case map (the damage area, or the unit a lead with none was located to); None when
    neither can be drawn."""
    from geo_service.case_area import case_area, case_drawing
    from maps import BasemapConfig, render_case_map

    record = current_record(lead)
    if not case_area(services.overlay, lead, record).drawable:
        return None
    s = services.settings
    return render_case_map(
        **case_drawing(services, session, display_index, lead, record),
        basemap=BasemapConfig.from_setting(
            s.basemap, token=s.tianditu_token, frame=s.basemap_frame
        ),
        asset_base_url=asset_base_url,
        summary_open=summary_open,
    )
