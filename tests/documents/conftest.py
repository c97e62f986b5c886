"""The demo (`geo-screen demo`'s own data, via install_demo) on a fresh database of each backend,
with an admin and a viewer token and a TestClient over the app."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from demo_cases import Demo
from fastapi.testclient import TestClient
from support import PG_ADMIN_URL, make_settings, throwaway_database

from geo_service.app import create_app
from geo_service.auth import create_token
from geo_service.cli_screen import install_demo
from geo_service.services import Services


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Demo]:
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{Path(tmp_path_factory.mktemp('demo')) / 'demo.db'}"
        else:
            url = stack.enter_context(throwaway_database(PG_ADMIN_URL))
        services = Services.open(make_settings(url))
        stack.callback(services.close)
        assert install_demo(services)["leads_created"] == 7
        with services.sessions() as session:
            admin = create_token(session, "admin", "管理员", actor="system:test")
            viewer = create_token(session, "viewer", "查看员", actor="system:test")
        client = stack.enter_context(TestClient(create_app(services=services)))
        yield Demo(request.param, services, client, admin, viewer)
