"""Significantly minor (第四十八条) and the override that forces a claim (第十五条第五款).

docs/rules.md §R5: ground （三） needs two findings (显著轻微，且不需要赔偿); the override counts
every established earlier damage (§R5.2) and names the records that triggered it.
"""

from __future__ import annotations

import calendar as _cal
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from screening.config import RulebookConfig
from screening.enums import NATURE_RESERVE, RED_LINE
from screening.facts import PriorDamage
from screening.notices import Notice
from screening.sensitive import SensitiveAreas, protected_area_sub_kind

MINOR_CITATION = "第四十八条"
AMOUNT_CITATION = "第四十八条第（一）项"
IMPACT_CITATION = "第四十八条第（二）项"
GROUND_CITATION = "第十五条第二款第（三）项"
_ONE_DAY = timedelta(days=1)
OVERRIDE_CITATIONS = {
    RED_LINE: "第十五条第五款第（一）项",
    NATURE_RESERVE: "第十五条第五款第（一）项",
    "repeat_within_2_years": "第十五条第五款第（二）项",
    "region_decision": "第十五条第五款第（三）项",
}


_OVERRIDE_AREAS = ((RED_LINE, "生态保护红线"), (NATURE_RESERVE, "自然保护地"))

# Why an override ground could not be established, as the officer reads it.
_UNKNOWN_TEXT = {
    RED_LINE: (
        "是否位于生态保护红线内（敏感区图层缺失、位置不具体或重叠低于测量精度，"
        "第十五条第五款第（一）项）"
    ),
    NATURE_RESERVE: (
        "是否位于自然保护地内（敏感区图层缺失、位置不具体或重叠低于测量精度，"
        "第十五条第五款第（一）项）"
    ),
    "repeat_within_2_years": (
        "是否属于2年内再次发生（缺少损害发生日期和接到线索日期，第十五条第五款第（二）项）"
    ),
}


@lru_cache(maxsize=4096)
def years_before(d: date, years: int) -> date:
    """The same calendar day `years` earlier; 29 February falls back to the month's last day
    (民法典第二百零二条: 没有对应日的，月末日为期间的最后一日)."""
    y = d.year - years
    return date(y, d.month, min(d.day, _cal.monthrange(y, d.month)[1]))


@lru_cache(maxsize=4096)
def years_after(d: date, years: int) -> date:
    """The same calendar day `years` later; 29 February falls back to the month's last day
    (民法典第二百零二条)."""
    y = d.year + years
    return date(y, d.month, min(d.day, _cal.monthrange(y, d.month)[1]))


@lru_cache(maxsize=4096)
def repeat_window_start(occurred_on: date, years: int) -> date:
    """The earliest earlier-damage date whose `years` still cover `occurred_on`.

    The period runs forward from the earlier damage (民法典第二百零一、二百零二条: the start day
    is not counted, the period ends on the corresponding day or, lacking one, the month's last
    day); counting backwards from `occurred_on` differs when it is 29 February.
    """
    return years_before(occurred_on - _ONE_DAY, years) + _ONE_DAY


def repeats_within(earlier: Iterable[date], occurred_on: date, years: int) -> list[date]:
    """Earlier damage (before `occurred_on`) whose `years`, counted from it, reach `occurred_on`
    (docs/rules.md §R5.2)."""
    return sorted(d for d in set(earlier) if d < occurred_on <= years_after(d, years))


@dataclass(frozen=True, slots=True)
class Minor:
    is_minor: bool
    basis: tuple[str, ...]
    override: bool | None  # None: no reason holds but some could not be established
    override_reasons: tuple[str, ...]
    override_unknown: tuple[str, ...]
    claim_required: bool | None
    repeat_dates: tuple[date, ...]
    window_start: date | None
    reference_date: date | None
    overlaps: dict[str, list[dict[str, Any]]]
    notices: tuple[Notice, ...]
    explanation: str
    repeat_records: tuple[PriorDamage, ...] = ()
    impact_criterion: int | None = None

    @property
    def needs_verification(self) -> bool:
        """An earlier damage matched by name only, or an override that could not be settled."""
        return any(r.match == "name" for r in self.repeat_records) or (
            self.is_minor and self.override is None
        )

    @property
    def citations(self) -> list[str]:
        cites = []
        for b in self.basis:
            cites.append(AMOUNT_CITATION if b == "amount_within_3000" else IMPACT_CITATION)
        if self.is_minor:
            cites.append(GROUND_CITATION)
        cites.extend(OVERRIDE_CITATIONS[r] for r in self.override_reasons)
        if self.is_minor or self.override_reasons:
            cites.append(MINOR_CITATION)
        return list(dict.fromkeys(cites))

    def to_dict(self) -> dict[str, Any]:
        return {
            "is_minor": self.is_minor,
            "basis": list(self.basis),
            "override": self.override,
            "override_reasons": list(self.override_reasons),
            "override_unknown": list(self.override_unknown),
            "claim_required": self.claim_required,
            "overlaps": self.overlaps,
            "repeat": {
                "reference_date": self.reference_date.isoformat() if self.reference_date else None,
                "window_start": self.window_start.isoformat() if self.window_start else None,
                "earlier_damage_dates": [d.isoformat() for d in self.repeat_dates],
                "earlier": [r.to_dict() for r in self.repeat_records],
                "triggered_by_lead_ids": sorted(
                    {r.lead_id for r in self.repeat_records if r.lead_id is not None}
                ),
            },
            # 第十五条第二款第（三）项: 显著轻微，且不需要赔偿 — the second finding is the
            # officer's, recorded with the filing decision (no_compensation_needed).
            "ground_three": {
                "minor": self.is_minor,
                "no_compensation_needed": "to_be_recorded_at_filing" if self.is_minor else None,
                "available": False if self.override else None,
                "citation": GROUND_CITATION,
            },
            "no_obvious_impact_criterion": self.impact_criterion,
            "citations": self.citations,
            "explanation": self.explanation,
        }


def decide_minor(
    *,
    damage_amount_yuan: float | None,
    no_obvious_impact: bool,
    occurred_on: date | None,
    received_on: date | None,
    prior_damage_dates: Iterable[date],
    region_decides_start: bool,
    sensitive: SensitiveAreas,
    config: RulebookConfig,
    prior_damage: Sequence[PriorDamage] = (),
    impact_criterion: int | None = None,
) -> Minor:
    """第四十八条 (docs/rules.md §R5.1) and 第十五条第五款 (§R5.2, §R5.3, §R5.5)."""
    notices: list[Notice] = []
    parts: list[str] = []
    basis: list[str] = []
    limit = config.minor_amount_yuan
    if damage_amount_yuan is not None and 0 <= damage_amount_yuan <= limit:
        basis.append("amount_within_3000")
        parts.append(
            f"损害数额 {damage_amount_yuan:g} 元，在 {limit:g} 元以内，属损害数额极小"
            f"（{AMOUNT_CITATION}）"
        )
    elif damage_amount_yuan is not None:
        parts.append(f"损害数额 {damage_amount_yuan:g} 元，超过 {limit:g} 元")
    if no_obvious_impact:
        basis.append("no_obvious_impact")
        if impact_criterion is not None:
            parts.append(f"经办人员认定未造成明显影响（{IMPACT_CITATION}第{impact_criterion}目）")
        else:
            parts.append(f"经办人员认定未造成明显影响（{IMPACT_CITATION}，须记录判定依据）")
            notices.append(
                Notice(
                    "impact_criterion_missing",
                    "“未造成明显影响”须写明第四十八条第（二）项的哪一目支持该认定"
                    "（no_obvious_impact_criterion：1–5）。",
                )
            )
    if no_obvious_impact and damage_amount_yuan is not None and damage_amount_yuan > limit:
        notices.append(
            Notice(
                "minor_amount_not_small",
                f"损害数额 {damage_amount_yuan:,.0f} 元超过 {limit:,.0f} 元，仅以“未造成明显影响”"
                "认定显著轻微；以第十五条第二款第（三）项不启动索赔还须认定“不需要赔偿”，"
                "请审慎核实。",
            )
        )
    is_minor = bool(basis)
    if not is_minor:
        parts.append("未显示属于显著轻微情形")

    reasons: list[str] = []
    unknown: list[str] = []
    overlaps: dict[str, list[dict[str, Any]]] = {}
    for kind, text in _OVERRIDE_AREAS:
        st = sensitive.status(kind)
        if st:
            reasons.append(kind)
            hits = sensitive.touched[kind]
            overlaps[kind] = [
                {
                    "layer": h.layer,
                    "layer_version": h.layer_version,
                    "feature_id": h.feature_id,
                    "name": h.name,
                    "share": round(h.share, 6),
                    **(
                        {"sub_kind": protected_area_sub_kind(h.name, h.layer)}
                        if kind == NATURE_RESERVE
                        else {}
                    ),
                }
                for h in hits
            ]
            names = "、".join(f"{h.name or h.feature_id}（{h.share * 100:.1f}%）" for h in hits)
            parts.append(f"损害区域位于{text}内：{names}（{OVERRIDE_CITATIONS[kind]}）")
        elif st is None:
            unknown.append(kind)
            parts.append(f"是否位于{text}内无法判断")
            if sensitive.ignored_of(kind):
                notices.append(
                    Notice(
                        "override_uncertain_overlap",
                        f"损害区域与{text}有重叠但低于测量精度，第十五条第五款第（一）项按“无法判断”"
                        "处理（不是“不适用”），须现场核实。",
                    )
                )

    ref = occurred_on or received_on
    window_start: date | None = None
    repeat_dates: list[date] = []
    repeat_records: list[PriorDamage] = []
    if occurred_on is None and received_on is not None:
        notices.append(
            Notice(
                "occurred_on_missing",
                "未填写损害发生日期，两年内再次发生的判断暂以接到线索日期 "
                f"{received_on.isoformat()} 为准，请补充发生日期。",
            )
        )
    records = [*prior_damage, *(PriorDamage(d) for d in prior_damage_dates)]
    prior = [r.on for r in records]
    if ref is None:
        if prior:
            unknown.append("repeat_within_2_years")
            notices.append(
                Notice(
                    "repeat_undetermined",
                    "未填写损害发生日期和接到线索日期，无法判断是否属于2年内再次发生"
                    "（第十五条第五款第（二）项）。",
                )
            )
    else:
        years = config.repeat_window_years
        window_start = repeat_window_start(ref, years)
        repeat_dates = repeats_within(prior, ref, years) if prior else []
        if repeat_dates:
            hit_dates = set(repeat_dates)
            repeat_records = _unique(r for r in records if r.on in hit_dates)
        if repeat_dates:
            reasons.append("repeat_within_2_years")
            parts.append(
                f"赔偿义务人曾于 {'、'.join(_record_text(r) for r in repeat_records)} 造成生态环境"
                f"损害，在本次（{ref.isoformat()}）前 {years} 年内（自 {window_start.isoformat()}"
                f" 起），属{years}年内再次发生（{OVERRIDE_CITATIONS['repeat_within_2_years']}）"
            )
            by_name = [r for r in repeat_records if r.match == "name"]
            if by_name:
                notices.append(
                    Notice(
                        "repeat_name_match",
                        "两年内再次发生的认定依据按赔偿义务人名称匹配的记录（"
                        + "、".join(_record_text(r) for r in by_name)
                        + "），本线索没有证件号码：请核实是否为同一赔偿义务人。",
                    )
                )
        elif prior:
            parts.append(
                f"赔偿义务人此前的损害（{'、'.join(d.isoformat() for d in sorted(prior))}）不在"
                f" {window_start.isoformat()} 至 {ref.isoformat()} 之前的 {years} 年内"
            )
    if region_decides_start:
        reasons.append("region_decision")
        parts.append(
            f"自治区人民政府或其指定的部门认为应当启动索赔（{OVERRIDE_CITATIONS['region_decision']}）"
        )

    override: bool | None = True if reasons else (None if unknown else False)
    if not is_minor:
        claim: bool | None = None
    else:
        claim = override
    if is_minor and override:
        parts.append(
            "虽属显著轻微，仍应当启动索赔程序（第十五条第五款），不得以第十五条第二款第（三）项不启动"
        )
    elif is_minor and override is None:
        what = "、".join(_UNKNOWN_TEXT[k] for k in unknown)
        parts.append(
            f"能否以显著轻微为由不启动索赔，取决于尚无法判断的{what}，须人工核实；"
            "第十五条第二款第（三）项还要求认定“不需要赔偿”"
        )
        notices.append(
            Notice(
                "override_undetermined",
                f"该线索属显著轻微，但无法判断{what}；在核实前不应以显著轻微为由不予立案。",
            )
        )
    elif is_minor:
        parts.append(
            "属显著轻微且不存在第十五条第五款规定的情形；第十五条第二款第（三）项还要求“不需要赔偿”，"
            "经认定不需要赔偿的，可依该项不启动索赔程序（须明确理由并报请负责人同意，第十五条第三款）"
        )
    return Minor(
        is_minor,
        tuple(basis),
        override,
        tuple(reasons),
        tuple(unknown),
        claim,
        tuple(repeat_dates),
        window_start,
        ref,
        overlaps,
        tuple(notices),
        "；".join(parts) + "。",
        tuple(repeat_records),
        impact_criterion,
    )


def _unique(records: Iterable[PriorDamage]) -> list[PriorDamage]:
    out: dict[tuple[object, ...], PriorDamage] = {}
    for r in records:
        out.setdefault((r.on, r.source, r.lead_id, r.ref), r)
    return sorted(out.values(), key=lambda r: (r.on, r.lead_id or 0, r.ref or ""))


def _record_text(r: PriorDamage) -> str:
    where = {"lead": f"线索 {r.lead_id}", "history": f"历史案件 {r.ref or ''}".strip()}.get(
        r.source, ""
    )
    return f"{r.on.isoformat()}（{where}）" if where else r.on.isoformat()
