"""Request and response models of the screening and lead API (API.md), with Chinese examples.

Validation messages a caller reads are Chinese and name the field: pydantic's own errors are
translated by `field_errors` (used by the routes' `ChineseValidationRoute`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Annotated, Any

from fastapi import Depends, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from geo_service.errors import FieldError, InvalidInput
from screening.enums import CaseType, Department, Grade, SourceChannel
from screening.lifecycle import FILING_GROUND_TEXT, FilingDecision, FilingGround

__all__ = ["FILING_GROUND_TEXT", "FilingDecision", "FilingGround"]  # re-exported for callers

CHINA_TZ = timezone(timedelta(hours=8))

# Row ids are INTEGER primary keys (int4 on PostgreSQL): an id beyond that range cannot exist,
# and binding it would fail in the driver (NumericValueOutOfRange / OverflowError), so it is
# refused as bad input before any query runs.
DB_ID_MAX = 2**31 - 1
DbIdPath = Annotated[int, Path(ge=1, le=DB_ID_MAX, description="编号（正整数）。")]


def today_in_china() -> date:
    """'Today' as the screening office sees it (UTC+8), for future-date checks."""
    return datetime.now(UTC).astimezone(CHINA_TZ).date()


_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False, str_strip_whitespace=True)

# Plausibility bounds, not rules of the regulation: a case date before 1900 or a planned date
# after 2100 is a typing error, and the calendar arithmetic (two-year window, holiday roll) is
# only meaningful within them. Appraisal periods (第十七条第一款) add up to at most ten years.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2100, 12, 31)
MAX_APPRAISAL_DAYS = 3653

# C0 control characters (bar tab and line breaks), DEL and lone UTF-16 surrogates: never meant
# in a form field, and PostgreSQL refuses NUL and surrogates in text (the request would fail
# in the database instead of being refused here).
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text (a Chinese message), or None when it can."""
    found = _CONTROL_CHARS.search(value)
    if found is None:
        return None
    if "\ud800" <= found.group() <= "\udfff":
        return "含有无效的 Unicode 字符（孤立的代理项），请检查文字的编码。"
    return (
        f"含有不可见的控制字符（U+{ord(found.group()):04X}，位于第 {found.start() + 1} 个字符）；"
        "请删除后重新提交（常见于从其他系统复制粘贴的文字）。"
    )


def check_date_range(value: date) -> date:
    if value < EARLIEST_DATE or value > LATEST_DATE:
        raise ValueError(
            f"日期 {value.isoformat()} 超出合理范围（{EARLIEST_DATE} 至 {LATEST_DATE}），请核对。"
        )
    return value


class StrictModel(BaseModel):
    """Request models: unknown fields refused, no NaN/Infinity, no control characters in text."""

    model_config = _STRICT

    @field_validator("*", mode="after")
    @classmethod
    def _printable_text(cls, value: Any) -> Any:
        if problem := _nested_text_problem(value):
            raise ValueError(problem)
        return value


def _nested_text_problem(value: Any) -> str | None:
    """`text_problem` of the first bad string in a value, looking into free-form JSON (a GeoJSON
    geometry's keys and values are stored with the request)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if problem := text_problem(item):
                return problem
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(v for v in item if isinstance(v, str | dict | list))
    return None


POINT_EXAMPLE: dict[str, Any] = {"type": "Point", "coordinates": [117.4, 48.9]}

# The GeoJSON members a location keeps (RFC 7946 §3.1); anything else is refused, so nothing but
# the geometry is ever stored with a lead. A Feature is unwrapped to its geometry (its
# `properties` and `id` are not location data and are dropped).
GEOMETRY_MEMBERS = frozenset({"type", "coordinates", "geometries", "bbox"})
MAX_GEOMETRY_NESTING = 8


def bounded_geometry(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """Only the GeoJSON members that locate something; unknown members → ValueError (422)."""
    if value is None:
        return None
    return _bounded(value, "geometry", 0)


def _bounded(value: Any, path: str, depth: int) -> Any:
    if not isinstance(value, dict):
        return value  # the location parser says what is wrong with it, naming the field
    if depth > MAX_GEOMETRY_NESTING:
        raise ValueError(f"{path} 嵌套过深（最多 {MAX_GEOMETRY_NESTING} 层）。")
    if value.get("type") == "Feature":
        return _bounded(value.get("geometry"), f"{path}.geometry", depth + 1)
    unknown = sorted(str(k) for k in value if k not in GEOMETRY_MEMBERS)
    if unknown:
        shown = "、".join(repr(k[:40]) for k in unknown[:5])
        raise ValueError(
            f"{path} 含有 GeoJSON 几何以外的成员 {shown}：只接受 type、coordinates、geometries、"
            "bbox。坐标系请写在 location.crs，其他说明请写在 description 等字段。"
        )
    out = dict(value)
    bbox = out.get("bbox")
    if bbox is not None and (
        not isinstance(bbox, list)
        or len(bbox) not in (4, 6)
        or not all(isinstance(x, int | float) and not isinstance(x, bool) for x in bbox)
    ):
        raise ValueError(f"{path}.bbox 应为 4 个或 6 个数字。")
    if isinstance(out.get("type"), str) and len(out["type"]) > 40:
        raise ValueError(f"{path}.type 过长。")
    if isinstance(out.get("geometries"), list):
        out["geometries"] = [
            _bounded(g, f"{path}.geometries[{i}]", depth + 1)
            for i, g in enumerate(out["geometries"])
        ]
    return out


class LocationIn(StrictModel):
    """The damage-result area (损害后果发生地): a GeoJSON geometry, an administrative name, or the
    lead's text (an address, coordinates or a map link written in it)."""

    model_config = ConfigDict(
        **_STRICT,
        json_schema_extra={
            "examples": [
                {"geometry": POINT_EXAMPLE, "crs": "EPSG:4490", "precision_m": 30},
                {"geometry": {"type": "Point", "coordinates": [117.412, 48.902]}, "crs": "GCJ02"},
                {"admin_name": "阿左旗"},
                {"text": "阿左旗巴彦浩特镇附近"},
            ]
        },
    )

    geometry: dict[str, Any] | None = Field(
        default=None,
        description="GeoJSON 几何（Point、LineString、Polygon、Multi* 或 GeometryCollection），"
        "坐标顺序始终为 x, y（经度, 纬度 或 东坐标, 北坐标）。",
        examples=[POINT_EXAMPLE],
    )
    crs: str | None = Field(
        default="EPSG:4490",
        max_length=100,
        description="坐标系：EPSG:4490（默认）、EPSG:4326、GCJ02（高德/腾讯/微信）、BD09（百度）、"
        "CGCS2000 3度带高斯-克吕格投影 EPSG:4513–4554，或任意 EPSG:n。",
        examples=["EPSG:4490", "GCJ02", "EPSG:4548"],
    )
    admin_name: str | None = Field(
        default=None,
        max_length=100,
        description="仅知道行政区划时：旗县（市、区）或盟市的名称、常用简称或 6 位代码，"
        "如“阿拉善左旗”“阿左旗”“152921”。此时只能确定盟市，不判断是否位于生态保护红线等。",
        examples=["阿左旗", "科右前旗", "150781"],
    )
    precision_m: float | None = Field(
        default=None,
        ge=0,
        le=1_000_000,
        description="定位精度（米），如 GPS 为 30，“某镇附近”为 5000。",
        examples=[30],
    )
    text: str | None = Field(
        default=None,
        max_length=5000,
        description="线索原文中的位置：地址（盟市、旗县、苏木乡镇、嘎查村，可用简称）、经纬度"
        "（十进制或度分秒）、测量坐标（X 北坐标，Y 带号+东坐标）、拐点坐标或高德/腾讯/百度地图"
        "链接。文字未注明坐标系时按 crs 处理。可与 geometry 同时提供（以 geometry 为准）。"
        "定位过程见结果中的 location_resolution。",
        examples=["鄂尔多斯市准格尔旗薛家湾镇某煤矿排土场北侧", "东经111°12′36″，北纬39°50′12″"],
    )

    _bounded_geometry = field_validator("geometry", mode="after")(bounded_geometry)

    @model_validator(mode="after")
    def _one_of(self) -> LocationIn:
        if self.geometry is None and not self.admin_name and not (self.text or "").strip():
            raise ValueError(
                "请提供 geometry（GeoJSON 几何）、admin_name（旗县或盟市名称、6 位代码）"
                "或 text（线索原文中的地址、坐标或地图链接）之一。"
            )
        if self.geometry is not None and self.admin_name:
            raise ValueError("geometry 与 admin_name 只能提供一个。")
        if self.admin_name and self.text:
            raise ValueError("admin_name 与 text 只能提供一个：地名可直接写在 text 中。")
        return self


class ActLocationIn(StrictModel):
    """The act location (行为发生地, e.g. an outfall upstream): shown on maps, decides nothing."""

    model_config = _STRICT

    geometry: dict[str, Any] = Field(description="GeoJSON 几何。", examples=[POINT_EXAMPLE])
    crs: str | None = Field(default="EPSG:4490", max_length=100)

    _bounded_geometry = field_validator("geometry", mode="after")(bounded_geometry)


class ObligorIn(StrictModel):
    model_config = _STRICT

    id: str | None = Field(
        default=None,
        max_length=30,
        description="统一社会信用代码（18 位）或居民身份证号码（18 位），校验码将被核验。",
        examples=["91150100MA0N0C8A1H"],
    )
    name: str | None = Field(default=None, max_length=300, examples=["某某矿业有限公司"])

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        from screening.obligor import ObligorIdError, validate_obligor_id

        try:
            return validate_obligor_id(value).value
        except ObligorIdError as exc:
            raise ValueError(exc.message_zh) from None


class PeriodIn(StrictModel):
    model_config = _STRICT

    start: date
    end: date

    @field_validator("start", "end")
    @classmethod
    def _plausible(cls, value: date) -> date:
        return check_date_range(value)

    @model_validator(mode="after")
    def _ordered(self) -> PeriodIn:
        if self.end < self.start:
            raise ValueError(f"结束日期 {self.end} 早于开始日期 {self.start}。")
        return self


SCREEN_EXAMPLE: dict[str, Any] = {
    "location": {"geometry": POINT_EXAMPLE, "crs": "EPSG:4490", "precision_m": 30},
    "act_location": {"geometry": {"type": "Point", "coordinates": [117.3, 48.8]}},
    "case_type": "pollution_discharge",
    "source_channel": "petition_media",
    "received_on": "2026-09-05",
    "occurred_on": "2026-08-30",
    "damage_amount_yuan": 2000,
    "no_obvious_impact": False,
    "obligor": {"id": "91150100MA0N0C8A1H", "name": "某某公司"},
    "prior_damage_dates": ["2025-03-01"],
}


class ScreenRequest(StrictModel):
    """A lead to screen (API.md `POST /api/v1/screen`). All but `location` are optional."""

    model_config = ConfigDict(**_STRICT, json_schema_extra={"examples": [SCREEN_EXAMPLE]})

    location: LocationIn
    act_location: ActLocationIn | None = None
    case_type: CaseType | None = Field(default=None, description="案件类型（第六条）。")
    source_channel: SourceChannel | None = Field(
        default=None, description="线索来源渠道（第十二条第一款第（一）至（十）项）。"
    )
    penalty_department: Department | None = Field(
        default=None, description="行政处罚案件的处罚部门（来源为 admin_penalty 时）。"
    )
    received_on: date | None = Field(default=None, description="发现或接收线索的日期。")
    occurred_on: date | None = Field(default=None, description="损害发生日期。")
    damage_amount_yuan: float | None = Field(
        default=None, ge=0, le=1e13, description="损害数额（元，不含调查评估费用）。"
    )
    no_obvious_impact: bool = Field(
        default=False, description="无明显影响（第四十八条第（二）项）。"
    )
    no_obvious_impact_criterion: int | None = Field(
        default=None,
        ge=1,
        le=5,
        description="支持“未造成明显影响”的第四十八条第（二）项判定标准：1 水、大气、土壤污染；"
        "2 固体废物；3 野生动植物资源破坏；4 符合不予行政处罚情形；5 自治区政府及其指定部门认定。",
    )
    obligor: ObligorIn | None = None
    prior_damage_dates: list[date] = Field(
        default_factory=list,
        max_length=1000,
        description="该赔偿义务人此前已认定的生态环境损害日期（本服务还会查询自身记录）。",
    )
    region_decides_start: bool = Field(
        default=False,
        description="自治区人民政府或其指定部门决定启动（第十五条第五款第（三）项）。",
    )
    national_impact: bool = Field(default=False, description="在全国有重大影响。")
    incident_grade: Grade | None = Field(default=None, description="突发环境事件等级。")
    eco_destruction_grade: Grade | None = Field(default=None, description="生态破坏事件等级。")
    central_inspection_important: bool = False
    nationally_supervised: bool = False
    major_impact: bool = False
    already_remediated: bool = Field(
        default=False, description="已通过行政执法或诉讼完成修复（第十二条第二款）。"
    )
    appraisal_periods: list[PeriodIn] = Field(
        default_factory=list,
        max_length=100,
        description="鉴定评估期间（不计入办案期限，第十七条第一款）。",
    )

    @field_validator("received_on", "occurred_on")
    @classmethod
    def _not_future(cls, value: date | None) -> date | None:
        if value is not None and value > today_in_china():
            raise ValueError(f"日期 {value.isoformat()} 晚于今天（{today_in_china()}），请核对。")
        return check_date_range(value) if value is not None else None

    @field_validator("prior_damage_dates")
    @classmethod
    def _priors_not_future(cls, values: list[date]) -> list[date]:
        today = today_in_china()
        for v in values:
            if v > today:
                raise ValueError(f"日期 {v.isoformat()} 晚于今天（{today}），请核对。")
            check_date_range(v)
        return values

    @field_validator("appraisal_periods")
    @classmethod
    def _appraisal_total(cls, periods: list[PeriodIn]) -> list[PeriodIn]:
        total = sum((p.end - p.start).days + 1 for p in periods)
        if total > MAX_APPRAISAL_DAYS:
            raise ValueError(f"鉴定评估期间合计 {total:,} 天，超过 10 年：请核对各期间的起止日期。")
        return periods

    @model_validator(mode="after")
    def _dates_ordered(self) -> ScreenRequest:
        if self.occurred_on and self.received_on and self.occurred_on > self.received_on:
            raise ValueError(
                f"损害发生日期 occurred_on（{self.occurred_on}）晚于线索接收日期 received_on"
                f"（{self.received_on}），请核对。"
            )
        return self


LEAD_EXAMPLE = {
    **SCREEN_EXAMPLE,
    "title": "呼伦湖西岸排污投诉",
    "description": "群众通过 12345 热线反映某企业向湖边草地排放废水。",
    "source_system": "12345",
    "external_ref": "GD-2026-09-0001",
}


class LeadCreate(ScreenRequest):
    """A screen request plus the lead's own record fields (API.md `POST /api/v1/leads`)."""

    model_config = ConfigDict(**_STRICT, json_schema_extra={"examples": [LEAD_EXAMPLE]})

    title: str | None = Field(default=None, max_length=500, description="线索标题。")
    description: str | None = Field(default=None, max_length=20_000, description="线索描述。")
    source_system: str | None = Field(
        default=None, max_length=100, description="来源系统（与 external_ref 一起去重）。"
    )
    external_ref: str | None = Field(
        default=None, max_length=200, description="来源系统中的编号；同一来源同一编号只建一条线索。"
    )

    @model_validator(mode="after")
    def _ref_needs_system(self) -> LeadCreate:
        if self.external_ref and not self.source_system:
            raise ValueError("填写 external_ref 时须同时填写 source_system（来源系统）。")
        return self


class FilingIn(StrictModel):
    """立案 / 不启动索赔 / 终止 (第十五条): reasons and the approving person are required."""

    model_config = ConfigDict(
        **_STRICT,
        json_schema_extra={
            "examples": [
                {
                    "decision": "not_file",
                    "grounds": ["minor"],
                    "no_compensation_needed": True,
                    "reasons": "损害数额 2000 元，经现场核查无明显影响，不需要赔偿。",
                    "approved_by": "张三（局长）",
                },
                {
                    "decision": "file",
                    "grounds": [],
                    "reasons": "初步核查确认存在生态环境损害，需要启动索赔。",
                    "approved_by": "张三（局长）",
                },
            ]
        },
    )

    decision: FilingDecision = Field(
        description="file 立案；not_file 不启动索赔程序；terminate 终止索赔程序（第十五条第四款）。"
    )
    grounds: list[FilingGround] = Field(
        default_factory=list,
        max_length=6,
        description="不启动或终止的情形（第十五条第二款第（一）至（六）项）。",
    )
    reasons: str = Field(
        min_length=1, max_length=20_000, description="理由（第十五条第三款：应当说明理由）。"
    )
    approved_by: str = Field(
        min_length=1, max_length=200, description="同意的负责人（第十五条第一款、第三款）。"
    )
    no_compensation_needed: bool | None = Field(
        default=None,
        description="不需要赔偿（第十五条第二款第（三）项：显著轻微，且不需要赔偿）。以 minor 为由"
        "不启动或终止时必须为 true。",
    )
    no_obvious_impact_criterion: int | None = Field(
        default=None,
        ge=1,
        le=5,
        description="仅以“未造成明显影响”认定显著轻微时，支持该认定的第四十八条第（二）项判定标准"
        "（1–5）；未填时取线索中的值。",
    )
    decided_on: date | None = Field(
        default=None,
        description="负责人同意的日期（默认今天；不得晚于今天，不得早于接到线索之日）。",
    )
    override_checked: bool = Field(
        default=False,
        description="以“显著轻微”为由不启动或终止，而系统无法判断第十五条第五款情形（例如未加载"
        "生态保护红线或自然保护地图层、仅有行政区名称定位）时，须由经办人核实并置为 true；"
        "核实结果写入理由。",
    )

    @field_validator("decided_on")
    @classmethod
    def _decided_not_future(cls, value: date | None) -> date | None:
        if value is not None and value > today_in_china():
            raise ValueError(f"日期 {value.isoformat()} 晚于今天（{today_in_china()}），请核对。")
        return check_date_range(value) if value is not None else None

    @model_validator(mode="after")
    def _grounds_needed(self) -> FilingIn:
        if self.decision != FilingDecision.FILE and not self.grounds:
            allowed = "、".join(g.value for g in FilingGround)
            raise ValueError(
                "不启动或终止索赔程序须写明第十五条第二款规定的情形（grounds），可用：" + allowed
            )
        return self


class BatchRequest(BaseModel):
    """Up to `batch_limit` screen requests; each item is validated on its own."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"items": [SCREEN_EXAMPLE, {"location": {"admin_name": "达茂旗"}}]}]
        },
    )

    items: list[Any] = Field(
        description="筛查请求数组（每项同 POST /api/v1/screen 的请求体）；某一项有误只影响该项。",
        json_schema_extra={"items": {"$ref": "#/components/schemas/ScreenRequest"}},
    )


class Problem(BaseModel):
    """application/problem+json (RFC 9457)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] = Field(
        default_factory=list, examples=[[{"field": "location.geometry", "message": "…"}]]
    )


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "未认证（缺少或无效的令牌）"},
    403: {"model": Problem, "description": "角色无权执行此操作"},
    422: {
        "model": Problem,
        "description": "输入无效：errors 中逐项给出字段与修改方法",
        "content": {
            "application/problem+json": {
                "example": {
                    "type": "about:blank",
                    "title": "输入无效",
                    "status": 422,
                    "detail": "请求中有字段不符合要求，见 errors。",
                    "errors": [
                        {
                            "field": "location.geometry.coordinates",
                            "message": "纬度 117.4 超出 −90 到 90 的范围（坐标系 EPSG:4490）；"
                            "经度和纬度似乎写反了，应为 [经度, 纬度]。",
                        }
                    ],
                }
            }
        },
    },
}


# --- Chinese validation messages ------------------------------------------------------------

_TYPE_MESSAGES = {
    "missing": "缺少必填字段。",
    "date_parsing": "日期格式应为 YYYY-MM-DD，如 2026-09-05。",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD，如 2026-09-05。",
    "date_from_datetime_inexact": "日期不应带时间，格式为 YYYY-MM-DD。",
    "date_type": "应为日期文本，格式 YYYY-MM-DD。",
    "float_parsing": "应为数字。",
    "float_type": "应为数字。",
    "finite_number": "不能是 NaN 或无穷大。",
    "int_parsing": "应为整数。",
    "int_type": "应为整数。",
    "bool_parsing": "应为 true 或 false。",
    "bool_type": "应为 true 或 false。",
    "string_type": "应为文本。",
    "string_unicode": "含有无效的 Unicode 字符（如孤立的代理项 \\ud800），请检查文字的编码。",
    "list_type": "应为数组。",
    "dict_type": "应为 JSON 对象。",
    "model_type": "应为 JSON 对象。",
    "model_attributes_type": "应为 JSON 对象。",
    "json_invalid": "请求体不是有效的 JSON。",
    "json_type": "请求体不是有效的 JSON。",
}


def _field_path(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        if part in ("body", "query", "path", "header") and not out:
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and part.startswith("function-"):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out or "body"


def _allowed_fields(model: type[BaseModel] | None, loc: Sequence[Any]) -> list[str] | None:
    """The fields of the model an extra field was found in, to list them in the message."""
    if model is None:
        return None
    current: Any = model
    for part in [p for p in loc if p not in ("body",)][:-1]:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return None
        annotation = fields[part].annotation
        current = _model_in(annotation)
        if current is None:
            return None
    fields = getattr(current, "model_fields", None)
    return list(fields) if fields else None


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _message(error: Mapping[str, Any], model: type[BaseModel] | None) -> str:
    etype = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    given = error.get("input")
    if etype in ("enum", "literal_error"):
        expected = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        return f"取值 {given!r} 无效。可用：{'、'.join(expected)}。"
    if etype in ("json_invalid", "json_type"):
        return f"请求体不是有效的 JSON（{ctx.get('error', '')}）。"
    if etype == "extra_forbidden":
        allowed = _allowed_fields(model, error.get("loc", ()))
        listed = f"可用字段：{'、'.join(allowed)}。" if allowed else "请检查拼写。"
        return f"不认识的字段（拼写错误？）。{listed}"
    if etype == "value_error":
        return str(error.get("msg", "")).removeprefix("Value error, ")
    if etype in ("greater_than_equal", "greater_than"):
        return f"应不小于 {ctx.get('ge', ctx.get('gt'))}，收到 {given!r}。"
    if etype in ("less_than_equal", "less_than"):
        return f"应不大于 {ctx.get('le', ctx.get('lt'))}，收到 {given!r}。"
    if etype == "string_pattern_mismatch":
        return f"格式不符合要求（应匹配 {ctx.get('pattern')}），收到 {given!r}。"
    if etype == "string_too_long":
        return f"过长：最多 {ctx.get('max_length')} 个字符。"
    if etype == "string_too_short":
        return "不能为空。"
    if etype == "too_long":
        return f"项数过多：最多 {ctx.get('max_length')} 项。"
    if etype in _TYPE_MESSAGES:
        return _TYPE_MESSAGES[etype]
    return str(error.get("msg", "输入无效。"))


def field_errors(
    errors: Iterable[Mapping[str, Any]], model: type[BaseModel] | None = None, prefix: str = ""
) -> list[FieldError]:
    out = []
    for e in errors:
        loc = e.get("loc", ())
        path = "body" if e.get("type") == "json_invalid" else _field_path(loc)
        if prefix:
            path = prefix if path == "body" else f"{prefix}.{path}"
        out.append(FieldError(path, _message(e, model)))
    return out


# Declares the bearer scheme in OpenAPI (the "Authorize" button of /docs); enforcement is the
# role dependencies' job (geo_service.auth), so a missing header is not an error here.
BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="`geo-screen tokens create --role ROLE --name NAME` 生成的令牌。",
)
DOCUMENT_BEARER = [Depends(BEARER)]


class ChineseValidationRoute(APIRoute):
    """Routes whose request validation errors read in Chinese and name the field."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()
        body_model = _body_model(self)

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except RequestValidationError as exc:
                raise InvalidInput(
                    "请求中有字段不符合要求，见 errors。", field_errors(exc.errors(), body_model)
                ) from None
            except StarletteHTTPException as exc:
                if exc.status_code == 400 and "parsing the body" in str(exc.detail):
                    raise InvalidInput(
                        "请求体无法解析。",
                        [FieldError("body", "请求体不是有效的 JSON（或嵌套过深）。")],
                    ) from None
                raise

        return handler


def _body_model(route: APIRoute) -> type[BaseModel] | None:
    body = route.body_field
    annotation = getattr(getattr(body, "field_info", None), "annotation", None) if body else None
    return (
        annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    )
