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


def _cite(citations: Iterable[str] | str | None) -> str:
    if not citations:
        return ""
    items = [citations] if isinstance(citations, str) else list(citations)
    return f' <span class="cite">（{esc("、".join(items))}）</span>' if items else ""


def _units(units: Iterable[Mapping[str, Any]] | None) -> str:
    parts = []
    for u in units or ():
        share = format_share(u.get("share")) if u.get("share") is not None else ""
        parts.append(esc(u.get("name") or u.get("code") or "") + (f" {share}" if share else ""))
    return "、".join(parts)


def summary_rows(decision: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(heading, HTML) pairs, already escaped."""
    rows: list[tuple[str, str]] = []
    j = decision.get("jurisdiction") or {}
    status = j.get("status")
    holder = (j.get("rights_holder") or {}).get("name")
    if status == "decided":
        text = esc(holder or "—")
        level = LEVEL_NAMES.get(j.get("level") or "", "")
        reason = REASON_NAMES.get(j.get("reason") or "", j.get("reason") or "")
        detail = "，".join(x for x in (level, reason) if x)
        rows.append(("赔偿权利人", text + (f"（{esc(detail)}）" if detail else "")
                     + _cite(j.get("citations"))))
    elif status:
        rows.append(("赔偿权利人", esc(JURISDICTION_STATUS.get(status, status))
                     + _cite(j.get("citations"))))
    if j.get("leagues"):
        rows.append(("涉及盟市", _units(j["leagues"])))
    if j.get("counties"):
        rows.append(("涉及旗县", _units(j["counties"])))
    if j.get("other_provinces"):
        rows.append(("涉及外省（区、市）", _units(j["other_provinces"])))
    if j.get("countries"):
        rows.append(("涉及境外", _units(j["countries"])))

    s = decision.get("sensitive_areas") or {}
    hits = []
    for kind in ("red_line", "nature_reserve", "key_function_zone", "prohibited_zone"):
        for h in s.get(kind) or ():
            hits.append(f"{esc(kind_name(kind))}：{esc(h.get('name') or h.get('feature_id'))}"
                        f" {format_share(h.get('share'))}")
    if hits:
        rows.append(("位于敏感区域", "<br>".join(hits)))
    near = [f"{esc(kind_name(n.get('kind', '')))}“{esc(n.get('name'))}” "
            f"{format_distance(float(n['distance_m']))}"
            for n in (s.get("nearby") or ()) if n.get("distance_m") is not None]
    if near:
        rows.append(("附近敏感区域", "<br>".join(near[:5])))
    if decision.get("sensitive_area_lead"):
        rows.append(("线索类别", "生态保护红线等禁止开发区域、重点生态功能区内发生的事件"
                     + _cite("第十二条第一款第（五）项")))
    unknown = [kind_name(k) for k in s.get("unknown_kinds") or ()]
    if unknown:
        rows.append(("无法判断", f'<span class="warn">{esc("、".join(unknown))}'
                     "（图层未启用或位置不具体）</span>"))

    minor = decision.get("minor") or {}
    if minor:
        if minor.get("is_minor"):
            basis = "、".join(MINOR_BASIS_NAMES.get(b, b) for b in minor.get("basis") or ())
            text = f"属于显著轻微情形（{esc(basis)}）" if basis else "属于显著轻微情形"
            if minor.get("override"):
                reasons = "、".join(OVERRIDE_NAMES.get(r, r)
                                   for r in minor.get("override_reasons") or ())
                text += f'，但<span class="must">应当启动索赔</span>（{esc(reasons)}）'
            elif minor.get("override") is None:
                text += '，<span class="warn">是否存在应当启动索赔的情形尚无法判断，须核实</span>'
        elif minor.get("is_minor") is False:
            text = "不属于显著轻微情形"
        else:
            text = "未能认定是否显著轻微"
        rows.append(("显著轻微", text + _cite(minor.get("citations"))))

    dept = decision.get("departments") or {}
    if dept.get("responsible"):
        names = "、".join(esc(d.get("name") or d.get("code")) for d in dept["responsible"])
        if dept.get("lead_designation_required"):
            names += "（需由本级政府指定牵头部门）"
        rows.append(("责任部门", names + _cite(dept.get("citations"))))

    major = decision.get("major_case") or {}
    if major.get("is_major"):
        rows.append(("重大案件", '<span class="must">是</span>' + _cite(major.get("citations"))))

    for d in (decision.get("deadlines") or ())[:2]:
        name = DEADLINE_NAMES.get(d.get("name", ""), d.get("name", ""))
        rows.append((f"期限：{esc(name)}", esc(d.get("due")) + _cite(d.get("citation"))))

    for w in decision.get("warnings") or ():
        rows.append(("提示", f'<span class="warn">{esc(w.get("message") or w.get("code"))}</span>'))
    return rows


def summary_html(decision: Mapping[str, Any], title: str, *, open_: bool = True) -> str:
    rows = summary_rows(decision)
    body = "".join(f"<dt>{h}</dt><dd>{v}</dd>" for h, v in rows) or "<dd>（暂无筛查结论）</dd>"
    return (
        f'<details class="gs-panel gs-summary" id="gs-summary"{" open" if open_ else ""}>'
        f"<summary>筛查结论</summary><h1>{esc(title)}</h1><dl>{body}</dl></details>"
    )
