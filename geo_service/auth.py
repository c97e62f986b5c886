"""Roles and the request's caller: a bearer token, or a browser session cookie (a random id,
signed; the session itself lives in the database, geo_service.credentials)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from itsdangerous import BadSignature, Signer
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from geo_service.credentials import (
    ROLES,
    CredentialCache,
    Principal,
    create_token,
    hash_token,
    lookup_token,
)
from geo_service.errors import Forbidden, Unauthorized, database_unavailable
from geo_service.settings import Settings
from geo_service.throttle import LoginThrottle

log = logging.getLogger("geo_service.auth")

ROLE_NAMES_ZH = {
    "viewer": "查看",
    "screener": "筛查人员",
    "analyst": "GIS 分析人员",
    "system": "对接系统",
    "admin": "管理员",
}
SESSION_COOKIE = "gs_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"

# Who may do what. admin may do everything.
READ = ("viewer", "screener", "analyst", "system", "admin")
SCREEN = ("screener", "system", "admin")
DECIDE = ("screener", "admin")  # filing decisions are a screening officer's
MANAGE_LAYERS = ("analyst", "admin")


@dataclass
class AuthState:
    """One app's authentication state: the key, the credential cache, the login throttle."""

    settings: Settings
    secret: str
    cache: CredentialCache
    throttle: LoginThrottle

    def _signer(self) -> Signer:
        return Signer(self.secret, salt="geo-screen-session")

    def cookie_value(self, session_id: str) -> str:
        return self._signer().sign(session_id).decode("ascii")

    def session_id(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            return self._signer().unsign(cookie).decode("ascii")
        except (BadSignature, UnicodeError):
            return None

    def csrf_token(self, session_id: str) -> str:
        """Per session, derived with the key: nothing to store, nothing a page elsewhere knows."""
        return hmac.new(
            self.secret.encode(), b"csrf:" + session_id.encode(), hashlib.sha256
        ).hexdigest()

    def csrf_valid(self, session_id: str | None, submitted: str | None) -> bool:
        if not session_id or not submitted:
            return False
        return hmac.compare_digest(self.csrf_token(session_id), submitted)


def install_auth(app: FastAPI, settings: Settings) -> AuthState:
    """Called by the app factory. Refuses (InsecureConfiguration) a weak or missing key on a
    non-loopback listener."""
    state = AuthState(
        settings=settings,
        secret=settings.session_secret(),
        cache=CredentialCache(settings.layer_sync_interval_s, settings.session_idle_s),
        throttle=LoginThrottle(settings.login_failures_per_minute),
    )
    app.state.auth = state
    return state


def auth_state(request: Request) -> AuthState:
    state: AuthState = request.app.state.auth
    return state


def bearer_token(headers: Any) -> str | None:
    header = headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


async def current_principal(request: Request) -> Principal | None:
    """The caller, from the Authorization header or else the session cookie; None if neither.

    Async and cached: a database query only on a cache miss, and one small query per
    `layer_sync_interval_s` for revocations made elsewhere."""
    state = auth_state(request)
    sessions = request.app.state.services.sessions
    cache = state.cache
    if cache.refresh_due():
        try:
            await run_in_threadpool(cache.refresh, sessions)
        except SQLAlchemyError as exc:
            # Database down: callers verified moments ago may still screen (stateless) until
            # GEO_SCREEN_DB_OUTAGE_AUTH_GRACE_S has passed since the last good check; any write
            # they attempt fails on its own with 503. New callers need the database (503).
            grace = request.app.state.services.settings.db_outage_auth_grace_s
            if not database_unavailable(exc) or cache.unchecked_for() > grace:
                raise
            log.warning("credential refresh skipped: database unavailable")
    at = time.time()
    token = bearer_token(request.headers)
    if token is not None:
        token_hash = hash_token(token)
        entry = cache.cached_token(token_hash)
        if entry is None:
            await _in_db(sessions, cache.load_token, token_hash)
            entry = cache.cached_token(token_hash)
        return entry.principal if entry is not None and cache.usable(entry, at) else None
    session_id = state.session_id(request.cookies.get(SESSION_COOKIE))
    if session_id is None:
        return None
    session_hash = hash_token(session_id)
    entry = cache.cached_session(session_hash)
    if entry is None or cache.session_idle(entry, at):
        # A miss, or idle as far as this process saw: another worker may have seen it since.
        await _in_db(sessions, cache.load_session, session_hash)
        entry = cache.cached_session(session_hash)
    if entry is None or not cache.usable(entry, at) or cache.session_idle(entry, at):
        return None
    if cache.touch(entry, at):
        try:
            await _in_db(sessions, cache.write_touch, entry)
        except SQLAlchemyError:  # a busy database must not turn a read into an error
            log.warning("could not record session use", exc_info=True)
    request.state.csrf_token = state.csrf_token(session_id)
    return entry.principal


async def _in_db(sessions: Callable[[], Any], work: Callable[..., Any], *args: Any) -> Any:
    def run() -> Any:
        with sessions() as session:
            return work(session, *args)

    return await run_in_threadpool(run)


OptionalPrincipal = Annotated[Principal | None, Depends(current_principal)]


def require(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits the given roles (and admin); 401 without a token, 403 otherwise."""
    allowed = set(roles) | {"admin"}

    async def dependency(request: Request) -> Principal:
        # The caller read here directly, not through the OptionalPrincipal dependency: one
        # level of FastAPI's dependency solving fewer on every API request.
        principal = await current_principal(request)
        if principal is None:
            raise Unauthorized("需要身份认证：请在 Authorization 头中提供 Bearer 令牌，或先登录。")
        if principal.role not in allowed:
            raise Forbidden(
                f"角色“{ROLE_NAMES_ZH.get(principal.role, principal.role)}”无权执行此操作；"
                f"需要以下角色之一：{'、'.join(ROLE_NAMES_ZH[r] for r in sorted(allowed))}。"
            )
        return principal

    return dependency


Reader = Annotated[Principal, Depends(require(*READ))]
Screener = Annotated[Principal, Depends(require(*SCREEN))]
Decider = Annotated[Principal, Depends(require(*DECIDE))]
Analyst = Annotated[Principal, Depends(require(*MANAGE_LAYERS))]

__all__ = [
    "CSRF_FIELD", "CSRF_HEADER", "DECIDE", "MANAGE_LAYERS", "READ", "ROLES", "ROLE_NAMES_ZH",
    "SCREEN", "SESSION_COOKIE", "Analyst", "AuthState", "Decider", "OptionalPrincipal",
    "Principal", "Reader", "Screener", "auth_state", "bearer_token", "create_token",
    "current_principal", "hash_token", "install_auth", "lookup_token", "require",
]
