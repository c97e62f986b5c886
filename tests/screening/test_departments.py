"""第六条 and 第五条第三、四款 (R4): which departments handle a case, named at the right level."""

from __future__ import annotations

import pytest
from rulebook_builders import in_league, league, province, sensitive, spatial

from screening import LeadFacts, RulebookConfig, decide

A = pytest.param

# 第六条 as RULES.md R4 states it: case type -> department code, league-level and region names.
CASE_TYPE_TABLE = [
    A("pollution_discharge", "ecology_environment", "呼伦贝尔市生态环境局", "自治区生态环境厅",
      id="因违法违规排污造成的环境污染或生态破坏→生态环境部门"),
    A("environmental_emergency", "ecology_environment", "呼伦贝尔市生态环境局", "自治区生态环境厅",
      id="突发环境事件→生态环境部门"),
    A("farmland_occupation", "natural_resources", "呼伦贝尔市自然资源局", "自治区自然资源厅",
      id="违法违规占用耕地→自然资源部门"),
    A("land_destruction", "natural_resources", "呼伦贝尔市自然资源局", "自治区自然资源厅",
      id="土地资源破坏→自然资源部门"),
    A("illegal_mining", "natural_resources", "呼伦贝尔市自然资源局", "自治区自然资源厅",
      id="违法开采矿产资源造成的生态破坏→自然资源部门"),
    A("waste_dumping", "housing_urban_rural", "呼伦贝尔市住房和城乡建设局",
      "自治区住房和城乡建设厅", id="违法违规倾倒生活垃圾、建筑垃圾→住房城乡建设部门"),
    A("urban_sewage", "housing_urban_rural", "呼伦贝尔市住房和城乡建设局",
      "自治区住房和城乡建设厅", id="城镇生活污水污染环境→住房城乡建设部门"),
    A("urban_green_space", "housing_urban_rural", "呼伦贝尔市住房和城乡建设局",
      "自治区住房和城乡建设厅", id="破坏城镇园林绿地→住房城乡建设部门"),
    A("illegal_sand_mining", "water_resources", "呼伦贝尔市水利局", "自治区水利厅",
      id="在河道、湖库管理范围内非法采砂→水利部门"),
    A("illegal_water_withdrawal", "water_resources", "呼伦贝尔市水利局", "自治区水利厅",
      id="违规取用水资源→水利部门"),
    A("soil_erosion", "water_resources", "呼伦贝尔市水利局", "自治区水利厅",
      id="违法违规造成人为水土流失危害→水利部门"),
    A("aquatic_wildlife", "agriculture_animal_husbandry", "呼伦贝尔市农牧局", "自治区农牧厅",
      id="水生野生动物保护→农牧部门"),
    A("fishery_damage", "agriculture_animal_husbandry", "呼伦贝尔市农牧局", "自治区农牧厅",
      id="破坏渔业资源→农牧部门"),
    A("livestock_waste", "agriculture_animal_husbandry", "呼伦贝尔市农牧局", "自治区农牧厅",
      id="未按规定无害化处理染疫畜禽和病害畜禽养殖废弃物→农牧部门"),
    A("rural_housing_on_farmland", "agriculture_animal_husbandry", "呼伦贝尔市农牧局",
      "自治区农牧厅", id="农村村民非法在耕地上建住宅→农牧部门"),
    A("agri_input_waste", "agriculture_animal_husbandry", "呼伦贝尔市农牧局", "自治区农牧厅",
      id="未按规定回收农药肥料包装废弃物和农用薄膜→农牧部门"),
    A("forest_grass_wetland_damage", "forestry_grassland", "呼伦贝尔市林业和草原局",
      "自治区林业和草原局", id="违法违规破坏林地、草地、湿地→林草部门"),
    A("illegal_logging", "forestry_grassland", "呼伦贝尔市林业和草原局", "自治区林业和草原局",
      id="盗伐、滥伐林木→林草部门"),
    A("wildlife_poaching", "forestry_grassland", "呼伦贝尔市林业和草原局", "自治区林业和草原局",
      id="盗猎（采）濒危陆生野生动植物→林草部门"),
]  # fmt: skip

CROSS_LEAGUE = spatial(league("150700", 0.5), league("150400", 0.5), province())


def departments(lead: LeadFacts, facts, config, calendar) -> dict:
    return decide(lead, facts, config, calendar).to_dict()["departments"]


@pytest.mark.parametrize(("case_type", "code", "league_name", "region_name"), CASE_TYPE_TABLE)
def test_article_6_table(case_type, code, league_name, region_name, config, calendar) -> None:
    lead = LeadFacts(case_type=case_type)
    at_league = departments(lead, in_league("150700"), config, calendar)
    assert at_league["responsible"] == [
        {"code": code, "name": league_name, "basis": "case_type", "citation": "第六条第一款"}
    ]
    assert at_league["lead_designation_required"] is False
    assert at_league["suggested_lead"] == code
    # 第六条 has three paragraphs: the division of duties is its 第一款 (第三款 is adjustment).
    assert "第六条第一款" in at_league["citations"]
    assert "第六条第三款" not in at_league["citations"]
    at_region = departments(lead, CROSS_LEAGUE, config, calendar)
    assert [(r["code"], r["name"]) for r in at_region["responsible"]] == [(code, region_name)]


def test_league_kind_prefixes_the_department(config, calendar) -> None:
    d = departments(LeadFacts(case_type="illegal_logging"), in_league("152900"), config, calendar)
    assert d["responsible"][0]["name"] == "阿拉善盟林业和草原局"


def test_other_case_type_needs_manual_assignment(config, calendar) -> None:
    d = decide(LeadFacts(case_type="other"), in_league(), config, calendar).to_dict()
    assert d["departments"]["responsible"] == []
    assert d["departments"]["suggested_lead"] is None
    assert "manual_department" in {w["code"] for w in d["warnings"]}


def test_nature_reserve_adds_forestry_and_needs_a_lead(config, calendar) -> None:
    facts = in_league("150700", sensitive("nature_reserve", "某自然保护区", 0.3))
    d = departments(LeadFacts(case_type="illegal_mining"), facts, config, calendar)
    assert [r["code"] for r in d["responsible"]] == ["natural_resources", "forestry_grassland"]
    assert d["responsible"][1]["basis"] == "nature_reserve"
    assert d["responsible"][1]["citation"] == "第六条第一款"
    assert d["lead_designation_required"] is True
    assert d["suggested_lead"] == "forestry_grassland"
    assert d["suggested_lead_is_suggestion"] is True
    assert "第五条第四款" in d["citations"]
    assert "建议" in d["explanation"]


def test_nature_reserve_with_forestry_case_is_one_department(config, calendar) -> None:
    facts = in_league("150700", sensitive("nature_reserve", "某自然保护区", 0.3))
    d = departments(LeadFacts(case_type="illegal_logging"), facts, config, calendar)
    assert [r["code"] for r in d["responsible"]] == ["forestry_grassland"]
    assert d["lead_designation_required"] is False


@pytest.mark.parametrize(
    ("channel", "added"),
    [
        A("admin_penalty", True, id="行政处罚案件：加入作出处罚的部门"),
        A("petition_media", False, id="非行政处罚渠道：处罚部门不计入"),
    ],
)
def test_admin_penalty_adds_penalty_department(channel, added, config, calendar) -> None:
    lead = LeadFacts(
        case_type="pollution_discharge",
        source_channel=channel,
        penalty_department="water_resources",
    )
    d = departments(lead, in_league(), config, calendar)
    codes = [r["code"] for r in d["responsible"]]
    assert ("water_resources" in codes) is added
    if added:
        (penalty,) = [r for r in d["responsible"] if r["code"] == "water_resources"]
        assert (penalty["basis"], penalty["citation"]) == ("admin_penalty", "第六条第一款")
    assert d["lead_designation_required"] is added
    assert d["suggested_lead"] == "ecology_environment"


def test_criminal_leads_list_public_security_as_cooperating(config, calendar) -> None:
    lead = LeadFacts(case_type="wildlife_poaching", source_channel="criminal")
    d = departments(lead, in_league("150700"), config, calendar)
    assert [(c["code"], c["name"], c["citation"]) for c in d["cooperating"]] == [
        ("public_security", "呼伦贝尔市公安局", "第六条第一款")
    ]
    assert [r["code"] for r in d["responsible"]] == ["forestry_grassland"]
    region = departments(lead, CROSS_LEAGUE, config, calendar)
    assert region["cooperating"][0]["name"] == "自治区公安厅"


def test_league_may_adjust_the_division_of_duties(calendar) -> None:
    config = RulebookConfig.from_mapping(
        {"league_department_overrides": {"150700": {"illegal_mining": "forestry_grassland"}}}
    )
    lead = LeadFacts(case_type="illegal_mining")
    adjusted = departments(lead, in_league("150700"), config, calendar)
    assert [r["code"] for r in adjusted["responsible"]] == ["forestry_grassland"]
    assert adjusted["adjusted_by"] == "150700"
    assert "第六条第三款" in adjusted["citations"]
    other = departments(lead, in_league("150200"), config, calendar)
    assert [r["code"] for r in other["responsible"]] == ["natural_resources"]
    assert other["adjusted_by"] is None


def test_unresolved_jurisdiction_uses_generic_names(config, calendar) -> None:
    facts = spatial(province(), footprint="point")
    d = departments(LeadFacts(case_type="soil_erosion"), facts, config, calendar)
    assert d["responsible"][0]["name"] == "水利部门"


def test_manual_assignment_message_fits_the_situation(calendar) -> None:
    """A league that leaves a 第六条 type unassigned is not told the type is “其他”."""
    config = RulebookConfig.from_mapping(
        {"league_department_overrides": {"150700": {"soil_erosion": None}}}
    )
    d = decide(LeadFacts(case_type="soil_erosion"), in_league("150700"), config, calendar)
    (manual,) = [w.message for w in d.warnings if w.code == "manual_department"]
    assert "违法违规造成人为水土流失危害" in manual and "“其他”" not in manual
    other = decide(LeadFacts(case_type="other"), in_league("150700"), config, calendar)
    (manual,) = [w.message for w in other.warnings if w.code == "manual_department"]
    assert "“其他”" in manual and "第五条第三款" in manual
