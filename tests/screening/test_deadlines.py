"""R8: 第十四、二十三、二十七、四十九条, 第十七条 and the rules of Chinese law on periods."""

from __future__ import annotations

from datetime import date

import pytest
from rulebook_builders import in_league

from screening import LeadFacts, RulebookConfig, WorkCalendar, count_period, decide

A = pytest.param

# start, days, counting -> due, rolled_from, provisional, why
PERIOD_TABLE = [
    A(date(2026, 9, 5), 30, "natural_days", date(2026, 10, 8), date(2026, 10, 5), False,
      id="第十四条30日：末日逢国庆节，顺延至节后第一个工作日"),
    A(date(2026, 10, 29), 30, "natural_days", date(2026, 11, 30), date(2026, 11, 28), False,
      id="末日逢周六：顺延至周一"),
    A(date(2026, 9, 10), 30, "natural_days", date(2026, 10, 10), None, False,
      id="末日为调休上班的周六：不顺延"),
    A(date(2026, 3, 2), 1, "natural_days", date(2026, 3, 3), None, False,
      id="开始当日不计入：1日期间止于次日"),
    A(date(2026, 9, 28), 5, "working_days", date(2026, 10, 10), None, False,
      id="第二十三条5个工作日：跳过国庆假期，调休上班的周六计入"),
    A(date(2026, 9, 17), 5, "working_days", date(2026, 9, 23), None, False,
      id="调休上班的周日计入工作日"),
    A(date(2026, 12, 10), 30, "natural_days", date(2027, 1, 11), date(2027, 1, 9), True,
      id="末日在未载入日历的2027年：按周末推算并标为暂定"),
    A(date(2026, 12, 25), 5, "working_days", date(2027, 1, 1), None, True,
      id="工作日跨入2027年：元旦安排未知，只按周末推算并标为暂定"),
    A(date(2026, 11, 20), 30, "natural_days", date(2026, 12, 21), date(2026, 12, 20), False,
      id="全部落在已知年份：正式日期"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("start", "days", "counting", "due", "rolled_from", "provisional"), PERIOD_TABLE
)
def test_period_table(start, days, counting, due, rolled_from, provisional, calendar) -> None:
    p = count_period(calendar, start, days, counting)
    assert (p.due, p.rolled_from, p.provisional) == (due, rolled_from, provisional)


def test_holiday_roll_can_be_switched_off(calendar) -> None:
    p = count_period(calendar, date(2026, 9, 5), 30, "natural_days", roll=False)
    assert (p.due, p.rolled_from) == (date(2026, 10, 5), None)
    lead = LeadFacts(received_on=date(2026, 9, 5))
    d = decide(lead, in_league(), RulebookConfig(holiday_roll=False), calendar)
    assert d.deadlines[0].due == date(2026, 10, 5)


def test_appraisal_pauses_the_clock(config, calendar) -> None:
    # 第十七条第一款: 9 days of appraisal (03-10..03-18) do not count; 04-01 + 9 = 04-10 (Fri).
    lead = LeadFacts(received_on=date(2026, 3, 2),
                     appraisal_periods=[(date(2026, 3, 10), date(2026, 3, 18))])  # fmt: skip
    (check,) = decide(lead, in_league(), config, calendar).to_dict()["deadlines"]
    assert check["due"] == "2026-04-10"
    assert check["paused_days"] == 9
    assert "第十七条第一款" in check["citations"]
    without = decide(LeadFacts(received_on=date(2026, 3, 2)), in_league(), config, calendar)
    assert without.deadlines[0].due == date(2026, 4, 1)


def test_appraisal_before_the_start_does_not_count(calendar) -> None:
    p = count_period(calendar, date(2026, 3, 2), 30, "natural_days",
                     pauses=[(date(2026, 2, 1), date(2026, 3, 2))])  # fmt: skip
    assert p.paused_days == 0 and p.due == date(2026, 4, 1)


def test_preliminary_check_deadline_in_the_decision(config, calendar) -> None:
    d = decide(LeadFacts(received_on=date(2026, 9, 5)), in_league(), config, calendar).to_dict()
    (check,) = d["deadlines"]
    assert check == check | {
        "name": "preliminary_check", "due": "2026-10-08", "rolled_from": "2026-10-05",
        "citation": "第十四条", "provisional": False, "basis": "regulation",
        "counting": "natural_days",
    }  # fmt: skip
    assert {"民法典第二百零一条", "民法典第二百零三条", "第四十九条"} <= set(check["citations"])
    assert "国庆节" in check["explanation"]


def test_provisional_deadline_warns_naming_the_year(config, calendar) -> None:
    d = decide(LeadFacts(received_on=date(2026, 12, 10)), in_league(), config, calendar).to_dict()
    (check,) = d["deadlines"]
    assert check["provisional"] is True and check["unknown_years"] == [2027]
    (warning,) = [w for w in d["warnings"] if w["code"] == "provisional_deadline"]
    assert "2027 年" in warning["message"]


def test_loading_the_year_makes_it_final(config) -> None:
    schedule = {"year": 2027, "holidays": [{"start": "2027-01-01", "end": "2027-01-03"},
                                           "2027-01-11"], "workdays": []}  # fmt: skip
    cal = WorkCalendar.from_mappings([schedule])
    d = decide(LeadFacts(received_on=date(2026, 12, 10)), in_league(), config, cal)
    (check,) = d.deadlines
    assert check.provisional is False
    assert check.due == date(2027, 1, 12)  # 01-09 Sat → 01-11 is (in this test file) a holiday
    assert "provisional_deadline" not in {w.code for w in d.warnings}


def test_consultation_deadlines(config, calendar) -> None:
    lead = LeadFacts(consultation_notice_served_on=date(2026, 9, 28))
    deadlines = {d.name: d for d in decide(lead, in_league(), config, calendar).deadlines}
    assert deadlines["obligor_reply"].due == date(2026, 10, 10)  # 第二十三条: 5 个工作日
    assert deadlines["obligor_reply"].citation == "第二十三条"
    consultation = deadlines["consultation"]  # 第二十七条: 90 日, 2026-12-27 is a Sunday
    assert (consultation.due, consultation.period.rolled_from) == (
        date(2026, 12, 28),
        date(2026, 12, 27),
    )
    assert "原则上不超过 90 日" in consultation.explanation  # 第二十七条's own qualifier
    assert "原则上不超过 3 次" in consultation.explanation


def test_missing_received_on_is_warned_not_guessed(config, calendar) -> None:
    d = decide(LeadFacts(occurred_on=date(2026, 3, 2)), in_league(), config, calendar)
    assert d.deadlines == ()
    assert "received_on_missing" in {w.code for w in d.warnings}


def test_next_due_is_the_earliest(config, calendar) -> None:
    lead = LeadFacts(received_on=date(2026, 9, 5), consultation_notice_served_on=date(2026, 9, 1))
    d = decide(lead, in_league(), config, calendar)
    assert d.next_due == min(x.due for x in d.deadlines) == date(2026, 9, 8)
