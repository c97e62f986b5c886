"""Interactive API docs at /docs that work with no internet: Swagger UI served by the service.

The Swagger UI files come from the `swagger-ui-bundle-v2` package (Apache-2.0, licence shipped
with it and served at /docs/assets/LICENSE); FastAPI's default page would load them from a CDN.
/docs and /openapi.json need a login (or a token) unless GEO_SCREEN_PUBLIC_DOCS is set; Swagger
UI keeps an entered token in memory only (persistAuthorization off: nothing in localStorage).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)

from geo_service.auth import CSRF_HEADER, OptionalPrincipal, Principal
from geo_service.errors import NotFound, Unauthorized

router = APIRouter(include_in_schema=False)

ASSET_TYPES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}


@lru_cache(maxsize=1)
def swagger_dir() -> Path:
    import swagger_ui_bundle

    return Path(str(swagger_ui_bundle.swagger_ui_path))


@lru_cache(maxsize=1)
def swagger_licence() -> str:
    dist = metadata.distribution("swagger-ui-bundle-v2")
    for f in dist.files or ():
        if f.name.upper().startswith("LICENSE"):
            return Path(str(dist.locate_file(f))).read_text(encoding="utf-8")
    return "Swagger UI — Apache License 2.0 (https://github.com/swagger-api/swagger-ui)"


OPENAPI_PATH = "/openapi.json"


def _docs_allowed(request: Request, principal: Principal | None) -> bool:
    return principal is not None or bool(request.app.state.settings.public_docs)


@router.get(OPENAPI_PATH)
async def openapi_document(request: Request, principal: OptionalPrincipal) -> JSONResponse:
    if not _docs_allowed(request, principal):
        raise Unauthorized(
            "接口说明需要登录或 Bearer 令牌（管理员可设置 GEO_SCREEN_PUBLIC_DOCS 公开）。"
        )
    return JSONResponse(request.app.openapi())


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui(request: Request, principal: OptionalPrincipal) -> Response:
    if not _docs_allowed(request, principal):
        return RedirectResponse("/login?next=/docs", status_code=303)
    root = request.scope.get("root_path", "")
    html = get_swagger_ui_html(
        openapi_url=f"{root}{OPENAPI_PATH}",
        title=f"{request.app.title} — 接口文档",
        swagger_js_url=f"{root}/docs/assets/swagger-ui-bundle.js",
        swagger_css_url=f"{root}/docs/assets/swagger-ui.css",
        swagger_favicon_url=f"{root}/docs/assets/favicon-32x32.png",
        oauth2_redirect_url=f"{root}/docs/oauth2-redirect",
        swagger_ui_parameters={"persistAuthorization": False, "displayRequestDuration": True},
    )
    csrf = getattr(request.state, "csrf_token", None)
    if not csrf:
        return html
    # Logged in by the session cookie: "Try it out" writes carry the session's CSRF token.
    page = bytes(html.body).decode("utf-8").replace(
        "    presets: [",
        "    requestInterceptor: (req) => { req.headers[" + json.dumps(CSRF_HEADER) + "] = "
        + json.dumps(csrf) + "; return req; },\n    presets: [",
        1,
    )
    return HTMLResponse(page)


@router.get("/docs/oauth2-redirect", response_class=HTMLResponse)
def swagger_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/docs/assets/LICENSE", response_class=PlainTextResponse)
def swagger_licence_text() -> PlainTextResponse:
    return PlainTextResponse(swagger_licence())


@router.get("/docs/assets/{name}")
def swagger_asset(name: str) -> FileResponse:
    if name not in ASSET_TYPES:
        raise NotFound(f"没有文档资源 {name}。")
    return FileResponse(
        swagger_dir() / name,
        media_type=ASSET_TYPES[name],
        headers={"Cache-Control": "public, max-age=86400"},
    )
