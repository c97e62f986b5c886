"""A decision explained article by article, for the case page, /screen and the printed opinion.

Reads the screen response (API.md) and says, per section, the conclusion, the article it rests
on, the facts that triggered it and any warning. Where the rulebook adds its own Chinese
explanation to a section (`explanation` in the section, or `explanations[section]`), it is shown
as well. Plain strings out; the templates escape them.
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

SENSITIVE = ("red_line", "nature_reserve", "key_function_zone", "prohibited_zone")
GRADE_NAMES = {"general": "一般", "larger": "较大", "major": "重大", "especially_major": "特别重大"}
MAJOR_GROUND_NAMES = {
    "central_inspection_important": "中央生态环境保护督察发现的重要问题",
    "emergency_grade": "较大及以上突发环境事件",
    "incident_grade": "较大及以上突发环境事件",
    "eco_destruction_grade": "重大及以上生态破坏事件",
    "nationally_supervised": "国家挂牌督办的案件",
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


def _cites(value: Any) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _units(units: Iterable[Mapping[str, Any]] | None) -> str:
    return "、".join(
        f"{u.get('name') or u.get('code')}（{format_share(u.get('share'))}）"
        if u.get("share") is not None else str(u.get("name") or u.get("code"))
        for u in units or ()
    )


def _explanation(decision: Mapping[str, Any], key: str) -> str | None:
    section = decision.get(key)
    if isinstance(section, Mapping) and isinstance(section.get("explanation"), str):
        return str(section["explanation"])
    explanations = decision.get("explanations")
    if isinstance(explanations, list):
        for e in explanations:
            if isinstance(e, Mapping) and e.get("section") == key and e.get("text"):
                return str(e["text"])
        return None
    if isinstance(explanations, Mapping):
        value = explanations.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, Mapping) and isinstance(value.get("text"), str):
            return str(value["text"])
    return None


def _warnings_for(decision: Mapping[str, Any], codes: Sequence[str]) -> list[str]:
    return [
        str(w.get("message") or w.get("code"))
        for w in decision.get("warnings") or ()
        if any(str(w.get("code", "")).startswith(c) for c in codes)
    ]


def jurisdiction_section(d: Mapping[str, Any]) -> Section:
    j = d.get("jurisdiction") or {}
    status = j.get("status")
    holder = (j.get("rights_holder") or {}).get("name")
    facts: list[str] = []
    if status == "decided":
        conclusion = f"赔偿权利人：{holder or '—'}"
        level, reason = LEVEL_NAMES.get(j.get("level") or ""), j.get("reason")
        if level:
            conclusion += f"（{level}）"
        if reason:
            facts.append(f"理由：{REASON_NAMES.get(reason, reason)}")
    else:
        conclusion = JURISDICTION_STATUS.get(status or "", status or "尚无管辖结论")
    if j.get("leagues"):
        facts.append(f"损害结果发生地涉及盟市：{_units(j['leagues'])}")
    if j.get("counties"):
        facts.append(f"涉及旗县（市、区）：{_units(j['counties'])}")
    if j.get("other_provinces"):
        facts.append(f"涉及其他省（区、市）：{_units(j['other_provinces'])}")
    if j.get("countries"):
        facts.append(f"涉及境外：{_units(j['countries'])}")
    for s in j.get("ignored_slivers") or ():
        facts.append(
            f"已忽略的边界细小部分：{s.get('name') or s.get('code')}"
            f"（{kind_name(s.get('kind', ''))}，"
            f"占 {format_share(s.get('share'))}，低于容差）"
        )
    return Section(
        key="jurisdiction", title="一、管辖与赔偿权利人", conclusion=conclusion,
        citations=_cites(j.get("citations")) or DEFAULT_CITATIONS["jurisdiction"], facts=facts,
        warnings=_warnings_for(d, ("near_boundary", "gap", "unresolved", "cross_border",
                                   "coarse", "out_of_region")),
        explanation=_explanation(d, "jurisdiction"),
    )


def sensitive_section(d: Mapping[str, Any]) -> Section:
    s = d.get("sensitive_areas") or {}
    facts = []
    for kind in SENSITIVE:
        for h in s.get(kind) or ():
            version = f"，图层版本 {h['layer_version']}" if h.get("layer_version") else ""
            facts.append(
                f"位于{kind_name(kind)}“{h.get('name') or h.get('feature_id')}”内，"
                f"占损害区域 {format_share(h.get('share'))}{version}"
            )
    for n in s.get("nearby") or ():
        if n.get("distance_m") is not None:
            facts.append(
                f"附近{kind_name(n.get('kind', ''))}“{n.get('name')}”，"
                f"距离 {format_distance(float(n['distance_m']))}（未涉及）"
            )
    lead = d.get("sensitive_area_lead")
    unknown = [kind_name(k) for k in s.get("unknown_kinds") or ()]
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
        citations=_cites(s.get("citations")) or DEFAULT_CITATIONS["sensitive_areas"],
        facts=facts, warnings=_warnings_for(d, ("coarse", "sensitive", "red_line", "layer")),
        explanation=_explanation(d, "sensitive_areas"), emphasis=bool(lead),
    )


def minor_section(d: Mapping[str, Any]) -> Section:
    m = d.get("minor") or {}
    facts = [MINOR_BASIS_NAMES.get(b, b) for b in m.get("basis") or ()]
    emphasis = False
    unknown = [OVERRIDE_NAMES.get(k, kind_name(k)) for k in m.get("override_unknown") or ()]
    if m.get("is_minor"):
        if m.get("override"):
            reasons = "、".join(OVERRIDE_NAMES.get(r, r) for r in m.get("override_reasons") or ())
            conclusion = f"虽属显著轻微情形，但应当启动索赔：{reasons}"
            facts += [f"例外情形：{OVERRIDE_NAMES.get(r, r)}"
                      for r in m.get("override_reasons") or ()]
            emphasis = True
        elif m.get("override") is None:
            conclusion = ("属于显著轻微情形，但能否以此不启动索赔尚无法判断：须先核实是否存在"
                          "第十五条第五款规定的情形")
            emphasis = True
        else:
            conclusion = "属于显著轻微情形，可以不启动索赔（须说明理由并经负责人同意）"
    elif m.get("is_minor") is False:
        conclusion = "不属于显著轻微情形"
        if m.get("override"):
            conclusion += "；且存在必须启动索赔的情形"
            emphasis = True
    else:
        conclusion = "未能认定是否属于显著轻微情形（缺少损害金额或影响判断）"
        if m.get("override"):
            reasons = "、".join(OVERRIDE_NAMES.get(r, r) for r in m.get("override_reasons") or ())
            conclusion += f"；但存在必须启动索赔的情形：{reasons}"
            emphasis = True
    if unknown:
        facts.append(f"尚无法判断的例外情形：{'、'.join(unknown)}")
    if m.get("claim_required") is True:
        facts.append("结论：应当启动生态环境损害赔偿")
    return Section(
        key="minor", title="三、显著轻微情形及其例外", conclusion=conclusion,
        citations=_cites(m.get("citations")) or DEFAULT_CITATIONS["minor"], facts=facts,
        warnings=_warnings_for(d, ("minor", "obligor", "repeat", "amount")),
        explanation=_explanation(d, "minor"), emphasis=emphasis,
    )


def intake_section(d: Mapping[str, Any]) -> Section | None:
    i = d.get("intake")
    if not isinstance(i, Mapping):
        return None
    facts = []
    if i.get("channel_citation"):
        facts.append(f"线索来源：{i['channel_citation']}")
    if i.get("report_to"):
        report = i["report_to"]
        if isinstance(report, Mapping):
            report = report.get("name") or report.get("code")
        facts.append(f"应报送：{report}")
    if i.get("excluded"):
        conclusion = "已通过行政执法或诉讼修复，不纳入筛查（第十二条第二款）"
    elif i.get("tracked", True):
        conclusion = "纳入案件办理清单，实行跟踪管理"
    else:
        conclusion = "不纳入案件办理清单"
    cites = _cites(i.get("citations"))
    if i.get("channel_citation"):
        cites = [str(i["channel_citation"]), *cites]
    return Section(
        key="intake", title="线索筛查与登记", conclusion=conclusion,
        citations=cites or DEFAULT_CITATIONS["intake"], facts=facts,
        explanation=_explanation(d, "intake"),
    )


def departments_section(d: Mapping[str, Any]) -> Section:
    dep = d.get("departments") or {}
    names = "、".join(str(x.get("name") or x.get("code")) for x in dep.get("responsible") or ())
    conclusion = f"责任部门：{names}" if names else "未能确定责任部门，需人工指定"
    facts = []
    if dep.get("lead_designation_required"):
        facts.append("涉及多个部门，需由本级政府指定牵头部门，或由生态环境部门牵头")
        if dep.get("suggested_lead"):
            lead = next((x.get("name") for x in dep.get("responsible") or ()
                         if x.get("code") == dep["suggested_lead"]), dep["suggested_lead"])
            facts.append(f"建议牵头部门：{lead}（仅为建议）")
    coop = "、".join(str(x.get("name") or x.get("code")) if isinstance(x, Mapping) else str(x)
                    for x in dep.get("cooperating") or ())
    if coop:
        facts.append(f"配合部门：{coop}")
    return Section(
        key="departments", title="四、责任部门", conclusion=conclusion,
        citations=_cites(dep.get("citations")) or DEFAULT_CITATIONS["departments"], facts=facts,
        warnings=_warnings_for(d, ("department", "case_type")),
        explanation=_explanation(d, "departments"),
    )


def major_section(d: Mapping[str, Any]) -> Section:
    mj = d.get("major_case") or {}
    grounds = [MAJOR_GROUND_NAMES.get(g, g) if isinstance(g, str) else str(g)
               for g in mj.get("grounds") or ()]
    if mj.get("is_major"):
        conclusion = "属于重大生态环境损害赔偿案件"
        supervisor = mj.get("supervisor")
        if isinstance(supervisor, Mapping):
            supervisor = supervisor.get("name") or supervisor.get("code")
        facts = [f"认定依据：{g}" for g in grounds]
        if supervisor:
            facts.append(f"督办单位：{supervisor}")
        facts.append("每30个工作日报告进展，结案后20个工作日内报送办结情况（第三十八条）")
    else:
        conclusion, facts = "不属于重大案件", []
    return Section(
        key="major_case", title="五、重大案件", conclusion=conclusion,
        citations=_cites(mj.get("citations")) or DEFAULT_CITATIONS["major_case"], facts=facts,
        warnings=_warnings_for(d, ("major",)), explanation=_explanation(d, "major_case"),
        emphasis=bool(mj.get("is_major")),
    )


def simplified_section(d: Mapping[str, Any]) -> Section:
    sa = d.get("simplified_assessment") or {}
    eligible = sa.get("eligible_by_amount")
    if eligible is True:
        conclusion = ("按损害金额（30万元以内）可适用简化评估程序；"
                      "事实简单、责任明确等其他条件由办案人员确认")
    elif eligible is False:
        conclusion = "损害金额超过30万元，不适用简化评估程序"
    else:
        conclusion = "缺少损害金额，无法判断能否适用简化评估程序"
    return Section(
        key="simplified_assessment", title="六、简化评估", conclusion=conclusion,
        citations=_cites(sa.get("citations")) or DEFAULT_CITATIONS["simplified_assessment"],
        explanation=_explanation(d, "simplified_assessment"),
    )


def deadlines_section(d: Mapping[str, Any]) -> Section:
    facts, cites = [], []
    for dl in d.get("deadlines") or ():
        name = DEADLINE_NAMES.get(dl.get("name", ""), dl.get("name", ""))
        text = f"{name}：{dl.get('due')}"
        if dl.get("rolled_from"):
            text += f"（原为 {dl['rolled_from']}，遇法定节假日顺延）"
        if dl.get("provisional"):
            text += "（暂定：该年度节假日安排尚未加载）"
        if dl.get("citation"):
            text += f"，依据{dl['citation']}"
            cites.append(str(dl["citation"]))
        facts.append(text)
    conclusion = "期限如下" if facts else "暂无期限"
    return Section(
        key="deadlines", title="七、办理期限", conclusion=conclusion,
        citations=list(dict.fromkeys(cites)) or ["第十四条"], facts=facts,
        warnings=_warnings_for(d, ("calendar", "deadline", "provisional")),
        explanation=_explanation(d, "deadlines"),
    )


def explain(decision: Mapping[str, Any] | None) -> list[Section]:
    """Every section of the decision, in the order an officer reads them."""
    if not decision:
        return []
    sections = [
        jurisdiction_section(decision),
        sensitive_section(decision),
        intake_section(decision),
        minor_section(decision),
        departments_section(decision),
        major_section(decision),
        simplified_section(decision),
        deadlines_section(decision),
    ]
    out = [s for s in sections if s is not None]
    for s in out:
        s.citations = list(dict.fromkeys([*s.citations, *_explanation_citations(decision, s.key)]))
    # Sections the rulebook explains that this page has no heading for: shown, not dropped.
    known = {s.key for s in out}
    for e in decision.get("explanations") or ():
        if isinstance(e, Mapping) and e.get("section") not in known and e.get("text"):
            out.append(Section(key=str(e["section"]), title=str(e.get("title") or e["section"]),
                               conclusion=str(e["text"]), citations=_cites(e.get("citations"))))
    _number(out)
    return out


_NUMERALS = "一二三四五六七八九十"


def _number(sections: list[Section]) -> None:
    for i, s in enumerate(sections):
        title = s.title.split("、", 1)[1] if "、" in s.title[:3] else s.title
        s.title = f"{_NUMERALS[i] if i < len(_NUMERALS) else i + 1}、{title}"


def _explanation_citations(decision: Mapping[str, Any], key: str) -> list[str]:
    explanations = decision.get("explanations")
    if not isinstance(explanations, list):
        return []
    return [c for e in explanations if isinstance(e, Mapping) and e.get("section") == key
            for c in _cites(e.get("citations"))]


def other_warnings(decision: Mapping[str, Any] | None, sections: Sequence[Section]) -> list[str]:
    """Warnings no section claimed, so none is lost."""
    if not decision:
        return []
    shown = {w for s in sections for w in s.warnings}
    return [str(w.get("message") or w.get("code")) for w in decision.get("warnings") or ()
            if str(w.get("message") or w.get("code")) not in shown]
