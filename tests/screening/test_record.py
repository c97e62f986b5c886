"""The typed decision (screening.record) carries decide()'s answer whole (issue 10)."""

from __future__ import annotations

from datetime import date

from rulebook_builders import in_league, sensitive

from screening import LeadFacts, RulebookConfig, WorkCalendar, decide
from screening.facts import PriorDamage
from screening.record import DecisionRecord


def _decided(facts: LeadFacts, where) -> dict:  # type: ignore[no-untyped-def]
    return decide(facts, where, RulebookConfig(), WorkCalendar.load(None)).to_dict()


def test_a_decision_round_trips_through_the_typed_model_unchanged() -> None:
    facts = LeadFacts(
        case_type="pollution_discharge", received_on=date(2026, 9, 5),
        occurred_on=date(2026, 8, 30),
        damage_amount_yuan=2000, obligor_id="91110000600037341L",
        prior_damage=(PriorDamage(date(2025, 6, 1), "lead", 7, "甲线索"),),
        incident_grade="major",
    )
    where = in_league("150700", sensitive("nature_reserve", "某国家公园"))
    raw = _decided(facts, where)
    record = DecisionRecord.load(raw)
    assert record.dump() == raw  # storage and the API keep every field
    typed = DecisionRecord.of(decide(facts, where, RulebookConfig(), WorkCalendar.load(None)))
    assert typed.dump() == raw
    assert record.minor.repeat.triggered_by_lead_ids == [7]
    assert record.sensitive_areas.nature_reserve[0].sub_kind == "国家公园"
    assert record.major_case.supervisor and record.major_case.supervisor[0].name
