"""Shared by the page tests: tokens, a sample screen response, lead rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from shapely.geometry import Point, box, mapping

from geo_service.db.models import DecisionRow, Lead
from geo_service.services import Services

XSS = (
    "</script><script>window.__xss=1</script>`${window.__xss=2}`"
    '<img src=x onerror="window.__xss=3">'
)


@dataclass(frozen=True)
class Tokens:
    admin: str
    viewer: str
    screener: str
    analyst: str


def sample_decision(**over: Any) -> dict[str, Any]:
    """A screen response in API.md's shape (as the rulebook returns it for a Manzhouli case)."""
    d: dict[str, Any] = {
        "jurisdiction": {
            "status": "decided", "level": "league", "reason": "single_league",
            "rights_holder": {"code": "150700", "name": "呼伦贝尔市人民政府"},
            "leagues": [{"code": "150700", "name": "呼伦贝尔市", "share": 1.0}],
            "counties": [{"code": "150781", "name": "满洲里市", "share": 1.0}],
            "other_provinces": [], "countries": [], "ignored_slivers": [],
            "citations": ["第五条第二款"],
        },
        "sensitive_areas": {
            "red_line": [{"layer": "red_line", "layer_version": 7, "feature_id": "rl-1",
                          "name": "呼伦湖生态保护红线", "share": 0.4}],
            "nature_reserve": [], "key_function_zone": [],
            "nearby": [{"kind": "nature_reserve", "name": "达赉湖自然保护区", "distance_m": 830.0}],
        },
        "sensitive_area_lead": True,
        "minor": {"is_minor": True, "basis": ["amount_within_3000"], "override": True,
                  "override_reasons": ["red_line"], "claim_required": True,
                  "citations": ["第十五条第五款第（一）项", "第四十八条"]},
        "departments": {"responsible": [{"code": "ecology_environment",
                                         "name": "呼伦贝尔市生态环境局"}],
                        "lead_designation_required": False,
                        "suggested_lead": "ecology_environment", "cooperating": [],
                        "citations": ["第六条"]},
        "major_case": {"is_major": False, "grounds": [], "supervisor": None, "citations": []},
        "simplified_assessment": {"eligible_by_amount": True, "citations": ["第二十条"]},
        "deadlines": [{"name": "preliminary_check", "due": "2026-10-08",
                       "rolled_from": "2026-10-05", "citation": "第十四条"}],
        "warnings": [{"code": "near_boundary", "message": "距盟市边界 30 米，建议现场核实"}],
        "needs_verification": True,
        "layer_versions": {},
        "rulebook_version": "2025-05-09",
    }
    d.update(over)
    return d


def insert_lead(services: Services, *, title: str, description: str | None = None,
                league: str = "150700", due: date | None = None, major: bool = False,
                override: bool = False, status: str = "preliminary_check",
                decision: dict[str, Any] | None = None, damage=None, act=None) -> int:
    """A lead row as the leads API stores it (pages read rows; they do not care who wrote them)."""
    now = datetime.now(UTC)
    damage = damage if damage is not None else box(117.40, 49.55, 117.45, 49.58)
    act = act if act is not None else Point(117.38, 49.56)
    with services.sessions() as s:
        lead = Lead(
            created_at=now, created_by="screener:测试", title=title, description=description,
            status=status, league_code=league, next_due=due, is_major=major,
            minor_override=override,
            damage_geom=damage, act_geom=act,
            # The screen request as the leads API keeps it (re-screening reads it back).
            request={"location": {"geometry": mapping(damage), "crs": "EPSG:4490"},
                     "act_location": {"geometry": mapping(act)}, "title": title,
                     "description": description},
        )
        s.add(lead)
        s.flush()
        s.add(DecisionRow(lead_id=lead.id, created_at=now, created_by="screener:测试",
                          rulebook_version="2025-05-09", layer_versions={}, inputs={},
                          result=decision or sample_decision(), trigger="created"))
        s.commit()
        return lead.id


