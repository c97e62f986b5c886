"""Inputs that once made the API answer 500, on both backends: each must now be a 4xx
problem+json naming the field (or, where the input is acceptable, a success).

Found by the OpenAPI fuzzer (test_fuzz_openapi.py) and by hand. PostgreSQL refuses NUL bytes
and lone surrogates in text and int4 ids beyond 2^31 − 1, where SQLite does not, so every
case runs on both.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from api_helpers import POINT_HOHHOT
from fastapi.testclient import TestClient

from geo_service.app import create_app
from geo_service.services import Services

Auth = Callable[[str], dict[str, str]]
JSON = {"content-type": "application/json"}
OK_LOCATION = {"geometry": POINT_HOHHOT}
POLYGON = {
    "type": "Polygon",
    "coordinates": [[[111.0, 40.0], [112.0, 40.0], [112.0, 41.0], [111.0, 40.0]]],
}
HISTORY_HEADER = b"obligor_id,damage_date,case_ref,note\n"


def _lead(**fields: Any) -> dict[str, Any]:
    return {"location": OK_LOCATION, **fields}


def _geojson(properties: dict[str, Any] | None = None) -> bytes:
    feature = {"type": "Feature", "geometry": POLYGON, "properties": properties or {"name": "x"}}
    return json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()


def _zip(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buffer.getvalue()


# (case id, method, url, request kwargs, expected status, field the first error names)
CASES: list[tuple[str, str, str, dict[str, Any], int, str]] = [
    # Ids beyond int4: psycopg NumericValueOutOfRange / SQLite OverflowError before.
    ("lead-id-over-int64", "GET", "/api/v1/leads/99999999999999999999", {}, 422, "lead_id"),
    ("lead-id-over-int32", "GET", "/api/v1/leads/2147483648", {}, 422, "lead_id"),
    ("rescreen-id-over-int32", "POST", "/api/v1/leads/2147483648/rescreen", {}, 422, "lead_id"),
    ("dossier-id-over-int32", "GET", "/api/v1/leads/2147483648/dossier", {}, 422, "lead_id"),
    (
        "filing-id-over-int32",
        "POST",
        "/api/v1/leads/2147483648/filing",
        {"json": {"decision": "file", "reasons": "r", "approved_by": "a"}},
        422,
        "lead_id",
    ),
    ("version-id-over-int64", "GET", "/api/v1/layers/versions/9223372036854775808", {}, 422,
     "version_id"),
    ("activate-id-over-int32", "POST", "/api/v1/layers/versions/2147483648/activate", {}, 422,
     "version_id"),
    ("features-id-over-int32", "GET", "/api/v1/layers/versions/2147483648/features", {}, 422,
     "version_id"),
    ("impact-id-over-int32", "GET", "/api/v1/layers/versions/2147483648/impact", {}, 422,
     "version_id"),
    ("diff-from-over-int32", "GET", "/api/v1/layers/diff?from=2147483648&to=1", {}, 422, "from"),
    ("ogc-feature-over-int64", "GET", "/ogc/collections/league/items/99999999999999999999", {},
     422, "feature_id"),
    ("leads-offset-over-int64", "GET", "/api/v1/leads?offset=99999999999999999999", {}, 422,
     "offset"),
    ("leads-offset-int64-edge", "GET", "/api/v1/leads?offset=9223372036854775808", {}, 422,
     "offset"),
    # NUL bytes and lone surrogates: PostgreSQL refuses them in text (DataError before).
    ("leads-obligor-filter-nul", "GET", "/api/v1/leads?obligor_id=a%00b", {}, 422, "obligor_id"),
    ("lead-title-nul", "POST", "/api/v1/leads", {"json": _lead(title="a\x00b")}, 422, "title"),
    ("lead-description-nul", "POST", "/api/v1/leads", {"json": _lead(description="x\x00")}, 422,
     "description"),
    (
        "lead-source-system-nul",
        "POST",
        "/api/v1/leads",
        {"json": _lead(source_system="s\x00", external_ref="r")},
        422,
        "source_system",
    ),
    ("lead-obligor-name-nul", "POST", "/api/v1/leads", {"json": _lead(obligor={"name": "x\x00"})},
     422, "obligor.name"),
    ("lead-title-escape-control", "POST", "/api/v1/leads", {"json": _lead(title="\x1b[31m")}, 422,
     "title"),
    (
        "lead-title-lone-surrogate",
        "POST",
        "/api/v1/leads",
        {"content": json.dumps(_lead(title="\ud800")), "headers": JSON},
        422,
        "title",
    ),
    (
        "lead-geometry-member-surrogate",
        "POST",
        "/api/v1/leads",
        {"content": json.dumps({"location": {"geometry": {**POINT_HOHHOT, "x\x00": "\ud800"}}}),
         "headers": JSON},
        422,
        "location.geometry",
    ),
    (
        "filing-reasons-nul",
        "POST",
        "/api/v1/leads/{lead}/filing",
        {"json": {"decision": "file", "reasons": "\x00", "approved_by": "a"}},
        422,
        "reasons",
    ),
    (
        "filing-approved-by-nul",
        "POST",
        "/api/v1/leads/{lead}/filing",
        {"json": {"decision": "file", "reasons": "r", "approved_by": "a\x00"}},
        422,
        "approved_by",
    ),
    (
        "history-case-ref-nul",
        "POST",
        "/api/v1/history/import",
        {"content": HISTORY_HEADER + b"91150100MA0N0C8A1H,2025-01-01,a\x00b,n\x00\n",
         "headers": {"content-type": "text/csv"}},
        200,
        "",
    ),
    # Dates the calendar arithmetic cannot handle (OverflowError / "period does not end").
    ("received-on-year-1", "POST", "/api/v1/screen",
     {"json": _lead(received_on="0001-01-01")}, 422, "received_on"),
    ("occurred-on-year-1", "POST", "/api/v1/screen",
     {"json": _lead(occurred_on="0001-01-01", received_on="2026-01-02")}, 422, "occurred_on"),
    ("prior-date-year-1", "POST", "/api/v1/screen",
     {"json": _lead(prior_damage_dates=["0001-01-01"])}, 422, "prior_damage_dates"),
    (
        "appraisal-period-endless",
        "POST",
        "/api/v1/screen",
        {"json": _lead(received_on="2026-01-05",
                       appraisal_periods=[{"start": "1990-01-01", "end": "2100-12-31"}])},
        422,
        "appraisal_periods",
    ),
    (
        "batch-item-year-1",
        "POST",
        "/api/v1/screen/batch",
        {"json": {"items": [_lead(received_on="0001-01-01")]}},
        200,
        "",
    ),
    # JSON integers too long for a float in coordinates (OverflowError in isfinite before).
    (
        "coordinate-int-overflow",
        "POST",
        "/api/v1/screen",
        {"json": {"location": {"geometry": {"type": "Point", "coordinates": [10**400, 40]}}}},
        422,
        "location.geometry.coordinates[0]",
    ),
    (
        "batch-coordinate-int-overflow",
        "POST",
        "/api/v1/screen/batch",
        {"json": {"items": [{"location": {"geometry": {"type": "Point",
                                                       "coordinates": [111, 10**400]}}}]}},
        200,
        "",
    ),
    # Multipart bodies the framework cannot parse: 400 without a field before.
    ("layers-multipart-no-boundary", "POST", "/api/v1/layers",
     {"content": b"junk", "headers": {"content-type": "multipart/form-data"}}, 400, "body"),
    ("history-multipart-no-boundary", "POST", "/api/v1/history/import",
     {"content": b"junk", "headers": {"content-type": "multipart/form-data"}}, 400, "body"),
    # Layer uploads.
    ("upload-filename-dotdot", "POST", "/api/v1/layers",
     {"files": {"file": ("..", b"{}")}, "data": {"kind": "red_line"}}, 422, "file"),
    ("upload-encoding-nul", "POST", "/api/v1/layers",
     {"files": {"file": ("a.geojson", _geojson())}, "data": {"kind": "red_line",
                                                              "encoding": "\x00"}},
     422, "encoding"),
    ("upload-name-nul", "POST", "/api/v1/layers",
     {"files": {"file": ("a.geojson", _geojson())}, "data": {"kind": "red_line", "name": "n\x00"}},
     422, "name"),
    ("upload-title-nul", "POST", "/api/v1/layers",
     {"files": {"file": ("a.geojson", _geojson())}, "data": {"kind": "red_line",
                                                              "title": "t\x00"}},
     422, "title"),
    ("upload-empty", "POST", "/api/v1/layers",
     {"files": {"file": ("a.zip", b"")}, "data": {"kind": "red_line"}}, 422, "file"),
    ("upload-random-bytes-zip", "POST", "/api/v1/layers",
     {"files": {"file": ("a.zip", bytes(range(256)) * 20)}, "data": {"kind": "red_line"}},
     422, "file"),
    ("upload-random-bytes-gpkg", "POST", "/api/v1/layers",
     {"files": {"file": ("a.gpkg", bytes(range(256)) * 20)}, "data": {"kind": "red_line"}},
     422, "file"),
    ("upload-zip-many-entries", "POST", "/api/v1/layers",
     {"files": {"file": ("many.zip", _zip({f"f{i}.txt": b"" for i in range(10_001)}))},
      "data": {"kind": "red_line"}}, 413, "file"),
    ("upload-zip-shp-only", "POST", "/api/v1/layers",
     {"files": {"file": ("shp.zip", _zip({"a.shp": bytes(100)}))}, "data": {"kind": "red_line"}},
     422, "file"),
    ("upload-zip-bomb", "POST", "/api/v1/layers",
     {"files": {"file": ("bomb.zip", _zip({"bomb.geojson": b" " * 50_000_000}))},
      "data": {"kind": "red_line"}}, 413, "file"),
]


@pytest.fixture
def lead_id(client: TestClient, auth: Auth) -> int:
    r = client.post("/api/v1/leads", json=_lead(), headers=auth("admin"))
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


@pytest.mark.parametrize(
    ("method", "url", "kwargs", "status", "field"),
    [pytest.param(*c[1:], id=c[0]) for c in CASES],
)
def test_former_500(
    client: TestClient,
    auth: Auth,
    lead_id: int,
    method: str,
    url: str,
    kwargs: dict[str, Any],
    status: int,
    field: str,
) -> None:
    kwargs = dict(kwargs)
    headers = {**auth("admin"), **kwargs.pop("headers", {})}
    r = client.request(method, url.format(lead=lead_id), headers=headers, **kwargs)
    assert r.status_code == status, r.text
    body = r.json()
    if status >= 400:
        assert r.headers["content-type"].startswith("application/problem+json")
        assert body["status"] == status
        assert body["errors"][0]["field"] == field, body
        assert body["errors"][0]["message"]
    elif "results" in body:  # a batch: the bad item is a problem in its slot
        problem = body["results"][0]
        assert problem["status"] == 422, problem
        assert problem["errors"][0]["field"].startswith("items[0]."), problem
    elif "rejected" in body:  # a history import: the bad row is rejected, not stored
        assert body["rejected"] and "case_ref" in json.dumps(body["rejected"], ensure_ascii=False)


def test_control_character_message_is_chinese_and_points_at_it(
    client: TestClient, auth: Auth
) -> None:
    r = client.post("/api/v1/screen", json={"location": {"admin_name": "阿左\x07旗"}},
                    headers=auth("admin"))
    assert r.status_code == 422
    error = r.json()["errors"][0]
    assert error["field"] == "location.admin_name"
    assert "U+0007" in error["message"] and "第 3 个字符" in error["message"]


def test_ordinary_text_still_accepted(client: TestClient, auth: Auth) -> None:
    """Tabs, line breaks and any printable Unicode stay valid in free text."""
    r = client.post(
        "/api/v1/screen",
        json={"location": OK_LOCATION, "obligor": {"name": "某某公司\t(分公司)"}},
        headers=auth("admin"),
    )
    assert r.status_code == 200, r.text
    r = client.post("/api/v1/leads", json=_lead(title="标题 ✓", description="第一行\r\n第二行"),
                    headers=auth("admin"))
    assert r.status_code == 201, r.text
    assert r.json()["description"] == "第一行\r\n第二行"


def test_million_vertex_line_refused_with_limit(services: Services, auth: Auth) -> None:
    coords = [[111 + i * 1e-7, 40 + (i % 7) * 1e-7] for i in range(1_000_000)]
    body = {"location": {"geometry": {"type": "LineString", "coordinates": coords}}}
    # ~40 MB: the body cap (GEO_SCREEN_MAX_JSON_BYTES, 20 MB) refuses it before parsing …
    with TestClient(create_app(services=services)) as client:
        r = client.post("/api/v1/screen", json=body, headers=auth("admin"))
    assert r.status_code == 413
    assert r.json()["setting"] == "GEO_SCREEN_MAX_JSON_BYTES"
    # … and with a larger cap the vertex limit names the field.
    roomy = services.settings.model_copy(update={"max_json_bytes": 100_000_000})
    with TestClient(create_app(roomy, services=services)) as client:
        r = client.post("/api/v1/screen", json=body, headers=auth("admin"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "location.geometry.coordinates"
    assert "顶点过多" in r.json()["errors"][0]["message"]
