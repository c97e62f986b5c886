"""RulebookConfig: the RULES.md defaults in one place, overridable from a JSON file."""

from __future__ import annotations

import pytest

from screening import RulebookConfig, RulebookConfigError


def test_defaults_are_the_rulebook_values() -> None:
    c = RulebookConfig()
    assert (c.min_share, c.boundary_buffer_m, c.gap_tolerance_m, c.nearby_radius_m) == (
        0.01, 50.0, 100.0, 5000.0
    )  # fmt: skip
    assert (c.minor_amount_yuan, c.simplified_amount_yuan, c.repeat_window_years) == (
        3000.0, 300_000.0, 2
    )  # fmt: skip
    assert (c.preliminary_check_days, c.obligor_reply_working_days, c.consultation_days) == (
        30, 5, 90
    )  # fmt: skip
    assert (c.major_progress_working_days, c.major_completion_working_days) == (30, 20)
    assert c.holiday_roll is True
    assert c.rulebook_version == "2025-05-09"
    assert c.department_table["illegal_sand_mining"] == "water_resources"
    assert c.department_table["other"] is None


def test_from_mapping_overrides_and_merges_tables() -> None:
    c = RulebookConfig.from_mapping(
        {"min_share": 0.02, "gap_tolerance_m": 200, "holiday_roll": False,
         "department_table": {"soil_erosion": "forestry_grassland"}}
    )  # fmt: skip
    assert (c.min_share, c.gap_tolerance_m, c.holiday_roll) == (0.02, 200, False)
    assert c.department_table["soil_erosion"] == "forestry_grassland"
    assert c.department_table["urban_sewage"] == "housing_urban_rural"  # untouched rows stay
    assert RulebookConfig.from_mapping(c.to_dict()) == c


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"min_shar": 0.02}, "未知的键 min_shar"),
        ({"min_share": "1%"}, "应为数值"),
        ({"min_share": 1.5}, "0 与 1 之间"),
        ({"holiday_roll": "yes"}, "true 或 false"),
        ({"preliminary_check_days": 30.5}, "整数"),
        ({"department_table": {"mining": "natural_resources"}}, "案件类型 'mining' 未知"),
        ({"department_table": {"illegal_mining": "police"}}, "部门 'police' 未知"),
        ({"league_department_overrides": {"159999": {}}}, "不是盟市代码"),
        # 第六条第三款 lets 各盟行政公署、市人民政府 adjust duties; the region is not among them.
        ({"league_department_overrides": {"150000": {}}}, "第六条第三款"),
        ({"major_incident_grade": "big"}, "major_incident_grade"),
        ({"gap_tolerance_m": -1}, "不能为负数"),
        # A misspelt deadline name would silently switch the 第十七条第一款 pause off.
        ({"paused_by_appraisal": ["preliminary-check"]}, "preliminary-check"),
        ({"paused_by_appraisal": ["obligor_reply"]}, "obligor_reply"),
    ],
)
def test_bad_settings_name_the_key(data, fragment) -> None:
    with pytest.raises(RulebookConfigError) as err:
        RulebookConfig.from_mapping(data)
    assert fragment in str(err.value)


def test_config_is_frozen() -> None:
    with pytest.raises(AttributeError):
        RulebookConfig().min_share = 0.5  # type: ignore[misc]


def test_pause_can_be_limited_to_one_deadline() -> None:
    c = RulebookConfig.from_mapping({"paused_by_appraisal": ["consultation"]})
    assert c.paused_by_appraisal == ("consultation",)
    assert RulebookConfig.from_mapping({"paused_by_appraisal": []}).paused_by_appraisal == ()
