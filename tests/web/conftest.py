"""Pages: one service over a fresh SQLite database, tokens per role, seeded leads, and a real
uvicorn server on 127.0.0.1 for the browser tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from support import live_server as serve_locally
from web_helpers import XSS, Tokens, insert_lead, sample_decision

from geo_service.app import create_app
from geo_service.auth import create_token
from geo_service.services import Services
from geo_service.settings import Settings


@pytest.fixture(scope="session")
def web_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    path = tmp_path_factory.mktemp("web") / "web.db"
    # As tests/conftest.py's make_settings: explicit, no .env file.
    services = Services.open(Settings(_env_file=None, database_url=f"sqlite:///{path}"))  # type: ignore[call-arg]
    yield services
    services.close()


@pytest.fixture(scope="session")
def tokens(web_services: Services) -> Tokens:
    with web_services.sessions() as s:
        return Tokens(
            admin=create_token(s, "admin", "管理员甲"),
            viewer=create_token(s, "viewer", "查看员乙"),
            screener=create_token(s, "screener", "筛查员丙"),
            analyst=create_token(s, "analyst", "分析员丁"),
        )


@pytest.fixture(scope="session")
def seeded(web_services: Services) -> dict[str, int]:
    today = date.today()
    return {
        "xss": insert_lead(
            web_services,
            title="满洲里排污" + XSS,
            description="举报内容" + XSS,
            due=today + timedelta(days=3),
            override=True,
        ),
        "overdue": insert_lead(
            web_services,
            title="逾期的线索",
            league="150200",
            due=today - timedelta(days=2),
            major=True,
            decision=sample_decision(
                major_case={
                    "is_major": True,
                    "grounds": ["major_impact"],
                    # As the rulebook emits it (第三十五条第二款): a list of {code, name}.
                    "supervisor": [{"code": "ecology_environment", "name": "自治区生态环境厅"}],
                    "citations": ["第三十五条", "第三十七条"],
                }
            ),
        ),
        "later": insert_lead(
            web_services, title="远期线索", league="152500", due=today + timedelta(days=40)
        ),
    }


@pytest.fixture(scope="session")
def client(web_services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=web_services)) as c:
        yield c


@pytest.fixture(scope="session")
def live_server(web_services: Services) -> Iterator[str]:
    """The real service under uvicorn, in a thread, on a free local port."""
    with serve_locally(create_app(services=web_services)) as url:
        yield url


@pytest.fixture(scope="session")
def artifacts() -> Path:
    path = Path(__file__).resolve().parents[2] / "test-artifacts"  # gitignored
    path.mkdir(exist_ok=True)
    return path
