"""The pages read both storage backends the same way (SQLite and PostGIS)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from shapely.geometry import Point, box
from web_helpers import insert_lead, sample_decision

from geo_service.app import create_app
from geo_service.auth import create_token
from geo_service.services import Services
from maps.case_map import embedded_geojson


def test_case_list_page_and_map_on_each_backend(services: Services, backend: str) -> None:
    with services.sessions() as s:
        token = create_token(s, "viewer", f"后端测试-{backend}")
    lead = insert_lead(services, title=f"后端线索-{backend}", league="150100",
                       damage=box(111.60, 40.78, 111.70, 40.86), act=Point(111.58, 40.80),
                       decision=sample_decision(jurisdiction={
                           "status": "decided", "level": "league", "reason": "single_league",
                           "rights_holder": {"code": "150100", "name": "呼和浩特市人民政府"},
                           "leagues": [{"code": "150100", "name": "呼和浩特市", "share": 1.0}],
                           "counties": [], "citations": ["第五条第二款"]}))
    h = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(services=services)) as c:
        listing = c.get("/?league=150100", headers=h)
        assert listing.status_code == 200 and f"后端线索-{backend}" in listing.text
        page = c.get(f"/leads/{lead}", headers=h)
        assert page.status_code == 200 and "呼和浩特市人民政府" in page.text
        m = c.get(f"/leads/{lead}/map", headers=h)
        assert m.status_code == 200 and len(m.content) < 300_000
        labels = {f["properties"]["label"] for p in embedded_geojson(m.text)
                  for f in p["features"]}
        assert "呼和浩特市" in labels  # read back from this backend's layer tables
        assert c.get("/layers", headers=h).status_code == 200
