"""`POST /geocode`: a lead's text → candidate locations (EPSG:4490), for other case systems."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import Field

from geo_service.auth import Screener
from geo_service.deps import ServicesDep
from geo_service.pipeline import domain_error
from geo_service.schemas import (
    DOCUMENT_BEARER,
    PROBLEM_RESPONSES,
    ChineseValidationRoute,
    StrictModel,
)
from layers.errors import LayerError
from layers.textloc import UnitLayers, locate_text

router = APIRouter(route_class=ChineseValidationRoute, dependencies=DOCUMENT_BEARER)


class GeocodeRequest(StrictModel):
    text: str = Field(
        min_length=1,
        max_length=5000,
        description="线索原文：地址、经纬度（十进制或度分秒）、测量坐标、拐点坐标或地图链接。",
        examples=["阿左旗巴彦浩特镇附近", "东经111°12′36″，北纬39°50′12″"],
    )
    crs: str | None = Field(
        default=None,
        max_length=100,
        description="文字中坐标的坐标系（文字未注明时使用），如 GCJ02、BD09、EPSG:4546；"
        "不填则按文字所注，文字也未注明时按 CGCS2000（EPSG:4490）并在 warnings 中说明。",
        examples=["GCJ02"],
    )


EXAMPLE: dict[str, Any] = {
    "candidates": [
        {
            "method": "coordinates_in_text",
            "matched": "东经111°12′36″，北纬39°50′12″",
            "geometry": {"type": "Point", "coordinates": [111.21, 39.836667]},
            "unit": {"level": "county", "code": "150622", "name": "准格尔旗"},
            "precision_m": 30.0,
            "score": 1.0,
        }
    ]
}


@router.post(
    "/geocode",
    summary="从线索文字定位：地址、坐标、地图链接 → 候选位置（CGCS2000）",
    description="只定位，不筛查、不保存。候选按可信度从高到低排列；几何为 EPSG:4490 的 GeoJSON。"
    "地址只能定位到旗县（已加载乡镇/村级图层时可到乡镇、村），未能核对的更细地名在 "
    "`unresolved_parts` 中。无法定位时返回 422，说明读到了什么、缺少什么。",
    responses={
        200: {"content": {"application/json": {"example": EXAMPLE}}},
        **PROBLEM_RESPONSES,
    },
)
def geocode(body: GeocodeRequest, services: ServicesDep, principal: Screener) -> JSONResponse:
    units = UnitLayers.from_engine(services.overlay)
    try:
        located = locate_text(body.text, body.crs, units=units, field="text")
    except LayerError as exc:
        raise domain_error(exc, "text") from None
    return JSONResponse(
        {
            "candidates": [c.to_dict() for c in located.candidates],
            "needs_verification": located.needs_verification,
            "warnings": [w.to_dict() for w in located.warnings],
        }
    )
