"""Every endpoint of the screening and lead API × every role, plus no token and a bad token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from api_helpers import POINT_HOHHOT, unique_ref
from fastapi.testclient import TestClient

from geo_service.auth import Principal
from geo_service.leads import create_lead
from geo_service.schemas import LeadCreate
from geo_service.services import Services

ROLES = ("viewer", "screener", "analyst", "system", "admin")
READ = set(ROLES)
SCREEN = {"screener", "system", "admin"}
DECIDE = {"screener", "admin"}
SCREEN_BODY = {"location": {"geometry": POINT_HOHHOT}}


def _lead_id(services: Services) -> int:
    body = LeadCreate.model_validate(
        {**SCREEN_BODY, "source_system": "authz", "external_ref": unique_ref()}
    )
    lead, _ = create_lead(services, body, Principal("authz", "admin", 0))
    return int(lead["id"])


# name -> (method, path template, json body or None, roles allowed, success status)
ENDPOINTS: dict[str, tuple[str, str, Any, set[str], int]] = {
    "screen": ("POST", "/api/v1/screen", SCREEN_BODY, SCREEN, 200),
    "screen_batch": ("POST", "/api/v1/screen/batch", {"items": [SCREEN_BODY]}, SCREEN, 200),
    "create_lead": ("POST", "/api/v1/leads", None, SCREEN, 201),
    "list_leads": ("GET", "/api/v1/leads", None, READ, 200),
    "get_lead": ("GET", "/api/v1/leads/{id}", None, READ, 200),
    "rescreen": ("POST", "/api/v1/leads/{id}/rescreen", None, SCREEN, 201),
    "filing": (
        "POST",
        "/api/v1/leads/{id}/filing",
        {"decision": "file", "reasons": "经核查需要索赔。", "approved_by": "张局长"},
        DECIDE,
        201,
    ),
    "dossier": ("GET", "/api/v1/leads/{id}/dossier", None, READ, 200),
    "history_import": ("POST", "/api/v1/history/import", None, DECIDE, 200),
}
CALLERS = (*ROLES, None, "bad-token")


def expected(endpoint: str, caller: str | None) -> int:
    _, _, _, allowed, ok = ENDPOINTS[endpoint]
    if caller in (None, "bad-token"):
        return 401
    return ok if caller in allowed else 403


@pytest.mark.parametrize("caller", CALLERS, ids=[str(c) for c in CALLERS])
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_authorization_matrix(
    client: TestClient,
    services: Services,
    auth: Callable[[str], dict[str, str]],
    endpoint: str,
    caller: str | None,
) -> None:
    method, path, body, _, _ = ENDPOINTS[endpoint]
    if "{id}" in path:
        path = path.replace("{id}", str(_lead_id(services)))
    headers: dict[str, str] = {}
    if caller == "bad-token":
        headers = {"Authorization": "Bearer gs_not-a-real-token"}
    elif caller is not None:
        headers = auth(caller)
    kwargs: dict[str, Any] = {"headers": headers}
    if endpoint == "create_lead":
        kwargs["json"] = {**SCREEN_BODY, "source_system": "authz", "external_ref": unique_ref()}
    elif endpoint == "history_import":
        kwargs["content"] = b"obligor_id,damage_date\n"
        headers["content-type"] = "text/csv"
    elif body is not None:
        kwargs["json"] = body
    r = client.request(method, path, **kwargs)
    assert r.status_code == expected(endpoint, caller), r.text[:300]
    if r.status_code in (401, 403):
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["status"] == r.status_code
    if r.status_code == 401:
        assert r.headers.get("www-authenticate") == "Bearer"
