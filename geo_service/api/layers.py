"""Layer management for GIS analysts (API.md "Layers"): upload, activate, roll back, history,
features, diff, and the re-screen impact of a version."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import PurePath
from typing import Annotated, Any

import anyio.from_thread
from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse

from geo_service import layer_admin
from geo_service.auth import Analyst, Reader
from geo_service.deps import ServicesDep, SessionDep
from geo_service.errors import FieldError, InvalidInput
from geo_service.schemas import DB_ID_MAX, ChineseValidationRoute, DbIdPath

router = APIRouter(route_class=ChineseValidationRoute)

MAX_FEATURES_LIMIT = 10_000


@router.post(
    "/layers",
    status_code=201,
    summary="上传图层文件，生成待启用（draft）版本并返回校验报告",
    description=(
        "multipart 表单：file（zip 打包的 Shapefile、GeoPackage、GeoJSON、KML、KMZ），"
        "kind，name（图层名，默认同 kind），"
        "crs（文件无坐标系时必填；GCJ02/BD09 用于描自网络地图的图层），"
        "encoding、code_field、name_field、layer（多图层文件中的图层名）、effective_from。"
        "文件在受限的子进程中读取（只用与扩展名和内容相符的一种 GDAL 驱动，不联网）；"
        "内容与扩展名不符、引用其他文件或网址：422；超过解压大小等上限：413；"
        "同一图层正在导入另一个文件：409。"
    ),
)
def upload(
    request: Request,
    services: ServicesDep,
    principal: Analyst,
    file: Annotated[UploadFile, File(description="图层文件")],
    kind: Annotated[str, Form()],
    name: Annotated[str | None, Form()] = None,
    crs: Annotated[str | None, Form()] = None,
    encoding: Annotated[str | None, Form()] = None,
    code_field: Annotated[str | None, Form()] = None,
    name_field: Annotated[str | None, Form()] = None,
    layer: Annotated[str | None, Form()] = None,
    effective_from: Annotated[date | None, Form()] = None,
    title: Annotated[str | None, Form()] = None,
) -> dict[str, Any]:
    filename = _safe_filename(file.filename)
    with layer_admin.import_workdir(services.settings) as tmp:
        path = tmp / "upload" / filename
        path.parent.mkdir()
        with path.open("wb") as out:
            shutil.copyfileobj(file.file, out, length=1 << 20)
        file.file.close()
        if path.stat().st_size == 0:
            raise InvalidInput("上传的文件为空。", [FieldError("file", "请选择非空的图层文件。")])
        summary, report = layer_admin.upload_layer(
            services, path,
            layer_admin.UploadParams(
                kind=kind, name=_blank(name), crs=_blank(crs), encoding=_blank(encoding),
                code_field=_blank(code_field), name_field=_blank(name_field),
                layer=_blank(layer), effective_from=effective_from, title=_blank(title),
            ),
            principal.actor, filename=filename, cancel=_disconnected(request), workdir=tmp,
        )
    return {**summary, "report": report}


def _disconnected(request: Request) -> Callable[[], bool]:
    """For the import running in this worker thread: has the client gone away?"""

    def check() -> bool:
        try:
            return bool(anyio.from_thread.run(request.is_disconnected))
        except RuntimeError:  # not called from a worker thread of the event loop
            return False

    return check


def _safe_filename(name: str | None) -> str:
    """The client's file name reduced to a plain name inside the upload folder (no path, no
    "." / "..", no NUL), keeping its extension, which picks the reader."""
    base = PurePath((name or "").replace("\\", "/").replace("\x00", "")).name
    return base if base not in ("", ".", "..") else "upload"


def _blank(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


@router.get("/layers", summary="图层列表：类别、启用版本与历史版本")
def list_layers(services: ServicesDep, session: SessionDep, _: Reader) -> dict[str, Any]:
    return layer_admin.list_layers(session, services.overlay.layer_versions)


@router.get("/layers/versions/{version_id}", summary="一个版本的详情与校验报告")
def get_version(version_id: DbIdPath, session: SessionDep, _: Reader) -> dict[str, Any]:
    version = layer_admin.get_version(session, version_id, ready=False)
    return {**layer_admin.version_summary(version, current=True),
            "report": (version.meta or {}).get("report")}


@router.post("/layers/versions/{version_id}/activate",
             summary="启用版本（原子切换：进行中的筛查只会看到旧版本或新版本）")
def activate(version_id: DbIdPath, services: ServicesDep, principal: Analyst) -> dict[str, Any]:
    return layer_admin.activate_version(services, version_id, principal.actor)


@router.post("/layers/versions/{version_id}/rollback",
             summary="回退：重新启用一个已停用的早先版本")
def rollback(version_id: DbIdPath, services: ServicesDep, principal: Analyst) -> dict[str, Any]:
    return layer_admin.activate_version(services, version_id, principal.actor, rollback=True)


@router.get("/layers/versions/{version_id}/features",
            summary="版本要素（GeoJSON FeatureCollection），可按 bbox 过滤、分页")
def features(
    version_id: DbIdPath,
    session: SessionDep,
    _: Reader,
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy（EPSG:4490）")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_FEATURES_LIMIT)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
    simplify: Annotated[float | None, Query(gt=0, le=0.1, description="显示用化简容差（度）；"
                                            "相邻要素化简后仍共边")] = None,
) -> JSONResponse:
    version = layer_admin.get_version(session, version_id)
    feats, matched = layer_admin.query_features(
        session, version, bbox=layer_admin.parse_bbox(bbox), limit=limit, offset=offset,
        simplify=simplify,
    )
    body = {"type": "FeatureCollection", "numberMatched": matched,
            "numberReturned": len(feats), "features": feats}
    return JSONResponse(body, media_type="application/geo+json")


@router.get("/layers/diff", summary="同一图层两个版本的差异：新增、删除、变化要素及增减面积（km²）")
def diff(
    session: SessionDep,
    _: Reader,
    from_: Annotated[int, Query(alias="from", ge=1, le=DB_ID_MAX, description="较早的版本 id")],
    to: Annotated[int, Query(ge=1, le=DB_ID_MAX, description="较新的版本 id")],
    geometry: Annotated[bool, Query(description="附带增减部分的 GeoJSON（供地图显示）")] = False,
) -> dict[str, Any]:
    return layer_admin.diff(session, from_, to, with_geometry=geometry)


@router.get("/layers/versions/{version_id}/impact",
            summary="启用前评估：哪些未结线索的筛查结论会改变")
def impact(version_id: DbIdPath, services: ServicesDep, _: Analyst) -> dict[str, Any]:
    return layer_admin.impact(services, version_id)


@router.post("/layers/versions/{version_id}/rescreen-impacted",
             summary="启用后：重新筛查受影响的线索（新结论与旧结论并存，记入审计日志）")
def rescreen_impacted(version_id: DbIdPath, services: ServicesDep, principal: Analyst
                      ) -> dict[str, Any]:
    return layer_admin.rescreen_impacted(services, version_id, principal)
