"""0007_events on both backends: the case_event table, and every 立案 filing stored before it
becomes the case's `filed` event on its decision date (or the filing's day without one)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, text
from support import throwaway_database

from geo_service.db.engine import make_engine
from geo_service.db.migrate import alembic_config, upgrade


@pytest.fixture
def empty_engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
        yield engine
        engine.dispose()
        return
    with throwaway_database(prefix="geo_screen_test_migrate") as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def test_0007_turns_filings_into_filed_events(empty_engine: Engine) -> None:
    command.upgrade(alembic_config(empty_engine), "0005_decisions")
    at = datetime(2026, 6, 12, 18, 0, tzinfo=UTC)  # 2026-06-13 02:00 in China
    with empty_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO lead (id, created_at, created_by, status, is_major, minor_override,"
                " request) VALUES (1, :t, 't', 'filed', false, false, '{}'),"
                " (2, :t, 't', 'filed', false, false, '{}'),"
                " (3, :t, 't', 'not_filed', false, false, '{}')"
            ),
            {"t": at},
        )
        conn.execute(
            text(
                "INSERT INTO filing (lead_id, decision, grounds, reasons, approved_by,"
                " created_at, created_by, decided_on) VALUES"
                " (1, 'file', '[]', 'r', 'a', :t, 'screener:x', :d),"
                " (2, 'file', '[]', 'r', 'a', :t, 'screener:y', NULL),"
                " (3, 'not_file', '[\"minor\"]', 'r', 'a', :t, 'screener:z', :d)"
            ),
            {"t": at, "d": date(2026, 6, 10)},
        )
    upgrade(empty_engine)
    with empty_engine.connect() as conn:
        rows = conn.execute(
            text('SELECT lead_id, type, "on", created_by FROM case_event ORDER BY lead_id')
        ).all()
    assert [(r[0], r[1], str(r[2])[:10], r[3]) for r in rows] == [
        (1, "filed", "2026-06-10", "screener:x"),
        (2, "filed", "2026-06-13", "screener:y"),
    ]
    command.downgrade(alembic_config(empty_engine), "0005_decisions")
    upgrade(empty_engine)
