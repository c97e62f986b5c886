"""The command line as a new user runs it: init (twice), tokens create."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, func, select

from geo_service.auth import hash_token
from geo_service.db.models import ApiToken, AuditEntry, LayerVersion


def run_cli(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "geo_service.cli", *args],
        capture_output=True,
        text=True,
        env={"GEO_SCREEN_DATABASE_URL": f"sqlite:///{db}", "PATH": "/usr/bin:/bin"},
        cwd=db.parent,
        timeout=300,
        check=False,
    )


def test_init_twice_then_token(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    first = run_cli("init", db=db)
    assert first.returncode == 0, first.stderr
    assert "league" in first.stdout and "county" in first.stdout

    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        versions = conn.scalar(select(func.count()).select_from(LayerVersion))
    second = run_cli("init", db=db)
    assert second.returncode == 0, second.stderr
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(LayerVersion)) == versions

    issued = run_cli("tokens", "create", "--role", "screener", "--name", "张三", db=db)
    assert issued.returncode == 0, issued.stderr
    lines = issued.stdout.splitlines()
    assert len(lines) == 1 and re.fullmatch(r"gs_[A-Za-z0-9_\-]{40,}", lines[0])
    with engine.connect() as conn:
        row = conn.execute(select(ApiToken.role, ApiToken.token_hash, ApiToken.name)).one()
        assert row.role == "screener" and row.name == "张三"
        assert row.token_hash == hash_token(lines[0])  # stored hashed, never in clear
        assert (
            conn.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "token_issued")
            )
            == 1
        )
    engine.dispose()


def test_tokens_create_rejects_unknown_role(tmp_path: Path) -> None:
    result = run_cli("tokens", "create", "--role", "boss", "--name", "x", db=tmp_path / "r.db")
    assert result.returncode == 2
    assert "viewer" in result.stderr and result.stdout == ""
