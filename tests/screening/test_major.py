"""第三十六条 (major cases), 第三十五条第二款 (supervision), 第三十八条 (reporting) — R7."""

from __future__ import annotations

from datetime import date

import pytest
from rulebook_builders import in_league, league, province, sensitive, spatial

from screening import LeadFacts, decide

A = pytest.param

MAJOR_TABLE = [
    A(LeadFacts(central_inspection_important=True), True, ["central_inspection"],
      "第三十六条第（一）项", id="中央生态环境保护督察发现的重要问题"),
    A(LeadFacts(incident_grade="general"), False, [], None, id="一般突发环境事件：不是重大案件"),
    A(LeadFacts(incident_grade="larger"), True, ["emergency_grade"], "第三十六条第（二）项",
      id="较大突发环境事件：重大案件"),
    A(LeadFacts(incident_grade="especially_major"), True, ["emergency_grade"],
      "第三十六条第（二）项", id="特别重大突发环境事件：重大案件"),
    A(LeadFacts(eco_destruction_grade="larger"), False, [], None,
      id="较大生态破坏事件：不是重大案件"),
    A(LeadFacts(eco_destruction_grade="major"), True, ["eco_destruction_grade"],
      "第三十六条第（三）项", id="重大生态破坏事件：重大案件"),
    A(LeadFacts(nationally_supervised=True), True, ["national_supervision"],
      "第三十六条第（四）项", id="国家督办的重要生态环境问题"),
    A(LeadFacts(major_impact=True), True, ["major_impact"], "第三十六条第（五）项",
      id="其他在全国或者本行政区域有重大影响"),
    A(LeadFacts(), False, [], None, id="无任何情形：不是重大案件"),
]  # fmt: skip


@pytest.mark.parametrize(("lead", "is_major", "grounds", "citation"), MAJOR_TABLE)
def test_major_table(lead, is_major, grounds, citation, config, calendar) -> None:
    m = decide(lead, in_league("150700"), config, calendar).to_dict()["major_case"]
    assert m["is_major"] is is_major
    assert m["grounds"] == grounds
    if citation:
        assert citation in m["citations"]
    else:
        assert m["citations"] == []


def test_league_major_case_is_supervised_by_region_counterparts(config, calendar) -> None:
    facts = in_league("150700", sensitive("nature_reserve", "某保护区", 0.5))
    lead = LeadFacts(case_type="illegal_mining", incident_grade="major")
    m = decide(lead, facts, config, calendar).to_dict()["major_case"]
    assert m["supervisor"] == [
        {"code": "natural_resources", "name": "自治区自然资源厅"},
        {"code": "forestry_grassland", "name": "自治区林业和草原局"},
    ]
    assert "第三十五条第二款" in m["citations"]
    assert m["reporting"]["progress_every_working_days"] == 30
    assert m["reporting"]["completion_within_working_days"] == 20
    assert "第三十八条" in m["citations"]


def test_region_major_case_has_no_league_supervisor(config, calendar) -> None:
    facts = spatial(league("150700", 0.5), league("150400", 0.5), province())
    lead = LeadFacts(case_type="pollution_discharge", major_impact=True)
    lead = LeadFacts(case_type="pollution_discharge", major_impact=True,
                     received_on=date(2026, 3, 2), case_closed_on=date(2026, 9, 28))  # fmt: skip
    out = decide(lead, facts, config, calendar).to_dict()
    m = out["major_case"]
    assert m["is_major"] and m["supervisor"] is None
    # 第三十八条 is the 承办单位 reporting to its 督办单位 (第三十五条第二款: region departments
    # supervising a league's case); a case the region handles itself has no such unit.
    assert m["reporting"] is None
    assert "第三十八条" not in m["citations"]
    assert [d["name"] for d in out["deadlines"]] == ["preliminary_check"]


def test_national_impact_is_also_a_major_ground(config, calendar) -> None:
    m = decide(LeadFacts(national_impact=True), in_league(), config, calendar).major
    assert m.grounds == ("major_impact",)


def test_unknown_grade_is_warned_not_guessed(config, calendar) -> None:
    d = decide(LeadFacts(incident_grade="huge"), in_league(), config, calendar).to_dict()
    assert d["major_case"]["is_major"] is False
    assert "unknown_grade" in {w["code"] for w in d["warnings"]}


def test_major_case_reporting_deadlines(config, calendar) -> None:
    lead = LeadFacts(
        case_type="pollution_discharge", incident_grade="larger", received_on=date(2026, 3, 2),
        case_closed_on=date(2026, 9, 28),
    )  # fmt: skip
    out = decide(lead, in_league(), config, calendar).to_dict()
    deadlines = {d["name"]: d for d in out["deadlines"]}
    progress = deadlines["progress_report"]
    assert progress["counting"] == "working_days" and progress["days"] == 30
    assert progress["basis"] == "default"  # no supervision start given: counted from receipt
    assert progress["citation"] == "第三十八条第一款"
    # 20 working days from 2026-09-28: 9-29, 9-30 (2); 10-01..07 off; 10-08, 10-09, the adjusted
    # working Saturday 10-10 (5); then 15 weekdays 10-12..10-30.
    done = deadlines["completion_report"]
    assert done["due"] == "2026-10-30"
    assert done["citation"] == "第三十八条第三款"


def test_supervision_start_makes_progress_deadline_regulation_based(config, calendar) -> None:
    lead = LeadFacts(major_impact=True, received_on=date(2026, 3, 2),
                     supervision_started_on=date(2026, 4, 1))  # fmt: skip
    (progress,) = [d for d in decide(lead, in_league(), config, calendar).deadlines
                   if d.name == "progress_report"]  # fmt: skip
    assert progress.basis == "regulation" and progress.period.start == date(2026, 4, 1)
