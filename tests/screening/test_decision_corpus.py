"""The rulebook's memos change no decision: a varied corpus decided with warm memos (filled in
another order, across rulebook settings and calendars) equals the same corpus decided from
scratch, memos cleared and a new calendar for every lead."""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Iterator
from datetime import date
from typing import Any

from decision_corpus import SCHEDULE_2027, calendars, configs, corpus

import screening
from screening import WorkCalendar, decide
from screening.deadlines import make_deadline


def _memos() -> Iterator[Any]:
    """Every module-level memo (functools.lru_cache) of the rulebook."""
    for info in pkgutil.iter_modules(screening.__path__):
        module = importlib.import_module(f"screening.{info.name}")
        for value in vars(module).values():
            if callable(getattr(value, "cache_clear", None)):
                yield value


def _dump(decision: screening.Decision) -> str:
    return json.dumps(decision.to_dict(), ensure_ascii=False)


def test_the_rulebook_has_memos() -> None:
    assert len(list(_memos())) >= 5  # the clearing below clears something


def test_warm_memos_decide_as_from_scratch() -> None:
    items = list(corpus(400))
    cfgs, cals = configs(), calendars()
    for lead, spatial, c, k in reversed(items):
        decide(lead, spatial, cfgs[c], cals[k])
    warm = [_dump(decide(lead, spatial, cfgs[c], cals[k])) for lead, spatial, c, k in items]

    cold = []
    for lead, spatial, c, k in items:
        for memo in _memos():
            memo.cache_clear()
        calendar = calendars()[k]
        cold.append(_dump(decide(lead, spatial, configs()[c], calendar)))
    assert warm == cold


def test_each_calendar_counts_its_own_periods() -> None:
    """The same period on two calendars: the holiday one knows 2027's National Day."""
    weekends_only = WorkCalendar(official=False)
    with_2027 = WorkCalendar.from_mappings([SCHEDULE_2027])
    args: dict[str, Any] = {
        "name": "preliminary_check",
        "title": "初步核查",
        "start": date(2027, 9, 1),
        "start_label": "发现或者接到线索之日",
        "days": 30,
        "counting": "natural_days",
        "citation": "第十四条",
    }
    for _ in range(2):  # the second round is answered from the memos
        plain = make_deadline(weekends_only, **args)
        official = make_deadline(with_2027, **args)
        assert (plain.due, plain.provisional) == (date(2027, 10, 1), True)
        assert (official.due, official.provisional) == (date(2027, 10, 8), False)
        assert "国庆节" in official.explanation and "国庆节" not in plain.explanation
