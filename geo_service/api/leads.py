"""Lead routes (API.md "Leads"): thin adapters over the lead service `geo_service.leads`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from geo_service import leads
from geo_service.auth import Decider, Reader, Screener
from geo_service.db.models import Lead
from geo_service.deps import ServicesDep
from geo_service.errors import FieldError, InvalidInput
from geo_service.events import course_work_lists, supervised_by, work_list_filter
from geo_service.history import import_history_csv
from geo_service.leads import STATUSES
from geo_service.schemas import (
    DB_ID_MAX,
    DOCUMENT_BEARER,
    PROBLEM_RESPONSES,
    ChineseValidationRoute,
    DbIdPath,
    FilingIn,
    LeadCreate,
    today_in_china,
)

router = APIRouter(route_class=ChineseValidationRoute, dependencies=DOCUMENT_BEARER)

LEAD_EXAMPLE_RESPONSE = {
    "id": 1,
    "status": "preliminary_check",
    "status_label": "初步核查中",
    "title": "呼伦湖西岸排污投诉",
    "decision": {"jurisdiction": {"status": "decided"}},
    "decisions": [{"id": 1, "trigger": "created", "result": {"jurisdiction": {}}}],
}


@router.post(
    "/leads",
    status_code=201,
    summary="新建案件线索（筛查并保存；重复提交返回已有线索）",
    description="同一 `source_system` + `external_ref`，或同一 `Idempotency-Key` 请求头，"
    "返回已有线索（200），不会重复创建。已修复的线索（already_remediated）直接记为不予筛查"
    "（第十二条第二款）。",
    responses={
        201: {"content": {"application/json": {"example": LEAD_EXAMPLE_RESPONSE}}},
        200: {"description": "已存在的线索（重复提交）"},
        **PROBLEM_RESPONSES,
    },
)
def post_lead(
    body: LeadCreate,
    services: ServicesDep,
    principal: Screener,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", max_length=200, description="幂等键")
    ] = None,
) -> JSONResponse:
    detail, created = leads.create_lead(services, body, principal, idempotency_key or None)
    return JSONResponse(detail, status_code=201 if created else 200)


@router.get("/leads", summary="线索列表（可按盟市、状态、期限、重大案件、例外情形筛选）")
def list_leads(
    services: ServicesDep,
    principal: Reader,
    league: Annotated[
        str | None,
        Query(
            pattern=r"^\d{6}$",
            description="盟市代码，如 150700：赔偿权利人为该盟市，或损害涉及该盟市的自治区级案件",
        ),
    ] = None,
    status: Annotated[str | None, Query(description="状态：" + "、".join(STATUSES))] = None,
    due_before: Annotated[date | None, Query(description="下一期限早于该日期")] = None,
    major: Annotated[bool | None, Query(description="是否重大案件")] = None,
    override: Annotated[
        bool | None, Query(description="是否适用第十五条第五款（须启动索赔）")
    ] = None,
    obligor_id: Annotated[
        str | None,
        Query(max_length=30, pattern=r"^[0-9A-Za-z]*$", description="赔偿义务人证件号码"),
    ] = None,
    supervisor: Annotated[
        str | None, Query(max_length=100, description="督办单位名称（包含该文字），第三十五条")
    ] = None,
    work: Annotated[
        str | None,
        Query(pattern=r"^[a-z_0-9]{1,20}$",
              description="工作清单：overdue 已逾期、due7 / due15 7日/15日内到期、must_sue 磋商不成"
              "应起诉（第三十条）、awaiting_reply 待答复（第二十三条）"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=DB_ID_MAX)] = 0,
) -> dict[str, Any]:
    query = leads.filtered_leads(
        league=league,
        status=status,
        major=major,
        override=override,
        due_before=due_before,
        obligor_id=obligor_id,
    )
    with services.sessions() as session:
        if supervisor:
            supervised = supervised_by(session, query, services.calendar, supervisor)
            query = query.where(Lead.id.in_(supervised or [-1]))
        if work:
            today = today_in_china()
            ids = course_work_lists(session, query, services.calendar, today)
            query = work_list_filter(query, work, ids, today)
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(
            query.order_by(Lead.id.desc()).limit(limit).offset(offset)
        ).all()
        return {
            "items": [leads.lead_summary(r) for r in rows],
            "total": total,
            "limit": limit,
            "offset": offset,
        }


@router.get("/leads/{lead_id}", summary="线索详情：当前结论（decision）与全部历次结论（decisions）")
def get_lead(lead_id: DbIdPath, services: ServicesDep, principal: Reader) -> dict[str, Any]:
    with services.sessions() as session:
        return leads.lead_detail(leads.get_lead(session, lead_id), services.calendar)


@router.post(
    "/leads/{lead_id}/rescreen",
    status_code=201,
    summary="重新筛查（如图层更新后）：新增一条结论，原结论保留不改",
    responses=PROBLEM_RESPONSES,
)
def rescreen(lead_id: DbIdPath, services: ServicesDep, principal: Screener) -> dict[str, Any]:
    return leads.rescreen_lead(services, lead_id, principal)


@router.post(
    "/leads/{lead_id}/filing",
    status_code=201,
    summary="立案、不启动索赔程序或终止（第十五条）：须写明理由并经负责人同意",
    description="决定时按当前事实重新判断第十五条第五款（结论变化时先保存新结论）。以“显著轻微”"
    "（minor）为由不启动或终止索赔，而当前结论适用第十五条第五款（位于生态保护红线或自然保护地、"
    "两年内再次发生、自治区决定启动）时，返回 409；未记录“不需要赔偿”（no_compensation_needed，"
    "第十五条第二款第（三）项）时返回 422。",
    responses={409: {"description": "与第十五条第五款冲突或状态不允许"}, **PROBLEM_RESPONSES},
)
def post_filing(
    lead_id: DbIdPath, body: FilingIn, services: ServicesDep, principal: Decider
) -> dict[str, Any]:
    return leads.file_lead(services, lead_id, body, principal)


@router.get(
    "/leads/{lead_id}/dossier",
    summary="一案一卷：下载案件全部记录（zip）",
    description="包含 lead.json、每次筛查结论（decisions/）、立案决定（filings.json）、"
    "审计记录（audit.json），以及案件地图（case_map.html，需能访问本服务的 /static）。",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
def dossier(
    lead_id: DbIdPath, request: Request, services: ServicesDep, principal: Reader
) -> Response:
    dossier = leads.build_dossier(
        services,
        lead_id,
        display_index=getattr(request.app.state, "display_index", None),
        asset_base_url=services.settings.public_base_url + "/static",  # never Host
    )
    return Response(
        dossier.content,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{dossier.filename}"'},
    )


# --- Historical cases (the two-year rule from day one) ---------------------------------------


@router.post(
    "/history/import",
    summary="导入历史案件（供“两年内再次发生”判断，第十五条第五款第（二）项）",
    description="CSV（UTF-8，首行为表头）：obligor_id, damage_date, case_ref, note。"
    "可用 multipart 上传 `file`，或直接以 text/csv 作为请求体。逐行校验，报告被拒绝的行号与原因。",
    responses=PROBLEM_RESPONSES,
)
async def import_history(
    request: Request, services: ServicesDep, principal: Decider
) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput(
                "缺少上传文件。", [FieldError("file", "请以 multipart 字段 file 上传 CSV。")]
            )
        raw = await upload.read()
    else:
        raw = await request.body()
    if not raw:
        raise InvalidInput("请求体为空。", [FieldError("file", "请上传 CSV 文件。")])

    def run() -> dict[str, Any]:
        with services.sessions() as session:
            return import_history_csv(session, raw, actor=principal.actor).to_dict()

    return await run_in_threadpool(run)
