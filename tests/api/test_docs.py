"""/docs works with no internet: Swagger UI from the service; the OpenAPI has Chinese examples."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from geo_service.app import create_app
from geo_service.auth import create_token
from geo_service.services import Services


@pytest.fixture
def docs_client(services_by_backend: dict[str, Services]) -> TestClient:
    # The docs do not depend on the backend: one is enough. They need a login or a token.
    services = services_by_backend["sqlite"]
    with services.sessions() as session:
        token = create_token(session, "viewer", "docs-reader", actor="test")
    with TestClient(create_app(services=services),
                    headers={"Authorization": f"Bearer {token}"}) as c:
        yield c


def test_docs_page_loads_only_local_assets(docs_client: TestClient) -> None:
    r = docs_client.get("/docs")
    assert r.status_code == 200
    html = r.text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert urls, html
    for url in urls:
        assert url.startswith("/"), f"external asset {url}"
    assert "/docs/assets/swagger-ui-bundle.js" in html
    assert "/openapi.json" in html
    for url in urls:
        asset = docs_client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 500, url
    js = docs_client.get("/docs/assets/swagger-ui-bundle.js")
    assert js.headers["content-type"].startswith("text/javascript")
    assert "SwaggerUIBundle" in js.text
    assert "Apache License" in docs_client.get("/docs/assets/LICENSE").text
    assert docs_client.get("/docs/assets/../../etc/passwd").status_code == 404
    assert docs_client.get("/docs/assets/index.j2").status_code == 404


def test_openapi_documents_the_api_with_chinese_examples(docs_client: TestClient) -> None:
    spec = docs_client.get("/openapi.json").json()
    paths = spec["paths"]
    for path, method in [
        ("/api/v1/screen", "post"),
        ("/api/v1/screen/batch", "post"),
        ("/api/v1/leads", "post"),
        ("/api/v1/leads", "get"),
        ("/api/v1/leads/{lead_id}", "get"),
        ("/api/v1/leads/{lead_id}/rescreen", "post"),
        ("/api/v1/leads/{lead_id}/filing", "post"),
        ("/api/v1/leads/{lead_id}/dossier", "get"),
        ("/api/v1/history/import", "post"),
    ]:
        operation = paths[path][method]
        assert re.search(r"[\u4e00-\u9fff]", operation["summary"]), path
        assert {"bearer"} <= {k for s in operation.get("security", []) for k in s}, path
    schemas = spec["components"]["schemas"]
    screen_example = schemas["ScreenRequest"]["examples"][0]
    assert screen_example["obligor"]["name"] == "某某公司"
    assert schemas["LeadCreate"]["examples"][0]["title"] == "呼伦湖西岸排污投诉"
    assert "不启动" in schemas["FilingIn"]["properties"]["decision"]["description"]
    batch_items = schemas["BatchRequest"]["properties"]["items"]["items"]
    assert batch_items == {"$ref": "#/components/schemas/ScreenRequest"}
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert "/docs" not in paths


def test_docs_need_a_login_unless_made_public(
    services_by_backend: dict[str, Services],
) -> None:
    services = services_by_backend["sqlite"]
    with TestClient(create_app(services=services)) as anonymous:
        r = anonymous.get("/docs", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login?next=/docs"
        r = anonymous.get("/openapi.json")
        assert r.status_code == 401 and "GEO_SCREEN_PUBLIC_DOCS" in r.json()["detail"]
    public = services.settings.model_copy(update={"public_docs": True})
    with TestClient(create_app(public, services=services)) as c:
        assert c.get("/docs").status_code == 200
        assert c.get("/openapi.json").json()["info"]["title"].startswith("geo-screen")


def test_swagger_keeps_no_token_in_local_storage(docs_client: TestClient) -> None:
    html = docs_client.get("/docs").text
    assert '"persistAuthorization": false' in html
