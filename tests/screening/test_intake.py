"""第十二条、第十三条 (R3): channels, the sensitive-area lead, exclusion, the case list."""

from __future__ import annotations

from datetime import date

import pytest
from rulebook_builders import in_league, league, province, sensitive, spatial

from screening import LeadFacts, SourceChannel, decide

A = pytest.param

SENSITIVE_LEAD_TABLE = [
    A(in_league("150700", sensitive("red_line", "红线A", 0.2)), "petition_media", True,
      id="生态保护红线内发生：无论何渠道均属第（五）项线索"),
    A(in_league("150700", sensitive("key_function_zone", "功能区", 1.0)), "routine_enforcement",
      True, id="重点生态功能区内发生：属第（五）项线索"),
    A(in_league("150700", sensitive("prohibited_zone", "禁止开发区", 0.5)), None, True,
      id="禁止开发区域内发生：属第（五）项线索"),
    A(in_league("150700"), "petition_media", False, id="不涉及敏感区：不属第（五）项线索"),
    A(in_league("150700", missing_kinds=("key_function_zone",)), "petition_media", None,
      id="重点生态功能区图层缺失：无法判断"),
    A(in_league("150700"), "sensitive_area", True, id="按第（五）项渠道报送：属第（五）项线索"),
]  # fmt: skip


@pytest.mark.parametrize(("facts", "channel", "expected"), SENSITIVE_LEAD_TABLE)
def test_sensitive_area_lead(facts, channel, expected, config, calendar) -> None:
    d = decide(LeadFacts(source_channel=channel), facts, config, calendar).to_dict()
    assert d["sensitive_area_lead"] is expected
    assert ("第十二条第一款第（五）项" in d["intake"]["citations"]) is bool(expected)
    # 第十二条第一款: every lead, sensitive or not, goes to the same-level 生态环境部门 (汇总).
    assert d["intake"]["report_to"] == "呼伦贝尔市生态环境局"


def test_sensitive_channel_without_overlap_is_questioned(config, calendar) -> None:
    d = decide(LeadFacts(source_channel="sensitive_area"), in_league(), config, calendar)
    assert "sensitive_channel_without_overlap" in {w.code for w in d.warnings}


# 第十二条第一款, counted item by item from the text.
CHANNEL_ITEMS = [
    ("inspection", "一"), ("emergency", "二"), ("admin_penalty", "三"), ("criminal", "四"),
    ("sensitive_area", "五"), ("routine_enforcement", "六"), ("petition_media", "七"),
    ("superior_assigned", "八"), ("procuratorate", "九"), ("other", "十"),
]  # fmt: skip


def test_the_item_table_covers_every_channel() -> None:
    assert {c for c, _ in CHANNEL_ITEMS} == set(SourceChannel)


@pytest.mark.parametrize(("channel", "item"), CHANNEL_ITEMS)
def test_every_channel_cites_its_item(channel, item, config, calendar) -> None:
    intake = decide(LeadFacts(source_channel=channel), in_league(), config, calendar).to_dict()
    assert intake["intake"]["channel_citation"] == f"第十二条第一款第（{item}）项"
    assert f"第十二条第一款第（{item}）项" in intake["intake"]["explanation"]


@pytest.mark.parametrize(
    ("facts", "remediated"),
    [
        A(spatial(province("640000")), False, id="区外：不适用本规定，不报送"),
        A(in_league(), True, id="已实现修复：不纳入线索筛查，不报送"),
    ],
)
def test_no_report_when_not_screened(facts, remediated, config, calendar) -> None:
    lead = LeadFacts(source_channel="petition_media", already_remediated=remediated)
    assert decide(lead, facts, config, calendar).to_dict()["intake"]["report_to"] is None


def test_region_level_lead_reports_to_the_region_department(config, calendar) -> None:
    facts = spatial(league("150700", 0.5), league("150400", 0.5), province())
    intake = decide(LeadFacts(source_channel="criminal"), facts, config, calendar).intake
    assert intake.report_to == "自治区生态环境厅"


def test_remediated_lead_is_excluded(config, calendar) -> None:
    lead = LeadFacts(already_remediated=True, received_on=date(2026, 3, 2))
    d = decide(lead, in_league(), config, calendar).to_dict()
    assert d["intake"]["excluded"] is True
    assert d["intake"]["tracked"] is False
    assert "第十二条第二款" in d["intake"]["citations"]
    assert d["deadlines"] == []
    assert "excluded_remediated" in {w["code"] for w in d["warnings"]}


def test_every_other_lead_goes_on_the_case_list(config, calendar) -> None:
    intake = decide(LeadFacts(), in_league(), config, calendar).to_dict()["intake"]
    assert intake["tracked"] is True and "第十三条第一款" in intake["citations"]


def test_unknown_channel_is_warned(config, calendar) -> None:
    d = decide(LeadFacts(source_channel="twitter"), in_league(), config, calendar)
    assert "unknown_source_channel" in {w.code for w in d.warnings}


SIMPLIFIED_TABLE = [
    A(300_000, True, id="损害数额不超过30万元：数额上可简易评估"),
    A(300_000.01, False, id="超过30万元：不可简易评估"),
    A(None, None, id="未填写数额：无法判断"),
]


@pytest.mark.parametrize(("amount", "eligible"), SIMPLIFIED_TABLE)
def test_simplified_assessment_by_amount(amount, eligible, config, calendar) -> None:
    s = decide(LeadFacts(damage_amount_yuan=amount), in_league(), config, calendar).to_dict()
    out = s["simplified_assessment"]
    assert out["eligible_by_amount"] is eligible
    assert out["citations"] == ["第二十条"]
    assert "3 名专家" in out["explanation"]
