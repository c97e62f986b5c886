"""Case event routes (API.md "Case events"): a thin adapter over `geo_service.events`."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from pydantic import Field, field_validator, model_validator

from geo_service import events
from geo_service.auth import Decider
from geo_service.deps import ServicesDep
from geo_service.schemas import (
    DOCUMENT_BEARER,
    PROBLEM_RESPONSES,
    ChineseValidationRoute,
    DbIdPath,
    StrictModel,
    check_date_range,
    today_in_china,
)
from screening.course import FAILED_ITEMS, EventType

router = APIRouter(route_class=ChineseValidationRoute, dependencies=DOCUMENT_BEARER)

# Which type-specific field belongs to which event type.
FIELD_TYPES: dict[str, tuple[str, ...]] = {
    "accepts": (EventType.REPLY_RECEIVED,),
    "item": (EventType.CONSULTATION_FAILED,),
    "approved_sessions": (EventType.CONSULTATION_SESSION,),
    "extended_until": (EventType.CONSULTATION_SESSION,),
    "report_interval_days": (EventType.SUPERVISION_STARTED,),
    "supervisor": (EventType.SUPERVISION_STARTED,),
    "voids": (EventType.VOID,),
    "reason": (EventType.VOID,),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    EventType.REPLY_RECEIVED: ("accepts",),
    EventType.CONSULTATION_FAILED: ("item",),
    EventType.VOID: ("voids", "reason"),
}


class EventIn(StrictModel):
    """One event of the case's course; type-specific fields only with their type."""

    type: EventType = Field(description="事件类型（filed 由立案决定产生，不在此记录）")
    on: date = Field(description="事件发生日期（不得晚于今天，不得早于立案决定日期）")
    note: str | None = Field(default=None, max_length=20_000, description="说明")
    accepts: bool | None = Field(
        default=None, description="reply_received：是否承认赔偿义务人身份并同意磋商（第二十三条）"
    )
    item: int | None = Field(
        default=None, ge=1, le=7,
        description="consultation_failed：第二十九条第（一）至（七）项：" + "；".join(
            f"{k} {v}" for k, v in FAILED_ITEMS.items()
        ),
    )
    approved_sessions: int | None = Field(
        default=None, ge=4, le=20,
        description="consultation_session：经负责人同意增加后的磋商会议总次数（第二十七条）",
    )
    extended_until: date | None = Field(
        default=None, description="consultation_session：经负责人同意延长后的磋商期限（第二十七条）"
    )
    report_interval_days: int | None = Field(
        default=None, ge=1, le=365,
        description="supervision_started：督办函确定的报告时限（日）；未填时每 30 个工作日"
        "（第三十八条第一款）",
    )
    supervisor: str | None = Field(
        default=None, max_length=200, description="supervision_started：督办单位（第三十五条）"
    )
    voids: int | None = Field(default=None, ge=1, description="void：被作废事件的编号")
    reason: str | None = Field(
        default=None, min_length=1, max_length=20_000, description="void：作废理由"
    )

    @field_validator("type")
    @classmethod
    def _not_filed(cls, value: EventType) -> EventType:
        if value == EventType.FILED:
            raise ValueError(
                "立案事件（filed）由立案决定（POST /leads/{id}/filing）产生，不能单独记录。"
            )
        return value

    @field_validator("on", "extended_until")
    @classmethod
    def _not_future(cls, value: date | None) -> date | None:
        if value is not None and value > today_in_china():
            raise ValueError(f"日期 {value.isoformat()} 晚于今天（{today_in_china()}），请核对。")
        return check_date_range(value) if value is not None else None

    @model_validator(mode="after")
    def _fields_fit_the_type(self) -> EventIn:
        for name, types in FIELD_TYPES.items():
            if getattr(self, name) is not None and self.type not in types:
                raise ValueError(f"{name} 只用于 {'、'.join(types)} 事件。")
        for name in REQUIRED.get(self.type, ()):
            if getattr(self, name) is None:
                raise ValueError(f"{self.type} 事件须填写 {name}。")
        return self

    def fields(self) -> dict[str, Any]:
        out = self.model_dump(mode="json", exclude_none=True)
        out["type"] = str(self.type.value)
        out["on"] = self.on
        return out


@router.post(
    "/leads/{lead_id}/events",
    status_code=201,
    summary="记录案件办理事件（立案后：调查、鉴定评估、磋商、诉讼、督办、结案；作废更正）",
    description="事件只追加、不修改；更正以 void 事件作废原记录并写明理由。事件与案件所处阶段"
    "不符时返回 409，并指明所依据的条款（如磋商告知书送达前不能召开磋商会议，第二十三条；"
    "结案后不能再记录事件）。",
    responses={409: {"description": "案件所处阶段不允许该事件"}, **PROBLEM_RESPONSES},
)
def post_event(
    lead_id: DbIdPath, body: EventIn, services: ServicesDep, principal: Decider
) -> dict[str, Any]:
    return events.record_event(services, lead_id, body.fields(), principal, today_in_china())
