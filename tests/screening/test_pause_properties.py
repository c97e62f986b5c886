"""Appraisal pauses (第十七条第一款) that really overlap the period: the deadline moves by the
paused days, checked by counting days independently of count_period's loop."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from screening import WorkCalendar, count_period

CAL = WorkCalendar.load(None)
starts = st.dates(min_value=date(2005, 1, 1), max_value=date(2026, 6, 30))
days = st.integers(min_value=1, max_value=120)


@st.composite
def period_with_inner_pause(draw):  # type: ignore[no-untyped-def]
    """(start, n, pause) with the pause wholly inside the first n days after start."""
    start, n = draw(starts), draw(days)
    first = draw(st.integers(min_value=1, max_value=n))
    last = draw(st.integers(min_value=first, max_value=n))
    return start, n, (start + timedelta(days=first), start + timedelta(days=last))


def _between(start: date, end: date) -> list[date]:
    """The days after `start` up to and including `end`."""
    return [start + timedelta(days=i) for i in range(1, (end - start).days + 1)]


@given(period_with_inner_pause())
def test_natural_days_move_by_exactly_the_paused_days(case) -> None:  # type: ignore[no-untyped-def]
    start, n, (a, b) = case
    paused_days = (b - a).days + 1
    p = count_period(CAL, start, n, "natural_days", pauses=[(a, b)])
    plain = count_period(CAL, start, n, "natural_days")
    assert p.paused_days == paused_days
    last_day = p.rolled_from or p.due  # before rolling over a holiday
    assert last_day == (plain.rolled_from or plain.due) + timedelta(days=paused_days)
    assert last_day == start + timedelta(days=n + paused_days)
    counted = [d for d in _between(start, last_day) if not a <= d <= b]
    assert len(counted) == n


@given(period_with_inner_pause())
def test_working_days_skip_the_paused_working_days(case) -> None:  # type: ignore[no-untyped-def]
    start, n, (a, b) = case
    p = count_period(CAL, start, n, "working_days", pauses=[(a, b)])
    plain = count_period(CAL, start, n, "working_days")
    # n working days outside the pause, counted one by one with the calendar itself.
    counted = [d for d in _between(start, p.due) if CAL.is_workday(d) and not a <= d <= b]
    assert len(counted) == n
    assert CAL.is_workday(p.due) and not a <= p.due <= b
    paused_workdays = [d for d in _between(start, plain.due) if a <= d <= b and CAL.is_workday(d)]
    if paused_workdays:
        assert p.due > plain.due  # the pause held back at least one working day
    assert p.paused_days == (b - a).days + 1


@given(starts, days, st.integers(min_value=1, max_value=30))
def test_a_pause_after_the_deadline_changes_nothing(start, n, length) -> None:  # type: ignore[no-untyped-def]
    plain = count_period(CAL, start, n, "natural_days")
    after = plain.due + timedelta(days=1)
    p = count_period(CAL, start, n, "natural_days",
                     pauses=[(after, after + timedelta(days=length))])
    assert (p.due, p.paused_days) == (plain.due, 0)
