"""POST /api/v1/screen and /screen/batch on both backends (API.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from api_helpers import POINT_HOHHOT, POINT_HULUNBUIR, POINT_YINCHUAN
from fastapi.testclient import TestClient
from pyproj import Geod, Transformer

from geo_service.services import Services
from layers.crs import wgs84_to_gcj02

Auth = Callable[[str], dict[str, str]]
GEOD = Geod(ellps="GRS80")


def screen(client: TestClient, auth: Auth, body: dict[str, Any], role: str = "screener"):
    return client.post("/api/v1/screen", json=body, headers=auth(role))


def test_point_in_a_league(client: TestClient, auth: Auth) -> None:
    r = screen(
        client,
        auth,
        {
            "location": {"geometry": POINT_HULUNBUIR, "precision_m": 30},
            "received_on": "2026-09-05",
            "case_type": "pollution_discharge",
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    j = body["jurisdiction"]
    assert (j["status"], j["level"], j["reason"]) == ("decided", "league", "single_league")
    assert j["rights_holder"] == {"code": "150700", "name": "呼伦贝尔市人民政府"}
    assert [c["code"] for c in j["counties"]] == ["150702"]
    assert body["departments"]["responsible"][0]["name"] == "呼伦贝尔市生态环境局"
    assert body["deadlines"][0]["name"] == "preliminary_check"
    assert body["location"]["geometry"] == POINT_HULUNBUIR
    assert body["location"]["input_crs"] == "EPSG:4490"
    assert set(body["layer_versions"]) >= {"league", "county", "province"}
    assert body["rulebook_version"] == "2025-05-09"


def test_gcj02_point_is_converted_and_says_so(client: TestClient, auth: Auth) -> None:
    lon, lat = POINT_HOHHOT["coordinates"]
    shifted = [float(v) for v in wgs84_to_gcj02(lon, lat)]
    r = screen(
        client,
        auth,
        {"location": {"geometry": {"type": "Point", "coordinates": shifted}, "crs": "GCJ02"}},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    got = body["location"]["geometry"]["coordinates"]
    assert GEOD.inv(got[0], got[1], lon, lat)[2] < 0.01
    assert body["location"]["input_crs"] == "GCJ-02"
    assert "crs_converted" in [w["code"] for w in body["warnings"]]
    assert body["jurisdiction"]["rights_holder"]["code"] == "150100"


def test_gauss_kruger_zone_input(client: TestClient, auth: Auth) -> None:
    x, y = Transformer.from_crs(4490, 4546, always_xy=True).transform(*POINT_HOHHOT["coordinates"])
    r = screen(
        client,
        auth,
        {"location": {"geometry": {"type": "Point", "coordinates": [x, y]}, "crs": "EPSG:4546"}},
    )
    assert r.status_code == 200, r.text
    assert r.json()["jurisdiction"]["rights_holder"]["code"] == "150100"


def test_admin_name_gives_a_coarse_decision(client: TestClient, auth: Auth) -> None:
    r = screen(client, auth, {"location": {"admin_name": "科右前旗"}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["jurisdiction"]["rights_holder"]["code"] == "152200"
    assert body["jurisdiction"]["rights_holder"]["name"] == "兴安盟行政公署"
    assert body["location"]["admin"]["name"] == "科尔沁右翼前旗"
    assert body["location"]["geometry"] is None
    assert body["needs_verification"] is True


def test_out_of_region(client: TestClient, auth: Auth) -> None:
    r = screen(client, auth, {"location": {"geometry": POINT_YINCHUAN}})
    assert r.status_code == 200, r.text
    j = r.json()["jurisdiction"]
    assert j["status"] == "out_of_region"
    assert j["rights_holder"] is None
    assert [p["code"] for p in j["other_provinces"]] == ["640000"]


def test_supplied_prior_damage_triggers_the_two_year_override(
    client: TestClient, auth: Auth
) -> None:
    occurred = date(2026, 8, 30)
    r = screen(
        client,
        auth,
        {
            "location": {"geometry": POINT_HULUNBUIR},
            "damage_amount_yuan": 2000,
            "occurred_on": occurred.isoformat(),
            "received_on": "2026-09-05",
            "prior_damage_dates": [(occurred - timedelta(days=400)).isoformat()],
        },
    )
    minor = r.json()["minor"]
    assert minor["is_minor"] is True
    assert "repeat_within_2_years" in minor["override_reasons"]
    assert minor["claim_required"] is True


@pytest.mark.parametrize(
    ("body", "field", "needle"),
    [
        (
            {"location": {"geometry": {"type": "Point", "coordinates": [48.9, 117.4]}}},
            "location.geometry.coordinates",
            "经度和纬度似乎写反了",
        ),
        (
            {"location": {"geometry": POINT_HOHHOT}, "case_type": "dumping"},
            "case_type",
            "waste_dumping",
        ),
        (
            {"location": {"geometry": POINT_HOHHOT}, "obligor": {"id": "91150100MA0N0C8A1X"}},
            "obligor.id",
            "校验码",
        ),
        (
            {"location": {"geometry": POINT_HOHHOT}, "received_on": "2999-01-01"},
            "received_on",
            "晚于今天",
        ),
        (
            {"location": {"geometry": POINT_HOHHOT}, "received_on": "05/09/2026"},
            "received_on",
            "YYYY-MM-DD",
        ),
        ({"location": {"admin_name": "不存在旗"}}, "location.admin_name", "未能识别"),
        (
            {"location": {"geometry": POINT_HOHHOT, "crs": "EPSG:123456"}},
            "location.crs",
            "EPSG:123456",
        ),
    ],
)
def test_bad_input_is_422_naming_the_field(
    client: TestClient, auth: Auth, body: dict[str, Any], field: str, needle: str
) -> None:
    r = screen(client, auth, body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    errors = r.json()["errors"]
    assert any(e["field"] == field and needle in e["message"] for e in errors), errors


def test_batch_keeps_order_and_isolates_bad_items(client: TestClient, auth: Auth) -> None:
    items = [
        {"location": {"geometry": POINT_HULUNBUIR}},
        {"location": {"geometry": {"type": "Point", "coordinates": [48.9, 117.4]}}},
        "not an object",
        {"location": {"admin_name": "达茂旗"}},
        {"location": {"geometry": POINT_HOHHOT}, "case_type": "nonsense"},
        {"location": {"geometry": POINT_YINCHUAN}},
    ]
    r = client.post("/api/v1/screen/batch", json={"items": items}, headers=auth("system"))
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert len(results) == len(items)
    assert results[0]["jurisdiction"]["rights_holder"]["code"] == "150700"
    assert results[1]["status"] == 422
    assert results[1]["errors"][0]["field"] == "items[1].location.geometry.coordinates"
    assert results[2]["status"] == 422 and results[2]["errors"][0]["field"] == "items[2]"
    assert results[3]["jurisdiction"]["rights_holder"]["code"] == "150200"
    assert results[4]["errors"][0]["field"] == "items[4].case_type"
    assert results[5]["jurisdiction"]["status"] == "out_of_region"


def test_batch_limit(
    client: TestClient, auth: Auth, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services.settings, "batch_limit", 2)
    items = [{"location": {"geometry": POINT_HOHHOT}}] * 3
    r = client.post("/api/v1/screen/batch", json={"items": items}, headers=auth("system"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "items"
    assert "2" in r.json()["detail"]
    r = client.post("/api/v1/screen/batch", json={"items": []}, headers=auth("system"))
    assert r.status_code == 422


def test_vertex_limit(
    client: TestClient, auth: Auth, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services.settings, "max_vertices", 50)
    line = {
        "type": "LineString",
        "coordinates": [[111.0 + i * 1e-3, 40.8 + (i % 2) * 1e-3] for i in range(60)],
    }
    r = screen(client, auth, {"location": {"geometry": line}})
    assert r.status_code == 422
    assert "顶点过多" in r.json()["errors"][0]["message"]
    assert r.json()["errors"][0]["field"] == "location.geometry.coordinates"
