"""Browser login: the officer pastes the bearer token once; a signed cookie carries it after.

The cookie holds the token signed with the service's secret (geo_service.auth reads it), is
HttpOnly and SameSite=Lax (no cross-site POST carries it), and expires with the session limit.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from geo_service.auth import (
    SESSION_COOKIE,
    SESSION_MAX_AGE_S,
    lookup_token,
    session_cookie_value,
)
from geo_service.deps import ServicesDep
from geo_service.layer_store import audit

router = APIRouter(include_in_schema=False)


def safe_next(value: str | None) -> str:
    """Only a path on this site: never `//host` or `https://host` (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _login_page(request: Request, next_url: str, error: str | None, status: int) -> HTMLResponse:
    from geo_service.web.pages import render

    return render(request, "login.html", {"next": next_url, "error": error}, user=None,
                  status_code=status)


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request, next: Annotated[str | None, Query(max_length=2000)] = None
) -> HTMLResponse:
    return _login_page(request, safe_next(next), None, 200)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    services: ServicesDep,
    token: Annotated[str, Form(max_length=500)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    target = safe_next(next)
    token = token.strip()
    if not token:
        return _login_page(
            request, target, "请填写令牌。令牌由管理员用 geo-screen tokens create 签发。", 422
        )
    with services.sessions() as session:
        principal = lookup_token(session, token)
        if principal is None:
            return _login_page(
                request, target, "令牌无效或已被吊销，请核对后重试，或联系管理员重新签发。", 401
            )
        audit(session, principal.actor, "browser_login", "api_token", principal.token_id)
        session.commit()
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session_cookie_value(services.settings.secret_key, token),
        max_age=SESSION_MAX_AGE_S,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


__all__ = ["router", "safe_next"]
