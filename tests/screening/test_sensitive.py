"""Sensitive areas as reported (第十二条第一款第（五）项, 第十五条第五款第（一）项)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from rulebook_builders import in_league, near, sensitive

from screening import LeadFacts, RulebookConfig, decide


def test_every_series_of_a_kind_counts_largest_share_first(config, calendar) -> None:
    national = sensitive("nature_reserve", "国家级保护区", 0.1, fid="n1")
    regional = sensitive("nature_reserve", "自治区级保护区", 0.3, fid="r1")
    regional = replace(regional, layer="regional_reserves")
    out = decide(LeadFacts(), in_league("150700", national, regional), config, calendar).to_dict()
    assert [h["name"] for h in out["sensitive_areas"]["nature_reserve"]] == [
        "自治区级保护区",
        "国家级保护区",
    ]
    assert out["sensitive_areas"]["nature_reserve"][0]["layer"] == "regional_reserves"


def test_nearby_features_nearest_first(config, calendar) -> None:
    facts = in_league(
        "150700",
        nearby=[
            near("red_line", None, 2400.0, name="远红线"),
            near("nature_reserve", None, 830.0, name="近保护区"),
        ],
    )
    nearby = decide(LeadFacts(), facts, config, calendar).to_dict()["sensitive_areas"]["nearby"]
    assert [(n["name"], n["distance_m"]) for n in nearby] == [
        ("近保护区", 830.0),
        ("远红线", 2400.0),
    ]


def test_red_line_within_tolerance_needs_verification(config, calendar) -> None:
    facts = in_league(
        "150700", footprint="point", nearby=[near("red_line", None, 20.0, name="红线")]
    )
    d = decide(LeadFacts(), facts, config, calendar)
    assert d.needs_verification
    assert "near_sensitive_area" in {w.code for w in d.warnings}
    far = in_league(
        "150700", footprint="point", nearby=[near("red_line", None, 900.0, name="红线")]
    )
    assert not decide(LeadFacts(), far, config, calendar).needs_verification
    at_buffer = in_league(
        "150700", footprint="point", nearby=[near("red_line", None, 50.0, name="红线")]
    )
    assert decide(LeadFacts(), at_buffer, config, calendar).needs_verification


def test_noise_floor_is_configurable(calendar) -> None:
    tiny = in_league("150700", sensitive("red_line", "红线", 0.00005))
    strict = RulebookConfig(sensitive_min_share=0.0)
    assert decide(LeadFacts(), tiny, strict, calendar).sensitive.status("red_line") is True
    # Below the floor the overlap is uncertain: unknown, never "not in a red line" (§R2.6).
    default = decide(LeadFacts(), tiny, RulebookConfig(), calendar)
    assert default.sensitive.status("red_line") is None and default.needs_verification


def test_explanations_cover_every_section(config, calendar) -> None:
    d = decide(LeadFacts(received_on=date(2026, 3, 2)), in_league(), config, calendar)
    sections = [e["section"] for e in d.to_dict()["explanations"]]
    assert sections[:7] == [
        "jurisdiction", "sensitive_areas", "intake", "departments", "minor", "major_case",
        "simplified_assessment",
    ]  # fmt: skip
    assert sections[7:] == ["deadlines"]
