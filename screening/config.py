"""Every configurable default of the rulebook in one frozen object (docs/rules.md: each
default where the regulation is silent).

geo_service reads an administrator's JSON file and passes it to `RulebookConfig.from_mapping`;
an unknown key or a bad value raises `RulebookConfigError` naming it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from screening.enums import CaseType, Department, Grade
from screening.units import LEAGUES_BY_CODE

RULEBOOK_VERSION = "2025-05-09"  # 内政办发〔2025〕16号, in force on this date

# 第六条 as data: case type -> the department that handles it (None: manual assignment).
DEFAULT_DEPARTMENT_TABLE: Mapping[str, str | None] = MappingProxyType(
    {
        CaseType.POLLUTION_DISCHARGE: Department.ECOLOGY_ENVIRONMENT,
        CaseType.ENVIRONMENTAL_EMERGENCY: Department.ECOLOGY_ENVIRONMENT,
        CaseType.FARMLAND_OCCUPATION: Department.NATURAL_RESOURCES,
        CaseType.LAND_DESTRUCTION: Department.NATURAL_RESOURCES,
        CaseType.ILLEGAL_MINING: Department.NATURAL_RESOURCES,
        CaseType.WASTE_DUMPING: Department.HOUSING_URBAN_RURAL,
        CaseType.URBAN_SEWAGE: Department.HOUSING_URBAN_RURAL,
        CaseType.URBAN_GREEN_SPACE: Department.HOUSING_URBAN_RURAL,
        CaseType.ILLEGAL_SAND_MINING: Department.WATER_RESOURCES,
        CaseType.ILLEGAL_WATER_WITHDRAWAL: Department.WATER_RESOURCES,
        CaseType.SOIL_EROSION: Department.WATER_RESOURCES,
        CaseType.AQUATIC_WILDLIFE: Department.AGRICULTURE_ANIMAL_HUSBANDRY,
        CaseType.FISHERY_DAMAGE: Department.AGRICULTURE_ANIMAL_HUSBANDRY,
        CaseType.LIVESTOCK_WASTE: Department.AGRICULTURE_ANIMAL_HUSBANDRY,
        CaseType.RURAL_HOUSING_ON_FARMLAND: Department.AGRICULTURE_ANIMAL_HUSBANDRY,
        CaseType.AGRI_INPUT_WASTE: Department.AGRICULTURE_ANIMAL_HUSBANDRY,
        CaseType.FOREST_GRASS_WETLAND_DAMAGE: Department.FORESTRY_GRASSLAND,
        CaseType.ILLEGAL_LOGGING: Department.FORESTRY_GRASSLAND,
        CaseType.WILDLIFE_POACHING: Department.FORESTRY_GRASSLAND,
        CaseType.OTHER: None,
    }
)


# Case-handling periods (办案期限) the appraisal time may pause (第十七条第一款); the engine
# passes the appraisal periods to exactly these deadlines.
PAUSABLE_DEADLINES = ("preliminary_check", "consultation")

# How far the overlay looks for the nearest league when a footprint falls in a gap between unit
# polygons (layers.overlay's gap_search_m). A gap tolerance beyond it could never be used.
GAP_SEARCH_M = 1000.0


class RulebookConfigError(ValueError):
    """A rulebook settings file names an unknown key or a bad value (message in Chinese)."""


def _frozen(m: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(m))


@dataclass(frozen=True, slots=True)
class RulebookConfig:
    """The defaults RULES.md names; each is a default the regulation leaves to discretion."""

    rulebook_version: str = RULEBOOK_VERSION
    # R2 tolerances (docs/rules.md §R2.6). Noise is absolute: layer_accuracy_m (the layers'
    # stated positional accuracy) or the location's precision_m, whichever is larger.
    layer_accuracy_m: float = 50.0
    # A unit counted with a share below min_share is flagged for verification; without a
    # measured footprint, min_share is the noise floor itself.
    min_share: float = 0.01
    boundary_buffer_m: float = 50.0
    gap_tolerance_m: float = 100.0
    nearby_radius_m: float = 5000.0
    share_epsilon: float = 1e-6
    # R5: without a measured footprint, a sensitive-area overlap below this share is noise.
    sensitive_min_share: float = 1e-4
    # R5 / R6
    minor_amount_yuan: float = 3000.0
    simplified_amount_yuan: float = 300_000.0
    simplified_min_experts: int = 3
    repeat_window_years: int = 2
    # R7: thresholds of 第三十六条第（二）、（三）项
    major_incident_grade: str = Grade.LARGER
    major_eco_destruction_grade: str = Grade.MAJOR
    # R8 periods
    preliminary_check_days: int = 30
    obligor_reply_working_days: int = 5
    consultation_days: int = 90
    consultation_max_sessions: int = 3
    major_progress_working_days: int = 30
    major_completion_working_days: int = 20
    # A last day on a public holiday moves to the next working day (民法典第二百零三条).
    holiday_roll: bool = True
    # Deadlines whose clock stops during appraisal (第十七条第一款: 办案期限).
    paused_by_appraisal: tuple[str, ...] = ("preliminary_check", "consultation")
    # R4: 第六条 as data, and per-league adjustments (第六条第三款), keyed by league code.
    department_table: Mapping[str, str | None] = field(
        default_factory=lambda: DEFAULT_DEPARTMENT_TABLE
    )
    league_department_overrides: Mapping[str, Mapping[str, str | None]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def __post_init__(self) -> None:
        _check(self)

    def department_for(self, unit_code: str | None, case_type: str) -> str | None:
        """The department in charge of `case_type` for a rights holder: the case-type table with
        its 第六条第三款 adjustments."""
        override = self.league_department_overrides.get(unit_code or "", {})
        if case_type in override:
            return override[case_type]
        return self.department_table.get(case_type)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RulebookConfig:
        """Defaults overridden by `data` (a parsed JSON file); tables merge per case type."""
        if not isinstance(data, Mapping):
            raise RulebookConfigError("规则配置应为 JSON 对象（键值对）。")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise RulebookConfigError(
                f"规则配置中有未知的键 {', '.join(unknown)}；可用的键：{', '.join(sorted(names))}。"
            )
        base = cls()
        values: dict[str, Any] = {}
        for key, value in data.items():
            default = getattr(base, key)
            if key == "department_table":
                values[key] = _frozen({**base.department_table, **_table(key, value)})
            elif key == "league_department_overrides":
                if not isinstance(value, Mapping):
                    raise RulebookConfigError(f"{key} 应为对象：{{盟市代码: {{案件类型: 部门}}}}。")
                values[key] = _frozen(
                    {str(code): _frozen(_table(f"{key}.{code}", t)) for code, t in value.items()}
                )
            elif key == "paused_by_appraisal":
                if not isinstance(value, list | tuple) or not all(
                    isinstance(v, str) for v in value
                ):
                    raise RulebookConfigError(f"{key} 应为期限名称的列表。")
                values[key] = tuple(value)
            elif isinstance(default, bool):
                if not isinstance(value, bool):
                    raise RulebookConfigError(f"{key} 应为 true 或 false，实际为 {value!r}。")
                values[key] = value
            elif isinstance(default, int | float):
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise RulebookConfigError(f"{key} 应为数值，实际为 {value!r}。")
                if isinstance(default, int) and not isinstance(default, bool):
                    if value != int(value):
                        raise RulebookConfigError(f"{key} 应为整数，实际为 {value!r}。")
                    value = int(value)
                values[key] = value
            else:
                if not isinstance(value, str):
                    raise RulebookConfigError(f"{key} 应为字符串，实际为 {value!r}。")
                values[key] = value
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name == "league_department_overrides":
                v = {k: dict(t) for k, t in v.items()}
            elif isinstance(v, Mapping):
                v = dict(v)
            elif isinstance(v, tuple):
                v = list(v)
            out[f.name] = v
        return out


def _table(where: str, value: Any) -> dict[str, str | None]:
    if not isinstance(value, Mapping):
        raise RulebookConfigError(f"{where} 应为对象：{{案件类型: 部门代码或 null}}。")
    return {str(k): v for k, v in value.items()}


def _check(c: RulebookConfig) -> None:
    """Cross-field checks with messages that say what to fix."""
    for name in ("min_share", "sensitive_min_share", "share_epsilon"):
        v = getattr(c, name)
        if not 0 <= v < 1:
            raise RulebookConfigError(f"{name} 应在 0 与 1 之间（份额），实际为 {v}。")
    for name in (
        "layer_accuracy_m",
        "boundary_buffer_m",
        "gap_tolerance_m",
        "nearby_radius_m",
        "minor_amount_yuan",
        "simplified_amount_yuan",
    ):
        if getattr(c, name) < 0:
            raise RulebookConfigError(f"{name} 不能为负数，实际为 {getattr(c, name)}。")
    if c.gap_tolerance_m > GAP_SEARCH_M:
        raise RulebookConfigError(
            f"gap_tolerance_m 不能超过 {GAP_SEARCH_M:g} 米（空间叠加只在 {GAP_SEARCH_M:g} 米内"
            f"查找最近的盟市，更大的缝隙容差不会生效），实际为 {c.gap_tolerance_m:g}。"
        )
    for name in (
        "simplified_min_experts",
        "repeat_window_years",
        "preliminary_check_days",
        "obligor_reply_working_days",
        "consultation_days",
        "consultation_max_sessions",
        "major_progress_working_days",
        "major_completion_working_days",
    ):
        if getattr(c, name) < 1:
            raise RulebookConfigError(f"{name} 应为正整数，实际为 {getattr(c, name)}。")
    for name in ("major_incident_grade", "major_eco_destruction_grade"):
        if getattr(c, name) not in set(Grade):
            raise RulebookConfigError(
                f"{name} 应为 {', '.join(Grade)} 之一，实际为 {getattr(c, name)!r}。"
            )
    bad = [n for n in c.paused_by_appraisal if n not in PAUSABLE_DEADLINES]
    if bad:
        raise RulebookConfigError(
            f"paused_by_appraisal 中的 {bad[0]!r} 不是可暂停的办案期限"
            f"（可用：{', '.join(PAUSABLE_DEADLINES)}；第十七条第一款只涉及办案期限）。"
        )
    _check_table("department_table", c.department_table)
    for code, table in c.league_department_overrides.items():
        if code not in LEAGUES_BY_CODE:
            raise RulebookConfigError(
                f"league_department_overrides 中的 {code!r} 不是盟市代码"
                f"（可用：{', '.join(LEAGUES_BY_CODE)}）；第六条第三款只授权各盟行政公署、"
                "市人民政府调整职责分工，自治区层级按第六条第一款。"
            )
        _check_table(f"league_department_overrides.{code}", table)


def _check_table(where: str, table: Mapping[str, str | None]) -> None:
    for case_type, dept in table.items():
        if case_type not in set(CaseType):
            raise RulebookConfigError(
                f"{where} 中的案件类型 {case_type!r} 未知（可用：{', '.join(CaseType)}）。"
            )
        if dept is not None and dept not in set(Department):
            raise RulebookConfigError(
                f"{where} 中 {case_type} 的部门 {dept!r} 未知（可用：{', '.join(Department)}，"
                "或 null 表示人工指定）。"
            )
