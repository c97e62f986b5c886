"""Issue 9 hole 9, as the attack: the database goes away, is locked, or is busy. Writes answer
503 problem+json with Retry-After instead of 500 or a stall; stateless screening still answers
(and says when it could not check the obligor's history); /health is liveness, /health/ready
readiness."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_helpers import POINT_HULUNBUIR, new_obligor_id, unique_ref
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from support import PG_ADMIN_URL, make_settings, throwaway_database

from geo_service.app import create_app
from geo_service.auth import create_token
from geo_service.services import Services


def lead(**extra: object) -> dict[str, object]:
    return {
        "location": {"geometry": POINT_HULUNBUIR},
        "source_system": "t",
        "external_ref": unique_ref(),
        **extra,
    }


def assert_unavailable(r: object) -> None:
    assert r.status_code == 503, r.text  # type: ignore[attr-defined]
    assert r.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    assert int(r.headers["retry-after"]) >= 1  # type: ignore[attr-defined]


@pytest.fixture
def pg_service() -> Iterator[tuple[Services, str]]:
    with throwaway_database(prefix="geo_screen_test_faults") as url:
        services = Services.open(
            make_settings(url, load_builtin_layers=True, db_lock_timeout_ms=500)
        )
        try:
            yield services, url
        finally:
            services.close()


def test_postgis_unreachable_writes_503_screening_still_answers(
    pg_service: tuple[Services, str],
) -> None:
    services, url = pg_service
    name = make_url(url).database
    with services.sessions() as session:
        token = create_token(session, "screener", "faults", actor="test")
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(services=services)) as client:
        screen = {"location": {"geometry": POINT_HULUNBUIR}, "obligor": {"id": new_obligor_id()}}
        ok = client.post("/api/v1/screen", json=screen, headers=headers)
        assert ok.status_code == 200
        codes = {w["code"] for w in ok.json()["warnings"]}
        assert "obligor_history_unavailable" not in codes
        assert client.get("/api/v1/health/ready").status_code == 200

        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
        try:
            assert_unavailable(client.post("/api/v1/leads", json=lead(), headers=headers))
            assert_unavailable(client.get("/api/v1/health/ready"))
            live = client.get("/api/v1/health")
            assert live.status_code == 200 and live.json()["status"] == "ok"
            r = client.post("/api/v1/screen", json=screen, headers=headers)
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["jurisdiction"]["rights_holder"]["code"] == "150700"
            assert body["needs_verification"] is True
            assert "obligor_history_unavailable" in {w["code"] for w in body["warnings"]}
            batch = client.post(
                "/api/v1/screen/batch", json={"items": [screen, screen]}, headers=headers
            )
            assert batch.status_code == 200
            for x in batch.json()["results"]:
                assert x["needs_verification"] is True
                assert "obligor_history_unavailable" in {w["code"] for w in x["warnings"]}
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            admin.dispose()
        # Back: writes work again, no restart needed.
        assert client.post("/api/v1/leads", json=lead(), headers=headers).status_code == 201


def test_postgis_lock_on_lead_table_answers_503_after_lock_timeout(
    pg_service: tuple[Services, str],
) -> None:
    services, url = pg_service
    with services.sessions() as session:
        token = create_token(session, "screener", "faults", actor="test")
    headers = {"Authorization": f"Bearer {token}"}
    holder = create_engine(url)
    with TestClient(create_app(services=services)) as client, holder.connect() as conn:
        conn.execute(text("LOCK TABLE lead IN ACCESS EXCLUSIVE MODE"))
        started = time.monotonic()
        r = client.post("/api/v1/leads", json=lead(), headers=headers)
        assert time.monotonic() - started < 5  # lock_timeout 0.5 s, not the 25 s lock
        assert_unavailable(r)
        conn.rollback()
        assert client.post("/api/v1/leads", json=lead(), headers=headers).status_code == 201
    holder.dispose()


def test_sqlite_write_lock_held_elsewhere_answers_503(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    services = Services.open(
        make_settings(f"sqlite:///{path}", load_builtin_layers=False, sqlite_busy_timeout_ms=300)
    )
    try:
        with services.sessions() as session:
            token = create_token(session, "screener", "faults", actor="test")
        headers = {"Authorization": f"Bearer {token}"}
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        with TestClient(create_app(services=services)) as client:
            other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
            try:
                assert_unavailable(client.post("/api/v1/leads", json=lead(), headers=headers))
                assert (
                    client.post(
                        "/api/v1/screen",
                        json={"location": {"geometry": POINT_HULUNBUIR}},
                        headers=headers,
                    ).status_code
                    == 200
                )
            finally:
                other.execute("ROLLBACK")
                other.close()
            assert client.post("/api/v1/leads", json=lead(), headers=headers).status_code == 201
    finally:
        services.close()
