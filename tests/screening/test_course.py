"""screening/course.py as pure rules (docs/rules.md §R10), on the official 2026 calendar:
第二十八条第二款 (one more round after a refused judicial confirmation), 第二十七条's approved
extra sessions and extended period, an appraisal still running (第十七条), and replay order."""

from __future__ import annotations

from datetime import date

import pytest

from screening.calendar import WorkCalendar
from screening.course import (
    CaseEvent,
    EventRefused,
    course_deadlines,
    find_duties,
    find_failures,
    replay,
)

CAL = WorkCalendar()
TODAY = date(2026, 11, 30)


def history(*items: tuple[str, str] | tuple[str, str, dict]) -> list[CaseEvent]:
    out = [CaseEvent(1, "filed", date(2026, 6, 10))]
    for n, item in enumerate(items, start=2):
        data = item[2] if len(item) == 3 else {}  # type: ignore[misc]
        out.append(CaseEvent(n, item[0], date.fromisoformat(item[1]), data))
    return out


def due(events: list[CaseEvent], name: str, today: date = TODAY) -> date | None:
    found = [d for d in course_deadlines(CAL, events, today) if d.name == name]
    assert found and found[0].deadline is not None
    return found[0].deadline.due


def test_one_more_round_after_a_refused_judicial_confirmation() -> None:
    """第二十八条第二款: 重新磋商一次；重新磋商不成的，应当及时提起诉讼."""
    agreed = history(("notice_served", "2026-07-03"), ("reply_received", "2026-07-06",
                     {"accepts": True}), ("consultation_session", "2026-07-20"),
                     ("agreement_signed", "2026-08-03"))
    assert find_duties(CAL, agreed, TODAY) == []  # agreed: neither failed nor past 90 days
    with pytest.raises(EventRefused) as refused:
        replay([*agreed, CaseEvent(9, "consultation_session", date(2026, 8, 10))], CAL)
    assert refused.value.rule == "第二十八条第一款"
    judged = [*agreed, CaseEvent(6, "judicial_confirmation_refused", date(2026, 9, 1)),
              CaseEvent(7, "consultation_session", date(2026, 9, 15))]
    replay(judged, CAL)
    with pytest.raises(EventRefused) as again:
        replay([*judged, CaseEvent(8, "consultation_session", date(2026, 9, 22))], CAL)
    assert again.value.rule == "第二十八条第二款"
    failed = [*judged, CaseEvent(8, "consultation_failed", date(2026, 9, 22), {"item": 7})]
    assert [(d.code, d.basis) for d in find_duties(CAL, failed, TODAY)] == [
        ("sue", "第二十九条第（七）项"), ("notify_procuratorate", "第二十九条第（七）项")
    ]


def test_approved_extra_sessions_and_an_extended_period() -> None:
    """第二十七条: 经负责人同意，可以适当增加会议次数; the period is 原则上 90 days."""
    base = history(("notice_served", "2026-07-03"), ("reply_received", "2026-07-06",
                   {"accepts": True}), ("consultation_session", "2026-07-10"),
                   ("consultation_session", "2026-07-17"), ("consultation_session", "2026-07-24"))
    with pytest.raises(EventRefused) as fourth:
        replay([*base, CaseEvent(7, "consultation_session", date(2026, 7, 31))], CAL)
    assert fourth.value.rule == "第二十七条"
    extended = [*base, CaseEvent(7, "consultation_session", date(2026, 7, 31),
                                 {"approved_sessions": 5, "extended_until": "2026-11-16"})]
    replay(extended, CAL)
    # Extended to Monday 2026-11-16: 136 natural days from 07-03, no roll needed.
    assert due(extended, "consultation", date(2026, 8, 1)) == date(2026, 11, 16)
    # Without the extension the period ended 2026-10-08 (10-01 rolled past 国庆).
    assert due(base, "consultation", date(2026, 8, 1)) == date(2026, 10, 8)
    assert [f.item for f in find_failures(CAL, extended, date(2026, 11, 16))] == []
    assert [f.item for f in find_failures(CAL, extended, date(2026, 11, 17))] == [6]


def test_a_running_appraisal_pauses_the_clock_until_today() -> None:
    """第十七条第一款: an appraisal not yet finished keeps the clock stopped."""
    events = history(("notice_served", "2026-07-03"), ("appraisal_started", "2026-07-06"))
    # Paused 07-06..07-08 (today): working days 07-09 (1), 10 (2), 13 (3), 14 (4), 15 (5)
    assert due(events, "reply", date(2026, 7, 8)) == date(2026, 7, 15)
    with pytest.raises(EventRefused) as twice:
        replay([*events, CaseEvent(4, "appraisal_started", date(2026, 7, 7))], CAL)
    assert twice.value.rule == "第十七条第一款"


def test_events_are_judged_in_date_order_and_voids_remove_them() -> None:
    late = history(("consultation_session", "2026-07-10"), ("notice_served", "2026-07-03"))
    replay(late, CAL)  # recorded out of order, but the notice came first
    voided = [*late, CaseEvent(9, "void", date(2026, 7, 11), {"voids": 3, "reason": "录入错误"})]
    with pytest.raises(EventRefused) as without_notice:
        replay(voided, CAL)
    assert without_notice.value.rule == "第二十三条"
