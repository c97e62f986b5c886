"""Well-shaped GeoJSON with hostile numbers, screened and stored as leads on both backends.

The OpenAPI fuzzer sees `location.geometry` as a free-form object and rarely builds a geometry
that gets past the parser; this one always does: every type, positions anywhere from tiny to
beyond float range (JSON integers are unbounded), optional elevations, degenerate rings, each
in a random input CRS. Whatever comes in, the answer is a decision or a 422 naming a field
under `location` — and a stored lead never fails in the database (PostGIS included).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

Auth = Callable[[str], dict[str, str]]

numbers = st.one_of(
    st.floats(min_value=70, max_value=130),  # around China
    st.floats(min_value=30, max_value=55),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, -0.0, 5e-324, 1.7976931348623157e308, 10**400, -(10**400), 180, -180,
                     90, -90, 180.0000001, 500000, 4_500_000]),
)
positions = st.one_of(
    st.tuples(st.floats(97, 126), st.floats(37, 53)).map(list),  # Inner Mongolia's bbox
    st.lists(numbers, min_size=2, max_size=2),
    st.lists(numbers, min_size=3, max_size=3),
)
lines = st.lists(positions, min_size=1, max_size=6)


def _ring(points: list[list[Any]], close: bool) -> list[list[Any]]:
    return [*points, points[0]] if close and points else points


rings = st.builds(_ring, st.lists(positions, min_size=1, max_size=6), st.booleans())
polygons = st.lists(rings, min_size=1, max_size=2)

simple_geometries = st.one_of(
    st.builds(lambda c: {"type": "Point", "coordinates": c}, positions),
    st.builds(lambda c: {"type": "MultiPoint", "coordinates": c}, lines),
    st.builds(lambda c: {"type": "LineString", "coordinates": c}, lines),
    st.builds(lambda c: {"type": "MultiLineString", "coordinates": c}, st.lists(lines, max_size=3)),
    st.builds(lambda c: {"type": "Polygon", "coordinates": c}, polygons),
    st.builds(lambda c: {"type": "MultiPolygon", "coordinates": c},
              st.lists(polygons, max_size=2)),
)
geometries = st.one_of(
    simple_geometries,
    st.builds(lambda g: {"type": "GeometryCollection", "geometries": g},
              st.lists(simple_geometries, max_size=3)),
)
crs_values = st.sampled_from(
    [None, "EPSG:4490", "EPSG:4326", "GCJ02", "BD09", "EPSG:4549", "EPSG:4512", "EPSG:3857",
     "EPSG:32649", "EPSG:2154"]
)


@settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(geometry=geometries, crs=crs_values, act=st.one_of(st.none(), geometries))
def test_hostile_geometry_is_decided_or_refused(
    client: TestClient, auth: Auth, geometry: dict[str, Any], crs: str | None,
    act: dict[str, Any] | None,
) -> None:
    location: dict[str, Any] = {"geometry": geometry}
    if crs:
        location["crs"] = crs
    body: dict[str, Any] = {"location": location}
    if act is not None:
        body["act_location"] = {"geometry": act}
    content = json.dumps(body).encode()
    headers = {**auth("admin"), "content-type": "application/json"}
    screened = client.post("/api/v1/screen", content=content, headers=headers)
    stored = client.post("/api/v1/leads", content=content, headers=headers)
    for r in (screened, stored):
        assert r.status_code in (200, 201, 422), r.text
        if r.status_code == 422:
            assert r.headers["content-type"].startswith("application/problem+json")
            fields = [e["field"] for e in r.json()["errors"]]
            assert fields and all(
                f.startswith(("location", "act_location")) for f in fields
            ), r.json()
    # Screening and storing agree: a location the screen accepts is one a lead can be made of.
    assert (screened.status_code == 200) == (stored.status_code == 201), (
        screened.text[:300], stored.text[:300]
    )
