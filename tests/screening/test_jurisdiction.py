"""第五条第二款 (R2): who the rights holder is, with the tolerances of RULES.md."""

from __future__ import annotations

from datetime import date

import pytest
from rulebook_builders import coarse, country, in_league, league, near, province, spatial

from screening import LeadFacts, RulebookConfig, SpatialFacts, decide
from screening.jurisdiction import decide_jurisdiction

A = pytest.param


def in_gap(distance_m: float) -> SpatialFacts:
    """A point inside the region that no league polygon contains; 赤峰市 is the nearest."""
    return spatial(
        province(), footprint="point", nearest_unit={"league": near("league", "150400", distance_m)}
    )


# situation, spatial facts, national-impact flag -> status, level, reason, rights holder, citation
JURISDICTION_TABLE = [
    A(in_league("150700"), False,
      "decided", "league", "single_league", ("150700", "呼伦贝尔市人民政府"), "第五条第二款",
      id="其他生态环境损害：由损害后果发生地的市人民政府管辖"),
    A(in_league("152900"), False,
      "decided", "league", "single_league", ("152900", "阿拉善盟行政公署"), "第五条第二款",
      id="盟的赔偿权利人是行政公署"),
    A(spatial(league("150200", 0.6), league("150600", 0.4), province()), False,
      "decided", "region", "cross_league", ("150000", "内蒙古自治区人民政府"), "第五条第二款",
      id="自治区内跨盟市：由自治区人民政府管辖"),
    A(spatial(league("150200", 0.995), league("150600", 0.005), province()), False,
      "decided", "league", "single_league", ("150200", "包头市人民政府"), "第五条第二款",
      id="不足1%的盟市碎片不构成跨盟市"),
    A(spatial(league("152900", 0.6), province("150000", 0.6), province("640000", 0.4)), False,
      "decided", "region", "cross_province", ("150000", "内蒙古自治区人民政府"), "第五条第二款",
      id="跨省（区、市）：自治区人民政府商相关省级人民政府"),
    A(spatial(league("152900", 0.995), province("150000", 0.995), province("640000", 0.005)),
      False, "decided", "league", "single_league", ("152900", "阿拉善盟行政公署"), "第五条第二款",
      id="不足1%的外省碎片不构成跨省"),
    A(spatial(league("150700", 0.59), province("150000", 0.59), country("MNG", 0.41)), False,
      "decided", "region", "cross_border", ("150000", "内蒙古自治区人民政府"), "第五条第二款",
      id="跨国界：按自治区层级并报国家层面处理"),
    A(spatial(league("150200", 0.3), league("150600", 0.3), province("150000", 0.6),
              province("640000", 0.4)), False,
      "decided", "region", "cross_province", ("150000", "内蒙古自治区人民政府"), "第五条第二款",
      id="跨省先于跨盟市判定"),
    A(in_league("150700"), True,
      "decided", "region", "national_impact", ("150000", "内蒙古自治区人民政府"), "第五条第二款",
      id="在全国有重大影响：由自治区人民政府管辖"),
    A(spatial(league("150200", 0.6), league("150600", 0.4), province()), True,
      "decided", "region", "cross_league", ("150000", "内蒙古自治区人民政府"), "第五条第二款",
      id="跨盟市先于全国重大影响判定"),
    A(spatial(province("230000")), False,
      "out_of_region", None, None, None, "第二条",
      id="不在自治区行政区域内：不适用本规定"),
    A(spatial(country("MNG", 1.0)), False,
      "out_of_region", None, None, None, "第二条",
      id="位于蒙古国境内：不适用本规定"),
    A(spatial(province("150000", 0.004), province("640000", 0.996)), False,
      "out_of_region", None, None, None, "第二条",
      id="只有不足1%的碎片在自治区内：视为区外"),
    A(in_gap(80), False,
      "decided", "league", "single_league", ("150400", "赤峰市人民政府"), "第五条第二款",
      id="盟市图层缝隙100米内：归最近的盟市"),
    A(in_gap(150), False, "unresolved", None, None, None, "第五条第二款",
      id="盟市图层缝隙超过100米：需人工指定"),
    A(coarse("150781", "满洲里市", "county", "150700"), False,
      "decided", "league", "single_league", ("150700", "呼伦贝尔市人民政府"), "第五条第二款",
      id="只知旗县名称：可确定所属盟市"),
    A(coarse("152500", "锡林郭勒盟", "league", "152500"), False,
      "decided", "league", "single_league", ("152500", "锡林郭勒盟行政公署"), "第五条第二款",
      id="只知盟市名称：可确定盟市"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("facts", "national", "status", "level", "reason", "holder", "citation"), JURISDICTION_TABLE
)
def test_jurisdiction_table(
    facts: SpatialFacts,
    national: bool,
    status: str,
    level: str | None,
    reason: str | None,
    holder: tuple[str, str] | None,
    citation: str,
    config: RulebookConfig,
) -> None:
    j = decide_jurisdiction(facts, config, national).to_dict()
    assert (j["status"], j["level"], j["reason"]) == (status, level, reason)
    assert (
        (j["rights_holder"]["code"], j["rights_holder"]["name"]) if j["rights_holder"] else None
    ) == holder
    assert citation in j["citations"]
    assert j["explanation"]


def test_slivers_are_reported_not_listed(config: RulebookConfig) -> None:
    j = decide_jurisdiction(
        spatial(league("150200", 0.995), league("150600", 0.005), province()), config, False
    ).to_dict()
    assert [u["code"] for u in j["leagues"]] == ["150200"]
    assert j["ignored_slivers"] == [
        {"kind": "league", "code": "150600", "name": "鄂尔多斯市", "share": 0.005}
    ]


def test_min_share_is_configurable(config: RulebookConfig) -> None:
    facts = spatial(league("150200", 0.995), league("150600", 0.005), province())
    strict = RulebookConfig(min_share=0.001)
    assert decide_jurisdiction(facts, strict, False).reason == "cross_league"
    assert decide_jurisdiction(facts, config, False).reason == "single_league"


def test_out_of_region_names_where_and_decides_nothing_else(config, calendar) -> None:
    facts = spatial(province("640000", 1.0), country("CHN", 1.0))
    lead = LeadFacts(case_type="pollution_discharge", received_on=date(2026, 3, 2))
    d = decide(lead, facts, config, calendar).to_dict()
    assert d["jurisdiction"]["other_provinces"] == [
        {"code": "640000", "name": "宁夏回族自治区", "share": 1.0}
    ]
    assert d["jurisdiction"]["rights_holder"] is None
    assert d["departments"]["responsible"] == []
    assert d["deadlines"] == []
    assert d["intake"]["tracked"] is False
    assert "out_of_region" in {w["code"] for w in d["warnings"]}


def test_cross_border_lists_country_in_chinese_and_is_a_default(config: RulebookConfig) -> None:
    facts = spatial(league("150700", 0.59), province("150000", 0.59), country("MNG", 0.41))
    j = decide_jurisdiction(facts, config, False)
    assert j.to_dict()["countries"] == [{"code": "MNG", "name": "蒙古国", "share": 0.41}]
    assert j.basis == "default"
    assert "cross_border" in {n.code for n in j.notices}


@pytest.mark.parametrize(
    ("distance", "precision", "near_boundary"),
    [
        A(30.0, None, True, id="距边界30米，在50米缓冲内"),
        A(80.0, None, False, id="距边界80米，超出缓冲"),
        A(80.0, 200.0, True, id="定位精度200米大于缓冲，以精度为准"),
        A(49.9, 10.0, True, id="精度小于缓冲时以缓冲为准"),
        A(50.0, None, True, id="恰好50米：“以内”包括本数（民法典第一千二百五十九条）"),
        A(50.1, 10.0, False, id="50.1米：超出缓冲"),
        A(200.0, 200.0, True, id="恰好等于定位精度：在容差内"),
    ],
)
def test_point_near_boundary(distance, precision, near_boundary, config) -> None:
    facts = in_league(
        "150700", footprint="point", boundary_distance_m={"league": distance, "province": 9e3},
        precision_m=precision,
    )  # fmt: skip
    j = decide_jurisdiction(facts, config, False)
    assert j.near_boundary is near_boundary
    assert j.needs_verification is near_boundary
    assert j.status == "decided" and j.rights_holder and j.rights_holder.code == "150700"
    assert ("near_boundary" in {n.code for n in j.notices}) is near_boundary


def test_point_on_shared_boundary_goes_to_lowest_code_and_needs_verification(config) -> None:
    facts = spatial(league("150900", 1.0), league("150100", 1.0), province(), footprint="point")
    j = decide_jurisdiction(facts, config, False)
    assert j.reason == "single_league"
    assert j.rights_holder is not None and j.rights_holder.code == "150100"
    assert j.near_boundary and j.needs_verification
    assert "overlapping_units" in {n.code for n in j.notices}


def test_gap_assignment_warns(config: RulebookConfig) -> None:
    facts = in_gap(80)
    j = decide_jurisdiction(facts, config, False)
    assert j.needs_verification
    assert "gap_assigned" in {n.code for n in j.notices}
    wide = RulebookConfig(gap_tolerance_m=50)
    assert decide_jurisdiction(facts, wide, False).status == "unresolved"


def test_gap_outside_every_province_still_uses_nearest_league(config: RulebookConfig) -> None:
    facts = spatial(footprint="point", nearest_unit={"league": near("league", "152900", 60)})
    j = decide_jurisdiction(facts, config, False)
    assert j.status == "decided" and j.rights_holder and j.rights_holder.code == "152900"


def test_no_league_layer_is_unresolved(config: RulebookConfig) -> None:
    j = decide_jurisdiction(SpatialFacts("point"), config, False)
    assert j.status == "unresolved" and j.needs_verification
    assert "没有可用的盟市界线图层" in j.explanation


def test_coarse_location_decides_league_and_marks_the_rest_unknown(config, calendar) -> None:
    d = decide(LeadFacts(), coarse("150781", "满洲里市", "county", "150700"), config, calendar)
    out = d.to_dict()
    assert out["jurisdiction"]["counties"] == [
        {"code": "150781", "name": "满洲里市", "share": None}
    ]
    assert out["needs_verification"] is True
    assert out["sensitive_area_lead"] is None
    assert set(out["sensitive_areas"]["status"].values()) == {None}
    assert {"coarse_location", "sensitive_status_unknown"} <= {w["code"] for w in out["warnings"]}


def test_coarse_location_with_national_impact_goes_to_region(config: RulebookConfig) -> None:
    j = decide_jurisdiction(coarse("152500", "锡林郭勒盟", "league", "152500"), config, True)
    assert (j.level, j.reason) == ("region", "national_impact")


def test_point_in_another_province_near_the_border_is_not_a_gap(config: RulebookConfig) -> None:
    facts = spatial(
        province("640000"),
        footprint="point",
        nearest_unit={"league": near("league", "152900", 40)},
        boundary_distance_m={"province": 40.0},
    )
    j = decide_jurisdiction(facts, config, False)
    assert j.status == "out_of_region"
    assert j.near_boundary and j.needs_verification


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        A(spatial(province("150000", 0.6), province("640000", 0.4)), "cross_province",
          id="盟市图层未覆盖时，跨省仍先于盟市判定"),
        A(spatial(province("150000", 0.6), country("MNG", 0.4)), "cross_border",
          id="盟市图层未覆盖时，跨国界仍先于盟市判定"),
    ],
)  # fmt: skip
def test_cross_province_does_not_wait_for_a_league(facts, reason, config) -> None:
    """R2 is ordered: cross-province is decided before anything needs the league layer."""
    j = decide_jurisdiction(facts, config, False)
    assert (j.status, j.level, j.reason) == ("decided", "region", reason)
    assert j.rights_holder is not None and j.rights_holder.code == "150000"
    assert "unresolved" not in {n.code for n in j.notices}


def test_national_impact_does_not_need_a_league(config: RulebookConfig) -> None:
    """Beyond the gap tolerance no league can be named, but 全国重大影响 goes to the region."""
    j = decide_jurisdiction(in_gap(150), config, True)
    assert (j.status, j.level, j.reason) == ("decided", "region", "national_impact")
    assert decide_jurisdiction(in_gap(150), config, False).status == "unresolved"
