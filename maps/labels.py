"""Chinese names for what maps and pages show: layer kinds, decision values."""

from __future__ import annotations

from screening.units import REGION, REGION_CODE, UNITS_BY_CODE

KIND_NAMES = {
    "league": "盟市",
    "county": "旗县（市、区）",
    "province": "省级行政区",
    "country": "国家",
    "red_line": "生态保护红线",
    "nature_reserve": "自然保护地",
    "key_function_zone": "重点生态功能区",
    "prohibited_zone": "禁止开发区域",
    "river_lake": "河湖管理范围",
    "urban": "城镇开发边界",
    "farmland": "永久基本农田",
    "township": "乡镇（苏木）",
    "village": "村（嘎查）",
}

ADMIN_KINDS = ("country", "province", "league", "county")
SENSITIVE_KINDS = ("red_line", "nature_reserve", "key_function_zone", "prohibited_zone")

JURISDICTION_STATUS = {
    "decided": "已确定",
    "out_of_region": "不在自治区范围内",
    "unresolved": "无法自动确定，需人工指定",
}
LEVEL_NAMES = {"league": "盟市级", "region": "自治区级"}
REASON_NAMES = {
    "single_league": "损害结果发生地在一个盟市",
    "cross_league": "自治区内跨盟市",
    "cross_province": "跨省（区、市）",
    "cross_border": "跨国境",
    "national_impact": "在全国有重大影响",
}
OVERRIDE_NAMES = {
    "red_line": "位于生态保护红线内",
    "nature_reserve": "位于自然保护地内",
    "repeat_within_2_years": "同一赔偿义务人二年内再次发生",
    "region_decision": "自治区人民政府或其指定部门决定启动",
}
MINOR_BASIS_NAMES = {
    "amount_within_3000": "损害赔偿金额在3000元以内",
    "no_obvious_impact": "对生态环境无明显影响",
}
DEADLINE_NAMES = {
    "preliminary_check": "初步核查",
    "obligor_reply": "赔偿义务人回复",
    "consultation": "磋商",
    "progress_report": "重大案件进展报告",
    "completion_report": "重大案件办结报告",
}


REGION_DISPLAY = f"{REGION.name}（自治区级）"


def league_display(code: str | None) -> str:
    """The 盟市 column of a case: the league's name, or 内蒙古自治区（自治区级） for a case the
    region itself holds (第五条第一款). The one place a rights-holder code becomes a display
    value — lists, case page, opinion, CSV export and Word document all read it here."""
    if not code:
        return "—"
    if code == REGION_CODE:
        return REGION_DISPLAY
    unit = UNITS_BY_CODE.get(code)
    return unit.name if unit else f"未知盟市（代码 {code}）"


def kind_name(kind: str) -> str:
    return KIND_NAMES.get(kind, kind)


def format_distance(distance_m: float) -> str:
    if distance_m < 1000:
        return f"{distance_m:.0f} 米"
    return f"{distance_m / 1000:.2f} 千米"


def format_share(share: float | None) -> str:
    if share is None:
        return ""
    pct = share * 100
    return f"{pct:.1f}%" if pct >= 0.1 else f"{pct:.2f}%"
