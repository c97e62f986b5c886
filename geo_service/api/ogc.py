"""OGC API – Features Part 1 (Core, GeoJSON) over every active layer, for QGIS and other GIS.

Collections are the layer series; each serves its active version. Paging by `limit`/`offset`
with absolute `next`/`prev` links; `numberMatched` comes from a per-version extent index, so it
stays cheap on big layers. The bbox filter selects features whose extent meets the box.
Coordinates are CGCS2000 (EPSG:4490), which agrees with CRS84 (WGS84) within centimetres.

Access needs a bearer token (any role): in QGIS, add an "API Header" authentication config with
`Authorization: Bearer <token>` to the OGC API Features connection.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import shapely.geometry
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from geo_service import layer_admin
from geo_service.auth import Reader
from geo_service.db.models import LayerFeatureRow, LayerSeries, LayerVersion
from geo_service.deps import SessionDep
from geo_service.errors import LayerNotFound, NotFound
from geo_service.schemas import ChineseValidationRoute, DbIdPath

router = APIRouter(route_class=ChineseValidationRoute)

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000
JSON = "application/json"
GEOJSON = "application/geo+json"


def _base(request: Request) -> str:
    """Absolute links start at GEO_SCREEN_PUBLIC_URL, never at the request's Host header."""
    base: str = request.app.state.settings.public_base_url
    return base


def _url(request: Request, name: str, **params: Any) -> str:
    return _base(request) + str(request.app.url_path_for(name, **params))


def _here(request: Request, **query: str) -> str:
    """This request's path (and query, optionally replaced) under the public base URL."""
    params = {**request.query_params, **query}
    return _base(request) + request.url.path + (f"?{urlencode(params)}" if params else "")


def _json(body: dict[str, Any], media_type: str = JSON) -> JSONResponse:
    return JSONResponse(body, media_type=media_type)


@router.get("/", name="ogc_landing", summary="OGC API – Features 入口页")
def landing(request: Request, _: Reader) -> JSONResponse:
    return _json({
        "title": "geo-screen 图层（OGC API – Features）",
        "description": (
            "本服务所有已启用图层（CGCS2000，EPSG:4490，与 CRS84 相差厘米级）。"
            "访问需要令牌：在 QGIS 中为该连接配置“API Header”认证，"
            "Authorization: Bearer <令牌>（任何角色均可读取）。"
        ),
        "links": [
            {"href": _url(request, "ogc_landing"), "rel": "self", "type": JSON,
             "title": "本页"},
            {"href": _base(request) + "/openapi.json", "rel": "service-desc",
             "type": "application/vnd.oai.openapi+json;version=3.0", "title": "OpenAPI 定义"},
            {"href": _url(request, "ogc_conformance"), "rel": "conformance", "type": JSON,
             "title": "符合的标准类"},
            {"href": _url(request, "ogc_collections"), "rel": "data", "type": JSON,
             "title": "图层集合"},
        ],
    })


@router.get("/conformance", name="ogc_conformance", summary="符合的标准类")
def conformance(_: Reader) -> JSONResponse:
    return _json({"conformsTo": CONFORMANCE})


def _active(session: SessionDep) -> list[tuple[LayerSeries, LayerVersion]]:
    rows = session.execute(
        select(LayerSeries, LayerVersion)
        .join(LayerVersion, LayerVersion.series_id == LayerSeries.id)
        .where(LayerVersion.status == "active")
        .order_by(LayerSeries.kind, LayerSeries.name)
    ).all()
    return [(r[0], r[1]) for r in rows]


def _active_of(session: SessionDep, collection_id: str) -> tuple[LayerSeries, LayerVersion]:
    for series, version in _active(session):
        if series.name == collection_id:
            return series, version
    raise LayerNotFound(f"没有名为“{collection_id}”的已启用图层。")


def _collection(request: Request, session: SessionDep, series: LayerSeries,
                version: LayerVersion) -> dict[str, Any]:
    index = layer_admin.feature_index(session, version)
    b = index.bounds
    bbox = ([float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()),
             float(b[:, 3].max())] if len(b) else [-180.0, -90.0, 180.0, 90.0])
    items = _url(request, "ogc_items", collection_id=series.name)
    return {
        "id": series.name,
        "title": series.title or series.name,
        "description": f"{series.kind} 图层，第 {version.version_no} 版（版本 id {version.id}），"
                       f"{version.feature_count} 个要素。",
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {"spatial": {"bbox": [bbox], "crs": CRS84}},
        "links": [
            {"href": _url(request, "ogc_collection", collection_id=series.name), "rel": "self",
             "type": JSON, "title": "本集合"},
            {"href": items, "rel": "items", "type": GEOJSON, "title": "要素"},
        ],
    }


@router.get("/collections", name="ogc_collections", summary="图层集合（每个已启用图层一项）")
def collections(request: Request, session: SessionDep, _: Reader) -> JSONResponse:
    return _json({
        "links": [{"href": _url(request, "ogc_collections"), "rel": "self", "type": JSON}],
        "collections": [_collection(request, session, s, v) for s, v in _active(session)],
    })


@router.get("/collections/{collection_id}", name="ogc_collection", summary="一个图层集合")
def collection(collection_id: str, request: Request, session: SessionDep, _: Reader
               ) -> JSONResponse:
    series, version = _active_of(session, collection_id)
    return _json(_collection(request, session, series, version))


@router.get("/collections/{collection_id}/items", name="ogc_items",
            summary="要素（GeoJSON），支持 bbox、limit、offset 分页")
def items(
    collection_id: str,
    request: Request,
    session: SessionDep,
    _: Reader,
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy（CRS84/CGCS2000 经纬度）")
                    ] = None,
    limit: Annotated[int, Query(ge=1)] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> JSONResponse:
    version = _active_of(session, collection_id)[1]
    limit = min(limit, MAX_LIMIT)  # the standard: a larger limit is served at the maximum
    feats, matched = layer_admin.query_features(
        session, version, bbox=layer_admin.parse_bbox(bbox), limit=limit, offset=offset
    )

    def page(at: int) -> str:
        return _here(request, limit=str(limit), offset=str(at))

    links = [
        {"href": _here(request), "rel": "self", "type": GEOJSON, "title": "本页"},
        {"href": _url(request, "ogc_collection", collection_id=collection_id),
         "rel": "collection", "type": JSON, "title": "所属集合"},
    ]
    if offset + len(feats) < matched:
        links.append({"href": page(offset + limit), "rel": "next", "type": GEOJSON,
                      "title": "下一页"})
    if offset > 0:
        links.append({"href": page(max(offset - limit, 0)), "rel": "prev", "type": GEOJSON,
                      "title": "上一页"})
    return _json({
        "type": "FeatureCollection",
        "features": feats,
        "numberMatched": matched,
        "numberReturned": len(feats),
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": links,
    }, GEOJSON)


@router.get("/collections/{collection_id}/items/{feature_id}", name="ogc_item",
            summary="一个要素")
def item(collection_id: str, feature_id: DbIdPath, request: Request, session: SessionDep, _: Reader
         ) -> JSONResponse:
    version = _active_of(session, collection_id)[1]
    row = session.get(LayerFeatureRow, feature_id)
    if row is None or row.version_id != version.id:
        raise NotFound(f"图层“{collection_id}”中没有要素 {feature_id}。")
    return _json({
        "type": "Feature",
        "id": row.id,
        "geometry": shapely.geometry.mapping(row.geom),
        "properties": {"code": row.code, "name": row.name, **(row.attributes or {})},
        "links": [
            {"href": _url(request, "ogc_item", collection_id=collection_id,
                          feature_id=feature_id), "rel": "self", "type": GEOJSON},
            {"href": _url(request, "ogc_collection", collection_id=collection_id),
             "rel": "collection", "type": JSON},
        ],
    }, GEOJSON)
