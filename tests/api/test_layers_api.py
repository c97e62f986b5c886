"""The layer API on both backends: real files in, report, activate, screen, diff, roll back,
the atomic swap under concurrent screening, and the re-screen impact of a version."""

from __future__ import annotations

import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import Point, box, mapping
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers"))

from layer_files import (
    builtin_features,
    county_features,
    kmz,
    shapefile_zip,
    write_layer,
)
from layer_services import PG_ADMIN_URL, fresh_services

from geo_service.app import create_app
from geo_service.auth import create_token
from geo_service.db.models import AuditEntry, LayerSeries, LayerVersion, Lead
from geo_service.layer_admin import decision_changes
from geo_service.services import Services
from layers.model import LayerFeature
from layers.validation import area_km2

# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def svc(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Services]:
    with fresh_services(request.param, tmp_path_factory.mktemp("layers-api"), PG_ADMIN_URL) as s:
        yield s


@pytest.fixture(scope="module")
def client(svc: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=svc)) as c:
        yield c


@pytest.fixture(scope="module")
def tokens(svc: Services) -> dict[str, dict[str, str]]:
    out = {}
    with svc.sessions() as session:
        for role in ("analyst", "viewer", "screener", "admin"):
            out[role] = {"Authorization": f"Bearer {create_token(session, role, f't-{role}')}"}
    return out


@pytest.fixture(scope="module")
def moved() -> dict[str, object]:
    """A replacement league layer: a piece of 呼和浩特市 handed to 包头市, and a point in it."""
    leagues = builtin_features("league")
    hohhot = next(f for f in leagues if f.code == "150100")
    piece = shapely.intersection(
        hohhot.geometry, box(*hohhot.geometry.centroid.buffer(0.15).bounds)
    )
    features = []
    for f in leagues:
        geom = f.geometry
        if f.code == "150100":
            geom = shapely.difference(geom, piece)
        elif f.code == "150200":
            geom = shapely.union(geom, piece)
        features.append(LayerFeature(f.feature_id, f.code, f.name, geom))
    point = piece.centroid
    assert piece.buffer(-0.02).contains(point)
    far = Point(119.7, 49.2)  # 呼伦贝尔市, far from the change
    return {"features": features, "piece": piece, "point": point, "far": far}


def _builtin_league_id(svc: Services) -> int:
    with svc.sessions() as s:
        return s.scalar(
            select(LayerVersion.id)
            .join(LayerSeries)
            .where(LayerSeries.name == "league", LayerVersion.version_no == 1)
        )


def _upload(client, headers, path: Path, **form) -> dict:
    with path.open("rb") as fh:
        r = client.post(
            "/api/v1/layers",
            headers=headers,
            files={"file": (path.name, fh, "application/octet-stream")},
            data={k: str(v) for k, v in form.items()},
        )
    assert r.status_code == 201, r.text
    return r.json()


def _league_at(svc: Services, point: Point) -> tuple[int, list[tuple[int, str]]]:
    result = svc.overlay.overlay(point)
    return result.layer_versions["league"], [(h.version_id, h.code) for h in result.hits["league"]]


@pytest.fixture(scope="module")
def replacement(client, tokens, moved, tmp_path_factory) -> dict:
    """The replacement league layer uploaded once, as a GBK Shapefile without .cpg (a draft)."""
    tmp = tmp_path_factory.mktemp("replacement")
    upload = shapefile_zip(tmp, moved["features"], name="盟市界线", encoding="GBK", cpg=False)
    return _upload(client, tokens["analyst"], upload, kind="league", effective_from="2026-01-01")


def _activate(client, tokens, version_id: int, *, rollback: bool = False) -> dict:
    action = "rollback" if rollback else "activate"
    r = client.post(f"/api/v1/layers/versions/{version_id}/{action}", headers=tokens["analyst"])
    assert r.status_code == 200, r.text
    return r.json()


# --- upload, activate, screen, diff, roll back ---------------------------------------------


def test_upload_activate_screen_diff_rollback(client, tokens, svc, moved, replacement):
    old_id = _builtin_league_id(svc)
    new = replacement
    assert new["status"] == "draft" and new["feature_count"] == 12
    assert new["effective_from"] == "2026-01-01"
    assert new["rejected"] == [] and new["repaired"] == []
    assert new["crs_used"].startswith("EPSG:4490")
    assert new["report"]["encoding"].startswith("无 .cpg")
    assert new["report"]["tiling"]["gap_km2"] < 1 and new["report"]["tiling"]["overlap_km2"] < 1
    assert len(new["bbox"]) == 4
    # A draft changes nothing.
    assert _league_at(svc, moved["point"]) == (old_id, [(old_id, "150100")])

    listing = client.get("/api/v1/layers", headers=tokens["viewer"]).json()
    league = next(s for s in listing["series"] if s["name"] == "league")
    assert league["active_version"] == old_id
    assert [v["id"] for v in league["history"]][:2] == [new["id"], old_id]
    assert "red_line" in listing["kinds"]

    activated = _activate(client, tokens, new["id"])
    assert activated["status"] == "active" and activated["retired"] == old_id
    assert _league_at(svc, moved["point"]) == (new["id"], [(new["id"], "150200")])
    r = client.post(
        "/api/v1/screen",
        headers=tokens["screener"],
        json={"location": {"geometry": mapping(moved["point"])}},
    )
    assert r.status_code == 200, r.text
    assert r.json()["jurisdiction"]["rights_holder"]["code"] == "150200"
    assert r.json()["layer_versions"]["league"] == new["id"]

    d = client.get(
        "/api/v1/layers/diff", params={"from": old_id, "to": new["id"]}, headers=tokens["viewer"]
    ).json()
    assert {c["code"] for c in d["changed"]} == {"150100", "150200"}
    assert d["added"] == [] and d["removed"] == []
    piece_km2 = area_km2(moved["piece"])
    changed = {c["code"]: c for c in d["changed"]}
    assert changed["150200"]["area_gained_km2"] == pytest.approx(piece_km2, rel=0.01)
    assert changed["150100"]["area_lost_km2"] == pytest.approx(piece_km2, rel=0.01)

    back = _activate(client, tokens, old_id, rollback=True)
    assert back["status"] == "active" and back["retired"] == new["id"]
    assert _league_at(svc, moved["point"]) == (old_id, [(old_id, "150100")])
    with svc.sessions() as s:
        actions = set(
            s.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.entity == "layer_version", AuditEntry.entity_id == str(new["id"])
                )
            )
        )
    assert {
        "layer_version_uploaded",
        "layer_version_validated",
        "layer_version_activated",
    } <= actions
    # Rolling back to a version that is not retired is refused.
    r = client.post(f"/api/v1/layers/versions/{old_id}/rollback", headers=tokens["analyst"])
    assert r.status_code == 409


def test_features_endpoint_bbox_and_limit(client, tokens, svc, moved):
    old_id = _builtin_league_id(svc)
    p = moved["point"]
    r = client.get(
        f"/api/v1/layers/versions/{old_id}/features",
        headers=tokens["viewer"],
        params={"bbox": f"{p.x - 0.01},{p.y - 0.01},{p.x + 0.01},{p.y + 0.01}"},
    )
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    body = r.json()
    assert "150100" in {f["properties"]["code"] for f in body["features"]}
    assert body["numberMatched"] == len(body["features"]) < 12
    r = client.get(
        f"/api/v1/layers/versions/{old_id}/features",
        headers=tokens["viewer"],
        params={"limit": 5, "simplify": 0.001},
    )
    body = r.json()
    assert body["numberMatched"] == 12 and body["numberReturned"] == 5
    r = client.get(
        f"/api/v1/layers/versions/{old_id}/features",
        headers=tokens["viewer"],
        params={"bbox": "112,41,111"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "bbox"
    assert (
        client.get("/api/v1/layers/versions/999999/features", headers=tokens["viewer"]).status_code
        == 404
    )


# --- every format, and bad input -----------------------------------------------------------


def _format_files(tmp: Path) -> dict[str, tuple[Path, dict[str, str]]]:
    leagues, counties = builtin_features("league"), county_features()
    gpkg = write_layer(tmp / "multi.gpkg", leagues, driver="GPKG", layer="leagues")
    write_layer(gpkg, counties, driver="GPKG", layer="counties", append=True)
    return {
        "gk_shapefile": (shapefile_zip(tmp, counties, name="gk", crs="EPSG:4525"), {}),
        "gpkg": (gpkg, {"layer": "counties"}),
        "geojson": (write_layer(tmp / "c.geojson", counties, driver="GeoJSON"), {}),
        "kml": (
            write_layer(tmp / "c.kml", counties, driver="KML", crs="EPSG:4326", name_field="Name"),
            {},
        ),
        "kmz": (kmz(tmp, counties, name="c"), {}),
    }


@pytest.mark.parametrize("fmt", ["gk_shapefile", "gpkg", "geojson", "kml", "kmz"])
def test_every_format_uploads(fmt, client, tokens, tmp_path):
    path, form = _format_files(tmp_path)[fmt]
    body = _upload(client, tokens["analyst"], path, kind="county", name=f"counties_{fmt}", **form)
    assert body["feature_count"] == len(county_features())
    assert body["status"] == "draft"
    if fmt == "gk_shapefile":
        assert "4525" in body["crs_used"]


def test_bad_uploads_are_4xx_naming_the_field(client, tokens, tmp_path):
    leagues = builtin_features("league")
    no_prj = shapefile_zip(tmp_path, leagues, name="noprj", crs=None)
    garbage = tmp_path / "broken.gpkg"
    garbage.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 40)
    empty_zip = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty_zip, "w") as zf:
        zf.writestr("readme.txt", "nothing here")
    cases = [
        (garbage, {"kind": "red_line"}, "file"),
        (empty_zip, {"kind": "red_line"}, "file"),
        (no_prj, {"kind": "league"}, "crs"),
        (no_prj, {"kind": "volcano"}, "kind"),
        (no_prj, {"kind": "league", "crs": "EPSG:99999999"}, "crs"),
        (_format_files(tmp_path)["gpkg"][0], {"kind": "league"}, "layer"),
        (no_prj, {"kind": "league", "crs": "EPSG:4490", "code_field": "nope"}, "code_field"),
        (no_prj, {"kind": "county", "name": "league", "crs": "EPSG:4490"}, "kind"),
    ]
    for path, form, field in cases:
        with path.open("rb") as fh:
            r = client.post(
                "/api/v1/layers",
                headers=tokens["analyst"],
                files={"file": (path.name, fh)},
                data=form,
            )
        assert r.status_code == 422, (form, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert field in {e["field"] for e in r.json()["errors"]}, (form, r.json())
    with no_prj.open("rb") as fh:
        r = client.post(
            "/api/v1/layers",
            headers=tokens["viewer"],
            files={"file": (no_prj.name, fh)},
            data={"kind": "league"},
        )
    assert r.status_code == 403
    assert client.post("/api/v1/layers", data={"kind": "league"}).status_code == 401
    assert client.get("/api/v1/layers").status_code == 401


# --- the atomic swap -----------------------------------------------------------------------


def test_concurrent_screens_never_see_a_mixed_snapshot(client, tokens, svc, moved, replacement):
    """Screens run while the league layer flips between two versions: each result is wholly
    the old version or wholly the new one."""
    from geo_service import pipeline
    from geo_service.schemas import ScreenRequest

    old_id, new_id = _builtin_league_id(svc), replacement["id"]
    expected = {old_id: "150100", new_id: "150200"}
    request = ScreenRequest.model_validate({"location": {"geometry": mapping(moved["point"])}})
    stop = threading.Event()
    seen: list[tuple[int, list[tuple[int, str]]]] = []
    decisions: list[tuple[int, str]] = []
    errors: list[BaseException] = []

    def screener() -> None:
        try:
            while not stop.is_set():
                seen.append(_league_at(svc, moved["point"]))
                outcome = pipeline.screen(svc, request, None)
                decisions.append(
                    (
                        outcome.decision["layer_versions"]["league"],
                        outcome.decision["jurisdiction"]["rights_holder"]["code"],
                    )
                )
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=screener) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for i in range(6):
            if i % 2 == 0:
                _activate(client, tokens, new_id)
            else:
                _activate(client, tokens, old_id, rollback=True)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    _activate(client, tokens, old_id)  # activating a retired version is a roll back too
    assert not errors, errors
    assert seen and decisions
    for version, hits in seen:
        assert hits == [(version, expected[version])]
    for version, holder in decisions:
        assert holder == expected[version]
    assert {v for v, _ in seen} == {old_id, new_id}  # screens ran on both sides of the swaps


# --- re-screen impact ----------------------------------------------------------------------


def _lead(client, tokens, point: Point, title: str) -> dict:
    r = client.post(
        "/api/v1/leads",
        headers=tokens["screener"],
        json={
            "title": title,
            "location": {"geometry": mapping(point)},
            "case_type": "pollution_discharge",
            "source_channel": "petition_media",
            "damage_amount_yuan": 2000,
            "received_on": "2026-09-05",
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_impact_lists_exactly_the_changed_leads_then_rescreens(
    client, tokens, svc, moved, replacement, tmp_path
):
    old_id, new_id = _builtin_league_id(svc), replacement["id"]
    _activate(client, tokens, old_id)
    moving = _lead(client, tokens, moved["point"], "移交包头的线索")
    staying = _lead(client, tokens, moved["far"], "呼伦贝尔的线索")
    closed = _lead(client, tokens, moved["point"], "已不予启动的线索")
    with svc.sessions() as s:
        s.get(Lead, closed["id"]).status = "not_filed"
        s.commit()
    assert moving["decision"]["jurisdiction"]["rights_holder"]["code"] == "150100"

    r = client.get(f"/api/v1/layers/versions/{new_id}/impact", headers=tokens["analyst"])
    assert r.status_code == 200, r.text
    impact = r.json()
    assert {i["lead_id"] for i in impact["impacted"]} == {moving["id"]}
    mine = next(i for i in impact["impacted"] if i["lead_id"] == moving["id"])
    assert {
        "field": "rights_holder",
        "label": "赔偿权利人",
        "before": "150100",
        "after": "150200",
    } in mine["changes"]
    # Every listed lead really changes, and every open lead that changes is listed.
    assert all(i["changes"] for i in impact["impacted"])
    assert svc.overlay.layer_versions["league"] == old_id  # a preview moved nothing

    # A red line over the far lead: the 第十五条第五款 override is gained there only.
    red = write_layer(
        tmp_path / "red.geojson",
        [LayerFeature(0, "RL1", "测试红线", moved["far"].buffer(0.01))],
        driver="GeoJSON",
    )
    red_version = _upload(client, tokens["analyst"], red, kind="red_line", name="test_red_line")
    impact = client.get(
        f"/api/v1/layers/versions/{red_version['id']}/impact", headers=tokens["analyst"]
    ).json()
    by_lead = {i["lead_id"]: i for i in impact["impacted"]}
    assert set(by_lead) == {staying["id"]}
    gained = next(c for c in by_lead[staying["id"]]["changes"] if c["field"] == "minor_override")
    assert gained["effect"] == "override_gained"

    # Activate the leagues, then one call re-screens the impacted leads.
    _activate(client, tokens, new_id)
    r = client.post(
        f"/api/v1/layers/versions/{new_id}/rescreen-impacted", headers=tokens["analyst"]
    )
    assert r.status_code == 200, r.text
    done = {x["lead_id"]: x for x in r.json()["results"]}
    assert set(done) == {moving["id"]}
    assert r.json()["checked"] == 2  # the two open leads decided on the old leagues
    assert done[moving["id"]]["after"]["rights_holder"] == "150200"
    detail = client.get(f"/api/v1/leads/{moving['id']}", headers=tokens["viewer"]).json()
    assert len(detail["decisions"]) == 2
    assert detail["decisions"][0]["result"]["jurisdiction"]["rights_holder"]["code"] == "150100"
    assert detail["decision"]["jurisdiction"]["rights_holder"]["code"] == "150200"
    with svc.sessions() as s:
        assert (
            s.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "layer_impact_rescreened",
                    AuditEntry.entity_id == str(new_id),
                )
            ).first()
            is not None
        )
    _activate(client, tokens, old_id)


def test_impact_lists_an_unrescreenable_lead_instead_of_failing(
    client, tokens, svc, moved, replacement
):
    """A stored request that no longer validates is listed for a person, never a 500."""
    lead = _lead(client, tokens, moved["point"], "请求已损坏的线索")
    with svc.sessions() as s:
        s.get(Lead, lead["id"]).request = {"location": {"geometry": {"type": "Bogus"}}}
        s.commit()
    try:
        r = client.get(
            f"/api/v1/layers/versions/{replacement['id']}/impact", headers=tokens["analyst"]
        )
        assert r.status_code == 200, r.text
        (entry,) = [i for i in r.json()["impacted"] if i["lead_id"] == lead["id"]]
        assert entry["changes"][0]["field"] == "not_rescreenable"
        assert entry["error"]
    finally:
        with svc.sessions() as s:
            s.get(Lead, lead["id"]).status = "not_filed"
            s.commit()


def test_decision_changes_alone():
    before = {
        "jurisdiction": {
            "status": "decided",
            "level": "league",
            "rights_holder": {"code": "150100", "name": "呼和浩特市人民政府"},
        },
        "minor": {"override": False},
        "departments": {"responsible": [{"code": "ecology_environment"}]},
        "warnings": [{"code": "near_boundary"}],
    }
    same = {**before, "warnings": []}
    assert decision_changes(before, same) == []
    after = {
        **before,
        "minor": {"override": True},
        "departments": {
            "responsible": [{"code": "ecology_environment"}, {"code": "forestry_grassland"}]
        },
    }
    changes = {c["field"]: c for c in decision_changes(before, after)}
    assert set(changes) == {"minor_override", "departments"}
    assert changes["minor_override"]["effect"] == "override_gained"
    assert changes["departments"]["after"] == ["ecology_environment", "forestry_grassland"]
    lost = decision_changes(after, before)
    assert next(c for c in lost if c["field"] == "minor_override")["effect"] == "override_lost"
    region = {
        **before,
        "jurisdiction": {
            "status": "decided",
            "level": "region",
            "rights_holder": {"code": "150000"},
        },
    }
    assert {c["field"] for c in decision_changes(before, region)} == {
        "jurisdiction_level",
        "rights_holder",
    }
