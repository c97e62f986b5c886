"""The summary report (第十三条第二款 定期汇总分析): JSON, CSV or an Excel workbook."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from geo_service import reports
from geo_service.auth import Reader
from geo_service.deps import ServicesDep
from geo_service.errors import FieldError, InvalidInput
from geo_service.schemas import (
    DOCUMENT_BEARER,
    PROBLEM_RESPONSES,
    ChineseValidationRoute,
    today_in_china,
)

router = APIRouter(route_class=ChineseValidationRoute, dependencies=DOCUMENT_BEARER)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/reports/summary",
    summary="定期汇总分析（第十三条第二款）：按状态、盟市、案件类型、层级、重大案件、敏感区域、"
    "例外情形、逾期期限统计",
    description="期间按线索录入本服务之日（北京时间）计，from、to 均含当日。"
    "`format=csv` 或 `format=xlsx` 下载同一张表。",
    responses={
        200: {"content": {"text/csv": {}, XLSX: {}}},
        **PROBLEM_RESPONSES,
    },
)
def summary(
    services: ServicesDep,
    principal: Reader,
    start: Annotated[date | None, Query(alias="from", description="起始日期（含）")] = None,
    end: Annotated[date | None, Query(alias="to", description="截止日期（含）")] = None,
    league: Annotated[
        str | None, Query(pattern=r"^\d{6}$", description="盟市代码，如 150700")
    ] = None,
    format: Annotated[Literal["json", "csv", "xlsx"], Query(description="输出格式")] = "json",
) -> Response:
    if start and end and end < start:
        raise InvalidInput(
            f"截止日期 {end} 早于起始日期 {start}。",
            [FieldError("to", "截止日期不得早于起始日期（from）。")],
        )
    result = reports.summarize(
        services, start=start, end=end, league=league, today=today_in_china()
    )
    name = f"summary-{start or 'all'}-{end or 'all'}{'-' + league if league else ''}"
    if format == "csv":
        return Response(
            reports.to_csv(result),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if format == "xlsx":
        return Response(
            reports.to_xlsx(result),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    return JSONResponse(result.to_dict())
