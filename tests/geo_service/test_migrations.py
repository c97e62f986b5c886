"""Migrations step by step on both backends: 0002 fills lead.leagues from existing decisions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
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


def test_0002_backfills_the_leagues_a_lead_touches(empty_engine: Engine) -> None:
    command.upgrade(alembic_config(empty_engine), "0001")
    now = datetime.now(UTC)
    decision = (
        '{"jurisdiction": {"rights_holder": {"code": "150000"}, "leagues": '
        '[{"code": "150200", "share": 0.4}, {"code": "150100", "share": 0.6}]}}'
    )
    with empty_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO lead (id, created_at, created_by, status, is_major, minor_override,"
                " request, league_code) VALUES (1, :t, 't', 'received', false, false, '{}',"
                " '150000'), (2, :t, 't', 'received', false, false, '{}', NULL)"
            ),
            {"t": now},
        )
        conn.execute(
            text(
                "INSERT INTO decision (lead_id, created_at, created_by, rulebook_version,"
                " layer_versions, inputs, result, trigger) VALUES"
                " (1, :t, 't', 'x', '{}', '{}', '{}', 'created'),"
                " (1, :t, 't', 'x', '{}', '{}', :d, 'rescreen')"
            ),
            {"t": now, "d": decision},
        )
    upgrade(empty_engine)
    with empty_engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT id, leagues FROM lead ORDER BY id")).all())
    assert rows == {1: ",150100,150200,", 2: None}  # from the latest decision; none without one


def test_0005_keys_obligor_names_and_adds_the_filing_findings(empty_engine: Engine) -> None:
    """Leads stored before 0005 can be matched by obligor name (第十五条第五款第（二）项 without an
    identifier); filings gain 不需要赔偿, the 第四十八条 criterion, the decision date."""
    command.upgrade(alembic_config(empty_engine), "0002")
    now = datetime.now(UTC)
    with empty_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO lead (id, created_at, created_by, status, is_major, minor_override,"
                " request, obligor_name) VALUES (1, :t, 't', 'not_filed', false, false, '{}',"
                " :n), (2, :t, 't', 'received', false, false, '{}', NULL)"
            ),
            {"t": now, "n": "某某 砂石厂（二分厂）"},
        )
    upgrade(empty_engine)
    with empty_engine.connect() as conn:
        keys = dict(conn.execute(text("SELECT id, obligor_name_key FROM lead ORDER BY id")).all())
        conn.execute(
            text(
                "SELECT no_compensation_needed, impact_criterion, decided_on, decision_id"
                " FROM filing"
            )
        ).all()
        hashes = conn.execute(text("SELECT idempotency_body_hash FROM lead")).all()
    assert keys == {1: "某某砂石厂二分厂", 2: None}
    assert hashes == [(None,), (None,)]
