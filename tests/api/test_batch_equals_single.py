"""Batch ≡ single: each item of one /screen/batch answer equals the /screen answer for that item.

A seeded sample of 520 items — points, lines and polygons, in every input frame the service takes
(EPSG:4490, EPSG:4326, GCJ-02, BD-09, CGCS2000 3° Gauss-Krüger with and without the zone prefix),
with case facts varied — is screened once as a batch and once item by item, on both backends.
The batch path (one overlay pass, bulk points, one obligor query) must change nothing.
GCJ-02 items are also checked against an independent GCJ-02 formula to 0.5 m.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from api_helpers import new_obligor_id
from fastapi.testclient import TestClient
from gcj_oracle import gcj02_error_m
from pyproj import Transformer

ITEMS = 520
FRAMES = ("EPSG:4490", "EPSG:4326", "GCJ02", "BD09", "GK-zone", "GK-cm")
CASE_TYPES = (None, "pollution_discharge", "illegal_mining", "waste_dumping",
              "forest_grass_wetland_damage", "environmental_emergency", "other")
# Places to aim at: inside leagues, on league and provincial boundaries, just outside.
HOTSPOTS = ((111.7, 40.8), (110.9, 40.6), (117.4, 48.9), (109.95, 39.82), (106.3, 38.5),
            (119.5, 42.3), (113.6, 40.2), (122.3, 46.1), (105.7, 38.8))


def _gauss_kruger(lon: float, lat: float, prefixed: bool) -> tuple[str, Callable[..., Any]]:
    zone = round(lon / 3.0)
    epsg = (4513 + zone - 25) if prefixed else (4534 + zone - 25)
    to_gk = Transformer.from_crs("EPSG:4490", f"EPSG:{epsg}", always_xy=True)
    return f"EPSG:{epsg}", to_gk.transform


def _shape(rng: random.Random) -> tuple[str, list[Any]]:
    """A random footprint as (type, lon/lat coordinates) near a hotspot or anywhere."""
    if rng.random() < 0.5:
        cx, cy = rng.choice(HOTSPOTS)
        cx, cy = cx + rng.uniform(-0.6, 0.6), cy + rng.uniform(-0.4, 0.4)
    else:
        cx, cy = rng.uniform(104.0, 124.0), rng.uniform(38.0, 50.0)
    kind = rng.choice(("Point", "Point", "LineString", "Polygon"))
    if kind == "Point":
        return kind, [cx, cy]
    if kind == "LineString":
        return kind, [[cx + rng.uniform(-0.2, 0.2), cy + rng.uniform(-0.2, 0.2)]
                      for _ in range(rng.randint(2, 5))]
    w, h = rng.uniform(0.001, 0.3), rng.uniform(0.001, 0.2)
    return kind, [[[cx, cy], [cx + w, cy], [cx + w, cy + h], [cx, cy + h], [cx, cy]]]


def _map_coords(coords: Any, f: Callable[[float, float], tuple[float, float]]) -> Any:
    if isinstance(coords[0], (int, float)):
        return list(f(coords[0], coords[1]))
    return [_map_coords(c, f) for c in coords]


def _first_point(coords: Any) -> tuple[float, float]:
    while not isinstance(coords[0], (int, float)):
        coords = coords[0]
    return float(coords[0]), float(coords[1])


def sample(seed: int = 15, obligors: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The seeded items; some name one of `obligors` (whose earlier cases the database holds:
    the batch reads them in one query, the single screen one by one)."""
    rng = random.Random(seed)
    items = []
    for i in range(ITEMS):
        kind, coords = _shape(rng)
        frame = FRAMES[i % len(FRAMES)]
        location: dict[str, Any] = {}
        if frame.startswith("GK"):
            crs, project = _gauss_kruger(*_first_point(coords), prefixed=frame == "GK-zone")
            coords = _map_coords(coords, lambda x, y, p=project: p(x, y))
            location["crs"] = crs
        elif frame != "EPSG:4490" or rng.random() < 0.5:
            location["crs"] = frame
        location["geometry"] = {"type": kind, "coordinates": coords}
        if rng.random() < 0.2:
            location["precision_m"] = rng.choice((10, 30, 100, 500, 2000))
        item: dict[str, Any] = {"location": location}
        if (ct := rng.choice(CASE_TYPES)) is not None:
            item["case_type"] = ct
        if rng.random() < 0.3:
            item["damage_amount_yuan"] = rng.choice((500, 2999, 3000, 80_000, 300_000, 1e6))
        if rng.random() < 0.1:
            item["incident_grade"] = rng.choice(("general", "larger", "major"))
        if rng.random() < 0.1:
            item["already_remediated"] = True
        if rng.random() < 0.05:
            item["national_impact"] = True
        if obligors and rng.random() < 0.15:
            item["obligor"] = {"id": rng.choice(obligors)}
            item["damage_amount_yuan"] = 1000
            item["occurred_on"] = rng.choice(("2025-09-01", "2026-03-01"))
        items.append(item)
    return items


def test_the_sample_covers_every_shape_and_frame() -> None:
    items = sample()
    assert len(items) >= 500
    kinds = {(it["location"]["geometry"]["type"], it["location"].get("crs", "EPSG:4490")[:7])
             for it in items}
    for kind in ("Point", "LineString", "Polygon"):
        for frame in ("EPSG:44", "EPSG:43", "GCJ02", "BD09", "EPSG:45"):
            assert (kind, frame) in kinds, (kind, frame)


def _obligors_with_history(client: TestClient, auth: Callable[[str], dict[str, str]]) -> tuple:
    """Three new obligors: two with an earlier case on record (one within two years of the
    sample's damage dates, one long before), one without."""
    ids = (new_obligor_id(), new_obligor_id(), new_obligor_id())
    csv_text = ("obligor_id,damage_date,case_ref,note\n"
                f"{ids[0]},2024-12-01,,批量与单条一致性\n{ids[1]},2019-05-01,,批量与单条一致性\n")
    r = client.post("/api/v1/history/import", content=csv_text.encode(),
                    headers={**auth("screener"), "content-type": "text/csv"})
    assert r.status_code == 200 and r.json()["imported"] == 2, r.text
    return ids


def test_every_batch_item_equals_its_single_screen(
    client: TestClient, auth: Callable[[str], dict[str, str]]
) -> None:
    items = sample(obligors=_obligors_with_history(client, auth))
    headers = auth("system")
    r = client.post("/api/v1/screen/batch", json={"items": items}, headers=headers)
    assert r.status_code == 200, r.text[:500]
    batch = r.json()["results"]
    assert len(batch) == len(items)
    differ: list[str] = []
    answered = 0
    for i, item in enumerate(items):
        single = client.post("/api/v1/screen", json=item, headers=headers)
        if single.status_code == 200:
            answered += 1
            expected = single.json()
        else:
            # A bad item is the same problem in its batch slot, its field under items[i].
            expected = single.json()
            for e in expected.get("errors", []):
                e["field"] = f"items[{i}].{e['field']}"
            expected.pop("instance", None)
            batch[i].pop("instance", None)
        if batch[i] != expected:
            keys = sorted(k for k in set(expected) | set(batch[i])
                          if expected.get(k) != batch[i].get(k))
            differ.append(f"item {i} ({item['location'].get('crs')}, "
                          f"{item['location']['geometry']['type']}): differs in {keys}")
    assert not differ, f"{len(differ)} of {len(items)} items differ:\n" + "\n".join(differ[:20])
    # Nearly all of the sample is screenable (a few GK or BD09 shapes may fall outside range).
    assert answered > 0.9 * len(items), answered
    repeats = [r for r in batch if "repeat_within_2_years" in
               ((r.get("minor") or {}).get("override_reasons") or ())]
    assert len(repeats) >= 5  # the obligor history really reached the batch answers


def test_a_gcj02_item_is_located_where_the_published_formula_puts_it(
    client: TestClient, auth: Callable[[str], dict[str, str]]
) -> None:
    items = [it for it in sample() if it["location"].get("crs") == "GCJ02"]
    assert len(items) >= 80
    r = client.post("/api/v1/screen/batch", json={"items": items}, headers=auth("system"))
    worst = 0.0
    for item, result in zip(items, r.json()["results"], strict=True):
        sent = item["location"]["geometry"]["coordinates"]
        got = result["location"]["geometry"]["coordinates"]
        flat_sent, flat_got = _flatten(sent), _flatten(got)
        assert len(flat_sent) == len(flat_got)
        for s, g in zip(flat_sent, flat_got, strict=True):
            worst = max(worst, gcj02_error_m(s, g))
    assert worst < 0.5, f"a GCJ-02 vertex is {worst:.3f} m from its converted position"


def _flatten(coords: Any) -> list[tuple[float, float]]:
    if isinstance(coords[0], (int, float)):
        return [(float(coords[0]), float(coords[1]))]
    return [p for c in coords for p in _flatten(c)]
