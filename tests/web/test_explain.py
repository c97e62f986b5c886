"""The decision explained: unknowns stay unknown, every section cites an article."""

from __future__ import annotations

import pytest
from web_helpers import sample_decision

from geo_service.web.explain import explain, other_warnings


def section(decision: dict, key: str):  # type: ignore[no-untyped-def]
    return next(s for s in explain(decision) if s.key == key)


@pytest.mark.parametrize(
    ("minor", "expected"),
    [
        ({"is_minor": True, "basis": ["amount_within_3000"], "override": True,
          "override_reasons": ["nature_reserve"], "claim_required": True}, "应当启动索赔"),
        ({"is_minor": True, "basis": ["amount_within_3000"], "override": False,
          "override_reasons": [], "claim_required": False}, "可以不启动索赔"),
        ({"is_minor": True, "basis": ["amount_within_3000"], "override": None,
          "override_reasons": [], "override_unknown": ["red_line"], "claim_required": None},
         "尚无法判断"),
        ({"is_minor": False, "basis": [], "override": False, "claim_required": None},
         "不属于显著轻微情形"),
        ({"is_minor": None, "basis": [], "override": None, "claim_required": None},
         "未能认定"),
    ],
    ids=["override", "minor", "override-unknown", "not-minor", "unknown"],
)
def test_minor_conclusions(minor: dict, expected: str) -> None:
    s = section(sample_decision(minor=minor), "minor")
    assert expected in s.conclusion
    assert "第四十八条" in s.citations or "第十五条第五款" in s.citations


def test_an_unknown_sensitive_status_is_never_reported_as_not_touching() -> None:
    d = sample_decision(sensitive_area_lead=None, sensitive_areas={
        "red_line": [], "nature_reserve": [], "key_function_zone": [], "nearby": [],
        "unknown_kinds": ["red_line", "nature_reserve"], "citations": []})
    s = section(d, "sensitive_areas")
    assert "无法判断" in s.conclusion and "未涉及" not in s.conclusion.replace("“未涉及”", "")
    assert any("生态保护红线、自然保护地" in f for f in s.facts)
    assert s.citations == ["第十二条第一款第（五）项"]


def test_rulebook_explanations_and_extra_sections_are_kept() -> None:
    d = sample_decision(explanations=[
        {"section": "jurisdiction", "citations": ["第五条第二款"], "text": "由呼伦贝尔市管辖。"},
        {"section": "obligor", "title": "赔偿义务人", "citations": ["第十五条第五款第（二）项"],
         "text": "二年内无既往损害记录。"},
    ])
    sections = explain(d)
    assert section(d, "jurisdiction").explanation == "由呼伦贝尔市管辖。"
    extra = sections[-1]
    assert extra.key == "obligor" and extra.citations == ["第十五条第五款第（二）项"]
    assert [s.title[0] for s in sections[:3]] == ["一", "二", "三"]


def test_warnings_not_claimed_by_a_section_are_still_shown() -> None:
    d = sample_decision(warnings=[{"code": "near_boundary", "message": "近边界"},
                                 {"code": "something_new", "message": "新的提示"}])
    sections = explain(d)
    assert "近边界" in section(d, "jurisdiction").warnings
    assert other_warnings(d, sections) == ["新的提示"]


def test_no_decision_no_sections() -> None:
    assert explain(None) == [] and explain({}) == []


def test_out_of_region_and_unresolved_are_said_plainly() -> None:
    out = sample_decision(jurisdiction={
        "status": "out_of_region", "level": None, "reason": None, "rights_holder": None,
        "leagues": [], "counties": [], "countries": [],
        "other_provinces": [{"code": "640000", "name": "宁夏回族自治区", "share": 1.0}],
        "citations": ["第五条第二款"]})
    s = section(out, "jurisdiction")
    assert s.conclusion == "不在自治区范围内"
    assert any("宁夏回族自治区" in f for f in s.facts)
    unresolved = sample_decision(jurisdiction={"status": "unresolved", "citations": []})
    s = section(unresolved, "jurisdiction")
    assert "人工" in s.conclusion and s.citations == ["第五条第二款"]


def _real(facts, where):  # type: ignore[no-untyped-def]
    from screening import RulebookConfig, WorkCalendar, decide

    return decide(facts, where, RulebookConfig(), WorkCalendar.load(None)).to_dict()


def test_the_supervisor_is_named_and_reporting_shown_only_with_one() -> None:
    """On real decide() output (issue 15): 第三十五条第二款 — a league's major case is supervised
    by the region-level departments, named, never a Python repr; 第三十八条's reporting applies
    only then (the region's own case has no 督办单位)."""
    from datetime import date

    from screening import LeadFacts
    from screening.facts import AreaHit, SpatialFacts

    def unit(kind: str, code: str, share: float) -> AreaHit:
        return AreaHit(kind, kind, 1, code, code, code, share)

    major = LeadFacts(case_type="pollution_discharge", incident_grade="major",
                      received_on=date(2026, 9, 5))  # fmt: skip
    one = SpatialFacts("polygon", hits={"league": [unit("league", "150700", 1.0)],
                                        "province": [unit("province", "150000", 1.0)]})
    s = section(_real(major, one), "major_case")
    assert "督办单位：自治区生态环境厅（第三十五条第二款）" in s.facts
    assert any("第三十八条" in f for f in s.facts)
    assert not any("{'code'" in f or "[{" in f for f in s.facts)
    two = SpatialFacts("polygon", hits={
        "league": [unit("league", "150100", 0.5), unit("league", "150200", 0.5)],
        "province": [unit("province", "150000", 1.0)]})
    s = section(_real(major, two), "major_case")
    assert not any("督办单位" in f for f in s.facts)
    assert not any("向督办单位报告" in f for f in s.facts)
