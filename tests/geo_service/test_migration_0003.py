"""Migration 0003_sessions on both backends: existing tokens keep working (no expiry), the
session table appears, and the step downgrades cleanly."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text
from support import throwaway_database

from geo_service.db.engine import make_engine
from geo_service.db.migrate import alembic_config, upgrade


@pytest.fixture
def engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    if backend == "sqlite":
        e = make_engine(f"sqlite:///{tmp_path / 'm3.db'}")
        yield e
        e.dispose()
        return
    with throwaway_database(prefix="geo_screen_test_m3") as url:
        e = make_engine(url)
        yield e
        e.dispose()


def test_0003_adds_sessions_and_token_expiry(engine: Engine) -> None:
    command.upgrade(alembic_config(engine), "0002")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO api_token (id, name, role, token_hash, created_at) "
                          "VALUES (1, 'old', 'viewer', 'h1', :t)"), {"t": datetime.now(UTC)})
    upgrade(engine)
    names = inspect(engine)
    assert "expires_at" in {c["name"] for c in names.get_columns("api_token")}
    assert {"session_hash", "token_id", "last_seen_at", "expires_at", "ended_at"} <= {
        c["name"] for c in names.get_columns("web_session")}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT expires_at FROM api_token WHERE id = 1")).scalar() is None
    command.downgrade(alembic_config(engine), "0002")
    names = inspect(engine)
    assert "web_session" not in names.get_table_names()
    assert "expires_at" not in {c["name"] for c in names.get_columns("api_token")}
