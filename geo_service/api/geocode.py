"""`POST /geocode`: a lead's text → candidate locations (EPSG:4490), for other case systems."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import Field
from shapely.geometry import mapping

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
from layers.textloc import TextLocation, UnitLayers, locate_text
from maps import BasemapConfig
from maps.display import for_display
from maps.frames import to_display_frame

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
    return JSONResponse(_answer(_locate(body, services)))


def _locate(body: GeocodeRequest, services: ServicesDep) -> TextLocation:
    units = UnitLayers.from_engine(services.overlay)
    try:
        return locate_text(body.text, body.crs, units=units, field="text")
    except LayerError as exc:
        raise domain_error(exc, "text") from None


def _answer(located: TextLocation) -> dict[str, Any]:
    return {
        "candidates": [c.to_dict() for c in located.candidates],
        "needs_verification": located.needs_verification,
        "warnings": [w.to_dict() for w in located.warnings],
    }


# --- for the /screen page: the same candidates, plus geometries in the base map's frame -------

web_router = APIRouter(route_class=ChineseValidationRoute)
DISPLAY_TOLERANCE_DEG = 0.0005  # ≈ 50 m: a county outline, drawn for orientation


@web_router.post("/web/geocode", include_in_schema=False)
def geocode_for_page(
    body: GeocodeRequest, services: ServicesDep, principal: Screener
) -> JSONResponse:
    """`POST /api/v1/geocode`'s answer, each candidate with `display_geometry` in the frame of
    the page's tiles (shifted to GCJ-02 when they are), so it lands where the words say."""
    s = services.settings
    basemap = BasemapConfig.from_setting(s.basemap, token=s.tianditu_token, frame=s.basemap_frame)
    located = _locate(body, services)
    answer = _answer(located)
    for out, candidate in zip(answer["candidates"], located.candidates, strict=True):
        shown = None
        if candidate.geometry is not None:
            simple = for_display(candidate.geometry, DISPLAY_TOLERANCE_DEG)
            if simple is not None:
                shown = mapping(to_display_frame(simple, basemap.frame))
        out["display_geometry"] = shown
    return JSONResponse(answer)
