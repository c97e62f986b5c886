"""A service of its own for the layer API tests: they activate and roll back versions of the
league layer, which must not move the decisions other tests rely on in the shared service."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from support import PG_ADMIN_URL, make_settings, throwaway_database

from geo_service.services import Services

__all__ = ["PG_ADMIN_URL", "fresh_services"]


@contextmanager
def fresh_services(backend: str, tmp: Path, pg_admin_url: str) -> Iterator[Services]:
    """A migrated database with the built-in layers, opened as a Services; dropped afterwards."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp / f'layers-{uuid.uuid4().hex[:6]}.db'}"
        with _opened(url) as services:
            yield services
        return
    with (
        throwaway_database(pg_admin_url, prefix="geo_screen_test_layers") as url,
        _opened(url) as services,
    ):
        yield services


@contextmanager
def _opened(url: str) -> Iterator[Services]:
    services = Services.open(make_settings(url))
    try:
        yield services
    finally:
        services.close()
