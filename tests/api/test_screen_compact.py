"""The compact batch form for machine callers (`?fields=`), and the single screen's JSON body
(orjson) equal to the full batch slot, on both backends."""

from __future__ import annotations

from collections.abc import Callable

from api_helpers import POINT_HOHHOT, POINT_HULUNBUIR
from fastapi.testclient import TestClient

Auth = Callable[[str], dict[str, str]]


def _item(point) -> dict:
    return {
        "location": {"geometry": point, "precision_m": 30},
        "received_on": "2026-09-05",
        "case_type": "pollution_discharge",
    }


def test_batch_fields_keep_only_what_is_asked(client: TestClient, auth: Auth) -> None:
    items = [_item(POINT_HULUNBUIR), _item(POINT_HOHHOT), {"location": {}}]
    full = client.post("/api/v1/screen/batch", json={"items": items}, headers=auth("screener"))
    compact = client.post(
        "/api/v1/screen/batch?fields=jurisdiction,sensitive_area_lead",
        json={"items": items},
        headers=auth("screener"),
    )
    assert full.status_code == compact.status_code == 200, compact.text
    full_results, compact_results = full.json()["results"], compact.json()["results"]
    for whole, small in zip(full_results[:2], compact_results[:2], strict=True):
        assert set(small) == {"jurisdiction", "sensitive_area_lead"}
        assert small == {k: whole[k] for k in small}
    assert compact_results[2] == full_results[2]  # a problem stays whole
    assert compact_results[2]["status"] == 422
    assert len(compact.content) < len(full.content) / 2


def test_single_screen_body_equals_the_batch_slot(client: TestClient, auth: Auth) -> None:
    one = client.post("/api/v1/screen", json=_item(POINT_HOHHOT), headers=auth("screener"))
    batch = client.post(
        "/api/v1/screen/batch", json={"items": [_item(POINT_HOHHOT)]}, headers=auth("screener")
    )
    assert one.status_code == 200 and one.headers["content-type"] == "application/json"
    assert one.json() == batch.json()["results"][0]
    assert one.json()["jurisdiction"]["rights_holder"]["code"] == "150100"
