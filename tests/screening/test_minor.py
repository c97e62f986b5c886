"""第四十八条 (significantly minor) and 第十五条第五款 (must start anyway) — R5."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from rulebook_builders import coarse, in_league, sensitive

from screening import LeadFacts, decide
from screening.minor import repeat_window_start, repeats_within, years_after, years_before

A = pytest.param
RED = sensitive("red_line", "大兴安岭生态保护红线", 0.4)
RESERVE = sensitive("nature_reserve", "辉河国家级自然保护区", 0.02, fid="r9")
KEY_ZONE = sensitive("key_function_zone", "呼伦贝尔草原森林生态功能区", 1.0, fid="k1")
NOISE_RED = sensitive("red_line", "红线边缘", 0.00001)
D = date(2026, 8, 30)

# situation -> is_minor, basis, override, reasons, claim_required, citation
MINOR_TABLE = [
    A(LeadFacts(damage_amount_yuan=3000, occurred_on=D), in_league(),
      True, ["amount_within_3000"], False, [], False, "第四十八条第（一）项",
      id="损害数额3000元（含）以内：显著轻微，可不启动"),
    A(LeadFacts(damage_amount_yuan=3000.01, occurred_on=D), in_league(),
      False, [], False, [], None, None, id="超过3000元：不属显著轻微"),
    A(LeadFacts(no_obvious_impact=True, occurred_on=D), in_league(),
      True, ["no_obvious_impact"], False, [], False, "第四十八条第（二）项",
      id="未造成明显影响：显著轻微"),
    A(LeadFacts(occurred_on=D), in_league(),
      False, [], False, [], None, None, id="未给数额也未认定无明显影响：未显示轻微"),
    A(LeadFacts(damage_amount_yuan=2000, occurred_on=D), in_league("150700", RED),
      True, ["amount_within_3000"], True, ["red_line"], True, "第十五条第五款第（一）项",
      id="生态保护红线内的显著轻微案件：应当启动"),
    A(LeadFacts(damage_amount_yuan=2000, occurred_on=D), in_league("150700", RESERVE),
      True, ["amount_within_3000"], True, ["nature_reserve"], True, "第十五条第五款第（一）项",
      id="自然保护地内的显著轻微案件：应当启动"),
    A(LeadFacts(damage_amount_yuan=2000, occurred_on=D), in_league("150700", KEY_ZONE),
      True, ["amount_within_3000"], False, [], False, "第四十八条",
      id="仅位于重点生态功能区：不构成应当启动的情形"),
    A(LeadFacts(damage_amount_yuan=2000, occurred_on=D), in_league("150700", NOISE_RED),
      True, ["amount_within_3000"], None, [], None, "第四十八条",
      id="与红线的重叠低于噪声下限：无法判断（不是不适用）"),
    A(LeadFacts(damage_amount_yuan=2000, occurred_on=D, prior_damage_dates=[date(2024, 8, 30)]),
      in_league(), True, ["amount_within_3000"], True, ["repeat_within_2_years"], True,
      "第十五条第五款第（二）项", id="恰好两年前的损害：属2年内再次发生"),
    A(LeadFacts(damage_amount_yuan=2000, occurred_on=D, prior_damage_dates=[date(2024, 8, 29)]),
      in_league(), True, ["amount_within_3000"], False, [], False, "第四十八条",
      id="两年零一天前的损害：不属2年内"),
    A(LeadFacts(damage_amount_yuan=2000, occurred_on=D, prior_damage_dates=[date(2026, 9, 1)]),
      in_league(), True, ["amount_within_3000"], False, [], False, "第四十八条",
      id="此后才发生的损害：不是“曾”造成"),
    A(LeadFacts(damage_amount_yuan=2000, occurred_on=D, region_decides_start=True),
      in_league(), True, ["amount_within_3000"], True, ["region_decision"], True,
      "第十五条第五款第（三）项", id="自治区人民政府认为应当启动"),
    A(LeadFacts(damage_amount_yuan=90000, occurred_on=D), in_league("150700", RED),
      False, [], True, ["red_line"], None, "第十五条第五款第（一）项",
      id="不轻微的红线案件：override 成立但不改变立案判断"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("lead", "facts", "is_minor", "basis", "override", "reasons", "claim", "citation"), MINOR_TABLE
)
def test_minor_table(lead, facts, is_minor, basis, override, reasons, claim, citation,
                     config, calendar) -> None:  # fmt: skip
    m = decide(lead, facts, config, calendar).to_dict()["minor"]
    assert m["is_minor"] is is_minor
    assert m["basis"] == basis
    assert m["override"] is override
    assert m["override_reasons"] == reasons
    assert m["claim_required"] is claim
    if citation:
        assert citation in m["citations"]
    assert m["explanation"]


def test_overlap_reports_features_and_share(config, calendar) -> None:
    m = decide(LeadFacts(damage_amount_yuan=10), in_league("150700", RED), config, calendar)
    assert m.to_dict()["minor"]["overlaps"]["red_line"] == [
        {"layer": "red_line", "layer_version": 7, "feature_id": "f1",
         "name": "大兴安岭生态保护红线", "share": 0.4}
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("occurred", "earlier", "counts"),
    [
        # The two years run forward from the earlier damage (民法典第二百零一、二百零二条):
        # from 2026-02-28 they end on 2028-02-28, so 2028-02-29 is outside them.
        A(date(2028, 2, 29), date(2026, 2, 28), False, id="自2026-02-28起两年止于2028-02-28"),
        A(date(2028, 2, 29), date(2026, 3, 1), True, id="自2026-03-01起两年止于2028-03-01"),
        A(date(2028, 2, 28), date(2026, 2, 28), True, id="两年期间的最后一日：计入"),
        A(date(2026, 2, 28), date(2024, 2, 29), True, id="自2月29日起两年：无对应日，止于月末日"),
        A(date(2026, 3, 1), date(2024, 2, 29), False, id="自2月29日起两年后的次日：不计"),
        A(date(2027, 3, 1), date(2025, 3, 1), True, id="同日两年前：计入"),
        A(date(2027, 3, 1), date(2025, 2, 28), False, id="两年前的前一天：不计"),
    ],
)
def test_repeat_window_edges(occurred, earlier, counts) -> None:
    assert (repeats_within([earlier], occurred, 2) == [earlier]) is counts


def test_years_before_and_after_handle_leap_day() -> None:
    assert years_before(date(2028, 2, 29), 2) == date(2026, 2, 28)
    assert years_before(date(2028, 2, 29), 4) == date(2024, 2, 29)
    assert years_after(date(2024, 2, 29), 2) == date(2026, 2, 28)
    assert years_after(date(2024, 2, 29), 4) == date(2028, 2, 29)


def test_reported_window_start_agrees_with_the_rule_day_by_day() -> None:
    """The window start shown to the officer is the earliest earlier date that still counts."""
    for offset in range(0, 4 * 366, 7):
        occurred = date(2026, 1, 3) + timedelta(days=offset)
        for leap in (date(2028, 2, 29), date(2028, 3, 1), date(2029, 2, 28), date(2029, 3, 1)):
            for d in (occurred, leap):
                start = repeat_window_start(d, 2)
                assert repeats_within([start], d, 2) == [start]
                before = start - timedelta(days=1)
                assert repeats_within([before], d, 2) == []


def test_received_on_stands_in_for_missing_occurred_on(config, calendar) -> None:
    lead = LeadFacts(damage_amount_yuan=1, received_on=D, prior_damage_dates=[date(2025, 1, 1)])
    d = decide(lead, in_league(), config, calendar).to_dict()
    assert d["minor"]["override_reasons"] == ["repeat_within_2_years"]
    assert d["minor"]["repeat"]["reference_date"] == D.isoformat()
    assert "occurred_on_missing" in {w["code"] for w in d["warnings"]}


def test_missing_red_line_layer_leaves_the_override_unknown(config, calendar) -> None:
    facts = in_league("150700", missing_kinds=("red_line",))
    d = decide(LeadFacts(damage_amount_yuan=100, occurred_on=D), facts, config, calendar).to_dict()
    assert d["minor"]["override"] is None
    assert d["minor"]["claim_required"] is None
    assert d["minor"]["override_unknown"] == ["red_line"]
    assert d["sensitive_areas"]["status"]["red_line"] is None
    assert d["needs_verification"] is True
    codes = {w["code"] for w in d["warnings"]}
    assert {"sensitive_layer_missing", "override_undetermined"} <= codes


def test_other_override_still_holds_when_a_layer_is_missing(config, calendar) -> None:
    facts = in_league("150700", missing_kinds=("red_line", "nature_reserve"))
    lead = LeadFacts(damage_amount_yuan=100, occurred_on=D, region_decides_start=True)
    m = decide(lead, facts, config, calendar).to_dict()["minor"]
    assert (m["override"], m["claim_required"]) == (True, True)


def test_coarse_location_cannot_establish_the_override(config, calendar) -> None:
    facts = coarse("150781", "满洲里市", "county", "150700")
    m = decide(LeadFacts(damage_amount_yuan=100), facts, config, calendar).to_dict()["minor"]
    assert m["override"] is None and m["claim_required"] is None


def test_minor_threshold_is_configurable(calendar) -> None:
    from screening import RulebookConfig

    m = decide(
        LeadFacts(damage_amount_yuan=4000), in_league(), RulebookConfig(minor_amount_yuan=5000),
        calendar,
    ).minor  # fmt: skip
    assert m.is_minor


def test_undetermined_repeat_is_not_blamed_on_sensitive_layers(config, calendar) -> None:
    """All layers known, no date given: the unknown is the repeat, and the warning says so."""
    lead = LeadFacts(damage_amount_yuan=100, prior_damage_dates=[date(2025, 1, 1)])
    d = decide(lead, in_league(), config, calendar).to_dict()
    assert d["minor"]["override"] is None
    assert d["minor"]["override_unknown"] == ["repeat_within_2_years"]
    (warning,) = [w for w in d["warnings"] if w["code"] == "override_undetermined"]
    assert "2年内再次发生" in warning["message"]
    assert "敏感区图层缺失" not in warning["message"]
    assert "生态保护红线" not in warning["message"]
    assert "敏感区状态" not in d["minor"]["explanation"]
