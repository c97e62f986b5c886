"""Test support: settings built explicitly, and throwaway PostGIS databases (dropped after)."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from geo_service.services import Services
from geo_service.settings import Settings

PG_ADMIN_URL = os.environ.get(
    "GEO_SCREEN_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def make_settings(database_url: str, **overrides: object) -> Settings:
    """Settings for a test: explicit, never read from the environment's .env file. Absolute
    links start at TestClient's origin unless a test says otherwise."""
    overrides.setdefault("public_url", "http://testserver")
    return Settings(_env_file=None, database_url=database_url, **overrides)  # type: ignore[call-arg]


@contextmanager
def throwaway_database(
    admin_url: str = PG_ADMIN_URL, prefix: str = "geo_screen_test"
) -> Iterator[str]:
    """Create `<prefix>_<random>` with PostGIS, yield its URL, drop it (ending its sessions)."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        db = create_engine(url)
        with db.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
        db.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def private_services(stack: ExitStack, backend: str, directory: Path) -> Services:
    """A service on a database of its own — a SQLite file in `directory`, or a throwaway
    PostGIS database — closed with `stack`: for a module whose layers and leads the rest of
    the run must not see."""
    if backend == "sqlite":
        url = f"sqlite:///{directory / 'geo-screen.db'}"
    else:
        url = stack.enter_context(throwaway_database(PG_ADMIN_URL))
    services = Services.open(make_settings(url))
    stack.callback(services.close)
    return services


# --- A real server and a real browser, both local --------------------------------------------

CHROMIUM = "/usr/bin/chromium"  # Debian's package; the test command installs it where missing
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """`app` under uvicorn in a thread on a free 127.0.0.1 port; yields its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def demo_server(folder: Any, role: str, name: str) -> Iterator[tuple[str, str]]:
    """A live server over a fresh SQLite database with `geo-screen demo`'s layers and leads:
    yields (base URL, a token of `role`)."""
    from geo_service.app import create_app
    from geo_service.auth import create_token
    from geo_service.cli_screen import install_demo
    from geo_service.services import Services

    services = Services.open(make_settings(f"sqlite:///{folder}/demo.db"))
    try:
        report = install_demo(services)
        assert report["leads_created"] == 7
        with services.sessions() as session:
            token = create_token(session, role, name, actor="system:test")
        with live_server(create_app(services=services)) as url:
            yield url, token
    finally:
        services.close()
