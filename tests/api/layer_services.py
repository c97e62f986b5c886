"""A service of its own for the layer API tests: they activate and roll back versions of the
league layer, which must not move the decisions other tests rely on in the shared service."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from geo_service.services import Services
from geo_service.settings import Settings

PG_ADMIN_URL = os.environ.get(
    "GEO_SCREEN_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def fresh_services(backend: str, tmp: Path, pg_admin_url: str) -> Iterator[Services]:
    """A migrated database with the built-in layers, opened as a Services; dropped afterwards."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp / f'layers-{uuid.uuid4().hex[:6]}.db'}"
        services = Services.open(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]
        try:
            yield services
        finally:
            services.close()
        return
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    name = f"geo_screen_test_layers_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        services = Services.open(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]
        try:
            yield services
        finally:
            services.close()
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
