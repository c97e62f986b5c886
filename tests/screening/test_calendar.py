"""The working-day calendar (R8): shipped years, administrator files, clear errors."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from screening import CalendarFileError, WorkCalendar

A = pytest.param
SCHEDULE_2027 = {
    "year": 2027,
    "source": "测试用日历（非官方）",
    "holidays": [{"start": "2027-02-06", "end": "2027-02-12", "name": "春节"}, "2027-01-01"],
    "workdays": [{"date": "2027-02-13", "name": "春节"}],
}


def test_shipped_years(calendar: WorkCalendar) -> None:
    assert calendar.known_year(2026) and calendar.known_year(2004)
    assert not calendar.known_year(2027)
    assert calendar.is_workday(date(2026, 10, 1)) is False  # 国庆节
    assert calendar.is_workday(date(2026, 10, 10)) is True  # 调休上班的周六
    assert calendar.is_workday(date(2026, 10, 11)) is False  # 周日
    assert calendar.day_name(date(2026, 10, 1)) == "国庆节"


def test_unknown_year_falls_back_to_weekends(calendar: WorkCalendar) -> None:
    assert calendar.is_workday(date(2027, 1, 1)) is True  # not known to be a holiday
    assert calendar.is_workday(date(2027, 1, 2)) is False


def test_load_adds_an_administrator_year(tmp_path: Path) -> None:
    (tmp_path / "2027.json").write_text(json.dumps(SCHEDULE_2027), encoding="utf-8")
    cal = WorkCalendar.load(tmp_path)
    assert cal.known_year(2027)
    assert cal.is_workday(date(2027, 1, 1)) is False
    assert cal.is_workday(date(2027, 2, 8)) is False
    assert cal.is_workday(date(2027, 2, 13)) is True  # a Saturday made a working day
    assert cal.day_name(date(2027, 2, 8)) == "春节"
    assert cal.known_year(2026)  # the shipped years stay


def test_an_administrator_file_replaces_a_shipped_year() -> None:
    cal = WorkCalendar.from_mappings([{"year": 2026, "holidays": ["2026-03-03"]}])
    assert cal.is_workday(date(2026, 3, 3)) is False
    assert cal.is_workday(date(2026, 10, 1)) is True  # the shipped 2026 schedule is replaced


BAD_FILES = [
    A({"year": 2027, "holidays": ["2027-13-01"]}, "2027-13-01", id="日期无效"),
    A({"year": 2027, "holidays": ["2028-01-01"]}, "不在 2027 年内", id="日期不在该年"),
    A({"year": 2027, "holidays": ["2027-02-13"], "workdays": ["2027-02-13"]}, "同时列在",
      id="同一天既放假又上班"),
    A({"year": 2027, "workdays": ["2027-02-10"]}, "本来就是工作日", id="周一至周五列为调休"),
    A({"year": 2027, "holiday": []}, "未知的键 holiday", id="键名拼错"),
    A({"holidays": []}, "year", id="缺少年份"),
    A({"year": 2027, "holidays": [{"start": "2027-02-12", "end": "2027-02-06"}]}, "早于",
      id="区间颠倒"),
    A([2027], "JSON 对象", id="不是对象"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "fragment"), BAD_FILES)
def test_bad_schedule_files_say_what_is_wrong(data, fragment, tmp_path: Path) -> None:
    (tmp_path / "2027.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CalendarFileError) as err:
        WorkCalendar.load(tmp_path)
    assert fragment in str(err.value)
    assert "2027.json" in str(err.value)


def test_unreadable_json_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "2028.json").write_text("{year: 2028", encoding="utf-8")
    with pytest.raises(CalendarFileError, match=r"2028\.json"):
        WorkCalendar.load(tmp_path)


def test_missing_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CalendarFileError, match="不存在"):
        WorkCalendar.load(tmp_path / "nope")


def test_docs_example_is_a_valid_schedule() -> None:
    """The example in docs/calendar.md must load."""
    text = (Path(__file__).parents[2] / "docs" / "calendar.md").read_text(encoding="utf-8")
    block = text.split("```json", 1)[1].split("```", 1)[0]
    cal = WorkCalendar.from_mappings([json.loads(block)])
    assert cal.known_year(2099)


def test_calendar_adds_natural_and_working_days(calendar: WorkCalendar) -> None:
    assert calendar.add_natural_days(date(2026, 9, 5), 30).due == date(2026, 10, 8)
    assert calendar.add_natural_days(date(2026, 9, 5), 30, roll=False).due == date(2026, 10, 5)
    assert calendar.add_working_days(date(2026, 9, 30), 1).due == date(2026, 10, 8)
