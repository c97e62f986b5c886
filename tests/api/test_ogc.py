"""OGC API – Features: a client that starts at the landing page and only follows links pages
through an active layer, as QGIS does."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers"))

from layer_files import write_layer
from layer_services import PG_ADMIN_URL, fresh_services

from geo_service.app import create_app
from geo_service.auth import create_token
from geo_service.services import Services
from layers.model import LayerFeature

SQUARES = 25


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, Services]]:
    tmp = tmp_path_factory.mktemp("ogc")
    with (
        fresh_services(request.param, tmp, PG_ADMIN_URL) as svc,
        TestClient(create_app(services=svc)) as c,
    ):
        yield c, svc


@pytest.fixture(scope="module")
def headers(client, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    _, svc = client
    with svc.sessions() as session:
        analyst = create_token(session, "analyst", "ogc-analyst")
        viewer = create_token(session, "viewer", "qgis")
    c, _ = client
    # An active red-line layer of 25 squares in a row across 呼和浩特市.
    features = [
        LayerFeature(
            i, f"RL{i:03d}", f"红线{i}", box(111 + i * 0.02, 40.5, 111.01 + i * 0.02, 40.51)
        )
        for i in range(SQUARES)
    ]
    path = write_layer(tmp_path_factory.mktemp("red") / "red.geojson", features, driver="GeoJSON")
    with path.open("rb") as fh:
        r = c.post(
            "/api/v1/layers",
            headers={"Authorization": f"Bearer {analyst}"},
            files={"file": (path.name, fh)},
            data={"kind": "red_line", "name": "ogc_red_line"},
        )
    assert r.status_code == 201, r.text
    r = c.post(
        f"/api/v1/layers/versions/{r.json()['id']}/activate",
        headers={"Authorization": f"Bearer {analyst}"},
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {viewer}"}


def _link(doc: dict, rel: str) -> str | None:
    return next((lk["href"] for lk in doc.get("links", []) if lk["rel"] == rel), None)


def test_landing_conformance_collections(client, headers):
    c, _ = client
    landing = c.get("/ogc/", headers=headers)
    assert landing.status_code == 200
    doc = landing.json()
    assert "Authorization" in doc["description"]
    for rel in ("self", "conformance", "data", "service-desc"):
        assert _link(doc, rel).startswith("http://testserver/"), rel
    conf = c.get(_link(doc, "conformance"), headers=headers).json()
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conf["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conf["conformsTo"]
    cols = c.get(_link(doc, "data"), headers=headers).json()["collections"]
    ids = {col["id"] for col in cols}
    assert {"ogc_red_line", "league", "county", "province"} <= ids
    red = next(col for col in cols if col["id"] == "ogc_red_line")
    bbox = red["extent"]["spatial"]["bbox"][0]
    assert bbox == pytest.approx([111.0, 40.5, 111.01 + (SQUARES - 1) * 0.02, 40.51])
    assert _link(red, "items").endswith("/ogc/collections/ogc_red_line/items")


def test_paging_through_a_layer_by_following_links(client, headers):
    c, _ = client
    landing = c.get("/ogc/", headers=headers).json()
    cols = c.get(_link(landing, "data"), headers=headers).json()["collections"]
    url = _link(next(col for col in cols if col["id"] == "ogc_red_line"), "items") + "?limit=10"
    seen: list[str] = []
    pages = 0
    while url:
        r = c.get(url, headers=headers)
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/geo+json"
        page = r.json()
        assert page["type"] == "FeatureCollection" and page["numberMatched"] == SQUARES
        assert page["numberReturned"] == len(page["features"]) <= 10
        seen += [f["properties"]["code"] for f in page["features"]]
        url = _link(page, "next")
        assert url is None or url.startswith("http://testserver/")
        pages += 1
    assert pages == 3
    assert sorted(seen) == [f"RL{i:03d}" for i in range(SQUARES)]


def test_bbox_filter_and_single_item(client, headers):
    c, _ = client
    r = c.get(
        "/ogc/collections/ogc_red_line/items",
        headers=headers,
        params={"bbox": "110.99,40.49,111.075,40.52", "limit": 100},
    )
    page = r.json()
    assert page["numberMatched"] == 4  # squares 0–3 start at 111.00, .02, .04, .06
    assert {f["properties"]["code"] for f in page["features"]} == {
        "RL000",
        "RL001",
        "RL002",
        "RL003",
    }
    one = page["features"][0]
    r = c.get(f"/ogc/collections/ogc_red_line/items/{one['id']}", headers=headers)
    assert r.status_code == 200 and r.json()["properties"]["code"] == one["properties"]["code"]
    other = c.get("/ogc/collections/league/items", headers=headers, params={"limit": 1}).json()
    wrong = other["features"][0]["id"]
    assert c.get(f"/ogc/collections/ogc_red_line/items/{wrong}", headers=headers).status_code == 404


def test_errors(client, headers):
    c, _ = client
    assert c.get("/ogc/collections").status_code == 401
    assert c.get("/ogc/collections/nope", headers=headers).status_code == 404
    r = c.get("/ogc/collections/ogc_red_line/items", headers=headers, params={"bbox": "a,b"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "bbox"
    big = c.get(
        "/ogc/collections/league/items", headers=headers, params={"limit": 1_000_000}
    ).json()
    assert big["numberReturned"] == 12
