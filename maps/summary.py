"""The decision summary panel on a case map: the conclusions, each with its article."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from maps.escape import esc
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
from screening.record import DecisionRecord, UnitRef


def _cite(citations: Iterable[str] | str | None) -> str:
    if not citations:
        return ""
    items = [citations] if isinstance(citations, str) else list(citations)
    return f' <span class="cite">（{esc("、".join(items))}）</span>' if items else ""


Decisionish = DecisionRecord | Mapping[str, Any] | None


def _units(units: Iterable[UnitRef]) -> str:
    parts = []
    for u in units:
        share = format_share(u.share) if u.share is not None else ""
        parts.append(esc(u.name or u.code or "") + (f" {share}" if share else ""))
    return "、".join(parts)


def summary_rows(decision: Decisionish) -> list[tuple[str, str]]:
    """(heading, HTML) pairs, already escaped."""
    d = DecisionRecord.load(decision)
    rows: list[tuple[str, str]] = []
    j = d.jurisdiction
    holder = j.rights_holder.name if j.rights_holder else None
    if j.status == "decided":
        text = esc(holder or "—")
        level = LEVEL_NAMES.get(j.level or "", "")
        reason = REASON_NAMES.get(j.reason or "", j.reason or "")
        detail = "，".join(x for x in (level, reason) if x)
        rows.append(("赔偿权利人", text + (f"（{esc(detail)}）" if detail else "")
                     + _cite(j.citations)))
    elif j.status:
        rows.append(("赔偿权利人", esc(JURISDICTION_STATUS.get(j.status, j.status))
                     + _cite(j.citations)))
    if j.leagues:
        rows.append(("涉及盟市", _units(j.leagues)))
    if j.counties:
        rows.append(("涉及旗县", _units(j.counties)))
    if j.other_provinces:
        rows.append(("涉及外省（区、市）", _units(j.other_provinces)))
    if j.countries:
        rows.append(("涉及境外", _units(j.countries)))

    s = d.sensitive_areas
    hits = []
    for kind in ("red_line", "nature_reserve", "key_function_zone", "prohibited_zone"):
        for h in s.touched(kind):
            sub = f"（{esc(h.sub_kind)}）" if h.sub_kind else ""
            hits.append(f"{esc(kind_name(kind))}{sub}：{esc(h.name or h.feature_id)}"
                        f" {format_share(h.share)}")
    if hits:
        rows.append(("位于敏感区域", "<br>".join(hits)))
    near = [f"{esc(kind_name(n.kind or ''))}“{esc(n.name)}” {format_distance(n.distance_m)}"
            for n in s.nearby if n.distance_m is not None]
    if near:
        rows.append(("附近敏感区域", "<br>".join(near[:5])))
    if d.sensitive_area_lead:
        rows.append(("线索类别", "生态保护红线等禁止开发区域、重点生态功能区内发生的事件"
                     + _cite("第十二条第一款第（五）项")))
    unknown = [kind_name(k) for k in s.unknown_kinds]
    if unknown:
        rows.append(("无法判断", f'<span class="warn">{esc("、".join(unknown))}'
                     "（图层未启用、位置不具体或重叠低于测量精度）</span>"))

    minor = d.minor
    if "minor" in d.model_fields_set:
        if minor.is_minor:
            basis = "、".join(MINOR_BASIS_NAMES.get(b, b) for b in minor.basis)
            text = f"属于显著轻微情形（{esc(basis)}）" if basis else "属于显著轻微情形"
            if minor.override:
                reasons = "、".join(OVERRIDE_NAMES.get(r, r) for r in minor.override_reasons)
                text += f'，但<span class="must">应当启动索赔</span>（{esc(reasons)}）'
            elif minor.override is None:
                text += '，<span class="warn">是否存在应当启动索赔的情形尚无法判断，须核实</span>'
        elif minor.is_minor is False:
            text = "不属于显著轻微情形"
        else:
            text = "未能认定是否显著轻微"
        rows.append(("显著轻微", text + _cite(minor.citations)))

    dept = d.departments
    if dept.responsible:
        names = "、".join(esc(x.name or x.code) for x in dept.responsible)
        if dept.lead_designation_required:
            names += "（需由本级政府指定牵头部门）"
        rows.append(("责任部门", names + _cite(dept.citations)))

    if d.major_case.is_major:
        rows.append(("重大案件", '<span class="must">是</span>' + _cite(d.major_case.citations)))

    for dl in d.deadlines[:2]:
        name = DEADLINE_NAMES.get(dl.name or "", dl.name or "")
        rows.append((f"期限：{esc(name)}", esc(dl.due) + _cite(dl.citation)))

    for w in d.warnings:
        rows.append(("提示", f'<span class="warn">{esc(w.message or w.code)}</span>'))
    return rows


def summary_html(decision: Decisionish, title: str, *, open_: bool = True) -> str:
    rows = summary_rows(decision)
    body = "".join(f"<dt>{h}</dt><dd>{v}</dd>" for h, v in rows) or "<dd>（暂无筛查结论）</dd>"
    return (
        f'<details class="gs-panel gs-summary" id="gs-summary"{" open" if open_ else ""}>'
        f"<summary>筛查结论</summary><h1>{esc(title)}</h1><dl>{body}</dl></details>"
    )
