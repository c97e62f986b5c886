"""A case's documents for filing: the static map figure and the Word screening opinion."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from geo_service import documents
from geo_service.auth import Reader
from geo_service.db.models import Lead
from geo_service.deps import ServicesDep
from geo_service.leads import get_lead
from geo_service.schemas import DbIdPath, today_in_china

router = APIRouter()

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _display_index(request: Request) -> Any:
    return getattr(request.app.state, "display_index", None)


DisplayIndexDep = Annotated[Any, Depends(_display_index)]


def _load(session: Any, lead_id: int) -> Lead:
    get_lead(session, lead_id)  # 404 naming lead_id when there is none
    return session.scalars(
        select(Lead).where(Lead.id == lead_id)
        .options(selectinload(Lead.decisions), selectinload(Lead.filings))
    ).one()


@router.get(
    "/leads/{lead_id}/map.png",
    summary="案件位置示意图（PNG）：比例尺、指北针、图例，CGCS2000",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}},
               404: {"description": "线索不存在，或既无损害结果发生地的图形、"
                                    "定位到的行政区在启用图层中也没有范围"}},
)
def map_png(
    lead_id: DbIdPath, services: ServicesDep, principal: Reader, index: DisplayIndexDep
) -> Response:
    with services.sessions() as session:
        png = documents.case_figure(services, session, _load(session, lead_id), index)
    return Response(png, media_type="image/png", headers={
        "Content-Disposition": f'inline; filename="lead-{lead_id}-map.png"'})


@router.get(
    "/leads/{lead_id}/opinion.docx",
    summary="筛查意见（Word 文档）：事实表、逐条结论及依据、位置示意图、签署栏",
    response_class=Response,
    responses={200: {"content": {DOCX_TYPE: {}}}, 404: {"description": "线索不存在"}},
)
def opinion_docx(
    lead_id: DbIdPath, services: ServicesDep, principal: Reader, index: DisplayIndexDep
) -> Response:
    with services.sessions() as session:
        lead = _load(session, lead_id)
        figure, note = documents.opinion_figure(services, session, lead, index)
        body = documents.opinion_docx(lead, figure=figure, today=today_in_china(),
                                      figure_note=note)
    return Response(body, media_type=DOCX_TYPE, headers={
        "Content-Disposition": f'attachment; filename="lead-{lead_id}-opinion.docx"'})
