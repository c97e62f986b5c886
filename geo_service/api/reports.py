"""The summary report (第十三条第二款 定期汇总分析): JSON, CSV or an Excel workbook."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

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
from geo_service.web.pages import LEAGUES, _parse_date, render
from geo_service.web.pages import User as PageUser

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


# --- The /reports page ------------------------------------------------------------------------

web_router = APIRouter(route_class=ChineseValidationRoute, include_in_schema=False)


@web_router.get("/reports", response_class=HTMLResponse)
def reports_page(
    request: Request,
    services: ServicesDep,
    user: PageUser,
    start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    league: Annotated[str | None, Query(pattern=r"^(\d{6})?$")] = None,
) -> HTMLResponse:
    """The summary's figures as bar charts drawn server-side in SVG (no script, no CDN)."""
    first, last = _parse_date(start, "from"), _parse_date(end, "to")
    result = reports.summarize(
        services, start=first, end=last, league=league or None, today=today_in_china()
    )
    return render(request, "reports.html", {
        "s": result.to_dict(),
        "charts": reports.charts(result, LEAGUES),
        "leagues": LEAGUES,
        "f": {"from": start or "", "to": end or "", "league": league or ""},
    }, user=user)
