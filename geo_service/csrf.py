"""Cross-site request forgery, refused before any body is read.

A browser sends the session cookie with any request to this site, also one a page elsewhere
makes it send. So every state change that authenticates by that cookie (not by a Bearer header,
which no other site can add) must (1) come from this origin — `Origin`, or `Sec-Fetch-Site` when
there is no Origin — and (2) carry the session's CSRF token in the `X-CSRF-Token` header (the
pages' JavaScript adds it; HTML forms post it as the `csrf_token` field, checked by their route).

And bodies are what the operation declares: each documented operation takes only the media
types of its OpenAPI `requestBody` (a JSON operation: application/json), every other route JSON,
multipart or CSV; `text/plain` — which a page elsewhere may send without asking — never, and
URL-encoded forms only on /login and /logout. Anything else is 415 before the body is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import Message
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
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


JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
# Bodies any route here may take: JSON, file uploads, CSV (history import). URL-encoded forms
# only where a plain HTML form posts; text/plain never (a page elsewhere sends it unasked).
MULTIPART = "multipart/form-data"
BODY_TYPES = frozenset({JSON, MULTIPART, "text/csv"})
FORM_PATHS = NO_SESSION_PATHS | FORM_TOKEN_PATHS


@lru_cache(maxsize=256)  # a few distinct headers in practice; bounded against the rest
def media_type(content_type: str) -> str:
    """`application/merge-patch+json; charset=utf-8` → `application/json`."""
    message = Message()
    message["content-type"] = content_type
    kind = message.get_content_type() if content_type else ""
    main, _, sub = kind.partition("/")
    return JSON if main == "application" and sub.endswith("+json") else kind


@dataclass
class DeclaredBodies:
    """The media types each documented operation declares for its body (from the app's own
    OpenAPI document, built once): a JSON-only operation refuses a multipart or CSV body."""

    app: FastAPI
    _routes: list[tuple[str, re.Pattern[str], frozenset[str]]] | None = None
    # The documented paths without parameters: their answers are remembered (a dict lookup on
    # the hot routes instead of a scan of every pattern); a path with ids is scanned each time,
    # so what callers send cannot grow the memo.
    _literal: set[str] = field(default_factory=set)
    _memo: dict[tuple[str, str], frozenset[str] | None] = field(default_factory=dict)

    def allowed(self, method: str, path: str) -> frozenset[str] | None:
        key = (method, path)
        if key in self._memo:
            return self._memo[key]
        if self._routes is None:
            self._routes = self._build()
        found = next(
            (t for m, pattern, t in self._routes if m == method and pattern.fullmatch(path)), None
        )
        if path in self._literal:
            self._memo[key] = found
        return found

    def _build(self) -> list[tuple[str, re.Pattern[str], frozenset[str]]]:
        out = []
        for path, ops in self.app.openapi().get("paths", {}).items():
            parts = re.split(r"(\{[^}]+\})", path)
            pattern = re.compile(
                "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
            )
            if len(parts) == 1:
                self._literal.add(path)
            for method, op in ops.items():
                content = (op.get("requestBody") or {}).get("content") or {}
                if content:
                    declared = {media_type(t) for t in content}
                    if declared & {MULTIPART, FORM}:  # a form route reads either encoding
                        declared |= {MULTIPART, FORM}
                    out.append((method.upper(), pattern, frozenset(declared)))
        return out


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
        self.declared = DeclaredBodies(fastapi_app)

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
        path = scope["path"]
        if _has_body(headers):
            content_type = headers.get("content-type", "")
            kind = media_type(content_type)
            declared = self.declared.allowed(scope["method"], path)
            allowed = declared if declared is not None else BODY_TYPES
            if kind not in allowed and not (kind == FORM and path in FORM_PATHS):
                return problem(
                    415, "不支持的媒体类型",
                    f"此接口不接受“{content_type or '无 Content-Type'}”的请求体。",
                    [FieldError("Content-Type", f"应为 {'、'.join(sorted(allowed))}。")],
                )
        if bearer_token(headers) is not None:
            return None  # authenticated by the header, which no other site can set
        state: AuthState = self.fastapi_app.state.auth
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
