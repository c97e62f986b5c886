"""Who may call what: one matrix over EVERY route the app serves, generated from the router.

Each (method, path) the app mounts has exactly one entry below; a route added without an entry
fails `test_every_route_has_a_matrix_entry`, and an entry whose route is gone fails too. Each entry
is exercised on both backends with a real token of every role, a revoked-looking bad token and no
token: an API route answers 401 without a valid token and 403 for a role outside the entry, a page
redirects to /login, and an allowed call is anything but 401/403/303-to-login (fake ids give 404s
and missing bodies give 422s: authorization is decided before either, which is what this proves).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Mount
from support import make_settings

from geo_service.app import create_app
from geo_service.auth import ROLES
from geo_service.services import Services

PUBLIC = "public"  # anyone, no token needed
PAGE = "page"  # any signed-in role; without a session, a redirect to the login page
READ = frozenset(ROLES)
SCREEN = frozenset({"screener", "system", "admin"})
DECIDE = frozenset({"screener", "admin"})
MANAGE_LAYERS = frozenset({"analyst", "admin"})

# (method, path as the router spells it) -> who may call it. HEAD is implied by GET.
MATRIX: dict[tuple[str, str], str | frozenset[str]] = {
    ("GET", "/openapi.json"): READ,  # behind login unless GEO_SCREEN_PUBLIC_DOCS
    ("GET", "/api/v1/health"): PUBLIC,
    ("GET", "/api/v1/health/ready"): PUBLIC,
    ("POST", "/api/v1/geocode"): SCREEN,
    ("POST", "/api/v1/screen"): SCREEN,
    ("POST", "/api/v1/screen/batch"): SCREEN,
    ("POST", "/api/v1/leads"): SCREEN,
    ("GET", "/api/v1/leads"): READ,
    ("GET", "/api/v1/leads/{lead_id}"): READ,
    ("POST", "/api/v1/leads/{lead_id}/rescreen"): SCREEN,
    ("POST", "/api/v1/leads/{lead_id}/filing"): DECIDE,
    ("GET", "/api/v1/leads/{lead_id}/dossier"): READ,
    ("POST", "/api/v1/leads/{lead_id}/events"): DECIDE,
    ("GET", "/api/v1/reports/summary"): READ,
    ("GET", "/reports"): PAGE,
    ("GET", "/api/v1/leads/{lead_id}/map.png"): READ,
    ("GET", "/api/v1/leads/{lead_id}/opinion.docx"): READ,
    ("POST", "/api/v1/history/import"): DECIDE,
    ("POST", "/api/v1/layers"): MANAGE_LAYERS,
    ("GET", "/api/v1/layers"): READ,
    ("GET", "/api/v1/layers/versions/{version_id}"): READ,
    ("POST", "/api/v1/layers/versions/{version_id}/activate"): MANAGE_LAYERS,
    ("POST", "/api/v1/layers/versions/{version_id}/rollback"): MANAGE_LAYERS,
    ("GET", "/api/v1/layers/versions/{version_id}/features"): READ,
    ("GET", "/api/v1/layers/diff"): READ,
    ("GET", "/api/v1/layers/versions/{version_id}/impact"): MANAGE_LAYERS,
    ("POST", "/api/v1/layers/versions/{version_id}/rescreen-impacted"): MANAGE_LAYERS,
    ("GET", "/ogc/"): READ,
    ("GET", "/ogc/conformance"): READ,
    ("GET", "/ogc/collections"): READ,
    ("GET", "/ogc/collections/{collection_id}"): READ,
    ("GET", "/ogc/collections/{collection_id}/items"): READ,
    ("GET", "/ogc/collections/{collection_id}/items/{feature_id}"): READ,
    ("GET", "/docs"): PAGE,  # behind login unless GEO_SCREEN_PUBLIC_DOCS
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/docs/assets/LICENSE"): PUBLIC,
    ("GET", "/docs/assets/{name}"): PUBLIC,
    ("GET", "/static"): PUBLIC,  # the mount: scripts, styles, the vendored map library
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("GET", "/"): PAGE,
    ("GET", "/leads/{lead_id}"): PAGE,
    ("GET", "/leads/{lead_id}/map"): PAGE,
    ("GET", "/leads/{lead_id}/opinion"): PAGE,
    ("GET", "/screen"): PAGE,
    ("POST", "/web/explain"): PAGE,
    ("POST", "/web/geocode"): SCREEN,
    ("GET", "/web/boundaries.json"): PAGE,
    ("GET", "/web/leads.geojson"): PAGE,
    ("GET", "/web/sensitive.geojson"): PAGE,
    ("GET", "/map"): PAGE,
    ("GET", "/layers"): PAGE,
}

# Path parameters: ids no row has (allowed callers get a 404, which is not a 401/403), except
# the OGC collection, which is the built-in league layer so each role really reads it.
PARAMS = {
    "lead_id": "2147483000",
    "version_id": "2147483000",
    "collection_id": "league",
    "feature_id": "2147483000",
    "name": "no-such-asset.js",
}
CALLERS = (*ROLES, "bad-token", None)


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the app answers, flattened through included routers and mounts."""
    try:  # FastAPI >= 0.16x keeps included routers as views; this walks them
        from fastapi.routing import iter_route_contexts

        routes: Any = list(iter_route_contexts(app.router.routes))
    except ImportError:  # pragma: no cover - older FastAPI lists routes flat
        routes = app.routes
    out: set[tuple[str, str]] = set()
    for route in routes:
        if isinstance(route, Mount) or not getattr(route, "methods", None):
            out.add(("GET", route.path))
            continue
        out.update((m, route.path) for m in route.methods if m != "HEAD")
    return out


def test_every_route_has_a_matrix_entry() -> None:
    app = create_app(make_settings("sqlite://"))
    served = app_routes(app)
    missing = sorted(served - set(MATRIX))
    stale = sorted(set(MATRIX) - served)
    assert not missing, f"routes without a role-matrix entry (add them to MATRIX): {missing}"
    assert not stale, f"role-matrix entries for routes the app no longer serves: {stale}"


def _url(method: str, path: str) -> str:
    url = path.format(**PARAMS)
    if path == "/static":
        url = "/static/no-such-file.js"
    if path == "/api/v1/layers/diff":
        url += "?from=2147483000&to=2147483001"
    return url


def _verdict(spec: str | frozenset[str], caller: str | None) -> str:
    if spec == PUBLIC:
        return "allowed"
    signed_in = caller in ROLES
    if spec == PAGE:
        return "allowed" if signed_in else "login"
    assert isinstance(spec, frozenset)
    if not signed_in:
        return "401"
    return "allowed" if caller in spec else "403"


@pytest.fixture
def anonymous_client(services: Services) -> Iterator[TestClient]:
    # follow_redirects off: a page's answer to a stranger is the redirect itself.
    with TestClient(create_app(services=services), follow_redirects=False) as c:
        yield c


def test_role_matrix_on_every_route(
    anonymous_client: TestClient, tokens: dict[str, str], backend: str
) -> None:
    wrong: list[str] = []
    seen = 0
    for (method, path), spec in sorted(MATRIX.items()):
        for caller in CALLERS:
            headers = {}
            if caller == "bad-token":
                headers["Authorization"] = "Bearer gs_not-a-real-token"
            elif caller is not None:
                headers["Authorization"] = f"Bearer {tokens[caller]}"
            r = anonymous_client.request(method, _url(method, path), headers=headers)
            seen += 1
            want = _verdict(spec, caller)
            to_login = r.status_code == 303 and r.headers.get("location", "").startswith(
                "/login?next="
            )
            got = "401" if r.status_code == 401 else "403" if r.status_code == 403 else (
                "login" if to_login else "allowed"
            )
            if got != want or r.status_code >= 500:
                wrong.append(f"{method} {path} as {caller}: {r.status_code} (want {want})")
                continue
            if got in ("401", "403"):
                assert r.headers["content-type"].startswith("application/problem+json")
                assert r.json()["status"] == r.status_code
            if got == "401":
                assert r.headers.get("www-authenticate") == "Bearer"
            if got == "allowed" and path.startswith("/ogc/collections/{collection_id}") \
                    and "{feature_id}" not in path:
                assert r.status_code == 200, (method, path, caller, r.text[:200])
    assert not wrong, "\n".join(wrong)
    assert seen == len(MATRIX) * len(CALLERS)


def test_ogc_collections_are_the_same_for_every_reader(
    client: TestClient, tokens: dict[str, str]
) -> None:
    seen = {}
    for role in ROLES:
        r = client.get("/ogc/collections", headers={"Authorization": f"Bearer {tokens[role]}"})
        assert r.status_code == 200
        seen[role] = sorted(c["id"] for c in r.json()["collections"])
    assert "league" in seen["viewer"]
    assert all(ids == seen["viewer"] for ids in seen.values()), seen
