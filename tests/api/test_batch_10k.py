"""A 10,000-item batch answers in one request, bad items in their own slots (API.md).

How fast: tests/api/bench_batch.py prints the figures; this test only checks the answer.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient


def test_ten_thousand_items_in_one_request(
    client: TestClient, auth: Callable[[str], dict[str, str]]
) -> None:
    rng = random.Random(10_000)
    items: list[Any] = []
    for i in range(10_000):
        lon, lat = rng.uniform(108.0, 121.0), rng.uniform(40.0, 49.0)
        item: dict[str, Any] = {
            "location": {"geometry": {"type": "Point", "coordinates": [lon, lat]}}
        }
        if i % 7 == 0:
            item["location"]["crs"] = "GCJ02"
        items.append(item)
    bad = {
        17: {"location": {"geometry": {"type": "Point", "coordinates": [45.0, 115.0]}}},
        4_321: {"location": {"admin_name": "阿左旗"}, "case_type": "nope"},
        9_999: "junk",
    }
    for i, item in bad.items():
        items[i] = item
    items[5_000] = {"location": {"admin_name": "阿左旗"}}
    r = client.post("/api/v1/screen/batch", json={"items": items}, headers=auth("system"))
    assert r.status_code == 200, r.text[:500]
    results = r.json()["results"]
    assert len(results) == 10_000
    problems = {i for i, x in enumerate(results) if "jurisdiction" not in x}
    assert problems == set(bad)
    assert results[17]["errors"][0]["field"] == "items[17].location.geometry.coordinates"
    assert results[4_321]["errors"][0]["field"] == "items[4321].case_type"
    assert results[5_000]["jurisdiction"]["rights_holder"]["code"] == "152900"
    statuses = {x["jurisdiction"]["status"] for i, x in enumerate(results) if i not in bad}
    assert "decided" in statuses
    # Every item was located and screened on its own geometry (echoed back in EPSG:4490).
    for i in (0, 1, 7, 9_998):
        lon, lat = items[i]["location"]["geometry"]["coordinates"]
        got = results[i]["location"]["geometry"]["coordinates"]
        tolerance = 0.02 if items[i]["location"].get("crs") == "GCJ02" else 1e-12
        assert abs(got[0] - lon) < tolerance and abs(got[1] - lat) < tolerance
