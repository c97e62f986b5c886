"""`geo-screen tokens create|list|revoke` on both backends, as an administrator runs them:
expiry, revocation by id or name (ending the holder's browser sessions), all audited; and
`serve` refusing a public listener without a key."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, create_engine, select
from support import throwaway_database

from geo_service.credentials import Principal, hash_token, new_session_id, start_session
from geo_service.db.models import ApiToken, AuditEntry, WebSession


@pytest.fixture
def db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'tokens.db'}"
        return
    with throwaway_database(prefix="geo_screen_test_tokens") as url:
        yield url


def cli(url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "geo_service.cli", *args],
        capture_output=True, text=True, timeout=300, check=False,
        env={"GEO_SCREEN_DATABASE_URL": url, "GEO_SCREEN_LOAD_BUILTIN_LAYERS": "false",
             "PATH": "/usr/bin:/bin", **env},
    )


def engine_of(url: str) -> Engine:
    return create_engine(url)


def test_create_list_revoke_with_expiry_and_audit(db_url: str) -> None:
    made = cli(db_url, "tokens", "create", "--role", "analyst", "--name", "李四",
               "--expires-in-days", "30")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    other = cli(db_url, "tokens", "create", "--role", "viewer", "--name", "王五").stdout.strip()
    engine = engine_of(db_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(select(ApiToken).where(
                ApiToken.token_hash == hash_token(token))).one()
        expires = row.expires_at.replace(tzinfo=row.expires_at.tzinfo or UTC)
        assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30)

        listed = cli(db_url, "tokens", "list")
        assert listed.returncode == 0, listed.stderr
        lines = listed.stdout.splitlines()
        assert lines[0].split("\t") == ["id", "name", "role", "created", "expires", "revoked"]
        li = next(ln.split("\t") for ln in lines[1:] if "\t李四\t" in ln)
        assert li[2] == "analyst" and li[5] == "-"
        assert li[4].startswith(expires.strftime("%Y-%m-%d"))
        assert token not in listed.stdout and other not in listed.stdout
        assert row.token_hash not in listed.stdout

        # The holder is logged in in a browser; revoking ends that session too.
        from sqlalchemy.orm import Session

        with Session(engine) as s:
            start_session(s, Principal("李四", "analyst", row.id), new_session_id(),
                          max_age_s=3600, client="test")
            s.commit()
        revoked = cli(db_url, "tokens", "revoke", "李四")
        assert revoked.returncode == 0, revoked.stderr
        assert "结束浏览器会话 1 个" in revoked.stdout
        again = cli(db_url, "tokens", "revoke", str(row.id))
        assert again.returncode == 0 and "此前已吊销" in again.stdout
        assert cli(db_url, "tokens", "revoke", "没有这个人").returncode == 1

        with engine.connect() as conn:
            assert conn.scalar(select(ApiToken.revoked_at).where(ApiToken.id == row.id))
            ended = conn.execute(select(WebSession.end_reason).where(
                WebSession.token_id == row.id)).scalars().all()
            assert ended == ["token_revoked"]
            actions = conn.execute(select(
                AuditEntry.action, AuditEntry.entity_id, AuditEntry.actor
            ).order_by(AuditEntry.id)).all()
        assert [a for a, _, _ in actions] == [
            "token_issued", "token_issued", "tokens_listed", "token_revoked"]
        assert actions[3][1] == str(row.id) and actions[3][2].startswith("cli")
        listed = cli(db_url, "tokens", "list").stdout
        li = next(ln.split("\t") for ln in listed.splitlines() if "\t李四\t" in ln)
        assert li[5] != "-"
    finally:
        engine.dispose()


def test_a_name_held_by_two_tokens_is_revoked_by_id_only(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'same-name.db'}"  # command-line logic: one backend will do
    for _ in range(2):
        assert cli(db_url, "tokens", "create", "--role", "viewer", "--name", "同名").returncode == 0
    result = cli(db_url, "tokens", "revoke", "同名")
    assert result.returncode == 2 and "请按 id 吊销" in result.stderr


def test_serve_refuses_a_public_listener_without_a_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    result = cli(url, "serve", "--host", "0.0.0.0", "--port", "1")
    assert result.returncode == 2
    assert "GEO_SCREEN_SECRET_KEY" in result.stderr and "拒绝启动" in result.stderr
    weak = cli(url, "serve", "--host", "0.0.0.0", "--port", "1",
               GEO_SCREEN_SECRET_KEY="change-me-" + "in-production")
    assert weak.returncode == 2 and "拒绝启动" in weak.stderr and "32" in weak.stderr
    assert "Traceback" not in weak.stderr


@pytest.mark.parametrize("access_log", ["true", "false"])
def test_serve_writes_the_access_log_unless_turned_off(tmp_path: Path, access_log: str) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "geo_service.cli", "serve", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={"GEO_SCREEN_DATABASE_URL": url, "GEO_SCREEN_LOAD_BUILTIN_LAYERS": "false",
             "GEO_SCREEN_ACCESS_LOG": access_log, "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 200
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, "serve did not start"
                time.sleep(0.3)
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=60)
    assert "Application startup complete" in output  # the server's own log is there either way
    logged = '"GET /api/v1/health HTTP/1.1" 200' in output
    assert logged is (access_log == "true")
