"""A red line layer decides the override (第十五条第五款第（一）项) — on a preview engine, so the
shared services never see the test layer."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from api_helpers import unique_ref
from fastapi.testclient import TestClient
from shapely.geometry import box

from geo_service.app import create_app
from geo_service.auth import Principal
from geo_service.layer_store import get_or_create_series, store_version, version_data
from geo_service.pipeline import screen
from geo_service.schemas import ScreenRequest
from geo_service.services import Services
from layers.model import LayerFeature

RED_LINE_BOX = (119.70, 49.15, 119.82, 49.27)  # around 海拉尔区 (fictitious, test data)
INSIDE = {"type": "Point", "coordinates": [119.76, 49.21]}
OUTSIDE_NEAR = {"type": "Point", "coordinates": [119.86, 49.21]}  # ~3 km east of the box


@pytest.fixture
def red_line_services(services: Services) -> Services:
    """The shared services with a draft red line version previewed (DB unchanged otherwise)."""
    with services.sessions() as session:
        series = get_or_create_series(
            session, f"test_red_line_{unique_ref()[:10]}", "red_line", "生态保护红线（测试数据）"
        )
        version = store_version(
            session,
            series=series,
            uploaded_by="test",
            features=[
                LayerFeature(
                    feature_id=0, code="RL-T1", name="测试红线区块", geometry=box(*RED_LINE_BOX)
                ),
            ],
        )
        session.commit()
        session.refresh(version)
        data = version_data(session, version)
    # A preview is not what the database holds: keep the copy from syncing back to it.
    no_sync = services.settings.model_copy(update={"layer_sync_interval_s": 0})
    return dataclasses.replace(
        services, settings=no_sync, overlay=services.overlay.preview(data)
    )


@pytest.fixture
def red_client(red_line_services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=red_line_services)) as c:
        yield c


def test_pipeline_maps_hits_to_area_hits(red_line_services: Services) -> None:
    request = ScreenRequest.model_validate(
        {"location": {"geometry": INSIDE}, "damage_amount_yuan": 2000, "received_on": "2026-09-05"}
    )
    outcome = screen(red_line_services, request, Principal("t", "admin", 0))
    (hit,) = outcome.spatial.hits["red_line"]
    assert (hit.kind, hit.code, hit.share) == ("red_line", "RL-T1", 1.0)
    assert hit.layer.startswith("test_red_line_")
    assert hit.layer_version == red_line_services.overlay.layer_versions[hit.layer]
    assert "red_line" not in outcome.spatial.missing_kinds
    assert "nature_reserve" in outcome.spatial.missing_kinds
    assert outcome.facts.received_on == date(2026, 9, 5)
    decision = outcome.decision
    assert decision["sensitive_area_lead"] is True
    assert decision["minor"]["override_reasons"] == ["red_line"]
    red = decision["sensitive_areas"]["red_line"][0]
    assert red["name"] == "测试红线区块" and red["share"] == 1.0


def test_red_line_lead_cannot_be_dropped_as_minor(
    red_client: TestClient, auth: Callable[[str], dict[str, str]]
) -> None:
    r = red_client.post(
        "/api/v1/leads",
        headers=auth("screener"),
        json={
            "location": {"geometry": INSIDE},
            "damage_amount_yuan": 2000,
            "source_system": "test",
            "external_ref": unique_ref(),
            "received_on": "2026-09-05",
        },
    )
    assert r.status_code == 201, r.text
    lead = r.json()
    assert lead["minor_override"] is True
    filing = {
        "decision": "not_file",
        "grounds": ["minor"],
        "reasons": "数额小。",
        "approved_by": "张局长",
    }
    refused = red_client.post(
        f"/api/v1/leads/{lead['id']}/filing", json=filing, headers=auth("screener")
    )
    assert refused.status_code == 409
    assert "生态保护红线" in refused.json()["detail"]
    assert "第十五条第五款" in refused.json()["detail"]
    listed = red_client.get(
        "/api/v1/leads", params={"override": "true", "limit": 500}, headers=auth("viewer")
    ).json()
    assert lead["id"] in {i["id"] for i in listed["items"]}


def test_shared_services_do_not_see_the_test_layer(
    red_line_services: Services, services: Services
) -> None:
    assert not any(s.startswith("test_red_line_") for s in services.overlay.layer_versions)
    request = ScreenRequest.model_validate({"location": {"geometry": OUTSIDE_NEAR}})
    near = screen(red_line_services, request, Principal("t", "admin", 0))
    assert near.spatial.hits.get("red_line", ()) == ()
    (nearby,) = [n for n in near.spatial.nearby if n.kind == "red_line"]
    assert 2_000 < nearby.distance_m < 4_000
    assert near.decision["sensitive_areas"]["nearby"][0]["name"] == "测试红线区块"
