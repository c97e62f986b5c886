"""Deadlines (docs/rules.md §R8): natural vs working days, the start day not counted, the holiday
roll, the paused clock for appraisal (第十七条第一款), and `provisional` when a year's schedule
is missing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from screening.calendar import Counting, Period, WorkCalendar
from screening.notices import Notice

START_DAY_CITATION = "民法典第二百零一条"  # 开始的当日不计入，自下一日开始计算
ROLL_CITATION = "民法典第二百零三条"  # 最后一日是法定休假日的，以休假日结束的次日为最后一日
NATURAL_DAYS_CITATION = "第四十九条"
PAUSE_CITATION = "第十七条第一款"


@dataclass(frozen=True, slots=True)
class Deadline:
    """A deadline as the decision reports it (API.md deadlines[])."""

    name: str
    title: str  # Chinese name of the step
    period: Period
    citation: str
    basis: str  # "regulation" or "default" (a start date the regulation leaves open)
    explanation: str

    @property
    def due(self) -> date:
        return self.period.due

    @property
    def provisional(self) -> bool:
        return self.period.provisional

    def to_dict(self) -> dict[str, Any]:
        p = self.period
        return {
            "name": self.name,
            "title": self.title,
            "due": p.due.isoformat(),
            "rolled_from": p.rolled_from.isoformat() if p.rolled_from else None,
            "citation": self.citation,
            "provisional": p.provisional,
            "basis": self.basis,
            "counting": p.counting,
            "start": p.start.isoformat(),
            "days": p.days,
            "paused_days": p.paused_days,
            "unknown_years": list(p.unknown_years),
            "citations": self.citations,
            "explanation": self.explanation,
        }

    @property
    def citations(self) -> list[str]:
        out = [self.citation, START_DAY_CITATION]
        if self.period.counting == "natural_days":
            out.append(NATURAL_DAYS_CITATION)
        if self.period.rolled_from:
            out.append(ROLL_CITATION)
        if self.period.paused_days:
            out.append(PAUSE_CITATION)
        return out


def make_deadline(
    calendar: WorkCalendar,
    *,
    name: str,
    title: str,
    start: date,
    start_label: str,
    days: int,
    counting: Counting,
    citation: str,
    basis: str = "regulation",
    pauses: Iterable[tuple[date, date]] = (),
    roll: bool = True,
    note: str = "",
) -> Deadline:
    """One deadline, counted per docs/rules.md §R8."""
    p = calendar.period(start, days, counting, pauses=tuple((a, b) for a, b in pauses), roll=roll)
    rolled_day = calendar.day_name(p.rolled_from) if p.rolled_from else ""
    return _explained(p, name, title, start_label, citation, basis, note, rolled_day)


@lru_cache(maxsize=4096)
def _explained(
    p: Period,
    name: str,
    title: str,
    start_label: str,
    citation: str,
    basis: str,
    note: str,
    rolled_day: str,
) -> Deadline:
    """Explain the counted period in Chinese, fact by fact (memoised: values in, value out)."""
    unit = "日（自然日）" if p.counting == "natural_days" else "个工作日"
    parts = [
        f"{title}：依{citation}，自{start_label}（{p.start.isoformat()}）起 {p.days} {unit}，"
        f"开始当日不计入（{START_DAY_CITATION}）"
    ]
    if p.paused_days:
        parts.append(f"鉴定评估期间 {p.paused_days} 日不计入办案期限（{PAUSE_CITATION}）")
    if p.rolled_from:
        parts.append(
            f"期间最后一日 {p.rolled_from.isoformat()} 为{rolled_day}"
            f"（休息日），顺延至其后第一个工作日 {p.due.isoformat()}（{ROLL_CITATION}）"
        )
    parts.append(f"截止日期 {p.due.isoformat()}")
    if p.provisional:
        years = "、".join(str(y) for y in p.unknown_years)
        parts.append(f"{years} 年节假日安排尚未载入，仅按周末推算，为暂定日期")
    if note:
        parts.append(note)
    return Deadline(name, title, p, citation, basis, "；".join(parts) + "。")


def provisional_notice(deadline: Deadline) -> Notice:
    years = "、".join(f"{y} 年" for y in deadline.period.unknown_years)
    return Notice(
        "provisional_deadline",
        f"{deadline.title}的截止日期 {deadline.due.isoformat()} 为暂定：{years}的法定节假日和调休"
        f"安排尚未载入日历，只按周六、周日推算。请系统管理员按 docs/calendar.md 添加该年的日历"
        f"文件后重新筛查，以得到正式日期。",
    )
