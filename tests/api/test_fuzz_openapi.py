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

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from geo_service.app import create_app
from geo_service.auth import create_token
from geo_service.services import Services
from geo_service.settings import Settings

MAX_EXAMPLES = 20  # per operation and generation mode (positive, negative)
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
    settings_ = Settings(_env_file=None, database_url=f"sqlite:///{path}")  # type: ignore[call-arg]
    services = Services.open(settings_)
    yield services
    services.close()


@pytest.fixture(scope="module")
def admin_token(fuzz_services: Services) -> str:
    with fuzz_services.sessions() as session:
        return create_token(session, "admin", "fuzz-admin", actor="test")


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every documented operation, read from the app's own OpenAPI document
    (building the app opens no database; that happens in its lifespan)."""
    placeholder = Settings(_env_file=None, database_url="sqlite://")  # type: ignore[call-arg]
    paths = create_app(placeholder).openapi()["paths"]
    return [(method.upper(), path) for path, ops in paths.items() for method in ops]


@pytest.fixture(scope="module")
def api_schema(fuzz_services: Services) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(services=fuzz_services))


@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode), ids=lambda m: m.value)
@pytest.mark.parametrize(("method", "path"), _operations(), ids=lambda v: str(v))
def test_no_server_errors(
    api_schema: schemathesis.BaseSchema,
    admin_token: str,
    method: str,
    path: str,
    mode: schemathesis.GenerationMode,
) -> None:
    operation = api_schema[path][method]
    headers = {"Authorization": f"Bearer {admin_token}"}

    @given(case=operation.as_strategy(generation_mode=mode))
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
