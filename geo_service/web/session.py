"""Browser login: the officer pastes the bearer token once; a server-side session follows.

The cookie holds a random session id, signed with the service's key; the database keeps only
the id's hash (`web_session`), with an absolute and an idle expiry. Logout ends the session in
the database, so a copied cookie is worthless afterwards. Failed logins are throttled per client
address and per token prefix and audited (a short hash of what was sent, never the text).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from geo_service.auth import CSRF_FIELD, SESSION_COOKIE, auth_state
from geo_service.credentials import (
    end_session,
    hash_token,
    lookup_token,
    new_session_id,
    start_session,
)
from geo_service.db.models import ApiToken
from geo_service.deps import ServicesDep
from geo_service.layer_store import audit

router = APIRouter(include_in_schema=False)
TOKEN_PREFIX_CHARS = 10  # "gs_" and 7 more: a guessed family of tokens counts as one key


def safe_next(value: str | None) -> str:
    """Only a path on this site: never `//host` or `https://host` (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _login_page(
    request: Request, next_url: str, error: str | None, status: int,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    from geo_service.web.pages import render

    settings = request.app.state.settings
    response = render(request, "login.html", {
        "next": next_url, "error": error,
        "max_age_h": f"{settings.session_max_age_s / 3600:g}",
        "idle_min": settings.session_idle_s // 60,
    }, user=None, status_code=status)
    response.headers.update(headers or {})
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request, next: Annotated[str | None, Query(max_length=2000)] = None
) -> HTMLResponse:
    return _login_page(request, safe_next(next), None, 200)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    services: ServicesDep,
    token: Annotated[str, Form(max_length=500)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    state = auth_state(request)
    target = safe_next(next)
    token = token.strip()
    if not token:
        return _login_page(
            request, target, "请填写令牌。令牌由管理员用 geo-screen tokens create 签发。", 422
        )
    client = client_address(request)
    keys = [f"addr:{client}", f"prefix:{token[:TOKEN_PREFIX_CHARS]}"]
    wait = state.throttle.retry_after(keys)
    if wait:
        if state.throttle.first_refusal(keys[0]):
            with services.sessions() as session:
                audit(session, f"anonymous@{client}", "login_throttled", "web_session", None,
                      {"client": client, "retry_after_s": wait})
                session.commit()
        return _login_page(
            request, target, f"登录失败次数过多，请 {wait} 秒后再试。", 429,
            {"Retry-After": str(wait)},
        )
    settings = services.settings
    with services.sessions() as session:
        principal = lookup_token(session, token)
        if principal is None:
            state.throttle.failed(keys)
            audit(session, f"anonymous@{client}", "login_failed", "web_session", None,
                  {"client": client, "token_sha256_prefix": hash_token(token)[:8]})
            session.commit()
            return _login_page(
                request, target, "令牌无效、已过期或已被吊销，请核对后重试，或联系管理员重新签发。",
                401,
            )
        session_id = new_session_id()
        row_id = start_session(session, principal, session_id,
                               max_age_s=settings.session_max_age_s, client=client[:100])
        audit(session, principal.actor, "browser_login", "web_session", row_id,
              {"token_id": principal.token_id, "client": client})
        session.commit()
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        state.cookie_value(session_id),
        max_age=settings.session_max_age_s,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https" or settings.public_base_url.startswith("https:"),
        path="/",
    )
    return response


@router.post("/logout")
def logout(
    request: Request,
    services: ServicesDep,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=200)] = "",
) -> Response:
    """Ends the session in the database (the cookie is dead everywhere), then clears it."""
    state = auth_state(request)
    session_id = state.session_id(request.cookies.get(SESSION_COOKIE))
    if session_id is not None:
        if not state.csrf_valid(session_id, csrf_token):
            from geo_service.web.pages import render

            return render(request, "error.html", {
                "title": "无法退出",
                "detail": "请求缺少有效的防跨站令牌，请从本系统页面点击“退出”。",
            }, user=None, status_code=403)
        with services.sessions() as session:
            row = end_session(session, session_id, "logout")
            if row is not None:
                holder = session.get(ApiToken, row.token_id)
                actor = f"{holder.role}:{holder.name}" if holder else f"web_session:{row.id}"
                audit(session, actor, "browser_logout", "web_session", row.id,
                      {"token_id": row.token_id})
            session.commit()
        state.cache.forget_session(hash_token(session_id))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


__all__ = ["router", "safe_next"]
