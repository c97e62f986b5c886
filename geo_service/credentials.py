"""Who a caller is: bearer tokens and browser sessions in the database, and a per-process cache.

Only hashes are stored: a token's SHA-256 (`api_token`), a session id's SHA-256 (`web_session`).
The cache answers most requests without a query; every `layer_sync_interval_s` one small query
picks up revocations, expiries and logouts made by any process, so every worker refuses a
revoked token within that interval.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from geo_service.db.models import ApiToken, WebSession
from geo_service.layer_store import audit, now

ROLES = ("viewer", "screener", "analyst", "system", "admin")
CACHE_LIMIT = 10_000  # entries per map; beyond it the map starts over (no unbounded growth)
TOUCH_EVERY_S = 60.0  # a session's last_seen_at is written at most this often per process
CLOCK_MARGIN = timedelta(seconds=60)  # revocations are re-read with this overlap
SESSION_ROWS_KEPT = timedelta(days=30)  # ended or expired sessions are deleted after this


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: str
    token_id: int
    session_id: int | None = None  # set when the caller came in with a browser session

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        return f"{self.role}:{self.name}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _epoch(value: datetime | None) -> float | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite hands back naive UTC
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


# --- Tokens --------------------------------------------------------------------------------


def create_token(
    session: Session, role: str, name: str, actor: str = "cli",
    expires_in_days: int | None = None,
) -> str:
    """Issue a token; only its hash is stored. Returns the token (shown once)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; use one of: {', '.join(ROLES)}")
    if expires_in_days is not None and expires_in_days < 1:
        raise ValueError("expires_in_days must be at least 1")
    token = "gs_" + secrets.token_urlsafe(32)
    issued = now()
    expires = issued + timedelta(days=expires_in_days) if expires_in_days else None
    row = ApiToken(name=name, role=role, token_hash=hash_token(token), created_at=issued,
                   expires_at=expires)
    session.add(row)
    session.flush()
    audit(session, actor, "token_issued", "api_token", row.id, {
        "name": name, "role": role, "expires_at": expires.isoformat() if expires else None,
    })
    session.commit()
    return token


def list_tokens(session: Session) -> Sequence[ApiToken]:
    return session.scalars(select(ApiToken).order_by(ApiToken.id)).all()


class TokenNotFound(LookupError):
    pass


def find_tokens(session: Session, id_or_name: str) -> Sequence[ApiToken]:
    """Tokens named by id (digits) or by name; several tokens may share a name."""
    if id_or_name.isdigit():
        return session.scalars(select(ApiToken).where(ApiToken.id == int(id_or_name))).all()
    return session.scalars(
        select(ApiToken).where(ApiToken.name == id_or_name).order_by(ApiToken.id)
    ).all()


def revoke_token(session: Session, row: ApiToken, actor: str) -> int:
    """Revoke a token and end its browser sessions (audited). Returns the sessions ended."""
    at = now()
    if row.revoked_at is None:
        row.revoked_at = at
    result = session.execute(
        update(WebSession)
        .where(WebSession.token_id == row.id, WebSession.ended_at.is_(None))
        .values(ended_at=at, end_reason="token_revoked")
    )
    ended = int(getattr(result, "rowcount", 0) or 0)  # a CursorResult for an UPDATE
    audit(session, actor, "token_revoked", "api_token", row.id,
          {"name": row.name, "role": row.role, "sessions_ended": ended})
    session.commit()
    return int(ended or 0)


def token_usable(row: ApiToken, at: float) -> bool:
    expires = _epoch(row.expires_at)
    return row.revoked_at is None and (expires is None or expires > at)


def lookup_token(session: Session, token: str) -> Principal | None:
    """A usable token's holder, straight from the database (login, the CLI)."""
    row = session.scalars(
        select(ApiToken).where(ApiToken.token_hash == hash_token(token))
    ).one_or_none()
    if row is None or not token_usable(row, time.time()):
        return None
    return Principal(name=row.name, role=row.role, token_id=row.id)


# --- Browser sessions ----------------------------------------------------------------------


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def start_session(
    session: Session, principal: Principal, session_id: str, *, max_age_s: int,
    client: str | None,
) -> int:
    """Store a new browser session for `principal` (the caller commits)."""
    at = now()
    token = session.get(ApiToken, principal.token_id)
    expires = at + timedelta(seconds=max_age_s)
    if token is not None and token.expires_at is not None:
        token_expires = token.expires_at
        if token_expires.tzinfo is None:
            token_expires = token_expires.replace(tzinfo=UTC)
        expires = min(expires, token_expires)
    row = WebSession(session_hash=hash_token(session_id), token_id=principal.token_id,
                     created_at=at, last_seen_at=at, expires_at=expires, client=client)
    session.add(row)
    # Housekeeping: sessions over for a while are only history, which the audit log keeps.
    cutoff = at - SESSION_ROWS_KEPT
    session.execute(delete(WebSession).where(
        or_(WebSession.ended_at < cutoff, WebSession.expires_at < cutoff)))
    session.flush()
    return row.id


def end_session(session: Session, session_id: str, reason: str) -> WebSession | None:
    row = session.scalars(
        select(WebSession).where(WebSession.session_hash == hash_token(session_id))
    ).one_or_none()
    if row is not None and row.ended_at is None:
        row.ended_at = now()
        row.end_reason = reason
    return row


# --- The per-process cache -------------------------------------------------------------------


@dataclass(slots=True)
class _Entry:
    principal: Principal | None  # None: no such (usable) credential, remembered too
    expires_at: float | None  # epoch seconds; None: no expiry
    last_seen: float = 0.0  # sessions: latest known use
    written: float = 0.0  # sessions: the last_seen_at value in the database


@dataclass
class CredentialCache:
    """Token and session lookups for one process. Thread-safe; refreshed by `refresh`."""

    interval_s: float
    idle_s: float
    _tokens: dict[str, _Entry] = field(default_factory=dict)
    _sessions: dict[str, _Entry] = field(default_factory=dict)
    _checked_mono: float = field(default_factory=time.monotonic)
    _checked_at: datetime = field(default_factory=now)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # Lookups. `cached_*` never touch the database; `load_*` do (run them off the event loop).

    def cached_token(self, token_hash: str) -> _Entry | None:
        return self._tokens.get(token_hash)

    def load_token(self, session: Session, token_hash: str) -> Principal | None:
        row = session.scalars(
            select(ApiToken).where(ApiToken.token_hash == token_hash)
        ).one_or_none()
        if row is None or not token_usable(row, time.time()):
            entry = _Entry(None, None)
        else:
            entry = _Entry(Principal(row.name, row.role, row.id), _epoch(row.expires_at))
        self._put(self._tokens, token_hash, entry)
        return entry.principal

    def cached_session(self, session_hash: str) -> _Entry | None:
        return self._sessions.get(session_hash)

    def load_session(self, session: Session, session_hash: str) -> Principal | None:
        found = session.execute(
            select(WebSession, ApiToken)
            .join(ApiToken, ApiToken.id == WebSession.token_id)
            .where(WebSession.session_hash == session_hash)
        ).one_or_none()
        at = time.time()
        entry = _Entry(None, None)
        if found is not None:
            ws, token = found
            seen = _epoch(ws.last_seen_at) or 0.0
            expires = _epoch(ws.expires_at) or 0.0
            alive = ws.ended_at is None and expires > at and seen + self.idle_s > at
            if alive and token_usable(token, at):
                principal = Principal(token.name, token.role, token.id, session_id=ws.id)
                entry = _Entry(principal, expires, last_seen=seen, written=seen)
        self._put(self._sessions, session_hash, entry)
        return entry.principal

    @staticmethod
    def usable(entry: _Entry, at: float) -> bool:
        return entry.principal is not None and (entry.expires_at is None or entry.expires_at > at)

    def session_idle(self, entry: _Entry, at: float) -> bool:
        return entry.principal is not None and entry.last_seen + self.idle_s <= at

    def touch(self, entry: _Entry, at: float) -> bool:
        """Record a use; True when the database's last_seen_at is due for an update."""
        entry.last_seen = at
        return at - entry.written >= TOUCH_EVERY_S

    def write_touch(self, session: Session, entry: _Entry) -> None:
        if entry.principal is None or entry.principal.session_id is None:
            return
        session.execute(
            update(WebSession)
            .where(WebSession.id == entry.principal.session_id)
            .values(last_seen_at=datetime.fromtimestamp(entry.last_seen, UTC))
        )
        session.commit()
        entry.written = entry.last_seen

    def forget_session(self, session_hash: str) -> None:
        self._sessions.pop(session_hash, None)

    def forget_token(self, token_hash: str) -> None:
        self._tokens.pop(token_hash, None)

    # Revocations made by any process.

    def unchecked_for(self) -> float:
        """Seconds since the last successful refresh."""
        return time.monotonic() - self._checked_mono

    def refresh_due(self) -> bool:
        """Every interval; on every request when the interval is 0 (layer sync off): a
        revocation is never missed, the cache then only saves the lookups themselves."""
        return time.monotonic() - self._checked_mono >= self.interval_s

    def refresh(self, sessions: Callable[[], Session]) -> None:
        """Drop every cached token revoked, and every session ended, since the last check."""
        if not self._lock.acquire(blocking=False):
            return  # another request is refreshing right now
        try:
            since = self._checked_at - CLOCK_MARGIN
            checked = now()
            with sessions() as session:
                tokens = session.execute(
                    select(ApiToken.id, ApiToken.token_hash).where(ApiToken.revoked_at >= since)
                ).all()
                token_ids = {t.id for t in tokens}
                ended = session.scalars(
                    select(WebSession.session_hash).where(
                        or_(WebSession.ended_at >= since, WebSession.token_id.in_(token_ids))
                    )
                ).all()
            for t in tokens:
                self._tokens.pop(t.token_hash, None)
            for session_hash in ended:
                self._sessions.pop(session_hash, None)
            if token_ids:  # sessions of a revoked token, even if not yet marked ended
                for key, entry in list(self._sessions.items()):
                    if entry.principal is not None and entry.principal.token_id in token_ids:
                        self._sessions.pop(key, None)
            self._checked_at = checked
            self._checked_mono = time.monotonic()
        finally:
            self._lock.release()

    @staticmethod
    def _put(target: dict[str, _Entry], key: str, entry: _Entry) -> None:
        if len(target) >= CACHE_LIMIT:
            target.clear()
        target[key] = entry
