"""Cross-site request forgery, refused before any body is read.

A browser sends the session cookie with any request to this site, also one a page elsewhere
makes it send. So every state change that authenticates by that cookie (not by a Bearer header,
which no other site can add) must (1) come from this origin — `Origin`, or `Sec-Fetch-Site` when
there is no Origin — and (2) carry the session's CSRF token in the `X-CSRF-Token` header (the
pages' JavaScript adds it; HTML forms post it as the `csrf_token` field, checked by their route).

And JSON is JSON: a route that reads a JSON body refuses any other Content-Type with 415, so no
`text/plain` or form post — which a page elsewhere may send without asking — is ever parsed.
"""

from __future__ import annotations

from email.message import Message
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, params
from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from geo_service.auth import CSRF_HEADER, SESSION_COOKIE, AuthState, bearer_token
from geo_service.errors import FieldError, problem

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# These routes read a form field for the token themselves (plain HTML forms, no script).
FORM_TOKEN_PATHS = frozenset({"/logout"})
# Before login there is no session to hold a token: the origin check alone applies.
NO_SESSION_PATHS = frozenset({"/login"})


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_origin(headers: Headers, scheme: str, public_url: str | None) -> bool:
    """The request comes from a page of this service (or from no page at all)."""
    origin = headers.get("origin")
    if origin is not None:
        allowed = {origin_of(f"{scheme}://{headers.get('host', '')}")}
        if public_url:
            allowed.add(origin_of(public_url))
        return origin.lower() in allowed  # "null" (sandboxed frames, file://) never is
    site = headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    return True  # not a browser; the CSRF token below still has to match


def _json_media_type(content_type: str) -> bool:
    message = Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def expects_json(app: FastAPI, scope: Scope) -> bool:
    """The matched route parses a JSON body (its body parameters are not form fields)."""
    for route in app.router.routes:
        if not isinstance(route, APIRoute):
            continue
        match, _ = route.matches(scope)
        if match is Match.FULL:
            body = route.body_field
            return body is not None and not isinstance(body.field_info, params.Form)
    return False


def _has_body(headers: Headers) -> bool:
    length = headers.get("content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return "transfer-encoding" in headers


class CsrfGuard:
    """Pure ASGI middleware (no body buffering): the checks above, on every unsafe request."""

    def __init__(self, app: ASGIApp, fastapi_app: FastAPI) -> None:
        self.app = app
        self.fastapi_app = fastapi_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        await refusal(scope, receive, send)

    def _refusal(self, scope: Scope) -> Any:
        headers = Headers(scope=scope)
        content_type = headers.get("content-type", "")
        if (
            _has_body(headers)
            and not _json_media_type(content_type)
            and expects_json(self.fastapi_app, scope)
        ):
            return problem(
                415, "不支持的媒体类型", "此接口只接受 JSON 请求体。",
                [FieldError("Content-Type",
                            f"应为 application/json，收到“{content_type or '无'}”。")],
            )
        if bearer_token(headers) is not None:
            return None  # authenticated by the header, which no other site can set
        state: AuthState = self.fastapi_app.state.auth
        path = scope["path"]
        cookies = _cookies(headers)
        if SESSION_COOKIE not in cookies and path not in NO_SESSION_PATHS:
            return None  # no session: the route answers 401 by itself
        if not same_origin(headers, scope.get("scheme", "http"), state.settings.public_url):
            return problem(
                403, "无权限", "跨站请求被拒绝：请在本系统的页面上操作。",
                [FieldError("Origin", "请求来源不是本系统。")],
            )
        if path in NO_SESSION_PATHS or path in FORM_TOKEN_PATHS:
            return None
        if not state.csrf_valid(state.session_id(cookies.get(SESSION_COOKIE)),
                                headers.get(CSRF_HEADER)):
            return problem(
                403, "无权限", "缺少或无效的防跨站令牌：请刷新页面后重试。",
                [FieldError(CSRF_HEADER, "请从本系统页面提交（页面会自动附带此令牌）。")],
            )
        return None


def _cookies(headers: Headers) -> dict[str, str]:
    return cookie_parser(headers.get("cookie", ""))


def install_csrf(app: FastAPI) -> None:
    app.add_middleware(CsrfGuard, fastapi_app=app)
