"""The case after filing as pure rules (docs/rules.md §R10): which event is allowed in which
state, the deadlines the events start, the talks deemed failed (第二十九条) and the duties that
follow (第三十条).

Events are facts with a date; the history is replayed in date order, so an event recorded late
(or a correction that voids one) is judged against the course as it really ran.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from screening.calendar import WorkCalendar
from screening.deadlines import Deadline, make_deadline


class EventType(StrEnum):
    FILED = "filed"  # 立案 (第十五条第一款), recorded by the filing
    INVESTIGATION_STARTED = "investigation_started"  # 第十六条
    APPRAISAL_STARTED = "appraisal_started"  # 第十七条: not counted in the time limits
    APPRAISAL_FINISHED = "appraisal_finished"
    NOTICE_SERVED = "notice_served"  # 磋商告知书送达 (第二十二条、第二十三条)
    REPLY_RECEIVED = "reply_received"  # 答复意见 (第二十三条), `accepts`
    CONSULTATION_SESSION = "consultation_session"  # 磋商会议 (第二十五至二十七条)
    AGREEMENT_SIGNED = "agreement_signed"  # 赔偿协议 (第二十八条第一款)
    JUDICIAL_CONFIRMATION_REFUSED = "judicial_confirmation_refused"  # 第二十八条第二款
    CONSULTATION_FAILED = "consultation_failed"  # 第二十九条, `item`
    LAWSUIT_FILED = "lawsuit_filed"  # 第三十条
    PROCURATORATE_NOTIFIED = "procuratorate_notified"  # 第三十条 书面告知同级检察机关
    SUPERVISION_STARTED = "supervision_started"  # 督办 (第三十五至三十八条)
    PROGRESS_REPORTED = "progress_reported"  # 第三十八条
    CLOSED = "closed"
    VOID = "void"


EVENT_TEXT: dict[str, str] = {
    EventType.FILED: "立案",
    EventType.INVESTIGATION_STARTED: "开展损害调查",
    EventType.APPRAISAL_STARTED: "鉴定评估开始",
    EventType.APPRAISAL_FINISHED: "鉴定评估结束",
    EventType.NOTICE_SERVED: "送达磋商告知书",
    EventType.REPLY_RECEIVED: "收到答复意见",
    EventType.CONSULTATION_SESSION: "召开磋商会议",
    EventType.AGREEMENT_SIGNED: "签署赔偿协议",
    EventType.JUDICIAL_CONFIRMATION_REFUSED: "未予司法确认",
    EventType.CONSULTATION_FAILED: "磋商不成",
    EventType.LAWSUIT_FILED: "提起诉讼",
    EventType.PROCURATORATE_NOTIFIED: "书面告知检察机关",
    EventType.SUPERVISION_STARTED: "开始督办",
    EventType.PROGRESS_REPORTED: "报告办理进展",
    EventType.CLOSED: "结案",
    EventType.VOID: "作废更正",
}

# 第二十九条第（一）至（七）项.
FAILED_ITEMS: dict[int, str] = {
    1: "赔偿义务人明确表示拒绝磋商或者未在磋商书面通知规定时间内提交答复意见",
    2: "赔偿义务人无故不参与磋商会议或者退出磋商会议",
    3: "已召开磋商会议 3 次，认为磋商难以达成一致",
    4: "除公告送达以外的方式均无法向赔偿义务人送达磋商告知书",
    5: "赔偿义务人因处于被羁押等状态，无法开展磋商",
    6: "超过磋商期限，仍未达成赔偿协议",
    7: "认为磋商不成的其他情形",
}
ITEM_NUMERALS = {1: "一", 2: "二", 3: "三", 4: "四", 5: "五", 6: "六", 7: "七"}

REPLY_DAYS = 5  # 第二十三条, working days
CONSULTATION_DAYS = 90  # 第二十七条, natural days (第四十九条)
SESSION_LIMIT = 3  # 第二十七条
REPORT_WORKING_DAYS = 30  # 第三十八条第一款
COMPLETION_WORKING_DAYS = 20  # 第三十八条第三款


def item_citation(item: int) -> str:
    return f"第二十九条第（{ITEM_NUMERALS[item]}）项"


@dataclass(frozen=True, slots=True)
class CaseEvent:
    """One recorded event, as the rules see it."""

    id: int
    type: str
    on: date
    data: dict[str, Any] = field(default_factory=dict)

    def label(self) -> str:
        return EVENT_TEXT.get(self.type, self.type)


class EventRefused(Exception):
    """The course does not allow the event (409); `rule` names the article."""

    def __init__(self, rule: str, message: str, field: str = "type") -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.field = field


@dataclass(slots=True)
class CourseState:
    """Where a filed case stands after replaying its events."""

    filed_on: date | None = None
    notice: CaseEvent | None = None
    reply: CaseEvent | None = None
    sessions: list[CaseEvent] = field(default_factory=list)
    session_cap: int = SESSION_LIMIT
    extended_until: date | None = None
    agreement: CaseEvent | None = None
    judicial_refused: CaseEvent | None = None
    sessions_after_refusal: int = 0
    failed: list[CaseEvent] = field(default_factory=list)  # consultation_failed events
    lawsuit: CaseEvent | None = None
    procuratorate: CaseEvent | None = None
    supervision: CaseEvent | None = None
    reports: list[CaseEvent] = field(default_factory=list)
    appraisal_open: CaseEvent | None = None
    pauses: list[tuple[date, date]] = field(default_factory=list)
    closed: CaseEvent | None = None
    calendar: WorkCalendar | None = None


def active_events(events: Iterable[CaseEvent]) -> list[CaseEvent]:
    """The events that stand: voids and what they void removed, in date order (then id)."""
    events = list(events)
    voided = {e.data.get("voids") for e in events if e.type == EventType.VOID}
    return sorted(
        (e for e in events if e.type != EventType.VOID and e.id not in voided),
        key=lambda e: (e.on, e.type != EventType.FILED, e.id),
    )


def check_event(state: CourseState, event: CaseEvent) -> None:
    """Whether `event` may follow the course so far (docs/rules.md §R10.1); raises
    EventRefused naming the article."""
    t = event.type
    if t == EventType.FILED:
        return
    if state.filed_on is None:
        raise EventRefused("第十五条第一款", "案件尚未立案，立案后方可记录办理事件。")
    if event.on < state.filed_on:
        raise EventRefused(
            "第十五条第一款",
            f"事件日期 {event.on} 早于立案决定日期 {state.filed_on}。",
            "on",
        )
    if state.closed is not None:
        raise EventRefused(
            "第三十八条第三款", f"案件已于 {state.closed.on} 结案，结案后不能再记录事件；"
            "如结案记录有误，请先作废（void）该记录。"
        )
    consult = {
        EventType.REPLY_RECEIVED, EventType.CONSULTATION_SESSION, EventType.AGREEMENT_SIGNED,
    }
    if t in consult and state.notice is None:
        raise EventRefused(
            "第二十三条", "磋商告知书送达之前，不能记录答复意见、磋商会议或赔偿协议。"
        )
    if t == EventType.NOTICE_SERVED and state.notice is not None:
        raise EventRefused(
            "第二十三条", f"磋商告知书已于 {state.notice.on} 送达；如记录有误，请先作废该记录。"
        )
    if t == EventType.REPLY_RECEIVED and state.reply is not None:
        raise EventRefused("第二十三条", f"答复意见已于 {state.reply.on} 记录。")
    if t == EventType.CONSULTATION_SESSION:
        _check_session(state, event)
    if t == EventType.AGREEMENT_SIGNED and state.agreement is not None and (
        state.judicial_refused is None or state.judicial_refused.on < state.agreement.on
    ):
        raise EventRefused("第二十八条第一款", f"赔偿协议已于 {state.agreement.on} 签署。")
    if t == EventType.AGREEMENT_SIGNED and not state.sessions:
        raise EventRefused("第二十八条第一款", "尚未召开磋商会议，不能记录经磋商达成的赔偿协议。")
    if t == EventType.JUDICIAL_CONFIRMATION_REFUSED and (
        state.agreement is None or state.judicial_refused is not None
    ):
        raise EventRefused(
            "第二十八条第二款",
            "只有已签署、申请司法确认的赔偿协议才可能未予司法确认（且只记录一次）。",
        )
    if t == EventType.CONSULTATION_FAILED:
        _check_failed(state, event)
    court = (EventType.LAWSUIT_FILED, EventType.PROCURATORATE_NOTIFIED)
    if t in court and not state.failed and not _deemed_failed_by(state, event.on):
        raise EventRefused(
            "第三十条", "磋商尚未不成（第二十九条），不能记录提起诉讼或书面告知检察机关；"
            "请先记录磋商不成（consultation_failed）及其情形。"
        )
    if t == EventType.PROGRESS_REPORTED and state.supervision is None:
        raise EventRefused("第三十八条第一款", "案件未被督办，没有向督办单位报告进展的义务。")
    if t == EventType.SUPERVISION_STARTED and state.supervision is not None:
        raise EventRefused("第三十八条第一款", f"督办已于 {state.supervision.on} 开始。")
    if t == EventType.APPRAISAL_STARTED and state.appraisal_open is not None:
        raise EventRefused(
            "第十七条第一款", f"鉴定评估已于 {state.appraisal_open.on} 开始，尚未结束。"
        )
    if t == EventType.APPRAISAL_FINISHED and state.appraisal_open is None:
        raise EventRefused("第十七条第一款", "没有进行中的鉴定评估，不能记录鉴定评估结束。")


def _check_session(state: CourseState, event: CaseEvent) -> None:
    if state.agreement is not None and state.judicial_refused is None:
        raise EventRefused("第二十八条第一款", "已签署赔偿协议，磋商已结束。")
    if state.judicial_refused is not None:
        if state.sessions_after_refusal >= 1:
            raise EventRefused(
                "第二十八条第二款",
                "未予司法确认后只重新磋商一次；重新磋商不成的，应当及时提起诉讼。",
            )
        return
    cap = max(state.session_cap, int(event.data.get("approved_sessions") or 0))
    if len(state.sessions) >= cap:
        raise EventRefused(
            "第二十七条",
            f"已召开磋商会议 {len(state.sessions)} 次，磋商次数原则上不超过 {cap} 次；"
            "案情重大复杂、经负责人同意增加会议次数的，"
            "请在本次会议记录 approved_sessions（批准的总次数）。",
        )


def _check_failed(state: CourseState, event: CaseEvent) -> None:
    item = event.data.get("item")
    if item == 3 and len(state.sessions) < SESSION_LIMIT:
        raise EventRefused(
            item_citation(3), f"只召开了 {len(state.sessions)} 次磋商会议，"
            "第（三）项须已召开磋商会议 3 次。", "item"
        )
    if item in (1, 2, 3, 6) and state.notice is None:
        raise EventRefused(item_citation(item), "磋商告知书尚未送达，不适用该项。", "item")
    if state.agreement is not None and state.judicial_refused is None:
        raise EventRefused("第二十八条第一款", "已签署赔偿协议，不能再记录磋商不成。")


def replay(events: Sequence[CaseEvent], calendar: WorkCalendar) -> CourseState:
    """Fold the standing events through the rules (docs/rules.md §R10.1); the first event the
    course refuses raises EventRefused."""
    state = CourseState(calendar=calendar)
    standing = active_events(events)
    filed = [e.on for e in standing if e.type == EventType.FILED]
    state.filed_on = min(filed) if filed else None
    for e in standing:
        check_event(state, e)
        _apply(state, e)
    return state


def _apply(state: CourseState, e: CaseEvent) -> None:
    t = e.type
    if t == EventType.FILED:
        state.filed_on = e.on
    elif t == EventType.NOTICE_SERVED:
        state.notice = e
    elif t == EventType.REPLY_RECEIVED:
        state.reply = e
    elif t == EventType.CONSULTATION_SESSION:
        state.sessions.append(e)
        if state.judicial_refused is not None:
            state.sessions_after_refusal += 1
        state.session_cap = max(state.session_cap, int(e.data.get("approved_sessions") or 0))
        if e.data.get("extended_until"):
            state.extended_until = date.fromisoformat(str(e.data["extended_until"]))
    elif t == EventType.AGREEMENT_SIGNED:
        state.agreement = e
    elif t == EventType.JUDICIAL_CONFIRMATION_REFUSED:
        state.judicial_refused = e
    elif t == EventType.CONSULTATION_FAILED:
        state.failed.append(e)
    elif t == EventType.LAWSUIT_FILED:
        state.lawsuit = state.lawsuit or e
    elif t == EventType.PROCURATORATE_NOTIFIED:
        state.procuratorate = state.procuratorate or e
    elif t == EventType.SUPERVISION_STARTED:
        state.supervision = e
    elif t == EventType.PROGRESS_REPORTED:
        state.reports.append(e)
    elif t == EventType.APPRAISAL_STARTED:
        state.appraisal_open = e
    elif t == EventType.APPRAISAL_FINISHED and state.appraisal_open is not None:
        state.pauses.append((state.appraisal_open.on, e.on))
        state.appraisal_open = None
    elif t == EventType.CLOSED:
        state.closed = e


# --- Deadlines -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CourseDeadline:
    """A deadline the events started: which event, and whether the step was done."""

    deadline: Deadline | None  # None: shown, not computed (第三十条第二款)
    name: str
    title: str
    citation: str
    start_event: CaseEvent
    done_on: date | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        base: dict[str, Any] = {
            "name": self.name,
            "title": self.title,
            "due": None,
            "rolled_from": None,
            "provisional": False,
            "citation": self.citation,
            "explanation": self.note,
        }
        if self.deadline is not None:
            base = {**self.deadline.to_dict(), "title": self.title, "citation": self.citation}
        return {
            **base,
            "start_event": self.start_event.type,
            "start_event_id": self.start_event.id,
            "start_on": self.start_event.on.isoformat(),
            "done_on": self.done_on.isoformat() if self.done_on else None,
        }

    @property
    def open_due(self) -> date | None:
        """The due date while the step is still to do."""
        if self.deadline is None or self.done_on is not None:
            return None
        return self.deadline.due


def _pauses(state: CourseState, today: date) -> list[tuple[date, date]]:
    out = list(state.pauses)
    if state.appraisal_open is not None:
        out.append((state.appraisal_open.on, max(today, state.appraisal_open.on)))
    return out


def reply_deadline(calendar: WorkCalendar, state: CourseState, today: date) -> Deadline | None:
    """第二十三条: the reply within 5 working days of receiving the notice (docs/rules.md
    §R10.2)."""
    if state.notice is None:
        return None
    return make_deadline(
        calendar, name="reply", title="赔偿义务人答复期限", start=state.notice.on,
        start_label="磋商告知书送达之日", days=REPLY_DAYS, counting="working_days",
        citation="第二十三条", pauses=_pauses(state, today),
    )


def consultation_deadline(
    calendar: WorkCalendar, state: CourseState, today: date
) -> Deadline | None:
    """第二十七条: talks within 90 days of serving the notice, or the approved later date
    (docs/rules.md §R10.2)."""
    if state.notice is None:
        return None
    deadline = make_deadline(
        calendar, name="consultation", title="磋商期限", start=state.notice.on,
        start_label="磋商告知书送达之日", days=CONSULTATION_DAYS, counting="natural_days",
        citation="第二十七条", pauses=_pauses(state, today),
    )
    if state.extended_until and state.extended_until > deadline.due:
        days = (state.extended_until - state.notice.on).days
        deadline = make_deadline(
            calendar, name="consultation", title="磋商期限（经批准延长）", start=state.notice.on,
            start_label="磋商告知书送达之日", days=days, counting="natural_days",
            citation="第二十七条", pauses=_pauses(state, today),
            note="案情重大复杂，经负责人同意延长",
        )
    return deadline


def progress_deadline(
    calendar: WorkCalendar, state: CourseState, today: date
) -> tuple[Deadline, CaseEvent] | None:
    """第三十八条第一款: the next progress report, 30 working days after supervision started or
    the last report, or the interval the supervision letter sets (docs/rules.md §R10.3)."""
    if state.supervision is None or state.closed is not None:
        return None
    last = state.reports[-1] if state.reports else state.supervision
    interval = state.supervision.data.get("report_interval_days")
    if interval:
        d = make_deadline(
            calendar, name="progress_report", title="向督办单位报告进展", start=last.on,
            start_label=last.label() + "之日", days=int(interval), counting="natural_days",
            citation="第三十八条第一款", note="督办函确定的报告时限",
        )
    else:
        d = make_deadline(
            calendar, name="progress_report", title="向督办单位报告进展", start=last.on,
            start_label=last.label() + "之日", days=REPORT_WORKING_DAYS,
            counting="working_days", citation="第三十八条第一款",
        )
    return d, last


def completion_deadline(calendar: WorkCalendar, state: CourseState) -> Deadline | None:
    """第三十八条第三款: the written report within 20 working days of closing a supervised
    case (docs/rules.md §R10.3)."""
    if state.supervision is None or state.closed is None:
        return None
    return make_deadline(
        calendar, name="completion_report", title="结案后书面报告督办单位",
        start=state.closed.on, start_label="结案之日", days=COMPLETION_WORKING_DAYS,
        counting="working_days", citation="第三十八条第三款",
    )


def course_deadlines(
    calendar: WorkCalendar, events: Sequence[CaseEvent], today: date
) -> list[CourseDeadline]:
    """Every deadline the events have started, recomputed from them (docs/rules.md §R10.2)."""
    state = replay(events, calendar)
    out: list[CourseDeadline] = []
    reply = reply_deadline(calendar, state, today)
    ends = [e.on for e in (state.agreement, state.lawsuit, *state.failed) if e is not None]
    ended = min(ends) if ends else None  # talks over: agreed, failed, or gone to court
    if reply is not None and state.notice is not None:
        out.append(CourseDeadline(
            reply, "reply", reply.title, "第二十三条", state.notice,
            state.reply.on if state.reply else ended,
        ))
    talks = consultation_deadline(calendar, state, today)
    if talks is not None and state.notice is not None:
        out.append(CourseDeadline(
            talks, "consultation", talks.title, "第二十七条", state.notice, ended,
            note=f"磋商次数原则上不超过 {state.session_cap} 次，已召开 {len(state.sessions)} 次",
        ))
    progress = progress_deadline(calendar, state, today)
    if progress is not None:
        d, start = progress
        out.append(CourseDeadline(d, "progress_report", d.title, "第三十八条第一款", start))
    completion = completion_deadline(calendar, state)
    if completion is not None and state.closed is not None:
        done = next((r.on for r in state.reports if r.on >= state.closed.on), None)
        out.append(CourseDeadline(
            completion, "completion_report", completion.title, "第三十八条第三款",
            state.closed, done,
        ))
    if state.lawsuit is not None:
        out.append(CourseDeadline(
            None, "court_notice", "人民法院告知有关部门", "第三十条第二款", state.lawsuit,
            note="人民法院受理环境民事公益诉讼案件后，应当在 10 日内告知负有监督管理职责的部门；"
            "该期限由法院掌握，此处仅作提示，不计算。",
        ))
    return out


# --- Deemed failed talks and the duties that follow ------------------------------------------


@dataclass(frozen=True, slots=True)
class Failure:
    item: int
    since: date

    @property
    def basis(self) -> str:
        return item_citation(self.item)


def _deemed_failed_by(state: CourseState, on: date) -> bool:
    return bool(_detected(state, state.calendar or WorkCalendar(), on))


def _detected(state: CourseState, calendar: WorkCalendar, today: date) -> list[Failure]:
    out: list[Failure] = []
    if state.notice is None or (state.agreement is not None and state.judicial_refused is None):
        return out
    pauses = _pauses(state, today)
    if state.reply is not None and state.reply.data.get("accepts") is False:
        out.append(Failure(1, state.reply.on))
    elif state.reply is None:
        due = make_deadline(
            calendar, name="reply", title="", start=state.notice.on, start_label="",
            days=REPLY_DAYS, counting="working_days", citation="第二十三条", pauses=pauses,
        ).due
        if today > due:
            out.append(Failure(1, due + timedelta(days=1)))
    talks = consultation_deadline(calendar, state, today)
    if talks is not None and today > talks.due and state.agreement is None:
        out.append(Failure(6, talks.due + timedelta(days=1)))
    return out


def find_failures(
    calendar: WorkCalendar, events: Sequence[CaseEvent], today: date
) -> list[Failure]:
    """第二十九条: talks deemed failed — detected from the events as of `today` (items 一, 六)
    or recorded by the officer (any item; 三 only after three sessions), earliest first
    (docs/rules.md §R10.4)."""
    state = replay(events, calendar)
    recorded = [Failure(int(e.data["item"]), e.on) for e in state.failed if e.data.get("item")]
    return sorted(recorded + _detected(state, calendar, today), key=lambda f: (f.since, f.item))


@dataclass(frozen=True, slots=True)
class Duty:
    code: str  # "sue" | "notify_procuratorate"
    since: date
    basis: str
    citation: str = "第三十条"

    @property
    def title(self) -> str:
        return "向有管辖权的人民法院提起诉讼" if self.code == "sue" else "书面告知同级检察机关"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title,
            "citation": self.citation,
            "since": self.since.isoformat(),
            "basis": self.basis,
        }


def find_duties(calendar: WorkCalendar, events: Sequence[CaseEvent], today: date) -> list[Duty]:
    """第三十条: once talks have failed, sue and notify the procuratorate in writing; each duty
    stands until its event is recorded (docs/rules.md §R10.4)."""
    state = replay(events, calendar)
    if state.closed is not None:
        return []
    failures = find_failures(calendar, events, today)
    if not failures:
        return []
    first = failures[0]
    out = []
    if state.lawsuit is None:
        out.append(Duty("sue", first.since, first.basis))
    if state.procuratorate is None:
        out.append(Duty("notify_procuratorate", first.since, first.basis))
    return out
