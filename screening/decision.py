"""The decision the rulebook returns: every section of API.md's screen response (docs/rules.md
§R9: what a decision keeps)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from screening.assessment import SimplifiedAssessment
from screening.deadlines import Deadline
from screening.departments import Departments
from screening.intake import Intake
from screening.jurisdiction import Jurisdiction
from screening.major import MajorCase
from screening.minor import Minor
from screening.notices import Notice
from screening.obligor import ObligorId
from screening.sensitive import SensitiveAreas

_SECTION_TITLES = (
    ("jurisdiction", "赔偿权利人（管辖）"),
    ("sensitive_areas", "敏感区域"),
    ("intake", "线索筛查"),
    ("departments", "责任部门"),
    ("minor", "显著轻微与应当启动索赔的情形"),
    ("major_case", "重大案件"),
    ("simplified_assessment", "简易评估"),
)


@dataclass(frozen=True, slots=True)
class Decision:
    jurisdiction: Jurisdiction
    sensitive: SensitiveAreas
    intake: Intake
    minor: Minor
    departments: Departments
    major: MajorCase
    simplified: SimplifiedAssessment
    deadlines: tuple[Deadline, ...]
    warnings: tuple[Notice, ...]
    needs_verification: bool
    layer_versions: Mapping[str, int]
    rulebook_version: str
    obligor: ObligorId | None = None
    obligor_error: str | None = None

    @property
    def sensitive_area_lead(self) -> bool | None:
        return self.intake.sensitive_area_lead

    @property
    def league_code(self) -> str | None:
        """The league of the case (rights holder, or the single league touched), for listing."""
        j = self.jurisdiction
        if j.level == "league" and j.rights_holder:
            return j.rights_holder.code
        return j.leagues[0].code if len(j.leagues) == 1 else None

    @property
    def next_due(self) -> date | None:
        return min((d.due for d in self.deadlines), default=None)

    def to_dict(self) -> dict[str, Any]:
        sections = self.to_sections()
        return {
            **sections,
            "sensitive_area_lead": self.intake.sensitive_area_lead,
            "deadlines": [d.to_dict() for d in self.deadlines],
            "warnings": [w.to_dict() for w in self.warnings],
            "needs_verification": self.needs_verification,
            "layer_versions": dict(self.layer_versions),
            "rulebook_version": self.rulebook_version,
            "obligor": self._obligor_dict(),
            "explanations": self.explanations(sections),
        }

    def explanations(
        self, sections: Mapping[str, Mapping[str, Any]] | None = None
    ) -> list[dict[str, Any]]:
        """The decision article by article, in the order a case page shows it."""
        d = sections if sections is not None else self.to_sections()
        return [
            {"section": key, "title": title, "citations": d[key].get("citations", []),
             "text": d[key]["explanation"]}
            for key, title in _SECTION_TITLES
        ] + [
            {"section": "deadlines", "title": "办理期限", "citations": x.citations,
             "text": x.explanation}
            for x in self.deadlines
        ]  # fmt: skip

    def to_sections(self) -> dict[str, dict[str, Any]]:
        return {
            "jurisdiction": self.jurisdiction.to_dict(),
            "sensitive_areas": self.sensitive.to_dict(),
            "intake": self.intake.to_dict(),
            "minor": self.minor.to_dict(),
            "departments": self.departments.to_dict(),
            "major_case": self.major.to_dict(),
            "simplified_assessment": self.simplified.to_dict(),
        }

    def _obligor_dict(self) -> dict[str, Any] | None:
        if self.obligor:
            o = self.obligor
            return {"kind": o.kind, "kind_name": o.kind_zh, "value": o.value, "valid": True}
        if self.obligor_error:
            return {"valid": False, "message": self.obligor_error}
        return None
