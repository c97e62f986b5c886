"""Case events on a lead (issue 11): recording them, and the course the rules compute from them.

Events are appended, never edited; a correction is a `void` event. The rules are pure functions
in `screening.course`; this module loads the stored events, asks the rules whether the new one
fits the course (409 naming the article otherwise), stores it with its audit entry and refreshes
the lead's `next_due` so the case list's due filters see the new deadlines.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from geo_service.auth import Principal
from geo_service.db.models import CaseEvent as CaseEventRow
from geo_service.db.models import Filing, Lead
from geo_service.errors import FieldError, InvalidInput, RuleConflict
from geo_service.layer_store import audit, now
from geo_service.services import Services
from screening.calendar import WorkCalendar
from screening.course import (
    EVENT_TEXT,
    CaseEvent,
    EventRefused,
    EventType,
    course_deadlines,
    find_duties,
    find_failures,
    replay,
)
from screening.lifecycle import Status


def as_rule_event(row: CaseEventRow) -> CaseEvent:
    return CaseEvent(row.id, row.type, row.on, dict(row.data or {}))


def rule_events(lead: Lead) -> list[CaseEvent]:
    return [as_rule_event(r) for r in lead.events]


def event_record(row: CaseEventRow, voided_by: dict[int, CaseEventRow]) -> dict[str, Any]:
    v = voided_by.get(row.id)
    return {
        "id": row.id,
        "type": row.type,
        "label": EVENT_TEXT.get(row.type, row.type),
        "on": row.on.isoformat(),
        "note": row.note,
        **(row.data or {}),
        "created_at": _iso(row.created_at),
        "created_by": row.created_by,
        "voided_by": v.id if v else None,
    }


def _iso(value: Any) -> str | None:
    from geo_service.leads import iso

    return iso(value)


def course_view(lead: Lead, calendar: WorkCalendar, today: date) -> dict[str, Any]:
    """`events` (oldest first), `deadlines` and `duties` for the lead detail."""
    rows = sorted(lead.events, key=lambda r: (r.on, r.id))
    voided_by = {
        int(r.data["voids"]): r for r in rows if r.type == EventType.VOID and r.data.get("voids")
    }
    events = rule_events(lead)
    return {
        "events": [event_record(r, voided_by) for r in rows],
        "course_deadlines": [d.to_dict() for d in course_deadlines(calendar, events, today)],
        "duties": [d.to_dict() for d in find_duties(calendar, events, today)],
        "failures": [
            {"item": f.item, "basis": f.basis, "since": f.since.isoformat()}
            for f in find_failures(calendar, events, today)
        ],
    }


def course_next_due(lead: Lead, calendar: WorkCalendar, today: date) -> date | None:
    """The earliest deadline of the course still to be met."""
    deadlines = course_deadlines(calendar, rule_events(lead), today)
    dues = [d.open_due for d in deadlines if d.open_due is not None]
    return min(dues) if dues else None


def add_filed_event(session: Session, lead: Lead, filing: Filing, actor: str) -> None:
    """The filing (立案) is the course's first event."""
    row = CaseEventRow(
        lead_id=lead.id,
        type=EventType.FILED,
        on=filing.decided_on or now().date(),
        note=None,
        data={"filing_id": filing.id},
        created_at=now(),
        created_by=actor,
    )
    session.add(row)
    session.flush()
    lead.events.append(row)


def _refused(exc: EventRefused) -> RuleConflict:
    return RuleConflict(
        f"{exc.message}（{exc.rule}）", [FieldError(exc.field, exc.message)], {"rule": exc.rule}
    )


def record_event(
    services: Services,
    lead_id: int,
    fields: dict[str, Any],
    principal: Principal,
    today: date,
) -> dict[str, Any]:
    """Append one event (or a `void`) after checking it against the course."""
    from geo_service.leads import current_record, get_lead, next_due

    with services.sessions() as session:
        lead = get_lead(session, lead_id, for_update=True)
        if lead.status != Status.FILED and fields["type"] != EventType.VOID:
            raise _refused(EventRefused(
                "第十五条第一款", "案件尚未立案（或已不启动、终止索赔程序），不能记录办理事件。"
            ))
        events = rule_events(lead)
        if fields["type"] == EventType.VOID:
            _check_void(events, fields)
        data = {k: v for k, v in fields.items() if k not in ("type", "on", "note")}
        if fields["type"] == EventType.SUPERVISION_STARTED and not data.get("supervisor"):
            data["supervisor"] = default_supervisor(lead)
        candidate = CaseEvent(max((e.id for e in events), default=0) + 1, fields["type"],
                              fields["on"], data)
        try:
            replay([*events, candidate], services.calendar)
        except EventRefused as exc:
            if fields["type"] == EventType.VOID:  # what still stands no longer holds together
                exc = EventRefused(exc.rule, "作废该事件后，其余记录不再成立：" + exc.message
                                   + "请先作废依赖它的事件。", "voids")
            raise _refused(exc) from None
        row = CaseEventRow(
            lead_id=lead.id,
            type=fields["type"],
            on=fields["on"],
            note=fields.get("note"),
            data=data,
            created_at=now(),
            created_by=principal.actor,
        )
        session.add(row)
        session.flush()
        lead.events.append(row)
        audit(
            session,
            principal.actor,
            "case_event_recorded",
            "lead",
            lead.id,
            {"event_id": row.id, "type": row.type, "on": row.on.isoformat(), **data},
        )
        record = current_record(lead)
        dues = [
            d for d in (
                next_due(record, lead.status) if record else None,
                course_next_due(lead, services.calendar, today),
            ) if d is not None
        ]
        lead.next_due = min(dues) if dues else None
        session.commit()
        session.refresh(row)
        return event_record(row, {})


def default_supervisor(lead: Lead) -> str | None:
    """A major case's supervising bodies as the screening decided them (第三十五条第二款)."""
    from geo_service.leads import current_record

    record = current_record(lead)
    bodies = (record.major_case.supervisor or []) if record else []
    names = [b.name for b in bodies if b.name]
    return "、".join(names) or None


def supervisor_of(lead: Lead, calendar: WorkCalendar) -> str | None:
    """Who supervises the case: the standing `supervision_started` event's supervisor."""
    state = replay(rule_events(lead), calendar)
    return str(state.supervision.data.get("supervisor") or "") if state.supervision else None


def supervised_by(session: Session, stmt: Any, calendar: WorkCalendar, text: str) -> list[int]:
    """The leads among `stmt` under supervision whose supervisor's name contains `text`."""
    from sqlalchemy.orm import selectinload

    filed = stmt.where(Lead.status == Status.FILED).options(selectinload(Lead.events))
    out = []
    for lead in session.scalars(filed):
        who = supervisor_of(lead, calendar)
        if who is not None and text.strip() in who:
            out.append(lead.id)
    return out


def _check_void(events: list[CaseEvent], fields: dict[str, Any]) -> None:
    target = fields.get("voids")
    by_id = {e.id: e for e in events}
    already = {e.data.get("voids") for e in events if e.type == EventType.VOID}
    if target not in by_id or by_id[target].type == EventType.VOID:
        raise InvalidInput(
            f"要作废的事件 {target} 不存在。",
            [FieldError("voids", "请填写本线索中一条已记录事件的编号（id）。")],
        )
    if by_id[target].type == EventType.FILED:
        raise InvalidInput(
            "立案事件由立案决定产生，不能作废。",
            [FieldError("voids", "立案记录有误的，请通过立案决定（第十五条）更正。")],
        )
    if target in already:
        raise InvalidInput(
            f"事件 {target} 已被作废。", [FieldError("voids", "同一事件只能作废一次。")]
        )


# --- Work lists (the case list page) ---------------------------------------------------------

WORK_LISTS: dict[str, str] = {
    "overdue": "已逾期",
    "due7": "7日内到期",
    "due15": "15日内到期",
    "must_sue": "磋商不成·应起诉（第三十条）",
    "awaiting_reply": "待答复（第二十三条）",
}


def course_work_lists(
    session: Session, stmt: Any, calendar: WorkCalendar, today: date
) -> dict[str, list[int]]:
    """The filed leads among `stmt` with a 第三十条 duty outstanding (`must_sue`) and those whose
    notice is served and whose reply is still within its time (`awaiting_reply`)."""
    from sqlalchemy.orm import selectinload

    filed = stmt.where(Lead.status == Status.FILED).options(selectinload(Lead.events))
    out: dict[str, list[int]] = {"must_sue": [], "awaiting_reply": []}
    for lead in session.scalars(filed):
        events = rule_events(lead)
        if find_duties(calendar, events, today):
            out["must_sue"].append(lead.id)
            continue
        state = replay(events, calendar)
        reply = next(
            (d for d in course_deadlines(calendar, events, today) if d.name == "reply"), None
        )
        if state.notice is not None and reply is not None and reply.open_due is not None:
            out["awaiting_reply"].append(lead.id)
    return out


def work_list_filter(stmt: Any, work: str | None, ids: dict[str, list[int]], today: date) -> Any:
    """The case list's work lists (issue 11): by the next deadline, or the course's lists."""
    if not work:
        return stmt
    if work not in WORK_LISTS:
        raise InvalidInput(f"未知的工作清单 {work!r}。",
                           [FieldError("work", "可用：" + "、".join(WORK_LISTS))])
    if work in ids:
        return stmt.where(Lead.id.in_(ids[work] or [-1]))
    if work == "overdue":
        return stmt.where(Lead.next_due < today)
    days = 7 if work == "due7" else 15
    return stmt.where(Lead.next_due >= today, Lead.next_due <= today + timedelta(days=days))
