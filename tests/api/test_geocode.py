"""Locating leads from text through the API, on both backends: `location.text` in /screen and
/leads (→ `location_resolution`), `POST /geocode`, and the 422 for text that cannot be located."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from pyproj import Geod

from layers.crs import wgs84_to_gcj02

Auth = Callable[[str], dict[str, str]]
GEOD = Geod(ellps="GRS80")
LON, LAT = 111 + 12 / 60 + 36 / 3600, 39 + 50 / 60 + 12 / 3600  # in 准格尔旗 (150622)


def screen(client: TestClient, auth: Auth, location: dict[str, Any], **extra: Any):
    return client.post(
        "/api/v1/screen", json={"location": location, **extra}, headers=auth("screener")
    )


def test_coordinates_in_text_are_screened_as_a_point(client: TestClient, auth: Auth) -> None:
    r = screen(client, auth, {"text": "巡查发现：东经111°12′36″，北纬39°50′12″处有渗坑"})
    assert r.status_code == 200, r.text
    body = r.json()
    res = body["location_resolution"]
    assert res["method"] == "coordinates_in_text"
    assert res["matched"] == "东经111°12′36″，北纬39°50′12″"
    assert res["unit"] == {"level": "county", "code": "150622", "name": "准格尔旗"}
    assert res["precision_m"] == 30
    x, y = body["location"]["geometry"]["coordinates"]
    assert GEOD.inv(x, y, LON, LAT)[2] < 0.5
    assert body["jurisdiction"]["rights_holder"]["code"] == "150600"
    assert "frame_assumed" in [w["code"] for w in res["warnings"]]


def test_request_crs_states_the_frame_of_text_coordinates(client: TestClient, auth: Auth) -> None:
    gx, gy = (float(v) for v in wgs84_to_gcj02(LON, LAT))
    r = screen(client, auth, {"text": f"{gx:.8f},{gy:.8f}", "crs": "GCJ02"})
    assert r.status_code == 200, r.text
    x, y = r.json()["location"]["geometry"]["coordinates"]
    assert GEOD.inv(x, y, LON, LAT)[2] < 0.5
    assert r.json()["location"]["input_crs"] == "GCJ-02"


def test_address_is_a_coarse_location(client: TestClient, auth: Auth) -> None:
    r = screen(client, auth, {"text": "鄂尔多斯市准格尔旗薛家湾镇某煤矿排土场北侧"})
    assert r.status_code == 200, r.text
    body = r.json()
    res = body["location_resolution"]
    assert res["method"] == "address"
    assert res["matched"] == "鄂尔多斯市准格尔旗薛家湾镇"
    assert res["unit"] == {"level": "county", "code": "150622", "name": "准格尔旗"}
    assert res["unresolved_parts"] == ["薛家湾镇"]
    # coarse, as for admin_name: the league decides, the sensitive areas go to verification
    assert body["location"]["admin"]["code"] == "150622"
    assert body["jurisdiction"]["rights_holder"]["code"] == "150600"
    assert body["location"]["geometry"] is None


def test_short_name_address(client: TestClient, auth: Auth) -> None:
    r = screen(client, auth, {"text": "阿左旗巴彦浩特镇附近"})
    assert r.status_code == 200, r.text
    res = r.json()["location_resolution"]
    assert res["unit"]["code"] == "152921"
    assert res["matched"] == "阿左旗巴彦浩特镇"


def test_hopeless_text_is_a_422_naming_the_field(client: TestClient, auth: Auth) -> None:
    r = screen(client, auth, {"text": "群众反映有人倾倒垃圾，请尽快处理"})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    errors = r.json()["errors"]
    assert errors[0]["field"] == "location.text"
    assert "已读到" in errors[0]["message"] and "缺少可定位的信息" in errors[0]["message"]
    outside = screen(client, auth, {"text": "河北省承德市围场县某林地"})
    assert outside.status_code == 422
    assert "不在内蒙古自治区" in outside.json()["errors"][0]["message"]


def test_ambiguous_zones_across_leagues_are_refused_with_the_readings(
    client: TestClient, auth: Auth
) -> None:
    r = screen(client, auth, {"text": "X=4412345.67，Y=512345.89"})  # no zone, no meridian
    assert r.status_code == 422, r.text
    message = r.json()["errors"][0]["message"]
    assert "种读法" in message and "中央经线" in message


def test_text_beside_a_geometry(client: TestClient, auth: Auth) -> None:
    point = {"type": "Point", "coordinates": [LON, LAT]}
    agree = screen(client, auth, {"geometry": point, "text": "准格尔旗薛家湾镇附近"})
    assert agree.status_code == 200, agree.text
    res = agree.json()["location_resolution"]
    assert res["method"] == "geometry"
    assert res["candidates"][0]["unit"]["code"] == "150622"
    assert not res["warnings"]
    disagree = screen(client, auth, {"geometry": point, "text": "阿左旗巴彦浩特镇"})
    codes = [w["code"] for w in disagree.json()["location_resolution"]["warnings"]]
    assert "text_disagrees_with_geometry" in codes


def test_admin_name_and_geometry_say_their_method(client: TestClient, auth: Auth) -> None:
    r = screen(client, auth, {"admin_name": "准旗"})
    assert r.json()["location_resolution"]["method"] == "admin_name"
    assert r.json()["location_resolution"]["unit"]["code"] == "150622"
    both = screen(client, auth, {"admin_name": "准旗", "text": "准旗"})
    assert both.status_code == 422
    assert both.json()["errors"][0]["field"].startswith("location")


def test_lead_stores_location_resolution(client: TestClient, auth: Auth) -> None:
    body = {
        "location": {"text": "E111-12-36 N39-50-12"},
        "title": "渗坑",
        "source_system": "test",
        "external_ref": "geocode-text-lead",
        "received_on": "2026-09-05",
        "case_type": "pollution_discharge",
    }
    r = client.post("/api/v1/leads", json=body, headers=auth("screener"))
    assert r.status_code in (200, 201), r.text
    lead_id = r.json()["id"]
    got = client.get(f"/api/v1/leads/{lead_id}", headers=auth("screener")).json()
    stored = got["decision"]["location_resolution"]
    assert stored["method"] == "coordinates_in_text"
    assert stored["matched"] == "E111-12-36 N39-50-12"
    x, y = got["geometry"]["coordinates"]
    assert GEOD.inv(x, y, LON, LAT)[2] < 0.5


def test_geocode_endpoint(client: TestClient, auth: Auth) -> None:
    r = client.post(
        "/api/v1/geocode", json={"text": "阿左旗巴彦浩特镇附近"}, headers=auth("screener")
    )
    assert r.status_code == 200, r.text
    best = r.json()["candidates"][0]
    assert set(best) >= {"method", "matched", "geometry", "unit", "precision_m", "score"}
    assert best["unit"]["code"] == "152921"
    assert best["geometry"]["type"] in ("Polygon", "MultiPolygon")
    gx, gy = (float(v) for v in wgs84_to_gcj02(LON, LAT))
    r = client.post(
        "/api/v1/geocode",
        json={"text": f"{gx:.8f},{gy:.8f}", "crs": "GCJ02"},
        headers=auth("screener"),
    )
    x, y = r.json()["candidates"][0]["geometry"]["coordinates"]
    assert GEOD.inv(x, y, LON, LAT)[2] < 0.5


def test_geocode_refusals(client: TestClient, auth: Auth) -> None:
    bad = client.post("/api/v1/geocode", json={"text": "无地点"}, headers=auth("screener"))
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "text"
    crs = client.post(
        "/api/v1/geocode",
        json={"text": "111.2,39.8", "crs": "EPSG:99999"},
        headers=auth("screener"),
    )
    assert crs.status_code == 422
    assert crs.json()["errors"][0]["field"] == "crs"
    assert client.post("/api/v1/geocode", json={"text": "准旗"}).status_code == 401
    # the same roles as /screen: screener, system, admin; the others are refused
    for role in ("viewer", "screener", "analyst", "system", "admin"):
        geocoded = client.post("/api/v1/geocode", json={"text": "准旗"}, headers=auth(role))
        screened = client.post(
            "/api/v1/screen", json={"location": {"text": "准旗"}}, headers=auth(role)
        )
        assert geocoded.status_code == screened.status_code
        assert geocoded.status_code == (200 if role in ("screener", "system", "admin") else 403)


def test_a_town_name_in_several_counties(client: TestClient, auth: Auth) -> None:
    anywhere = screen(client, auth, {"text": "城关镇附近有人挖砂"})  # four counties, three leagues
    assert anywhere.status_code == 422
    message = anywhere.json()["errors"][0]["message"]
    assert "清水河县" in message and "兴和县" in message and "写明盟市或旗县" in message
    # with its league named: both readings are in 呼和浩特市, which decides; the rest is verified
    body = screen(client, auth, {"text": "呼和浩特市城关镇附近"}).json()
    res = body["location_resolution"]
    assert res["needs_verification"] is True
    assert res["unit"] == {"level": "league", "code": "150100", "name": "呼和浩特市"}
    assert {c["unit"]["code"] for c in res["candidates"]} == {"150123", "150124"}
    assert body["jurisdiction"]["rights_holder"]["code"] == "150100"


def test_case_page_shows_the_lead_text_with_the_words_it_was_located_by(
    client: TestClient, auth: Auth
) -> None:
    """The officer sees which words of the lead text the location came from, how it was read
    and what could not be refined (issue 12), highlighted, escaped like any lead text."""
    text = "<b>举报</b>：鄂尔多斯市准格尔旗薛家湾镇某煤矿排土场北侧"
    body = {"location": {"text": text}, "case_type": "illegal_mining", "title": "文字定位线索"}
    r = client.post("/api/v1/leads", json=body, headers=auth("screener"))
    assert r.status_code == 201, r.text
    page = client.get(f"/leads/{r.json()['id']}", headers=auth("viewer")).text
    assert (
        '<p class="located-text" id="located-text">&lt;b&gt;举报&lt;/b&gt;：'
        "<mark>鄂尔多斯市准格尔旗薛家湾镇</mark>某煤矿排土场北侧</p>"
    ) in page
    assert "按线索文字中的地址定位：准格尔旗（150622）；未能细化：薛家湾镇" in page

    dms = {"location": {"text": "巡查发现：东经111°12′36″，北纬39°50′12″处有渗坑"},
           "case_type": "pollution_discharge", "title": "坐标线索"}
    r = client.post("/api/v1/leads", json=dms, headers=auth("screener"))
    assert r.status_code == 201, r.text
    page = client.get(f"/leads/{r.json()['id']}", headers=auth("viewer")).text
    assert "巡查发现：<mark>东经111°12′36″，北纬39°50′12″</mark>处有渗坑" in page
    assert "按线索文字中的坐标定位：准格尔旗（150622）" in page
