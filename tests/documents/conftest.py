"""The demo (`geo-screen demo`'s own data, via install_demo) on a fresh database of each backend,
with an admin and a viewer token and a TestClient over the app."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from demo_cases import Demo
from fastapi.testclient import TestClient
from support import private_services

from geo_service.app import create_app
from geo_service.auth import create_token
from geo_service.cli_screen import install_demo


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Demo]:
    with ExitStack() as stack:
        services = private_services(stack, request.param, tmp_path_factory.mktemp("demo"))
        assert install_demo(services)["leads_created"] == 7
        with services.sessions() as session:
            admin = create_token(session, "admin", "管理员", actor="system:test")
            viewer = create_token(session, "viewer", "查看员", actor="system:test")
        client = stack.enter_context(TestClient(create_app(services=services)))
        yield Demo(request.param, services, client, admin, viewer)
