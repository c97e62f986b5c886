"""Issue 10's findings as rule cases, from the regulation's words (docs/rules.md §R2.6, §R2.7,
§R4.2, §R5.3). The same cases run through the service on both backends in
tests/api/test_tolerances_and_areas.py."""

from __future__ import annotations

from datetime import date

import pytest
from rulebook_builders import hit, in_league, league, province, sensitive, spatial

from screening import LeadFacts, RulebookConfig, WorkCalendar, decide
from screening.jurisdiction import decide_jurisdiction
from screening.tolerance import noise_floor

KM2 = 1_000_000.0
D = date(2026, 8, 30)


def codes(d) -> set[str]:  # type: ignore[no-untyped-def]
    return {w.code for w in d.warnings}


@pytest.mark.parametrize(
    ("in_alxa", "expected_reason"),
    [
        pytest.param(0.005, "cross_province", id="0.5%在阿拉善盟：计入，跨省，标记核实"),
        pytest.param(0.992, "cross_province", id="0.8%在宁夏：计入，跨省，标记核实"),
    ],
)
def test_a_percent_of_a_large_area_is_not_boundary_noise(
    in_alxa: float, expected_reason: str, config: RulebookConfig
) -> None:
    """第五条第二款 跨省（区、市）: 1 % of 1,000 km² is 10 km², not noise; counted, and flagged."""
    facts = spatial(
        league("152900", in_alxa),
        province("150000", in_alxa),
        province("640000", 1 - in_alxa),
        footprint_measure=1000 * KM2,
    )
    j = decide_jurisdiction(facts, config, False)
    assert j.status == "decided" and j.reason == expected_reason
    assert [u.code for u in j.other_provinces] == ["640000"]
    assert j.needs_verification is True
    assert "small_share_counted" in {n.code for n in j.notices}


def test_a_sliver_below_the_absolute_floor_is_named_with_its_area(config: RulebookConfig) -> None:
    facts = spatial(
        league("152900", 0.999),
        province("150000", 0.999),
        province("640000", 0.001),  # 1 km² of 1,000 km²: within a 50 m band along the border
        footprint_measure=1000 * KM2,
    )
    assert noise_floor(facts, config) == pytest.approx(50 * (1000 * KM2) ** 0.5)
    j = decide_jurisdiction(facts, config, False).to_dict()
    assert j["reason"] == "single_league"
    (sliver,) = j["ignored_slivers"]
    assert sliver["code"] == "640000" and sliver["area_m2"] == pytest.approx(1 * KM2)
    d = decide(LeadFacts(), facts, config, WorkCalendar.load(None))
    assert d.needs_verification is True
    assert "宁夏回族自治区" in next(w.message for w in d.warnings if w.code == "ignored_slivers")


def test_red_line_overlap_below_the_floor_is_unknown_not_false(config: RulebookConfig) -> None:
    """0.009 % of a 10 km² damage (900 m²) in a red line: 第十五条第五款第（一）项 cannot be
    ruled out — the override is unknown, the lead needs verification."""
    facts = in_league(
        "150700", sensitive("red_line", "某生态保护红线", 0.00009), footprint_measure=10 * KM2
    )
    d = decide(LeadFacts(damage_amount_yuan=2000, occurred_on=D), facts, config,
               WorkCalendar.load(None))  # fmt: skip
    assert d.sensitive.status("red_line") is None
    assert d.minor.override is None and "red_line" in d.minor.override_unknown
    assert d.minor.claim_required is None and d.needs_verification is True
    assert {"sensitive_sliver", "override_uncertain_overlap"} <= codes(d)
    above = in_league(
        "150700", sensitive("red_line", "某生态保护红线", 0.05), footprint_measure=10 * KM2
    )
    counted = decide(LeadFacts(damage_amount_yuan=2000), above, config, WorkCalendar.load(None))
    assert counted.minor.override_reasons == ("red_line",)


@pytest.mark.parametrize("other", ["130000", "230000"], ids=["内蒙古–河北", "内蒙古–黑龙江"])
def test_a_point_on_a_provincial_border_is_a_tie_not_a_code_order(
    other: str, config: RulebookConfig
) -> None:
    facts = spatial(league("152500"), province("150000"), province(other), footprint="point")
    j = decide_jurisdiction(facts, config, False)
    assert (j.status, j.level, j.reason) == ("decided", "league", "single_league")
    assert j.needs_verification is True
    assert {u.code for u in j.boundary_candidates} == {"150000", other}
    assert "boundary_tie" in {n.code for n in j.notices}


def test_layers_that_disagree_are_named(config: RulebookConfig) -> None:
    """A league layer without the 加格达奇 hole says 呼伦贝尔市; the province layer says 黑龙江."""
    facts = spatial(
        hit("league", "150700", layer="盟市界线2020"),
        hit("province", "230000", layer="省界2023"),
        footprint="point",
    )
    j = decide_jurisdiction(facts, config, False)
    notice = next(n for n in j.notices if n.code == "layers_disagree")
    assert "盟市界线2020" in notice.message and "省界2023" in notice.message
    assert j.needs_verification is True


@pytest.mark.parametrize(
    ("point", "name"),
    [((124.12, 50.42), "加格达奇区"), ((124.4, 51.1), "松岭区")],
)
def test_special_status_areas_need_verification(
    point: tuple[float, float], name: str, config: RulebookConfig
) -> None:
    x, y = point
    facts = in_league("150700", footprint="point", bbox=(x, y, x, y))
    d = decide(LeadFacts(), facts, config, WorkCalendar.load(None))
    assert d.needs_verification is True
    message = next(w.message for w in d.warnings if w.code == "special_status_area")
    assert name in message and "黑龙江省大兴安岭地区" in message


@pytest.mark.parametrize(
    ("feature", "sub_kind"),
    [("某某国家公园", "国家公园"), ("某某湿地公园", "自然公园"), ("某某自然保护区", "自然保护区")],
)
def test_every_protected_area_sub_kind_counts(
    feature: str, sub_kind: str, config: RulebookConfig
) -> None:
    """第十五条第五款第（一）项 and 第六条 say 自然保护地: 国家公园、自然保护区、自然公园 alike."""
    facts = in_league("150700", sensitive("nature_reserve", feature))
    d = decide(LeadFacts(damage_amount_yuan=2000, case_type="pollution_discharge"), facts,
               config, WorkCalendar.load(None))  # fmt: skip
    assert d.minor.override_reasons == ("nature_reserve",)
    out = d.to_dict()
    assert out["minor"]["overlaps"]["nature_reserve"][0]["sub_kind"] == sub_kind
    assert out["sensitive_areas"]["nature_reserve"][0]["sub_kind"] == sub_kind
    assert "forestry_grassland" in {r.code for r in d.departments.responsible}


def test_an_act_inside_a_reserve_with_damage_outside_goes_to_forestry(
    config: RulebookConfig,
) -> None:
    """第六条: 林草部门负责…自然保护地内发生的环境污染、生态破坏行为 — the act's place counts."""
    reserve = sensitive("nature_reserve", "某某自然保护区")
    facts = in_league("150700", act_hits={"nature_reserve": (reserve,)})
    d = decide(LeadFacts(case_type="pollution_discharge", damage_amount_yuan=2000), facts,
               config, WorkCalendar.load(None))  # fmt: skip
    assert {r.code for r in d.departments.responsible} == {
        "ecology_environment",
        "forestry_grassland",
    }
    assert "行为发生地位于自然保护地内" in d.departments.explanation
    # The override asks where the damage lies (损害区域), not the act: not triggered.
    assert "nature_reserve" not in d.minor.override_reasons


def test_a_point_on_a_league_border_lists_both_leagues(config: RulebookConfig) -> None:
    facts = spatial(league("150100"), league("150200"), province(), footprint="point")
    j = decide_jurisdiction(facts, config, False)
    assert j.needs_verification is True
    assert {u.code for u in j.boundary_candidates} == {"150100", "150200"}
