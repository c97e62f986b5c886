"""Property tests (hypothesis): the calendar arithmetic and the share allocation."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from rulebook_builders import hit, province, spatial

from screening import RulebookConfig, WorkCalendar, count_period
from screening.jurisdiction import allocate, decide_jurisdiction

CAL = WorkCalendar.load(None)
CONFIG = RulebookConfig()
starts = st.dates(min_value=date(2005, 1, 1), max_value=date(2029, 12, 31))
days = st.integers(min_value=0, max_value=120)
counting = st.sampled_from(["natural_days", "working_days"])
pauses = st.lists(
    st.tuples(starts, st.integers(min_value=0, max_value=40)).map(
        lambda t: (t[0], t[0] + timedelta(days=t[1]))
    ),
    max_size=2,
)


@given(starts, days, counting, pauses)
def test_due_date_in_a_known_year_is_a_working_day(start, n, how, paused) -> None:
    p = count_period(CAL, start, n, how, pauses=paused)  # type: ignore[arg-type]
    if CAL.known_year(p.due.year) and (n > 0 or how == "natural_days"):
        assert CAL.is_workday(p.due)


@given(starts, days, counting, pauses)
def test_rolling_never_moves_a_date_backwards(start, n, how, paused) -> None:
    p = count_period(CAL, start, n, how, pauses=paused)  # type: ignore[arg-type]
    assert p.due >= start + timedelta(days=n)
    if p.rolled_from is not None:
        assert p.rolled_from < p.due
        assert p.rolled_from >= start + timedelta(days=n)


@given(starts, days, counting)
def test_provisional_exactly_when_an_unknown_year_is_involved(start, n, how) -> None:
    p = count_period(CAL, start, n, how)  # type: ignore[arg-type]
    if how == "natural_days":
        first = p.rolled_from or p.due  # only the last day (and any roll) consults the calendar
    else:
        first = start + timedelta(days=1) if n else p.due
    involved = range(first.year, p.due.year + 1) if (n or how == "natural_days") else range(0)
    assert p.provisional == any(not CAL.known_year(y) for y in involved)
    assert set(p.unknown_years) == {y for y in involved if not CAL.known_year(y)}


league_codes = st.sampled_from(["150100", "150200", "150400", "150700", "152200", "152900"])
shares = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
league_hits = st.lists(st.tuples(league_codes, shares), max_size=8)


@given(league_hits, st.randoms(use_true_random=False))
def test_shares_sum_to_at_most_one_and_ignore_feature_order(pairs, rnd) -> None:
    hits = [hit("league", c, s, fid=i) for i, (c, s) in enumerate(pairs)]
    shuffled = list(hits)
    rnd.shuffle(shuffled)
    a, b = allocate(hits, "league"), allocate(shuffled, "league")
    assert a == b
    assert sum(u.share or 0.0 for u in a.units) <= 1 + CONFIG.share_epsilon
    assert len({u.code for u in a.units}) == len(a.units)


@settings(max_examples=50)
@given(
    league_hits, st.sampled_from(["point", "line", "polygon"]), st.randoms(use_true_random=False)
)
def test_jurisdiction_does_not_depend_on_feature_order(pairs, footprint, rnd) -> None:
    hits = [hit("league", c, s, fid=i) for i, (c, s) in enumerate(pairs)]
    shuffled = list(hits)
    rnd.shuffle(shuffled)
    one = decide_jurisdiction(spatial(*hits, province(), footprint=footprint), CONFIG, False)
    two = decide_jurisdiction(spatial(*shuffled, province(), footprint=footprint), CONFIG, False)
    assert one.to_dict() == two.to_dict()
    listed = one.to_dict()["leagues"] + [
        s for s in one.to_dict()["ignored_slivers"] if s["kind"] == "league"
    ]
    assert sum(u["share"] or 0.0 for u in listed) <= 1 + CONFIG.share_epsilon
