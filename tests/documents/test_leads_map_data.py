"""The leads map's data (`/web/leads.geojson`, `/web/sensitive.geojson`) on both backends:
the list's filters apply, the payload is compact, bad filters get a clear 4xx."""

from __future__ import annotations

import json

from demo_cases import CROSS_LEAGUE, RED_LINE_POINT, Demo

from geo_service.db.models import Lead


def _features(demo: Demo, query: str = "") -> list[dict]:
    r = demo.get(f"/web/leads.geojson?{query}")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/geo+json")
    return json.loads(r.content)["features"]


def test_every_drawable_lead_is_a_point_with_its_urgency(demo: Demo) -> None:
    feats = _features(demo)
    with demo.services.sessions() as session:
        drawable = {lead.id for lead in session.query(Lead) if lead.damage_geom is not None}
    assert {f["properties"]["id"] for f in feats} == drawable
    for f in feats:
        assert f["geometry"]["type"] == "Point"
        assert all(len(str(c).split(".")[-1]) <= 5 for c in f["geometry"]["coordinates"])
        assert f["properties"]["u"] in {"overdue", "urgent", "soon", "normal", "none"}
    (point,) = [f for f in feats if f["properties"]["id"] == RED_LINE_POINT]
    assert point["geometry"]["coordinates"] == [117.4, 48.9]
    assert "f" not in point["properties"]  # a point needs no footprint
    (area,) = [f for f in feats if f["properties"]["id"] == CROSS_LEAGUE]
    assert area["properties"]["f"]["type"] in ("Polygon", "MultiPolygon", "LineString",
                                                "MultiLineString")


def test_the_list_filters_apply(demo: Demo) -> None:
    assert [f["properties"]["id"] for f in _features(demo, "q=呼伦湖")] == [RED_LINE_POINT]
    region = {f["properties"]["id"] for f in _features(demo, "league=150700")}
    assert RED_LINE_POINT in region and CROSS_LEAGUE not in region
    assert _features(demo, "status=terminated") == []


def test_bad_filters_are_a_clear_4xx(demo: Demo) -> None:
    r = demo.get("/web/leads.geojson?status=nonsense")
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "status"
    r = demo.get("/web/leads.geojson?due_before=2026-13-40")
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "due_before"


def test_sensitive_layers_for_the_toggles(demo: Demo) -> None:
    r = demo.get("/web/sensitive.geojson")
    assert r.status_code == 200
    kinds = {f["properties"]["kind"] for f in json.loads(r.content)["features"]}
    assert kinds == {"red_line", "nature_reserve"}


def test_map_page_and_list_block(demo: Demo) -> None:
    r = demo.get("/map?q=%E5%91%BC%E4%BC%A6%E6%B9%96")
    assert r.status_code == 200
    assert 'data-src="/web/leads.geojson?q=%E5%91%BC%E4%BC%A6%E6%B9%96"' in r.text
    assert "<script>" not in r.text  # no inline script (CSP)
    r = demo.get("/")
    assert 'id="leads-map"' in r.text and "leaflet.markercluster.js" in r.text
