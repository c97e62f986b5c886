"""Which departments handle the case (docs/rules.md §R4: 第六条, 第五条第三、四款).

Names are at the rights holder's level: 自治区生态环境厅, or 呼伦贝尔市生态环境局.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from screening.config import RulebookConfig
from screening.enums import (
    CASE_TYPE_TEXT,
    DEPARTMENT_NAMES,
    PUBLIC_SECURITY,
    PUBLIC_SECURITY_NAMES,
    CaseType,
    Department,
    SourceChannel,
)
from screening.jurisdiction import Jurisdiction
from screening.notices import Notice

_CASE_TYPES = frozenset(CaseType)
_DEPARTMENTS = frozenset(Department)
TABLE_CITATION = "第六条第一款"  # the division of duties (第二款 courts, 第三款 adjustment)
ADJUST_CITATION = "第六条第三款"  # 各盟行政公署、市人民政府可…对职责分工进行调整
DESIGNATE_CITATION = "第五条第三款"
LEAD_CITATION = "第五条第四款"


def department_name(code: str, jurisdiction: Jurisdiction) -> str:
    """自治区生态环境厅 at region level, 呼伦贝尔市生态环境局 at league level, generic otherwise."""
    holder = jurisdiction.rights_holder
    return _department_name(
        code, jurisdiction.status, jurisdiction.level, holder.name if holder else None
    )


@lru_cache(maxsize=1024)
def _department_name(code: str, status: str, level: str | None, holder: str | None) -> str:
    if code == PUBLIC_SECURITY:
        region, suffix, generic = PUBLIC_SECURITY_NAMES
    else:
        region, suffix, generic = DEPARTMENT_NAMES[Department(code)]
    if status != "decided":
        return generic
    if level == "region":
        return region
    assert holder is not None
    return f"{holder}{suffix}"


@dataclass(frozen=True, slots=True)
class Responsible:
    code: str
    name: str
    basis: str  # case_type | nature_reserve | admin_penalty
    citation: str


@dataclass(frozen=True, slots=True)
class Departments:
    responsible: tuple[Responsible, ...]
    lead_designation_required: bool
    suggested_lead: str | None
    cooperating: tuple[Responsible, ...]
    adjusted_by: str | None  # the league whose 第六条第三款 adjustment applied
    notices: tuple[Notice, ...]
    explanation: str
    citations: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        def ref(r: Responsible) -> dict[str, Any]:
            return {"code": r.code, "name": r.name, "basis": r.basis, "citation": r.citation}

        return {
            "responsible": [ref(r) for r in self.responsible],
            "lead_designation_required": self.lead_designation_required,
            "suggested_lead": self.suggested_lead,
            "suggested_lead_is_suggestion": self.suggested_lead is not None,
            "cooperating": [ref(r) for r in self.cooperating],
            "adjusted_by": self.adjusted_by,
            "citations": list(self.citations),
            "explanation": self.explanation,
        }


def decide_departments(
    case_type: str | None,
    source_channel: str | None,
    penalty_department: str | None,
    in_nature_reserve: bool,
    jurisdiction: Jurisdiction,
    config: RulebookConfig,
    act_in_nature_reserve: bool = False,
) -> Departments:
    """第六条 (docs/rules.md §R4): the case type's department, 林草 for 自然保护地内发生的…行为
    (the damage area or the act location inside any 自然保护地 sub-kind), the penalty department."""
    notices: list[Notice] = []
    parts: list[str] = []
    cites = [TABLE_CITATION, DESIGNATE_CITATION]
    if jurisdiction.status == "out_of_region":
        return Departments(
            (), False, None, (), None, (), "损害区域不在自治区行政区域内，不确定责任部门。", ()
        )

    unit = jurisdiction.rights_holder.code if jurisdiction.rights_holder else None
    adjusted = unit if unit and unit in config.league_department_overrides else None
    responsible: list[Responsible] = []

    def add(code: str, basis: str, citation: str) -> None:
        if all(r.code != code for r in responsible):
            name = department_name(code, jurisdiction)
            responsible.append(Responsible(code, name, basis, citation))

    type_dept: str | None = None
    known_type = case_type in _CASE_TYPES
    if case_type and not known_type:
        notices.append(
            Notice(
                "unknown_case_type",
                f"案件类型 {case_type!r} 不在第六条所列类型中，需人工指定部门。",
            )
        )
    if known_type:
        assert case_type is not None
        type_dept = config.department_for(unit, case_type)
        text = CASE_TYPE_TEXT[CaseType(case_type)]
        if type_dept:
            add(
                type_dept,
                "case_type",
                ADJUST_CITATION
                if adjusted and case_type in config.league_department_overrides[adjusted]
                else TABLE_CITATION,
            )
            parts.append(f"案件类型“{text}”由{department_name(type_dept, jurisdiction)}负责")
        else:
            parts.append(f"案件类型“{text}”在第六条职责分工中没有对应部门")
    if not type_dept:
        if known_type and case_type != CaseType.OTHER:
            assert case_type is not None
            why = f"案件类型“{CASE_TYPE_TEXT[CaseType(case_type)]}”在现行职责分工中没有对应部门"
        elif known_type:
            why = "案件类型为“其他”，第六条未规定对应部门"
        elif case_type:
            why = "案件类型无法识别"
        else:
            why = "未填写案件类型"
        notices.append(
            Notice("manual_department", f"{why}：请赔偿权利人依第五条第三款书面指定负责部门。")
        )
    if adjusted:
        cites.append(ADJUST_CITATION)
        holder = jurisdiction.rights_holder.government if jurisdiction.rights_holder else ""
        parts.append(f"已适用{holder}依第六条第三款作出的职责分工调整")

    if in_nature_reserve or act_in_nature_reserve:
        add(Department.FORESTRY_GRASSLAND, "nature_reserve", TABLE_CITATION)
        where = "损害区域" if in_nature_reserve else "行为发生地"
        if in_nature_reserve and act_in_nature_reserve:
            where = "损害区域和行为发生地"
        parts.append(
            f"{where}位于自然保护地内，依第六条第一款“自然保护地内发生的环境污染、生态破坏行为”"
            "由林草部门负责"
        )
    in_nature_reserve = in_nature_reserve or act_in_nature_reserve

    if source_channel == SourceChannel.ADMIN_PENALTY and penalty_department:
        if penalty_department in _DEPARTMENTS:
            add(penalty_department, "admin_penalty", TABLE_CITATION)
            parts.append(
                f"行政处罚案件由作出处罚的{department_name(penalty_department, jurisdiction)}负责"
                "（第六条第一款“本部门管辖的行政处罚案件”）"
            )
        else:
            notices.append(
                Notice(
                    "unknown_penalty_department",
                    f"处罚部门 {penalty_department!r} 不是第六条所列部门，未计入。",
                )
            )

    codes = [r.code for r in responsible]
    multiple = len(codes) > 1
    suggested: str | None = None
    if in_nature_reserve and Department.FORESTRY_GRASSLAND in codes:
        suggested = Department.FORESTRY_GRASSLAND
    elif type_dept:
        suggested = type_dept
    elif codes:
        suggested = codes[0]
    if multiple:
        cites.append(LEAD_CITATION)
        sname = department_name(suggested, jurisdiction) if suggested else ""
        parts.append(
            f"涉及 {len(codes)} 个部门，依第五条第四款由同级人民政府指定牵头部门，或指定由生态环境"
            f"损害赔偿制度改革工作牵头部门（生态环境部门）负责；建议由{sname}牵头（仅为建议）"
        )

    cooperating: list[Responsible] = []
    if source_channel == SourceChannel.CRIMINAL:
        cooperating.append(
            Responsible(
                PUBLIC_SECURITY,
                department_name(PUBLIC_SECURITY, jurisdiction),
                "criminal",
                TABLE_CITATION,
            )
        )
        parts.append("涉嫌犯罪案件由公安机关移交线索并支持调查（第六条第一款），列为配合单位")

    if jurisdiction.status != "decided":
        parts.append("管辖尚未确定，部门名称暂用通称")
    return Departments(
        tuple(responsible),
        multiple,
        suggested,
        tuple(cooperating),
        adjusted,
        tuple(notices),
        "；".join(parts) + "。" if parts else "",
        tuple(dict.fromkeys(cites)),
    )
