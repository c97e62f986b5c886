"""The jurisdiction API (stateless): `POST /screen` and `POST /screen/batch` (API.md)."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import orjson
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from geo_service.auth import SCREEN, Screener, require
from geo_service.deps import ServicesDep, get_services
from geo_service.errors import (
    DomainError,
    FieldError,
    InvalidInput,
    PayloadTooLarge,
    ServiceUnavailable,
    problem_dict,
)
from geo_service.pipeline import ScreenOutcome, screen, screen_many
from geo_service.schemas import (
    DOCUMENT_BEARER,
    PROBLEM_RESPONSES,
    BatchRequest,
    ChineseValidationRoute,
    ScreenRequest,
    field_errors,
)
from geo_service.settings import Settings

log = logging.getLogger("geo_service")

router = APIRouter(route_class=ChineseValidationRoute, dependencies=DOCUMENT_BEARER)


class JSONBody(Response):
    """A decision as JSON, serialised by orjson (several times faster than json.dumps on a
    decision; a 10,000-item batch in well under a second)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)

DECISION_EXAMPLE: dict[str, Any] = {
    "jurisdiction": {
        "status": "decided",
        "level": "league",
        "reason": "single_league",
        "rights_holder": {"code": "150700", "name": "呼伦贝尔市人民政府"},
        "leagues": [{"code": "150700", "name": "呼伦贝尔市", "share": 1.0}],
        "counties": [{"code": "150781", "name": "满洲里市", "share": 1.0}],
        "other_provinces": [],
        "countries": [],
        "ignored_slivers": [],
        "citations": ["第五条第二款"],
    },
    "sensitive_areas": {
        "red_line": [],
        "nature_reserve": [],
        "key_function_zone": [],
        "nearby": [],
    },
    "sensitive_area_lead": False,
    "minor": {
        "is_minor": True,
        "basis": ["amount_within_3000"],
        "override": False,
        "override_reasons": [],
        "claim_required": False,
        "citations": ["第四十八条第（一）项", "第十五条第二款第（三）项", "第四十八条"],
    },
    "departments": {
        "responsible": [{"code": "ecology_environment", "name": "呼伦贝尔市生态环境局"}],
        "lead_designation_required": False,
        "suggested_lead": "ecology_environment",
        "cooperating": [],
        "citations": ["第六条第一款"],
    },
    "major_case": {"is_major": False, "grounds": [], "supervisor": None, "citations": []},
    "simplified_assessment": {"eligible_by_amount": True, "citations": ["第二十条"]},
    "deadlines": [
        {
            "name": "preliminary_check",
            "due": "2026-10-08",
            "rolled_from": "2026-10-05",
            "citation": "第十四条",
        }
    ],
    "warnings": [],
    "needs_verification": False,
    "layer_versions": {"league": 3},
    "rulebook_version": "2025-05-09",
}


SWAPPED_DETAIL = (
    "纬度 117.4 超出 −90 到 90 的范围（坐标系 EPSG:4490）；"
    "经度和纬度似乎写反了，应为 [经度, 纬度]。"
)


def _prefixed(exc: DomainError, prefix: str) -> DomainError:
    exc.errors = [FieldError(f"{prefix}.{e.field}", e.message) for e in exc.errors]
    return exc


# `POST /screen` is the hot path of machine callers: a plain Starlette route (mounted by
# geo_service.routes), without FastAPI's request handling (its dependency solver alone costs
# about as much CPU as the rulebook). It calls the same functions itself, in the same order: the
# caller first (401/403 before any body error, as on every route), then the services, then the
# body, validated by the same model with the same Chinese field errors; errors go through the
# app's one exception handler like everywhere else.
_SCREENER = require(*SCREEN)
_SCREEN_OPERATION: dict[str, Any] = {
    "summary": "筛查一条线索：赔偿权利人、敏感区域、显著轻微例外、责任部门、重大案件与期限",
    "description": "无状态：不保存线索。位置可为 GeoJSON（任意支持的坐标系）或行政区划名称。"
    "每项结论均注明所依据的条款（《内蒙古自治区生态环境损害赔偿工作规定》）。",
    "responses": {
        200: {"content": {"application/json": {"example": DECISION_EXAMPLE}}},
        **PROBLEM_RESPONSES,
    },
}


def parse_body(raw: bytes) -> ScreenRequest:
    """The request body, parsed and validated in one pass by pydantic's JSON parser. A body that
    parser refuses is read again as FastAPI reads every other route's (json.loads, to which a
    byte-order mark, UTF-16 or NaN is JSON), so the outcome is the same: a request, or the same
    422 naming the field."""
    try:
        return ScreenRequest.model_validate_json(raw)
    except ValidationError as exc:
        if not any(e["type"] == "json_invalid" for e in exc.errors()):
            raise _invalid(exc.errors()) from None
    if not raw:
        raise _invalid([{"type": "missing", "loc": ("body",), "msg": "Field required"}])
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise _invalid(
            [{"type": "json_invalid", "loc": ("body", exc.pos), "ctx": {"error": exc.msg}}]
        ) from None
    except (RecursionError, UnicodeDecodeError):
        raise InvalidInput(
            "请求体无法解析。", [FieldError("body", "请求体不是有效的 JSON（或嵌套过深）。")]
        ) from None
    try:
        return ScreenRequest.model_validate(data)
    except ValidationError as exc:
        raise _invalid(exc.errors()) from None


def _invalid(errors: list[Any]) -> InvalidInput:
    return InvalidInput(
        "请求中有字段不符合要求，见 errors。", field_errors(errors, ScreenRequest)
    )


async def screen_one(request: Request) -> JSONBody:
    principal = await _SCREENER(request)
    services = await get_services(request)
    body = parse_body(await request.body())
    # A screen is a fraction of a millisecond of CPU: run it on the event loop, no thread hop.
    # An obligor's earlier damage (by id or by name) needs the database, and text to locate may
    # load the address dictionary once: those go to a thread.
    if body.obligor is not None or body.location.text:
        outcome = await run_in_threadpool(screen, services, body, principal)
    else:
        outcome = screen(services, body, principal)
    return JSONBody(outcome.response())


# The same operation declared the usual way (body model, bearer scheme, role): never served,
# only documented, so that FastAPI itself writes its OpenAPI entry (document_screen below).
_documented = APIRouter(route_class=ChineseValidationRoute, dependencies=DOCUMENT_BEARER)


@_documented.post(
    "/api/v1/screen", tags=["筛查"], operation_id="screen_one_api_v1_screen_post",
    **_SCREEN_OPERATION,
)  # fmt: skip
async def screen_one_documented(body: ScreenRequest, principal: Screener) -> JSONBody:
    raise AssertionError("documentation only: POST /api/v1/screen is served by screen_one")


def document_screen(app: FastAPI) -> None:
    """Put `POST /api/v1/screen` (and ScreenRequest, which the batch items refer to) into the
    app's OpenAPI document, where FastAPI would have put it."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            twin = get_openapi(title=app.title, version=app.version, routes=_documented.routes)
            paths: dict[str, Any] = {}
            for path, item in schema.get("paths", {}).items():
                if path == "/api/v1/screen/batch":
                    paths.update(twin["paths"])
                paths[path] = item
            schema["paths"] = paths
            components = schema.setdefault("components", {})
            for section, entries in twin.get("components", {}).items():
                merged = {**entries, **components.get(section, {})}
                components[section] = {k: merged[k] for k in sorted(merged)}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


@router.post(
    "/screen/batch",
    summary="批量筛查（一次最多 10,000 条）",
    description="返回 `results`，与 `items` 顺序一致；某一项有误时该位置为 problem 对象"
    "（含 status 与 errors），其余各项不受影响。",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "results": [
                            DECISION_EXAMPLE,
                            {
                                "type": "about:blank",
                                "title": "几何图形无效",
                                "status": 422,
                                "detail": SWAPPED_DETAIL,
                                "errors": [
                                    {
                                        "field": "items[1].location.geometry.coordinates",
                                        "message": "…",
                                    }
                                ],
                            },
                        ]
                    }
                }
            }
        },
        **PROBLEM_RESPONSES,
    },
)
async def screen_batch(
    body: BatchRequest,
    request: Request,
    services: ServicesDep,
    principal: Screener,
    fields: str | None = Query(
        None,
        description="只返回每项结论中的这些顶层字段（逗号分隔，"
        "如 jurisdiction,sensitive_area_lead），供机器调用方减小响应；"
        "出错的项仍为完整的 problem 对象。",
    ),
) -> Response:
    settings = services.settings
    limit = settings.batch_limit
    if len(body.items) > limit:
        raise InvalidInput(
            f"一次最多批量筛查 {limit:,} 条，本次 {len(body.items):,} 条：请分批提交。",
            [FieldError("items", f"项数过多：最多 {limit:,} 项。")],
        )
    if not body.items:
        raise InvalidInput("items 为空。", [FieldError("items", "至少需要 1 项。")])
    requests, weights = await run_in_threadpool(validate_items, body.items, settings)
    outcomes: list[ScreenOutcome | DomainError | None] = [None] * len(requests)
    deadline = time.monotonic() + settings.batch_time_budget_s
    for chunk in cost_chunks(weights):
        if await request.is_disconnected():
            log.info("screen batch cancelled: client went away (%d items left)", len(chunk))
            return JSONResponse({"detail": "client disconnected"}, status_code=499)
        if time.monotonic() > deadline:
            for i in range(chunk[0], len(requests)):
                outcomes[i] = over_time_budget(i, settings.batch_time_budget_s)
            break
        done = await run_in_threadpool(
            screen_many, services, [requests[i] for i in chunk], principal
        )
        for i, outcome in zip(chunk, done, strict=True):
            outcomes[i] = outcome
    results = []
    for i, slot in enumerate(outcomes):
        assert slot is not None
        outcome = slot
        if isinstance(outcome, DomainError):
            if outcome.errors and not outcome.errors[0].field.startswith("items["):
                outcome = _prefixed(outcome, f"items[{i}]")
            results.append(problem_dict(outcome))
        else:
            results.append(_kept(outcome.response(), fields))
    return JSONBody({"results": results})


def validate_items(
    items: list[Any], settings: Settings
) -> tuple[list[ScreenRequest | DomainError], list[int]]:
    """Each item validated on its own, and its declared cost (vertices) checked against the
    batch budget before any work: an item over GEO_SCREEN_BATCH_MAX_ITEM_VERTICES is refused in
    its slot; a request over GEO_SCREEN_BATCH_MAX_VERTICES in total is refused whole (413)."""
    requests: list[ScreenRequest | DomainError] = []
    weights: list[int] = []
    total = 0
    item_cap = settings.batch_max_item_vertices
    for i, item in enumerate(items):
        try:
            parsed = ScreenRequest.model_validate(item)
        except ValidationError as exc:
            requests.append(
                InvalidInput(
                    "该项有字段不符合要求，见 errors。",
                    field_errors(exc.errors(), ScreenRequest, prefix=f"items[{i}]"),
                )
            )
            weights.append(1)
            continue
        vertices = request_vertices(parsed)
        if vertices > item_cap:
            message = (
                f"该项几何共 {vertices:,} 个顶点，超过批量筛查的单项上限 {item_cap:,} 个"
                "（设置项 GEO_SCREEN_BATCH_MAX_ITEM_VERTICES）；请简化图形或单独提交。"
            )
            requests.append(
                PayloadTooLarge(message, [FieldError(f"items[{i}].location.geometry", message)])
            )
            weights.append(1)
            continue
        total += vertices
        requests.append(parsed)
        weights.append(1 if vertices <= 1 else CHUNK_WEIGHT // 20 + vertices)
    budget = settings.batch_max_vertices
    if total > budget:
        raise PayloadTooLarge(
            f"本次批量筛查共 {total:,} 个顶点，超过每次请求的上限 {budget:,} 个"
            "（设置项 GEO_SCREEN_BATCH_MAX_VERTICES），未做任何处理；请分批提交。",
            [
                FieldError(
                    "items", f"顶点总数不得超过 {budget:,}（GEO_SCREEN_BATCH_MAX_VERTICES）。"
                )
            ],
        )
    return requests, weights


CHUNK_WEIGHT = 1_000  # points per chunk; a polygon weighs 50 + its vertices


def cost_chunks(weights: list[int]) -> list[list[int]]:
    """Item indexes in consecutive chunks of about CHUNK_WEIGHT each: the batch checks the
    client and the time budget between chunks."""
    chunks: list[list[int]] = []
    current: list[int] = []
    weight = 0
    for i, w in enumerate(weights):
        current.append(i)
        weight += w
        if weight >= CHUNK_WEIGHT:
            chunks.append(current)
            current, weight = [], 0
    if current:
        chunks.append(current)
    return chunks


def request_vertices(request: ScreenRequest) -> int:
    count = geojson_vertices(request.location.geometry)
    if request.act_location is not None:
        count += geojson_vertices(request.act_location.geometry)
    return count


def geojson_vertices(geometry: Any) -> int:
    """Positions in a GeoJSON geometry's coordinates, nested collections included."""
    count = 0
    stack: list[Any] = [geometry]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.append(item.get("coordinates"))
            stack.extend(item.get("geometries") or ())
        elif isinstance(item, list):
            if item and isinstance(item[0], int | float):
                count += 1
            else:
                stack.extend(item)
    return count


def over_time_budget(index: int, budget_s: float) -> DomainError:
    message = (
        f"本次批量请求超过处理时限 {budget_s:g} 秒（设置项 GEO_SCREEN_BATCH_TIME_BUDGET_S），"
        "该项未筛查；请将未处理的各项另行提交。"
    )
    error = ServiceUnavailable(message, [FieldError(f"items[{index}]", message)])
    error.title = "超出处理时限"
    return error


def _kept(body: dict[str, Any], fields: str | None) -> dict[str, Any]:
    """The compact form of one batch answer: only the top-level fields asked for."""
    if not fields:
        return body
    wanted = {f.strip() for f in fields.split(",") if f.strip()}
    return {k: v for k, v in body.items() if k in wanted}
