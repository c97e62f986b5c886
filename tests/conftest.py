"""Shared fixtures: both storage backends, each a throwaway database made for this run.

PostGIS: a database `geo_screen_test_<random>` with `CREATE EXTENSION postgis` on the server named
by GEO_SCREEN_TEST_PG (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres), dropped at
the end. If the server is unreachable the PostGIS tests fail; they never skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy.exc import OperationalError
from support import CHROMIUM, CHROMIUM_ARGS, PG_ADMIN_URL, make_settings, throwaway_database

from geo_service.services import Services

BACKENDS = ("sqlite", "postgis")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostGIS database for this test run (fails, never skips, without a server)."""
    with ExitStack() as stack:
        try:
            url = stack.enter_context(throwaway_database(PG_ADMIN_URL))
        except OperationalError as exc:
            pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is needed for the PostGIS tests: {exc}")
        yield url



@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("db") / "geo-screen.db"
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def services_by_backend(
    request: pytest.FixtureRequest, sqlite_url: str
) -> Iterator[dict[str, Services]]:
    """One open service (database migrated, built-in layers loaded) per backend, shared."""
    opened: dict[str, Services] = {}

    def get(backend: str) -> Services:
        if backend not in opened:
            url = sqlite_url if backend == "sqlite" else request.getfixturevalue("pg_url")
            opened[backend] = Services.open(make_settings(url))
        return opened[backend]

    lazy: dict[str, Services] = _LazyServices(get)  # type: ignore[assignment]
    yield lazy
    for s in opened.values():
        s.close()


class _LazyServices(dict):  # type: ignore[type-arg]
    def __init__(self, get):  # type: ignore[no-untyped-def]
        super().__init__()
        self._get = get

    def __getitem__(self, backend: str) -> Services:
        return self._get(backend)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def services(backend: str, services_by_backend: dict[str, Services]) -> Services:
    """The shared service of each backend in turn (tests parametrized over both)."""
    return services_by_backend[backend]


# --- No skips where it matters -----------------------------------------------------------
# scripts/test sets GEO_SCREEN_FORBID_SKIPS=1: a skipped test then fails the run, so a missing
# PostGIS or browser can never pass as green.
_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and os.environ.get("GEO_SCREEN_FORBID_SKIPS") == "1":
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _skipped:
        print(f"\n{len(_skipped)} test(s) skipped, which this run forbids:")
        for nodeid in _skipped:
            print(f"  {nodeid}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium (tests/support.py's launch configuration), one per module."""
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()
