"""A 10,000-item batch answers in one request, bad items in their own slots (API.md).

How fast: tests/api/bench_batch.py prints the figures; this test only checks the answer.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from gcj_oracle import distance_m, gcj02_error_m
from shapely.geometry import Point

from layers.builtin import load_series

# A point this far (degrees, ~2 km) from every league boundary is unambiguous.
CLEAR_DEG = 0.02


def _expected_status(lon: float, lat: float) -> tuple[str, str | None] | None:
    """What the built-in boundaries say about a point, by shapely on the boundary data (not the
    overlay engine): ("decided", league) clearly inside one league, ("out_of_region", None)
    clearly inside another province or a neighbouring country, ("unresolved", None) clearly in
    no polygon at all (the sea); None within ~2 km of any boundary."""
    near = Point(lon, lat).buffer(CLEAR_DEG)
    touched = []
    for series in ("league", "province", "country"):
        for f in load_series(series).features:
            if series == "province" and f.code == "150000":
                continue
            if f.geometry.contains(near):
                return ("decided", f.code) if series == "league" else ("out_of_region", None)
            if f.geometry.intersects(near):
                touched.append(f.code)
    return None if touched else ("unresolved", None)


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
    # Every item was located on its own geometry (echoed back in EPSG:4490): a plain one
    # exactly, a GCJ-02 one at the point whose GCJ-02 image is the input (independent formula).
    located: dict[int, tuple[float, float]] = {}
    for i, item in enumerate(items):
        if i in bad or "geometry" not in item["location"]:
            continue
        sent = tuple(item["location"]["geometry"]["coordinates"])
        got = tuple(results[i]["location"]["geometry"]["coordinates"])
        if item["location"].get("crs") == "GCJ02":
            assert gcj02_error_m(sent, got) < 0.5, (i, sent, got)
            assert distance_m(sent, got) > 100  # really converted: the shift is hundreds of m
        else:
            assert got == sent, (i, sent, got)
        located[i] = got
    # Each item's jurisdiction is the one its own point lies in, by shapely on the boundaries.
    checked = {"decided": 0, "out_of_region": 0, "unresolved": 0}
    for i, (lon, lat) in located.items():
        expected = _expected_status(lon, lat)
        j = results[i]["jurisdiction"]
        if expected is None:
            continue  # near a boundary: the tolerances decide; test_screen covers those
        status, league = expected
        assert j["status"] == status, (i, lon, lat, j)
        if league is not None:
            assert (j["level"], j["rights_holder"]["code"]) == ("league", league), (i, j)
        checked[status] += 1
    # The random sample straddles the border: both kinds are many.
    assert checked["decided"] > 3_000 and checked["out_of_region"] > 1_000, checked
