"""Fixtures for the API tests: an app over the shared service of each backend, and tokens."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from geo_service.app import create_app
from geo_service.auth import ROLES, create_token
from geo_service.services import Services

sys.path.insert(0, str(Path(__file__).parent))

_TOKENS: dict[tuple[int, str], str] = {}


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=services)) as c:
        yield c


@pytest.fixture
def tokens(services: Services) -> dict[str, str]:
    """One token per role, issued once per backend's database."""
    out = {}
    for role in ROLES:
        key = (id(services), role)
        if key not in _TOKENS:
            with services.sessions() as session:
                _TOKENS[key] = create_token(session, role, f"test-{role}", actor="test")
        out[role] = _TOKENS[key]
    return out


@pytest.fixture
def auth(tokens: dict[str, str]) -> Callable[[str], dict[str, str]]:
    def headers(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[role]}"}

    return headers
