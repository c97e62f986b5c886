"""Never a 500: a table of bad bodies and generated junk all answer 4xx problem+json with fields."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from api_helpers import POINT_HOHHOT
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

Auth = Callable[[str], dict[str, str]]
OK = {"location": {"geometry": POINT_HOHHOT}}
BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[111, 40], [112, 41], [112, 40], [111, 41], [111, 40]]],
}
UNCLOSED = {"type": "Polygon", "coordinates": [[[111, 40], [112, 40], [112, 41], [111, 41]]]}

# (raw body text, the field the first error must name)
BAD_BODIES: list[tuple[str, str]] = [
    ("{}", "location"),
    ("[]", "body"),
    ('"text"', "body"),
    ("null", "body"),
    ("42", "body"),
    ("{", "body"),
    ("[" * 50_000 + "]" * 50_000, "body"),
    ("", "body"),
    ('{"location": {}}', "location"),
    ('{"location": null}', "location"),
    ('{"location": "呼和浩特"}', "location"),
    (
        '{"location": {"geometry": {"type": "Point", "coordinates": [NaN, 40]}}}',
        "location.geometry.coordinates[0]",
    ),
    (
        '{"location": {"geometry": {"type": "Point", "coordinates": [111, Infinity]}}}',
        "location.geometry.coordinates[1]",
    ),
    (
        '{"location": {"geometry": {"type": "Point", "coordinates": [111, -Infinity]}}}',
        "location.geometry.coordinates[1]",
    ),
    (
        '{"location": {"geometry": {"type": "Point", "coordinates": [111, 40]}}, '
        '"damage_amount_yuan": NaN}',
        "damage_amount_yuan",
    ),
    (json.dumps({"location": {"geometry": POINT_HOHHOT, "admin_name": "托县"}}), "location"),
    (json.dumps({"location": {"geometry": POINT_HOHHOT, "crs": "EPSG:0"}}), "location.crs"),
    (json.dumps({"location": {"geometry": POINT_HOHHOT, "crs": 4490}}), "location.crs"),
    (
        json.dumps({"location": {"geometry": POINT_HOHHOT, "precision_m": -5}}),
        "location.precision_m",
    ),
    (json.dumps({"location": {"geometry": BOWTIE}}), "location.geometry"),
    (json.dumps({"location": {"geometry": UNCLOSED}}), "location.geometry.coordinates[0]"),
    (
        json.dumps({"location": {"geometry": {"type": "Polygon", "coordinates": [[]]}}}),
        "location.geometry.coordinates[0]",
    ),
    (
        json.dumps({"location": {"geometry": {"type": "Point", "coordinates": []}}}),
        "location.geometry.coordinates",
    ),
    (
        json.dumps({"location": {"geometry": {"type": "Point", "coordinates": [111, 95]}}}),
        "location.geometry.coordinates",
    ),
    (
        json.dumps(
            {
                "location": {"admin_name": "托县"},
                "act_location": {"geometry": {"type": "Point", "coordinates": [40, 111]}},
            }
        ),
        "act_location.geometry.coordinates",
    ),
    (json.dumps({**OK, "damage_amount_yuan": -1}), "damage_amount_yuan"),
    (json.dumps({**OK, "damage_amount_yuan": "三千"}), "damage_amount_yuan"),
    (json.dumps({**OK, "received_on": "2026/13/01"}), "received_on"),
    (json.dumps({**OK, "occurred_on": "2999-12-31"}), "occurred_on"),
    (json.dumps({**OK, "occurred_on": "2026-09-10", "received_on": "2026-09-01"}), "body"),
    (json.dumps({**OK, "incident_grade": "huge"}), "incident_grade"),
    (json.dumps({**OK, "source_channel": "twitter"}), "source_channel"),
    (json.dumps({**OK, "penalty_department": "police"}), "penalty_department"),
    (json.dumps({**OK, "obligor": {"id": "123"}}), "obligor.id"),
    (json.dumps({**OK, "obligor": "某公司"}), "obligor"),
    (json.dumps({**OK, "prior_damage_dates": ["2999-01-01"]}), "prior_damage_dates"),
    (json.dumps({**OK, "prior_damage_dates": "2025-01-01"}), "prior_damage_dates"),
    (json.dumps({**OK, "no_obvious_impact": "maybe"}), "no_obvious_impact"),
    (json.dumps({**OK, "unknown_field": 1}), "unknown_field"),
    (
        json.dumps({**OK, "appraisal_periods": [{"start": "2026-09-10", "end": "2026-09-01"}]}),
        "appraisal_periods[0]",
    ),
]


def _assert_problem(r: Any, field: str | None = None) -> None:
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == r.status_code and body["title"] and body["detail"]
    assert body["errors"], body
    for e in body["errors"]:
        assert isinstance(e["field"], str) and e["field"]
        assert isinstance(e["message"], str) and e["message"]
    if field is not None:
        assert body["errors"][0]["field"] == field, body["errors"]


@pytest.mark.parametrize(("raw", "field"), BAD_BODIES, ids=range(len(BAD_BODIES)))
def test_bad_bodies(client: TestClient, auth: Auth, raw: str, field: str) -> None:
    r = client.post(
        "/api/v1/screen",
        content=raw.encode(),
        headers={**auth("screener"), "content-type": "application/json"},
    )
    _assert_problem(r, field)


ENCODINGS: dict[str, Callable[[Any], bytes]] = {
    "utf-8 with a byte-order mark": lambda doc: b"\xef\xbb\xbf" + json.dumps(doc).encode(),
    "utf-16": lambda doc: json.dumps(doc).encode("utf-16"),
}


@pytest.mark.parametrize("encode", ENCODINGS.values(), ids=ENCODINGS.keys())
def test_screen_reads_json_as_every_route_does(
    client: TestClient, auth: Auth, encode: Callable[[Any], bytes]
) -> None:
    """POST /screen parses its body itself (a fast path); what json.loads reads as JSON, as
    FastAPI does for every other route, it still reads, and the batch endpoint agrees."""
    headers = {**auth("screener"), "content-type": "application/json"}
    r = client.post("/api/v1/screen", content=encode(OK), headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["jurisdiction"]["rights_holder"]["code"] == "150100"
    batch = client.post("/api/v1/screen/batch", content=encode({"items": [OK]}), headers=headers)
    assert batch.status_code == 200, batch.text
    assert batch.json()["results"][0]["jurisdiction"] == r.json()["jurisdiction"]


def test_undecodable_bytes_are_a_named_422(client: TestClient, auth: Auth) -> None:
    r = client.post(
        "/api/v1/screen",
        content=b'{"location": {"admin_name": "\xe9"}}',  # Latin-1, not UTF-8
        headers={**auth("screener"), "content-type": "application/json"},
    )
    _assert_problem(r, "body")


def test_enum_errors_list_the_allowed_values(client: TestClient, auth: Auth) -> None:
    r = client.post(
        "/api/v1/screen", json={**OK, "incident_grade": "huge"}, headers=auth("screener")
    )
    message = r.json()["errors"][0]["message"]
    for value in ("general", "larger", "major", "especially_major"):
        assert value in message


def test_unknown_field_lists_the_known_ones(client: TestClient, auth: Auth) -> None:
    r = client.post("/api/v1/screen", json={"locaton": OK["location"]}, headers=auth("screener"))
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert "locaton" in errors and "location" in errors["locaton"]


json_values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)
FIELDS = [
    "location",
    "act_location",
    "case_type",
    "received_on",
    "damage_amount_yuan",
    "obligor",
    "prior_damage_dates",
    "incident_grade",
    "no_obvious_impact",
]
bodies = st.one_of(
    json_values,
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=4),
    st.builds(
        lambda g, crs: {"location": {"geometry": g, "crs": crs}},
        st.dictionaries(
            st.sampled_from(["type", "coordinates", "geometries"]), json_values, max_size=3
        ),
        st.one_of(st.none(), st.sampled_from(["GCJ02", "BD09", "EPSG:4549"]), st.text()),
    ),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies)
def test_generated_junk_never_500(client: TestClient, auth: Auth, body: Any) -> None:
    r = client.post(
        "/api/v1/screen",
        content=json.dumps(body).encode(),
        headers={**auth("screener"), "content-type": "application/json"},
    )
    if r.status_code == 200:
        assert "jurisdiction" in r.json()
    else:
        _assert_problem(r)
