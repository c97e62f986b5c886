"""Decision.to_dict() produces every field of API.md's screen response, as JSON."""

from __future__ import annotations

import json
from datetime import date

from rulebook_builders import in_league, near, sensitive

from screening import LeadFacts, decide


def test_every_api_field_is_produced(config, calendar) -> None:
    facts = in_league(
        "150700",
        sensitive("red_line", "红线", 0.4),
        footprint="polygon",
        nearby=[near("nature_reserve", None, 830.0, name="某保护区")],
    )
    lead = LeadFacts(
        case_type="pollution_discharge", source_channel="petition_media",
        received_on=date(2026, 9, 5), occurred_on=date(2026, 8, 30), damage_amount_yuan=2000,
        obligor_id="91110000600037341L", prior_damage_dates=[date(2025, 3, 1)],
    )  # fmt: skip
    out = json.loads(
        json.dumps(decide(lead, facts, config, calendar).to_dict(), ensure_ascii=False)
    )
    assert {
        "jurisdiction", "sensitive_areas", "sensitive_area_lead", "minor", "departments",
        "major_case", "simplified_assessment", "deadlines", "warnings", "needs_verification",
        "layer_versions", "rulebook_version",
    } <= set(out)  # fmt: skip
    assert {
        "status", "level", "reason", "rights_holder", "leagues", "counties", "other_provinces",
        "countries", "ignored_slivers", "citations",
    } <= set(out["jurisdiction"])  # fmt: skip
    assert set(out["jurisdiction"]["rights_holder"]) == {"code", "name"}
    assert {"red_line", "nature_reserve", "key_function_zone", "nearby"} <= set(
        out["sensitive_areas"]
    )
    assert {"layer", "layer_version", "feature_id", "name", "share"} <= set(
        out["sensitive_areas"]["red_line"][0]
    )
    (nearby,) = out["sensitive_areas"]["nearby"]
    assert {"kind", "name", "distance_m"} <= set(nearby)
    assert (nearby["kind"], nearby["name"], nearby["distance_m"]) == (
        "nature_reserve", "某保护区", 830.0
    )
    assert {"is_minor", "basis", "override", "override_reasons", "claim_required",
            "citations"} <= set(out["minor"])  # fmt: skip
    assert {"responsible", "lead_designation_required", "suggested_lead", "cooperating",
            "citations"} <= set(out["departments"])  # fmt: skip
    assert {"is_major", "grounds", "supervisor", "citations", "reporting"} <= set(out["major_case"])
    assert {"eligible_by_amount", "citations"} <= set(out["simplified_assessment"])
    assert {"name", "due", "rolled_from", "citation", "provisional", "basis"} <= set(
        out["deadlines"][0]
    )
    assert out["rulebook_version"] == "2025-05-09"
    assert out["layer_versions"]["league"] == 3
    for section in ("jurisdiction", "sensitive_areas", "intake", "minor", "departments",
                    "major_case", "simplified_assessment"):  # fmt: skip
        assert out[section]["explanation"], section


def test_decide_never_crashes_on_empty_facts(config, calendar) -> None:
    from screening import SpatialFacts

    out = decide(LeadFacts(), SpatialFacts(None), config, calendar).to_dict()
    assert out["jurisdiction"]["status"] == "unresolved"
    assert out["needs_verification"] is True
