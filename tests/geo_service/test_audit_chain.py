"""Issue 9 hole 4, as the attack: the audit log is append-only and tamper-evident on both backends.

PostGIS: the service runs as a non-superuser role that does not own the tables (a separate owner
role migrates, `geo_service.db.migrate.grant_app_role`); as that role TRUNCATE, UPDATE, DELETE,
DISABLE TRIGGER and DROP TRIGGER on audit_log fail, and a row the owner changes is found by
`geo-screen audit verify`. SQLite: INSERT OR REPLACE is refused; verify works the same way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from support import PG_ADMIN_URL, make_settings, throwaway_database

from geo_service.app import create_app
from geo_service.audit_chain import verify_chain
from geo_service.auth import create_token
from geo_service.db.engine import make_engine, make_sessionmaker
from geo_service.db.migrate import alembic_config, upgrade
from geo_service.db.models import AuditEntry
from geo_service.layer_store import audit
from geo_service.services import Services

ROOT = Path(__file__).resolve().parents[2]


def audit_verify(database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "geo_service.cli", "audit", "verify"],
        capture_output=True,
        text=True,
        env={
            "GEO_SCREEN_DATABASE_URL": database_url,
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
        },
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_concurrent_writers_keep_one_valid_chain(services: Services) -> None:
    def writer(n: int) -> None:
        for i in range(5):
            with services.sessions() as session:
                audit(session, f"test:writer{n}", "test_event", "test", i, {"n": n, "i": i})
                session.commit()

    with services.sessions() as session:
        before = session.scalar(select(func.count()).select_from(AuditEntry))
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with services.sessions() as session:
        report = verify_chain(session)
    assert report.intact, report
    assert report.rows >= (before or 0) + 40


def test_chain_lock_never_deadlocks_with_row_locks(services: Services) -> None:
    """One writer audits and then waits for a lead row the other holds while auditing: the
    chain lock is taken only at commit, so both finish (no deadlock, no 500)."""
    with services.sessions() as session:
        lead_id = session.execute(
            text(
                "INSERT INTO lead (created_at, created_by, status, is_major, minor_override,"
                " request) VALUES (:t, 'test', 'received', false, false, '{}') RETURNING id"
            ),
            {"t": "2026-01-01 00:00:00+00"},
        ).scalar_one()
        session.commit()
    holding, waiter_audited = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def holder() -> None:
        try:
            with services.sessions() as session:
                session.execute(
                    text("UPDATE lead SET title = 'held' WHERE id = :i"), {"i": lead_id}
                )
                holding.set()
                waiter_audited.wait(5)  # the other writer has audited and waits for our row
                audit(session, "test:holder", "lead_touched", "lead", lead_id)
                session.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)
            holding.set()

    def waiter() -> None:
        try:
            holding.wait(10)
            with services.sessions() as session:
                audit(session, "test:waiter", "lead_touched", "lead", lead_id)
                waiter_audited.set()
                session.execute(
                    text("UPDATE lead SET title = 'waited' WHERE id = :i"), {"i": lead_id}
                )
                session.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)
            waiter_audited.set()

    threads = [threading.Thread(target=holder), threading.Thread(target=waiter)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    with services.sessions() as session:
        assert verify_chain(session).intact
        actors = session.scalars(
            select(AuditEntry.actor).where(
                AuditEntry.entity == "lead", AuditEntry.entity_id == str(lead_id)
            )
        ).all()
    assert sorted(actors) == ["test:holder", "test:waiter"]


def test_rolled_back_entries_are_not_written(services: Services) -> None:
    marker = uuid.uuid4().hex
    with services.sessions() as session:
        audit(session, "test:rollback", "never", "test", marker)
        session.rollback()
        session.commit()
        found = session.scalars(select(AuditEntry).where(AuditEntry.entity_id == marker)).all()
    assert found == []


@pytest.fixture
def sqlite_service(tmp_path: Path) -> Iterator[Services]:
    services = Services.open(
        make_settings(f"sqlite:///{tmp_path / 'audit.db'}", load_builtin_layers=False)
    )
    yield services
    services.close()


def test_sqlite_insert_or_replace_and_edits_are_refused(sqlite_service: Services) -> None:
    with sqlite_service.sessions() as session:
        audit(session, "test:a", "first", "test", 1, {"k": "v"})
        session.commit()
        row = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert row is not None
        target = row.id
    with sqlite_service.engine.connect() as conn:
        for attack in (
            "INSERT OR REPLACE INTO audit_log (id, at, actor, action, entity, detail) "
            f"VALUES ({target}, '2026-01-01 00:00:00', 'evil', 'x', 'x', '{{}}')",
            "REPLACE INTO audit_log (id, at, actor, action, entity, detail) "
            f"VALUES ({target}, '2026-01-01 00:00:00', 'evil', 'x', 'x', '{{}}')",
            f"UPDATE audit_log SET actor = 'evil' WHERE id = {target}",
            f"DELETE FROM audit_log WHERE id = {target}",
        ):
            with pytest.raises(DBAPIError, match="append-only"):
                conn.execute(text(attack))
            conn.rollback()
        assert (
            conn.execute(
                text("SELECT actor FROM audit_log WHERE id = :i"), {"i": target}
            ).scalar_one()
            == "test:a"
        )


def test_sqlite_verify_names_the_row_changed_behind_the_service(sqlite_service: Services) -> None:
    with sqlite_service.sessions() as session:
        for i in range(3):
            audit(session, "test:a", "event", "test", i)
        session.commit()
        ids = session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)).all()
    url = sqlite_service.settings.database_url
    intact = audit_verify(url)
    assert intact.returncode == 0, intact.stderr
    assert f"共 {len(ids)} 条" in intact.stdout
    victim = ids[-2]
    with sqlite_service.engine.begin() as conn:  # whoever holds the file drops the trigger
        conn.execute(text("DROP TRIGGER audit_log_no_update"))
        conn.execute(
            text("UPDATE audit_log SET actor = 'someone else' WHERE id = :i"), {"i": victim}
        )
    broken = audit_verify(url)
    assert broken.returncode == 1
    assert f"id={victim}" in broken.stderr


def test_sqlite_database_file_and_journal_are_private(sqlite_service: Services) -> None:
    path = Path(make_url(sqlite_service.settings.database_url).database or "")
    with sqlite_service.sessions() as session:
        audit(session, "test:a", "event", "test")
        session.commit()
        for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            assert candidate.exists(), candidate
            assert candidate.stat().st_mode & 0o777 == 0o600, oct(candidate.stat().st_mode)


def test_existing_world_readable_sqlite_file_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    path.touch(mode=0o644)
    os.chmod(path, 0o644)
    services = Services.open(make_settings(f"sqlite:///{path}", load_builtin_layers=False))
    services.close()
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.fixture
def roles() -> Iterator[tuple[str, str]]:
    """A table-owner role and a serving role, both plain (no superuser), dropped after."""
    suffix = uuid.uuid4().hex[:8]
    owner, app = f"gs_owner_{suffix}", f"gs_app_{suffix}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{owner}" LOGIN NOSUPERUSER'))
        conn.execute(text(f'CREATE ROLE "{app}" LOGIN NOSUPERUSER'))
    try:
        yield owner, app
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP ROLE IF EXISTS "{app}"'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{owner}"'))
        admin.dispose()


def test_postgis_app_role_cannot_rewrite_the_audit_log(roles: tuple[str, str]) -> None:
    owner, app = roles
    with throwaway_database(prefix="geo_screen_test_roles") as url:
        superuser = create_engine(url, isolation_level="AUTOCOMMIT")
        with superuser.connect() as conn:
            conn.execute(text(f'GRANT USAGE, CREATE ON SCHEMA public TO "{owner}"'))
        superuser.dispose()
        owner_url = make_url(url).set(username=owner).render_as_string(hide_password=False)
        app_url = make_url(url).set(username=app).render_as_string(hide_password=False)
        services = Services.open(
            make_settings(app_url, database_owner_url=owner_url, load_builtin_layers=False)
        )
        try:
            # The service works as the serving role: a token, a lead, their audit entries.
            with services.sessions() as session:
                token = create_token(session, "screener", "role-test", actor="test")
            with TestClient(create_app(services=services)) as client:
                r = client.post(
                    "/api/v1/leads",
                    json={"location": {"admin_name": "阿左旗"}, "title": "角色分离"},
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert r.status_code == 201, r.text
            app_engine = create_engine(app_url)
            with app_engine.connect() as conn:
                assert conn.execute(text("SELECT current_user")).scalar_one() == app
                assert not conn.execute(
                    text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                ).scalar_one()
                rows = conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one()
                assert rows >= 2
                for attack in (
                    "TRUNCATE audit_log",
                    "UPDATE audit_log SET actor = 'evil'",
                    "DELETE FROM audit_log",
                    "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change",
                    "ALTER TABLE audit_log DISABLE TRIGGER ALL",
                    "DROP TRIGGER audit_log_no_change ON audit_log",
                    "DROP TRIGGER audit_log_no_truncate ON audit_log",
                    "DROP TABLE audit_log",
                    "CREATE TABLE sneaky (id int)",
                ):
                    with pytest.raises(DBAPIError):
                        conn.execute(text(attack))
                    conn.rollback()
                assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == rows
            app_engine.dispose()
            assert audit_verify(app_url).returncode == 0

            # Even the owner, who can switch the trigger off, cannot edit unnoticed.
            owner_engine = create_engine(owner_url)
            with owner_engine.begin() as conn:
                victim = conn.execute(text("SELECT min(id) FROM audit_log")).scalar_one()
                # The owner's own TRUNCATE is refused by the trigger too.
                with pytest.raises(DBAPIError, match="append-only"), conn.begin_nested():
                    conn.execute(text("TRUNCATE audit_log"))
                conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change"))
                conn.execute(
                    text('UPDATE audit_log SET detail = \'{"role": "admin"}\' WHERE id = :i'),
                    {"i": victim},
                )
                conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change"))
            owner_engine.dispose()
            broken = audit_verify(app_url)
            assert broken.returncode == 1
            assert f"id={victim}" in broken.stderr

            # Rights revoked from the serving role: 503 with Retry-After, not 500.
            owner_engine = create_engine(owner_url)
            with owner_engine.begin() as conn:
                conn.execute(text(f'REVOKE INSERT ON lead FROM "{app}"'))
            owner_engine.dispose()
            with TestClient(create_app(services=services)) as client:
                r = client.post(
                    "/api/v1/leads",
                    json={"location": {"admin_name": "阿左旗"}, "title": "无权写入"},
                    headers={"Authorization": f"Bearer {token}"},
                )
            assert r.status_code == 503, r.text
            assert r.headers["retry-after"]
        finally:
            services.close()


def test_0004_chains_rows_written_before_it(backend: str, tmp_path: Path) -> None:
    def migrate_and_check(engine: Engine) -> None:
        command.upgrade(alembic_config(engine), "0002")
        with engine.begin() as conn:
            for i in range(3):
                conn.execute(
                    text(
                        "INSERT INTO audit_log (at, actor, action, entity, entity_id, detail) "
                        "VALUES (:at, 'old', 'legacy', 'lead', :i, :d)"
                    ),
                    {"at": f"2026-01-0{i + 1} 08:00:00+00", "i": str(i), "d": json.dumps({"n": i})},
                )
        upgrade(engine)
        with make_sessionmaker(engine)() as session:
            audit(session, "new", "after_upgrade", "lead", 9)
            session.commit()
            report = verify_chain(session)
        assert report.intact and report.rows == 4, report
        with engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text("UPDATE audit_log SET actor = 'x'"))

    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
        migrate_and_check(engine)
        engine.dispose()
        return
    with throwaway_database(prefix="geo_screen_test_migrate") as url:
        engine = make_engine(url)
        migrate_and_check(engine)
        engine.dispose()
