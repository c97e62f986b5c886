"""Major cases (docs/rules.md §R7: 第三十六条), their supervisor (第三十五条第二款) and reporting
(第三十八条)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from screening.config import RulebookConfig
from screening.departments import Departments
from screening.enums import DEPARTMENT_NAMES, GRADE_TEXT, Department, Grade
from screening.jurisdiction import Jurisdiction
from screening.notices import Notice

GROUND_CITATIONS = {
    "central_inspection": "第三十六条第（一）项",
    "emergency_grade": "第三十六条第（二）项",
    "eco_destruction_grade": "第三十六条第（三）项",
    "national_supervision": "第三十六条第（四）项",
    "major_impact": "第三十六条第（五）项",
}
SUPERVISION_CITATION = "第三十五条第二款"
REPORTING_CITATION = "第三十八条"


def _grade(value: str | None, field: str, notices: list[Notice]) -> Grade | None:
    if value is None:
        return None
    grade = _GRADES.get(value)
    if grade is None:
        notices.append(
            Notice(
                "unknown_grade",
                f"{field} 的取值 {value!r} 无法识别（应为 {', '.join(Grade)}），"
                "未计入重大案件判定。",
            )
        )
    return grade


_GRADES = {g.value: g for g in Grade}


@dataclass(frozen=True, slots=True)
class MajorCase:
    is_major: bool
    grounds: tuple[str, ...]
    supervisor: tuple[tuple[str, str], ...] | None  # (department code, region-level name)
    reporting: dict[str, Any] | None
    notices: tuple[Notice, ...]
    explanation: str

    def to_dict(self) -> dict[str, Any]:
        cites = [GROUND_CITATIONS[g] for g in self.grounds]
        if self.supervisor:
            cites.append(SUPERVISION_CITATION)
        if self.reporting:
            cites.append(REPORTING_CITATION)
        return {
            "is_major": self.is_major,
            "grounds": list(self.grounds),
            "supervisor": (
                [{"code": c, "name": n} for c, n in self.supervisor] if self.supervisor else None
            ),
            "reporting": self.reporting,
            "citations": cites,
            "explanation": self.explanation,
        }


def decide_major(
    *,
    central_inspection_important: bool,
    incident_grade: str | None,
    eco_destruction_grade: str | None,
    nationally_supervised: bool,
    major_impact: bool,
    national_impact: bool,
    jurisdiction: Jurisdiction,
    departments: Departments,
    config: RulebookConfig,
) -> MajorCase:
    """第三十五至三十八条 (docs/rules.md §R7)."""
    notices: list[Notice] = []
    grounds: list[str] = []
    parts: list[str] = []
    if central_inspection_important:
        grounds.append("central_inspection")
        parts.append("中央生态环境保护督察发现的重要生态环境问题涉及的案件（第三十六条第（一）项）")
    emergency = _grade(incident_grade, "incident_grade", notices)
    threshold = _GRADES[config.major_incident_grade]
    if emergency is not None and emergency.rank >= threshold.rank:
        grounds.append("emergency_grade")
        parts.append(
            f"{GRADE_TEXT[emergency]}突发环境事件，属{GRADE_TEXT[threshold]}及以上"
            "（第三十六条第（二）项）"
        )
    destruction = _grade(eco_destruction_grade, "eco_destruction_grade", notices)
    threshold = _GRADES[config.major_eco_destruction_grade]
    if destruction is not None and destruction.rank >= threshold.rank:
        grounds.append("eco_destruction_grade")
        parts.append(
            f"{GRADE_TEXT[destruction]}生态破坏事件，属{GRADE_TEXT[threshold]}及以上"
            "（第三十六条第（三）项）"
        )
    if nationally_supervised:
        grounds.append("national_supervision")
        parts.append("国家督办的重要生态环境问题涉及的案件（第三十六条第（四）项）")
    if major_impact or national_impact:
        grounds.append("major_impact")
        parts.append("在全国或者本行政区域有重大影响（第三十六条第（五）项）")

    if not grounds:
        none = "不存在第三十六条规定的重大案件情形。"
        return MajorCase(False, (), None, None, tuple(notices), none)

    reporting: dict[str, Any] | None = {
        "progress_every_working_days": config.major_progress_working_days,
        "completion_within_working_days": config.major_completion_working_days,
        "citation": REPORTING_CITATION,
        "explanation": f"承办单位每 {config.major_progress_working_days} 个工作日向督办单位报告一次"
        f"案件查处进展（第三十八条第一款）；办结之日起 {config.major_completion_working_days} 个"
        "工作日内书面报告（第三十八条第三款）。",
    }
    supervisor: tuple[tuple[str, str], ...] | None = None
    if jurisdiction.level == "league" and jurisdiction.rights_holder is not None:
        codes = [r.code for r in departments.responsible]
        supervisor = tuple((c, DEPARTMENT_NAMES[Department(c)][0]) for c in codes)
        if supervisor:
            names = "、".join(n for _, n in supervisor)
            parts.append(
                f"由{jurisdiction.rights_holder.government}作为赔偿权利人办理，由{names}代表自治区"
                f"人民政府督办（{SUPERVISION_CITATION}）"
            )
        else:
            supervisor = None
            parts.append("责任部门尚未确定，督办部门待部门指定后确定（第三十五条第二款）")
    elif jurisdiction.level == "region":
        # 第三十八条: the 承办单位 reports to its 督办单位; 第三十五条第二款 supervision covers
        # cases a league handles, so a case the region handles itself has no such reporting.
        reporting = None
        parts.append(
            "由自治区人民政府管辖，不属第三十五条第二款所称对盟市办理案件的督办，"
            "第三十八条向督办单位报告的要求不适用（国家督办的，按督办要求报告）"
        )
    else:
        parts.append("管辖尚未确定，督办单位待定")
    return MajorCase(
        True,
        tuple(grounds),
        supervisor,
        reporting,
        tuple(notices),
        "属重大案件：" + "；".join(parts) + "。",
    )
