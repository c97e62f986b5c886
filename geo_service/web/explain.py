"""A decision explained article by article, for the case page, /screen and the printed opinion.

Reads the typed decision (screening.record.DecisionRecord) and says, per section, the
conclusion, the article it rests on, the facts that triggered it and any warning. Where the
rulebook adds its own Chinese explanation to a section, it is shown as well. Plain strings out
(never a Python repr); the templates escape them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from maps.labels import (
    DEADLINE_NAMES,
    JURISDICTION_STATUS,
    LEVEL_NAMES,
    MINOR_BASIS_NAMES,
    OVERRIDE_NAMES,
    REASON_NAMES,
    format_distance,
    format_share,
    kind_name,
)
from screening.record import DecisionRecord, DepartmentRef, UnitRef

SENSITIVE = ("red_line", "nature_reserve", "key_function_zone", "prohibited_zone")
GRADE_NAMES = {"general": "一般", "larger": "较大", "major": "重大", "especially_major": "特别重大"}
MAJOR_GROUND_NAMES = {
    "central_inspection_important": "中央生态环境保护督察发现的重要问题",
    "emergency_grade": "较大及以上突发环境事件",
    "incident_grade": "较大及以上突发环境事件",
    "eco_destruction_grade": "重大及以上生态破坏事件",
    "nationally_supervised": "国家挂牌督办的案件",
    "national_supervision": "国家督办的重要生态环境问题涉及的案件",
    "major_impact": "其他有重大影响的案件",
}

# The default article of each section, used when a decision carries no citation of its own.
DEFAULT_CITATIONS = {
    "jurisdiction": ["第五条第二款"],
    "sensitive_areas": ["第十二条第一款第（五）项"],
    "minor": ["第十五条第五款", "第四十八条"],
    "departments": ["第六条第一款"],
    "major_case": ["第三十六条"],
    "intake": ["第十三条第一款"],
    "simplified_assessment": ["第二十条"],
}


@dataclass
class Section:
    key: str
    title: str
    conclusion: str
    citations: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    explanation: str | None = None
    emphasis: bool = False  # a conclusion the officer must act on (override, major case)


Decisionish = DecisionRecord | Mapping[str, Any] | None


def _units(units: Iterable[UnitRef]) -> str:
    return "、".join(
        f"{u.name or u.code}（{format_share(u.share)}）" if u.share is not None
        else str(u.name or u.code)
        for u in units
    )


def _names(refs: Iterable[DepartmentRef]) -> str:
    return "、".join(str(r.name or r.code) for r in refs)


def jurisdiction_section(d: DecisionRecord) -> Section:
    j = d.jurisdiction
    holder = j.rights_holder.name if j.rights_holder else None
    facts: list[str] = []
    if j.status == "decided":
        conclusion = f"赔偿权利人：{holder or '—'}"
        level = LEVEL_NAMES.get(j.level or "")
        if level:
            conclusion += f"（{level}）"
        if j.reason:
            facts.append(f"理由：{REASON_NAMES.get(j.reason, j.reason)}")
    else:
        conclusion = JURISDICTION_STATUS.get(j.status or "", j.status or "尚无管辖结论")
    if j.leagues:
        facts.append(f"损害结果发生地涉及盟市：{_units(j.leagues)}")
    if j.counties:
        facts.append(f"涉及旗县（市、区）：{_units(j.counties)}")
    if j.other_provinces:
        facts.append(f"涉及其他省（区、市）：{_units(j.other_provinces)}")
    if j.countries:
        facts.append(f"涉及境外：{_units(j.countries)}")
    for s in j.ignored_slivers:
        size = f"，约 {s.area_m2:,.0f} 平方米" if s.area_m2 is not None else ""
        facts.append(
            f"未计入的边界细小部分：{s.name or s.code}（{kind_name(s.kind or '')}，"
            f"占 {format_share(s.share)}{size}，须核实）"
        )
    if j.boundary_candidates:
        names = "、".join(str(c.name or c.code) for c in j.boundary_candidates)
        facts.append(f"位于共同边界上，候选：{names}（须核实）")
    return Section(
        key="jurisdiction", title="一、管辖与赔偿权利人", conclusion=conclusion,
        citations=list(j.citations) or DEFAULT_CITATIONS["jurisdiction"], facts=facts,
        warnings=d.warnings_with(("near_boundary", "gap", "unresolved", "cross_border", "coarse",
                                  "out_of_region", "ignored_slivers", "small_share",
                                  "boundary_tie", "layers_disagree", "special_status",
                                  "overlapping")),
        explanation=d.explanation_of("jurisdiction"),
    )


def sensitive_section(d: DecisionRecord) -> Section:
    s = d.sensitive_areas
    facts = []
    for kind in SENSITIVE:
        for h in s.touched(kind):
            version = f"，图层版本 {h.layer_version}" if h.layer_version else ""
            sub = f"（{h.sub_kind}）" if h.sub_kind else ""
            facts.append(
                f"位于{kind_name(kind)}{sub}“{h.name or h.feature_id}”内，"
                f"占损害区域 {format_share(h.share)}{version}"
            )
    for n in s.nearby:
        if n.distance_m is not None:
            facts.append(
                f"附近{kind_name(n.kind or '')}“{n.name}”，"
                f"距离 {format_distance(float(n.distance_m))}（未涉及）"
            )
    lead = d.sensitive_area_lead
    unknown = [kind_name(k) for k in s.unknown_kinds]
    if lead:
        conclusion = ("损害区域涉及生态保护红线等禁止开发区域或重点生态功能区，属于独立的案件线索，"
                      "应向同级生态环境部门汇总报送")
    elif lead is False:
        conclusion = "损害区域未涉及生态保护红线、自然保护地、禁止开发区域或重点生态功能区"
    else:
        conclusion = "无法判断是否涉及敏感区域（图层未启用或位置不具体），不能视为“未涉及”"
    if unknown:
        facts.append(f"无法判断：{'、'.join(unknown)}（须加载图层或核实位置后重新筛查）")
    return Section(
        key="sensitive_areas", title="二、敏感区域（第十二条第一款第（五）项线索）",
        conclusion=conclusion,
        citations=list(s.citations) or DEFAULT_CITATIONS["sensitive_areas"],
        facts=facts, warnings=d.warnings_with(("coarse", "sensitive", "red_line", "layer",
                                               "near_sensitive")),
        explanation=d.explanation_of("sensitive_areas"), emphasis=bool(lead),
    )


def minor_section(d: DecisionRecord) -> Section:
    m = d.minor
    facts = [MINOR_BASIS_NAMES.get(b, b) for b in m.basis]
    emphasis = False
    unknown = [OVERRIDE_NAMES.get(k, kind_name(k)) for k in m.override_unknown]
    reasons = "、".join(OVERRIDE_NAMES.get(r, r) for r in m.override_reasons)
    if m.is_minor:
        if m.override:
            conclusion = f"虽属显著轻微情形，但应当启动索赔：{reasons}"
            facts += [f"例外情形：{OVERRIDE_NAMES.get(r, r)}" for r in m.override_reasons]
            emphasis = True
        elif m.override is None:
            conclusion = ("属于显著轻微情形，但能否以此不启动索赔尚无法判断：须先核实是否存在"
                          "第十五条第五款规定的情形")
            emphasis = True
        else:
            conclusion = ("属于显著轻微情形；经认定不需要赔偿的，可以不启动索赔"
                          "（第十五条第二款第（三）项，须说明理由并经负责人同意）")
    elif m.is_minor is False:
        conclusion = "不属于显著轻微情形"
        if m.override:
            conclusion += "；且存在必须启动索赔的情形"
            emphasis = True
    else:
        conclusion = "未能认定是否属于显著轻微情形（缺少损害金额或影响判断）"
        if m.override:
            conclusion += f"；但存在必须启动索赔的情形：{reasons}"
            emphasis = True
    for e in m.repeat.earlier:
        where = f"线索 {e.lead_id}" if e.lead_id else (e.ref or "调用方提供")
        match = "（按名称匹配，须核实）" if e.match == "name" else ""
        facts.append(f"此前已认定的损害：{e.date}，{where}{match}")
    if unknown:
        facts.append(f"尚无法判断的例外情形：{'、'.join(unknown)}")
    if m.claim_required is True:
        facts.append("结论：应当启动生态环境损害赔偿")
    return Section(
        key="minor", title="三、显著轻微情形及其例外", conclusion=conclusion,
        citations=list(m.citations) or DEFAULT_CITATIONS["minor"], facts=facts,
        warnings=d.warnings_with(("minor", "obligor", "repeat", "amount", "override",
                                  "impact")),
        explanation=d.explanation_of("minor"), emphasis=emphasis,
    )


def intake_section(d: DecisionRecord) -> Section | None:
    i = d.intake
    if i is None:
        return None
    facts = []
    if i.channel_citation:
        facts.append(f"线索来源：{i.channel_citation}")
    if i.report_to:
        facts.append(f"应报送：{i.report_to}")
    if i.excluded:
        conclusion = "已通过行政执法或诉讼修复，不纳入筛查（第十二条第二款）"
    elif i.tracked:
        conclusion = "纳入案件办理清单，实行跟踪管理"
    else:
        conclusion = "不纳入案件办理清单"
    cites = list(i.citations)
    if i.channel_citation:
        cites = [i.channel_citation, *cites]
    return Section(
        key="intake", title="线索筛查与登记", conclusion=conclusion,
        citations=cites or DEFAULT_CITATIONS["intake"], facts=facts,
        explanation=d.explanation_of("intake"),
    )


def departments_section(d: DecisionRecord) -> Section:
    dep = d.departments
    names = _names(dep.responsible)
    conclusion = f"责任部门：{names}" if names else "未能确定责任部门，需人工指定"
    facts = []
    if dep.lead_designation_required:
        facts.append("涉及多个部门，需由本级政府指定牵头部门，或由生态环境部门牵头")
        if dep.suggested_lead:
            lead = next((x.name for x in dep.responsible if x.code == dep.suggested_lead),
                        dep.suggested_lead)
            facts.append(f"建议牵头部门：{lead}（仅为建议）")
    coop = _names(dep.cooperating)
    if coop:
        facts.append(f"配合部门：{coop}")
    return Section(
        key="departments", title="四、责任部门", conclusion=conclusion,
        citations=list(dep.citations) or DEFAULT_CITATIONS["departments"], facts=facts,
        warnings=d.warnings_with(("department", "case_type", "manual_department",
                                  "unknown_penalty")),
        explanation=d.explanation_of("departments"),
    )


def major_section(d: DecisionRecord) -> Section:
    mj = d.major_case
    grounds = [MAJOR_GROUND_NAMES.get(g, g) for g in mj.grounds]
    facts: list[str] = []
    if mj.is_major:
        conclusion = "属于重大生态环境损害赔偿案件"
        facts = [f"认定依据：{g}" for g in grounds]
        if mj.supervisor:
            facts.append(f"督办单位：{_names(mj.supervisor)}（第三十五条第二款）")
        if mj.reporting is not None:
            r = mj.reporting
            facts.append(
                r.explanation
                or f"每 {r.progress_every_working_days} 个工作日向督办单位报告进展，办结之日起 "
                f"{r.completion_within_working_days} 个工作日内书面报告（第三十八条）"
            )
    else:
        conclusion = "不属于重大案件"
    return Section(
        key="major_case", title="五、重大案件", conclusion=conclusion,
        citations=list(mj.citations) or DEFAULT_CITATIONS["major_case"], facts=facts,
        warnings=d.warnings_with(("major",)), explanation=d.explanation_of("major_case"),
        emphasis=mj.is_major,
    )


def simplified_section(d: DecisionRecord) -> Section:
    sa = d.simplified_assessment
    if sa.eligible_by_amount is True:
        conclusion = ("按损害金额（30万元以内）可适用简化评估程序；"
                      "事实简单、责任明确等其他条件由办案人员确认")
    elif sa.eligible_by_amount is False:
        conclusion = "损害金额超过30万元，不适用简化评估程序"
    else:
        conclusion = "缺少损害金额，无法判断能否适用简化评估程序"
    return Section(
        key="simplified_assessment", title="六、简化评估", conclusion=conclusion,
        citations=list(sa.citations) or DEFAULT_CITATIONS["simplified_assessment"],
        explanation=d.explanation_of("simplified_assessment"),
    )


def deadlines_section(d: DecisionRecord) -> Section:
    facts, cites = [], []
    for dl in d.deadlines:
        name = DEADLINE_NAMES.get(dl.name or "", dl.name or "")
        text = f"{name}：{dl.due}"
        if dl.rolled_from:
            text += f"（原为 {dl.rolled_from}，遇法定节假日顺延）"
        if dl.provisional:
            text += "（暂定：该年度节假日安排尚未加载）"
        if dl.citation:
            text += f"，依据{dl.citation}"
            cites.append(dl.citation)
        facts.append(text)
    conclusion = "期限如下" if facts else "暂无期限"
    return Section(
        key="deadlines", title="七、办理期限", conclusion=conclusion,
        citations=list(dict.fromkeys(cites)) or ["第十四条"], facts=facts,
        warnings=d.warnings_with(("calendar", "deadline", "provisional", "received_on")),
        explanation=d.explanation_of("deadlines"),
    )


def explain(decision: Decisionish) -> list[Section]:
    """Every section of the decision, in the order an officer reads them."""
    if not decision:
        return []
    d = DecisionRecord.load(decision)
    sections = [
        jurisdiction_section(d),
        sensitive_section(d),
        intake_section(d),
        minor_section(d),
        departments_section(d),
        major_section(d),
        simplified_section(d),
        deadlines_section(d),
    ]
    out = [s for s in sections if s is not None]
    for s in out:
        extra = [c for e in d.explanations if e.section == s.key for c in e.citations]
        s.citations = list(dict.fromkeys([*s.citations, *extra]))
    # Sections the rulebook explains that this page has no heading for: shown, not dropped.
    known = {s.key for s in out}
    for e in d.explanations:
        if e.section not in known and e.text:
            out.append(Section(key=str(e.section), title=str(e.title or e.section),
                               conclusion=e.text, citations=list(e.citations)))
    _number(out)
    return out


_NUMERALS = "一二三四五六七八九十"


def _number(sections: list[Section]) -> None:
    for i, s in enumerate(sections):
        title = s.title.split("、", 1)[1] if "、" in s.title[:3] else s.title
        s.title = f"{_NUMERALS[i] if i < len(_NUMERALS) else i + 1}、{title}"


def other_warnings(decision: Decisionish, sections: Sequence[Section]) -> list[str]:
    """Warnings no section claimed, so none is lost."""
    if not decision:
        return []
    shown = {w for s in sections for w in s.warnings}
    messages = [w.message or w.code or "" for w in DecisionRecord.load(decision).warnings]
    return [m for m in messages if m not in shown]
