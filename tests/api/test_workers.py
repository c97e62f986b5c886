"""`geo-screen serve --workers 2` over one PostGIS database: a layer activation and a token
revocation made by another process reach both workers within the layer-sync interval.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from support import make_settings, throwaway_database

from geo_service import credentials, layer_admin
from geo_service.db.models import ApiToken
from geo_service.services import Services

pytestmark = pytest.mark.postgis
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def database() -> Iterator[str]:
    with throwaway_database(prefix="geo_screen_test_workers") as url:
        yield url


def _serve(url: str, workers: int) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "GEO_SCREEN_DATABASE_URL": url,
        "GEO_SCREEN_LAYER_SYNC_INTERVAL_S": "0.5",
    }
    server = subprocess.Popen(
        [sys.executable, "-c", "from geo_service.cli import main; main()", "serve",
         "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    return server, f"http://127.0.0.1:{port}"


def _poll_workers(
    base: str,
    probe: Callable[[httpx.Client], object],
    done: Callable[[Any], bool],
    workers: int,
    timeout_s: float = 180.0,
) -> dict[int, Any]:
    """probe's latest answer by worker process, polled on fresh connections until `workers`
    distinct processes answered and each one's latest answer satisfies `done`. One connection
    is one worker: the process id comes from /health on the same connection, after the probe."""
    latest: dict[int, Any] = {}
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with httpx.Client(base_url=base, timeout=5) as c:  # a new connection each time
                answer = probe(c)
                process = c.get("/api/v1/health").json()["process"]
            latest[process] = answer
        except httpx.HTTPError:
            time.sleep(0.5)
            continue
        if len(latest) >= workers and all(done(a) for a in latest.values()):
            return latest
        time.sleep(0.05)
    raise AssertionError(f"not every worker got there within {timeout_s} s: {latest}")


def _ask_every_worker(
    base: str, done: Callable[[dict], bool], workers: int, timeout_s: float = 180.0
) -> dict[int, dict]:
    """Health answers by worker process. Readiness goes through the services dependency, which
    follows activations; liveness (/health) never touches the database."""

    def probe(c: httpx.Client) -> dict:
        c.get("/api/v1/health/ready")
        body: dict = c.get("/api/v1/health").json()
        return body

    return _poll_workers(base, probe, done, workers, timeout_s)


def test_a_layer_activation_reaches_both_workers(database: str, tmp_path: Path) -> None:
    services = Services.open(make_settings(database))  # migrates, loads the built-ins
    server, base = _serve(database, workers=2)
    try:
        before = _ask_every_worker(base, lambda b: "league" in b["layer_versions"], 2)
        assert all("workers_red_line" not in b["layer_versions"] for b in before.values())
        layer = tmp_path / "red.geojson"
        layer.write_text(json.dumps({"type": "FeatureCollection", "features": [{
            "type": "Feature", "properties": {"code": "W1", "name": "测试红线"},
            "geometry": {"type": "Polygon", "coordinates": [
                [[111.0, 40.0], [111.1, 40.0], [111.1, 40.1], [111.0, 40.1], [111.0, 40.0]]]},
        }]}), encoding="utf-8")  # fmt: skip
        summary, _ = layer_admin.upload_layer(
            services,
            layer,
            layer_admin.UploadParams(kind="red_line", name="workers_red_line"),
            "test",
            filename=layer.name,
        )
        layer_admin.activate_version(services, summary["id"], "test")
        after = _ask_every_worker(
            base, lambda b: b["layer_versions"].get("workers_red_line") == summary["id"], 2
        )
        assert len(after) == 2
        assert set(after) == set(before)  # the same two workers, each following the database
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        services.close()


def _token_status_by_worker(
    base: str, token: str, done: Callable[[int], bool], workers: int, timeout_s: float = 180.0
) -> dict[int, int]:
    """The status each worker process gives `token` on an authenticated GET."""
    headers = {"Authorization": f"Bearer {token}"}
    return _poll_workers(
        base, lambda c: c.get("/api/v1/leads", headers=headers).status_code, done, workers,
        timeout_s,
    )


def test_a_token_revocation_reaches_both_workers(database: str) -> None:
    services = Services.open(make_settings(database))
    with services.sessions() as session:
        token = credentials.create_token(session, "viewer", "两个进程")
    server, base = _serve(database, workers=2)
    try:
        # both workers accept the token, and so hold it in their credential caches
        before = _token_status_by_worker(base, token, lambda s: s == 200, 2)
        with services.sessions() as session:
            row = session.scalars(
                select(ApiToken).where(ApiToken.name == "两个进程")
            ).one()
            credentials.revoke_token(session, row, "test")
        started = time.monotonic()
        after = _token_status_by_worker(base, token, lambda s: s == 401, 2, timeout_s=30)
        assert set(after) == set(before)  # the same two workers, each refusing it now
        # within the sync interval (0.5 s) plus polling slack, not at some cache expiry
        assert time.monotonic() - started < 10
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        services.close()
