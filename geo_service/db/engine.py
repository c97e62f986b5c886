"""Engine and session factory, one per process, made by the app factory or the CLI.

PostgreSQL: statement, lock, connect and pool timeouts, so a held lock or a hung database makes a
request fail fast (503) instead of stalling the service. SQLite: WAL with a busy timeout, foreign
keys and recursive triggers on (so `INSERT OR REPLACE` fires the audit log's DELETE trigger), and
the database file with its -wal/-shm journal readable by the service's user only (0600).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_FILE_MODE = 0o600


@dataclass(frozen=True, slots=True)
class DatabaseLimits:
    """Timeouts (settings GEO_SCREEN_DB_* and GEO_SCREEN_SQLITE_BUSY_TIMEOUT_MS)."""

    statement_timeout_ms: int = 60_000
    lock_timeout_ms: int = 5_000
    pool_timeout_s: float = 10.0
    connect_timeout_s: int = 5
    sqlite_busy_timeout_ms: int = 10_000

    @classmethod
    def from_settings(cls, settings: Any) -> DatabaseLimits:
        return cls(
            statement_timeout_ms=settings.db_statement_timeout_ms,
            lock_timeout_ms=settings.db_lock_timeout_ms,
            pool_timeout_s=settings.db_pool_timeout_s,
            connect_timeout_s=settings.db_connect_timeout_s,
            sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        )


def make_engine(url: str, limits: DatabaseLimits | None = None, **kwargs: Any) -> Engine:
    limits = limits or DatabaseLimits()
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and path != ":memory:" and not path.startswith("file:"):
            private_sqlite_files(Path(path))
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        busy = int(limits.sqlite_busy_timeout_ms)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA recursive_triggers=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={busy}")
            cur.close()

        return engine
    options = []
    if limits.statement_timeout_ms:
        options.append(f"-c statement_timeout={int(limits.statement_timeout_ms)}")
    if limits.lock_timeout_ms:
        options.append(f"-c lock_timeout={int(limits.lock_timeout_ms)}")
    connect_args: dict[str, Any] = {"connect_timeout": int(limits.connect_timeout_s)}
    if options:
        connect_args["options"] = " ".join(options)
    return create_engine(
        url,
        pool_pre_ping=False,
        pool_timeout=limits.pool_timeout_s,
        connect_args=connect_args,
        **kwargs,
    )


def private_sqlite_files(path: Path) -> None:
    """Create the SQLite file 0600 if missing (SQLite gives its -wal/-shm the file's mode), and
    take group/other rights away from an existing file and journal."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        old = os.umask(0o077)
        try:
            fd = os.open(path, os.O_CREAT | os.O_WRONLY, SQLITE_FILE_MODE)
            os.close(fd)
        finally:
            os.umask(old)
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if candidate.stat().st_mode & 0o077:
                candidate.chmod(SQLITE_FILE_MODE)
        except FileNotFoundError:
            continue


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that write their audit entries, hash-chained, at commit."""
    from geo_service.audit_chain import AT_COMMIT_KEY, chain_at_commit

    maker = sessionmaker(engine, expire_on_commit=False, info={AT_COMMIT_KEY: True})
    chain_at_commit(maker)
    return maker
