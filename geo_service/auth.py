"""Bearer tokens and roles (API.md): stored hashed; browsers carry the token in a signed cookie."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from geo_service.db.models import ApiToken
from geo_service.deps import ServicesDep
from geo_service.errors import Forbidden, Unauthorized, database_unavailable
from geo_service.layer_store import audit, now

ROLES = ("viewer", "screener", "analyst", "system", "admin")
ROLE_NAMES_ZH = {
    "viewer": "查看",
    "screener": "筛查人员",
    "analyst": "GIS 分析人员",
    "system": "对接系统",
    "admin": "管理员",
}
SESSION_COOKIE = "gs_session"
SESSION_MAX_AGE_S = 12 * 3600

# Who may do what. admin may do everything.
READ = ("viewer", "screener", "analyst", "system", "admin")
SCREEN = ("screener", "system", "admin")
DECIDE = ("screener", "admin")  # filing decisions are a screening officer's
MANAGE_LAYERS = ("analyst", "admin")


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: str
    token_id: int

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        return f"{self.role}:{self.name}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, role: str, name: str, actor: str = "cli") -> str:
    """Issue a token; only its hash is stored. Returns the token (shown once)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; use one of: {', '.join(ROLES)}")
    token = "gs_" + secrets.token_urlsafe(32)
    row = ApiToken(name=name, role=role, token_hash=hash_token(token), created_at=now())
    session.add(row)
    session.flush()
    audit(session, actor, "token_issued", "api_token", row.id, {"name": name, "role": role})
    session.commit()
    return token


def lookup_token(session: Session, token: str) -> Principal | None:
    return lookup_token_hash(session, hash_token(token))


def lookup_token_hash(session: Session, token_hash: str) -> Principal | None:
    row = session.scalars(
        select(ApiToken).where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None))
    ).one_or_none()
    return None if row is None else Principal(name=row.name, role=row.role, token_id=row.id)


def cookie_serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="geo-screen-session")


def session_cookie_value(secret_key: str, token: str) -> str:
    """The browser session: the token's hash, signed and timed. Never the token itself, so a
    leaked cookie cannot be replayed as a bearer token, and it expires with the session."""
    return cookie_serializer(secret_key).dumps(hash_token(token))


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def current_principal(request: Request, services: ServicesDep) -> Principal | None:
    """The caller, from the Authorization header or the browser session cookie; None if neither."""
    token = _bearer(request)
    if token is not None:
        token_hash: str | None = hash_token(token)
    else:
        token_hash = _session_token_hash(request, services.settings.secret_key)
    if not token_hash:
        return None
    try:
        with services.sessions() as session:
            principal = lookup_token_hash(session, token_hash)
    except SQLAlchemyError as exc:
        # Database down: a caller verified moments ago may still screen (stateless); any
        # write it attempts fails on its own with 503.
        recent = services.recent_principals.during_outage(token_hash)
        if recent is None or not database_unavailable(exc):
            raise
        return recent
    if principal is None:
        services.recent_principals.forget(token_hash)
    else:
        services.recent_principals.remember(token_hash, principal)
    return principal


def _session_token_hash(request: Request, secret_key: str) -> str | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        value = cookie_serializer(secret_key).loads(cookie, max_age=SESSION_MAX_AGE_S)
    except BadSignature:  # also SignatureExpired
        return None
    return value if isinstance(value, str) else None


OptionalPrincipal = Annotated[Principal | None, Depends(current_principal)]


def require(*roles: str) -> Callable[..., Principal]:
    """A dependency that admits the given roles (and admin); 401 without a token, 403 otherwise."""
    allowed = set(roles) | {"admin"}

    def dependency(principal: OptionalPrincipal) -> Principal:
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
