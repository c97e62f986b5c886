"""Property-based fuzzing of the whole HTTP API from its own OpenAPI document (schemathesis).

Every operation gets a bounded, derandomized set of generated requests (valid and invalid), sent
in process over ASGI with an admin token. No response may be a 5xx, and every 4xx must be
application/problem+json; a 400/422 must name at least one field in `errors`.

The app runs over its own fresh SQLite database (built-in layers loaded), so generated leads,
layers and history rows never leak into the shared test databases.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from geo_service.app import create_app
from geo_service.auth import create_token
from geo_service.schemas import SCREEN_EXAMPLE
from geo_service.services import Services
from geo_service.settings import Settings

MAX_EXAMPLES = 25  # per operation and generation mode (positive, negative)
PROBLEM_JSON = "application/problem+json"


def problem_json_names_field(ctx, response, case) -> None:  # type: ignore[no-untyped-def]
    """A 4xx is problem+json (RFC 9457); a 400/422 names the offending field(s)."""
    status = response.status_code
    if not 400 <= status < 500:
        return
    content_type = response.headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    assert content_type.startswith(PROBLEM_JSON), f"{status} is {content_type!r}, not problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"], body
    if status in (400, 422):
        fields = [e.get("field") for e in body.get("errors") or []]
        assert fields and all(isinstance(f, str) and f for f in fields), (
            f"{status} without a named field: {body}"
        )


@pytest.fixture(scope="module")
def fuzz_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    path: Path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    # The fuzzer reads /openapi.json without a token: documented as GEO_SCREEN_PUBLIC_DOCS.
    settings_ = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=f"sqlite:///{path}", public_docs=True
    )
    services = Services.open(settings_)
    yield services
    services.close()


@pytest.fixture(scope="module")
def admin_token(fuzz_services: Services) -> str:
    with fuzz_services.sessions() as session:
        return create_token(session, "admin", "fuzz-admin", actor="test")


def _breakable(parameter: dict) -> bool:  # type: ignore[type-arg]
    """Whether a parameter admits an invalid value (a plain string in a path does not)."""
    schema = {k: v for k, v in parameter.get("schema", {}).items() if k not in ("title",)}
    return schema.get("type") != "string" or len(schema) > 1 or parameter["in"] == "header"


PINNABLE = ("lead_id", "version_id", "collection_id")


def _cases() -> list[tuple[str, str, schemathesis.GenerationMode, bool]]:
    """(method, path, mode, pinned) for every documented operation, read from the app's own
    OpenAPI document (building the app opens no database; that happens in its lifespan).

    Negative generation only where the operation takes an input to break. Operations on a
    lead, a layer version or a collection run a second time with that path id pinned to one
    that exists, so the fuzzer gets past the 404 into the operation itself."""
    placeholder = Settings(_env_file=None, database_url="sqlite://")  # type: ignore[call-arg]
    paths = create_app(placeholder).openapi()["paths"]
    out = []
    for path, ops in paths.items():
        pinnable = any("{" + name + "}" in path for name in PINNABLE)
        for method, op in ops.items():
            for pinned in (False, True) if pinnable else (False,):
                free = [
                    p for p in op.get("parameters", [])
                    if not (pinned and p["in"] == "path" and p["name"] in PINNABLE)
                ]
                modes = [schemathesis.GenerationMode.POSITIVE]
                if op.get("requestBody") or any(map(_breakable, free)):
                    modes.append(schemathesis.GenerationMode.NEGATIVE)
                out.extend((method.upper(), path, mode, pinned) for mode in modes)
    return out


@pytest.fixture(scope="module")
def known_ids(fuzz_services: Services, admin_token: str) -> dict[str, Any]:
    """Ids that exist in the fuzz database: a lead, the active league version, its series."""
    app = create_app(services=fuzz_services)
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {admin_token}"}
        r = client.post("/api/v1/leads", json=SCREEN_EXAMPLE, headers=headers)
        assert r.status_code == 201, r.text
        lead_id = r.json()["id"]
        layers = client.get("/api/v1/layers", headers=headers).json()
    version_id = _active_version(layers, "league")
    return {"lead_id": lead_id, "version_id": version_id, "collection_id": "league"}


def _active_version(listing: Any, series: str) -> int:
    for item in listing.get("series", []):
        if item.get("name") == series and item.get("active_version"):
            active = item["active_version"]
            return int(active["id"] if isinstance(active, dict) else active)
    raise AssertionError(f"no active version of {series} in {listing}")


@pytest.fixture(scope="module")
def api_schema(fuzz_services: Services) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(services=fuzz_services))


def _id(value: Any) -> str:
    if isinstance(value, bool):
        return "pinned" if value else "any-id"
    return str(getattr(value, "value", value))


@pytest.mark.parametrize(("method", "path", "mode", "pinned"), _cases(), ids=_id)
def test_no_server_errors(
    api_schema: schemathesis.BaseSchema,
    admin_token: str,
    known_ids: dict[str, Any],
    method: str,
    path: str,
    mode: schemathesis.GenerationMode,
    pinned: bool,
) -> None:
    operation = api_schema[path][method]
    headers = {"Authorization": f"Bearer {admin_token}"}
    path_parameters = (
        {k: v for k, v in known_ids.items() if "{" + k + "}" in path} if pinned else None
    )

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(
            headers=headers, checks=[not_a_server_error, problem_json_names_field]
        )

    run()
