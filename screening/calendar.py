"""The official PRC working-day calendar (docs/rules.md §R8): chinese-calendar for the years it
ships, plus schedule files an administrator adds for later years (docs/calendar.md).

A day in a year with no schedule is judged on weekends alone and reported as not `known`, so
deadlines that depend on it are marked provisional. `WorkCalendar.load` is the only I/O here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import chinese_calendar

# chinese-calendar's English holiday names, as officers read them.
_HOLIDAY_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


Counting = Literal["natural_days", "working_days"]


class CalendarFileError(ValueError):
    """A schedule file is malformed; the message (Chinese) names the file, entry and fix."""


@dataclass(frozen=True, slots=True)
class YearSchedule:
    """One year's official schedule: statutory holidays and adjusted working days (调休上班)."""

    year: int
    holidays: Mapping[date, str]
    workdays: Mapping[date, str]
    source: str


def parse_schedule(data: Any, where: str = "日历文件") -> YearSchedule:
    """Validate one year's schedule mapping (the format of docs/calendar.md)."""
    if not isinstance(data, Mapping):
        raise CalendarFileError(f"{where}：应为 JSON 对象，含 year、holidays、workdays。")
    unknown = set(data) - {"year", "source", "holidays", "workdays"}
    if unknown:
        raise CalendarFileError(
            f"{where}：未知的键 {', '.join(sorted(unknown))}"
            "（可用：year、source、holidays、workdays）。"
        )
    year = data.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2200:
        raise CalendarFileError(f"{where}：year 应为四位年份整数，实际为 {year!r}。")
    source = data.get("source", "")
    if not isinstance(source, str):
        raise CalendarFileError(f"{where}：source 应为文字（如国务院办公厅通知的文号）。")
    holidays = _entries(data.get("holidays", []), year, f"{where} holidays")
    workdays = _entries(data.get("workdays", []), year, f"{where} workdays")
    both = sorted(set(holidays) & set(workdays))
    if both:
        raise CalendarFileError(
            f"{where}：{both[0].isoformat()} 同时列在 holidays 和 workdays 中，只能二选一。"
        )
    weekday_workdays = [d for d in workdays if d.weekday() < 5]
    if weekday_workdays:
        raise CalendarFileError(
            f"{where} workdays：{weekday_workdays[0].isoformat()} 是周一至周五，本来就是工作日；"
            "workdays 只列调休上班的周六、周日。"
        )
    return YearSchedule(year, holidays, workdays, source)


def _entries(raw: Any, year: int, where: str) -> dict[date, str]:
    if not isinstance(raw, list):
        raise CalendarFileError(f"{where}：应为列表。")
    out: dict[date, str] = {}
    for i, item in enumerate(raw):
        here = f"{where}[{i}]"
        if isinstance(item, str):
            days, name = [_date(item, here)], ""
        elif isinstance(item, Mapping):
            name = item.get("name", "")
            if not isinstance(name, str):
                raise CalendarFileError(f"{here}：name 应为文字。")
            if "date" in item:
                days = [_date(item["date"], here)]
            elif "start" in item and "end" in item:
                start, end = _date(item["start"], here), _date(item["end"], here)
                if end < start:
                    raise CalendarFileError(f"{here}：end {end} 早于 start {start}。")
                days = [start + timedelta(n) for n in range((end - start).days + 1)]
            else:
                raise CalendarFileError(f"{here}：应有 date，或 start 和 end。")
        else:
            raise CalendarFileError(f'{here}：应为 "YYYY-MM-DD" 或对象。')
        for d in days:
            if d.year != year:
                raise CalendarFileError(f"{here}：{d.isoformat()} 不在 {year} 年内。")
            out[d] = name
    return out


def _date(text: Any, where: str) -> date:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise CalendarFileError(f"{where}：日期 {text!r} 应写成 YYYY-MM-DD。") from None


def _zh(name: str) -> str:
    return _HOLIDAY_ZH.get(name, name)


def _official_schedules() -> dict[int, YearSchedule]:
    """chinese-calendar's data, per year it covers."""
    years = {d.year for d in chinese_calendar.holidays}
    out: dict[int, YearSchedule] = {}
    for y in sorted(years):
        hol = {d: _zh(n) for d, n in chinese_calendar.holidays.items() if d.year == y}
        work = {d: _zh(n) for d, n in chinese_calendar.workdays.items() if d.year == y}
        out[y] = YearSchedule(y, hol, work, f"chinese-calendar {chinese_calendar.__version__}")
    return out


class WorkCalendar:
    """Working days by the official schedule; weekends alone (and `known` false) elsewhere."""

    def __init__(self, schedules: Iterable[YearSchedule] = (), *, official: bool = True) -> None:
        by_year = _official_schedules() if official else {}
        for s in schedules:  # an administrator's file for a year replaces the shipped one
            by_year[s.year] = s
        self._years: dict[int, YearSchedule] = by_year
        self._holidays: dict[date, str] = {}
        self._workdays: dict[date, str] = {}
        for s in by_year.values():
            self._holidays.update(s.holidays)
            self._workdays.update(s.workdays)
        # A calendar never changes once built: the same period counts the same on it. The memo
        # lives (and dies) with this calendar, so calendars never see each other's periods.
        self._periods = lru_cache(maxsize=4096)(self._count)

    @classmethod
    def from_mappings(cls, data: Iterable[Any], *, official: bool = True) -> WorkCalendar:
        """From already-parsed schedule mappings (no I/O)."""
        schedules = [parse_schedule(d, f"日历配置[{i}]") for i, d in enumerate(data)]
        return cls(schedules, official=official)

    @classmethod
    def load(cls, extra_dir: Path | None = None) -> WorkCalendar:
        """The official calendar plus every `*.json` schedule file in `extra_dir`."""
        schedules: list[YearSchedule] = []
        if extra_dir is not None:
            if not extra_dir.is_dir():
                raise CalendarFileError(f"日历目录 {extra_dir} 不存在或不是目录。")
            for path in sorted(extra_dir.glob("*.json")):
                try:
                    data = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                    raise CalendarFileError(f"{path.name}：无法读取为 JSON（{exc}）。") from None
                schedules.append(parse_schedule(data, path.name))
        return cls(schedules)

    @property
    def known_years(self) -> list[int]:
        return sorted(self._years)

    def known_year(self, year: int) -> bool:
        """Whether the official schedule of `year` is loaded."""
        return year in self._years

    def schedule(self, year: int) -> YearSchedule | None:
        return self._years.get(year)

    def is_workday(self, d: date) -> bool:
        """A working day: Monday–Friday unless a statutory holiday, or an adjusted working day."""
        if d in self._holidays:
            return False
        if d in self._workdays:
            return True
        return d.weekday() < 5

    def day_name(self, d: date) -> str:
        """Why a day is off or on, in Chinese: '国庆节', '周六', '调休上班（春节）'."""
        if d in self._holidays:
            return self._holidays[d] or "法定节假日"
        if d in self._workdays:
            return f"调休上班（{self._workdays[d]}）" if self._workdays[d] else "调休上班"
        return ("周一", "周二", "周三", "周四", "周五", "周六", "周日")[d.weekday()]

    def is_statutory_holiday(self, d: date) -> bool:
        return d in self._holidays

    def period(
        self,
        start: date,
        days: int,
        counting: Counting,
        *,
        pauses: tuple[tuple[date, date], ...] = (),
        roll: bool = True,
    ) -> Period:
        """`count_period` on this calendar, memoised (the pauses as a tuple of pairs)."""
        return self._periods(start, days, counting, pauses, roll)

    def _count(
        self,
        start: date,
        days: int,
        counting: Counting,
        pauses: tuple[tuple[date, date], ...],
        roll: bool,
    ) -> Period:
        return count_period(self, start, days, counting, pauses=pauses, roll=roll)

    def add_natural_days(
        self, start: date, days: int, *, pauses: Iterable[tuple[date, date]] = (), roll: bool = True
    ) -> Period:
        """`days` natural days after `start`; a last day off rolls to the next working day."""
        return count_period(self, start, days, "natural_days", pauses=pauses, roll=roll)

    def add_working_days(
        self, start: date, days: int, *, pauses: Iterable[tuple[date, date]] = ()
    ) -> Period:
        """The `days`-th working day after `start`."""
        return count_period(self, start, days, "working_days", pauses=pauses)


_DAY = timedelta(days=1)
_MAX_STEPS = 20_000  # a guard: no real period with pauses needs this many days


@dataclass(frozen=True, slots=True)
class Period:
    """The arithmetic of one period: where it ends and what it depended on."""

    start: date
    days: int
    counting: Counting
    due: date
    rolled_from: date | None
    paused_days: int
    unknown_years: tuple[int, ...]  # years consulted whose schedule is not loaded

    @property
    def provisional(self) -> bool:
        return bool(self.unknown_years)


def _paused(periods: Iterable[tuple[date, date]]) -> list[tuple[date, date]]:
    return [(a, b) if a <= b else (b, a) for a, b in periods]


def _in_pause(d: date, pauses: Sequence[tuple[date, date]]) -> bool:
    return any(a <= d <= b for a, b in pauses)


def count_period(
    calendar: WorkCalendar,
    start: date,
    days: int,
    counting: Counting,
    *,
    pauses: Iterable[tuple[date, date]] = (),
    roll: bool = True,
) -> Period:
    """The last day of a period of `days` from `start` (start day not counted).

    Natural days: every day counts; a last day that is not a working day rolls to the next
    working day when `roll`. Working days: only working days count. Days inside `pauses`
    (appraisal, inclusive) do not count at all.
    """
    if days < 0:
        raise ValueError("days must be >= 0")
    pause_list = _paused(pauses)
    unknown: set[int] = set()

    def workday(d: date) -> bool:
        if not calendar.known_year(d.year):
            unknown.add(d.year)
        return calendar.is_workday(d)

    d, counted, paused, steps = start, 0, 0, 0
    if counting == "natural_days" and not pause_list:
        d, counted = start + timedelta(days=days), days  # nothing to skip: plain arithmetic
    while counted < days:
        d += _DAY
        steps += 1
        if steps > _MAX_STEPS:
            raise ValueError("period does not end: check the appraisal periods")
        if pause_list and _in_pause(d, pause_list):
            paused += 1
            continue
        if counting == "natural_days" or workday(d):
            counted += 1
    rolled_from = None
    if counting == "natural_days" and roll and not workday(d):
        rolled_from = d
        while not workday(d):
            d += _DAY
    return Period(start, days, counting, d, rolled_from, paused, tuple(sorted(unknown)))
