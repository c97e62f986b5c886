"""Issue 9 holes 3 and 8, written as the attacks: oversized bodies (with and without a declared
length, without a token), junk inside a geometry, and batches that would burn CPU-hours."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import resource
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from api_helpers import POINT_HULUNBUIR, unique_ref
from fastapi.testclient import TestClient
from sqlalchemy import select
from support import live_server

from geo_service.app import create_app
from geo_service.db.models import Lead
from geo_service.services import Services

Auth = Callable[[str], dict[str, str]]
MB = 1024 * 1024


def rss_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def body_stream(total: int, chunk: int = MB) -> Iterator[bytes]:
    block = b'{"items": [' + b" " * (chunk - 11)
    yield block
    sent = len(block)
    filler = b" " * chunk
    while sent < total:
        yield filler
        sent += chunk


@pytest.fixture
def live(services: Services) -> Iterator[str]:
    with live_server(create_app(services=services)) as url:
        yield url


def test_200_mb_chunked_body_without_token_is_refused_while_streaming(live: str) -> None:
    before = rss_bytes()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    started = time.monotonic()
    with httpx.Client(timeout=60) as client:
        r = client.post(
            f"{live}/api/v1/screen/batch",
            content=body_stream(200 * MB),  # no Content-Length: chunked transfer
            headers={"Content-Type": "application/json"},
        )
    elapsed = time.monotonic() - started
    assert r.status_code == 413, r.text[:300]
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["setting"] == "GEO_SCREEN_MAX_JSON_BYTES"
    assert "GEO_SCREEN_MAX_JSON_BYTES" in problem["detail"]
    assert problem["errors"][0]["field"] == "body"
    grown = rss_bytes() - before
    peak_grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - peak_before
    print(f"RSS grew by {grown / MB:.1f} MB, peak by {peak_grown / MB:.1f} MB in {elapsed:.1f} s")
    assert grown < 50 * MB, f"RSS grew by {grown / MB:.0f} MB"
    assert peak_grown < 50 * MB, f"peak RSS grew by {peak_grown / MB:.0f} MB"
    assert elapsed < 30


def test_declared_oversized_body_is_refused_before_reading(live: str) -> None:
    started = time.monotonic()
    with httpx.Client(timeout=30) as client:
        r = client.post(
            f"{live}/api/v1/leads",
            content=body_stream(200 * MB),
            headers={"Content-Type": "application/json", "Content-Length": str(200 * MB)},
        )
    assert r.status_code == 413
    assert r.json()["limit"] == 20_000_000
    assert time.monotonic() - started < 10


def test_multipart_upload_has_its_own_cap(services: Services, auth: Auth) -> None:
    settings = services.settings.model_copy(update={"max_upload_bytes": 64 * 1024})
    app = create_app(settings, services=services)
    with TestClient(app) as client:
        r = client.post(
            "/api/v1/layers",
            files={"file": ("x.geojson", b" " * (100 * 1024), "application/geo+json")},
            data={"kind": "red_line"},
            headers=auth("analyst"),
        )
    assert r.status_code == 413
    assert r.json()["setting"] == "GEO_SCREEN_MAX_UPLOAD_BYTES"


def test_a_realistic_10k_batch_fits_under_the_json_cap(services: Services) -> None:
    item = {
        "location": {
            "geometry": {"type": "Point", "coordinates": [111.123456789012, 40.123456789012]},
            "crs": "GCJ02",
            "precision_m": 30,
        },
        "case_type": "pollution_discharge",
        "obligor": {"id": "911501000000000000", "name": "某某有限公司"},
        "damage_amount_yuan": 12345.6,
    }
    import json

    size = len(json.dumps({"items": [item] * 10_000}, ensure_ascii=False).encode())
    assert size * 5 < services.settings.max_json_bytes  # ~2.7 MB against 20 MB


def test_junk_member_in_geometry_is_refused_and_nothing_is_stored(
    client: TestClient, auth: Auth, services: Services
) -> None:
    ref = unique_ref()
    junk = {**POINT_HULUNBUIR, "junk": "x" * (5 * MB)}
    r = client.post(
        "/api/v1/leads",
        json={"location": {"geometry": junk}, "source_system": "t", "external_ref": ref},
        headers=auth("screener"),
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "location.geometry"
    assert "junk" in r.json()["errors"][0]["message"]
    with services.sessions() as session:
        assert session.scalars(select(Lead).where(Lead.external_ref == ref)).first() is None


def test_feature_wrapper_is_stored_as_its_geometry_only(
    client: TestClient, auth: Auth, services: Services
) -> None:
    ref = unique_ref()
    feature = {"type": "Feature", "properties": {"note": "x" * 1000}, "geometry": POINT_HULUNBUIR}
    r = client.post(
        "/api/v1/leads",
        json={"location": {"geometry": feature}, "source_system": "t", "external_ref": ref},
        headers=auth("screener"),
    )
    assert r.status_code == 201, r.text
    with services.sessions() as session:
        lead = session.scalars(select(Lead).where(Lead.external_ref == ref)).one()
        assert lead.request["location"]["geometry"] == POINT_HULUNBUIR


WORLD = {
    "type": "Polygon",
    "coordinates": [[[-179, -85], [179, -85], [179, 85], [-179, 85], [-179, -85]]],
}


def test_twenty_world_sized_polygons_are_refused_fast(client: TestClient, auth: Auth) -> None:
    items: list[Any] = [{"location": {"geometry": WORLD}} for _ in range(20)]
    items.append({"location": {"geometry": POINT_HULUNBUIR}})
    started = time.monotonic()
    r = client.post("/api/v1/screen/batch", json={"items": items}, headers=auth("system"))
    elapsed = time.monotonic() - started
    assert r.status_code == 200
    results = r.json()["results"]
    for slot in results[:20]:
        assert slot["status"] == 422
        assert slot["errors"][0]["field"].endswith("location.geometry")
        assert "GEO_SCREEN_BATCH_MAX_ITEM_EXTENT_DEG2" in slot["detail"]
    assert "jurisdiction" in results[20]
    assert elapsed < 5, elapsed  # was 38 s


def test_declared_vertex_cost_over_budget_is_refused_before_work(
    services: Services, auth: Auth
) -> None:
    settings = services.settings.model_copy(
        update={"batch_max_vertices": 1_000, "batch_max_item_vertices": 600}
    )
    budgeted = dataclasses.replace(services, settings=settings)
    ring = [[110 + 0.001 * i, 40.0] for i in range(300)] + [[110.1, 40.1], [110.0, 40.0]]
    line = {"type": "LineString", "coordinates": ring}
    big = {"type": "LineString", "coordinates": ring * 3}
    with TestClient(create_app(settings, services=budgeted)) as client:
        r = client.post(
            "/api/v1/screen/batch",
            json={"items": [{"location": {"geometry": line}}] * 5},
            headers=auth("system"),
        )
        assert r.status_code == 413
        assert r.json()["errors"][0]["field"] == "items"
        assert "GEO_SCREEN_BATCH_MAX_VERTICES" in r.json()["detail"]
        r = client.post(
            "/api/v1/screen/batch",
            json={"items": [{"location": {"geometry": big}}, {"location": {"geometry": line}}]},
            headers=auth("system"),
        )
        assert r.status_code == 200
        first, second = r.json()["results"]
        assert first["status"] == 413
        assert first["errors"][0]["field"] == "items[0].location.geometry"
        assert "GEO_SCREEN_BATCH_MAX_ITEM_VERTICES" in first["detail"]
        assert "jurisdiction" in second


def squares(n: int, size: float = 3.0) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        x, y = 108 + (i % 5) * 0.5, 40 + (i % 3) * 0.5
        ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
        out.append({"location": {"geometry": {"type": "Polygon", "coordinates": [ring]}}})
    return out


def test_time_budget_answers_the_rest_without_screening_them(
    services: Services, auth: Auth
) -> None:
    settings = services.settings.model_copy(update={"batch_time_budget_s": 0.2})
    budgeted = dataclasses.replace(services, settings=settings)
    with TestClient(create_app(settings, services=budgeted)) as client:
        started = time.monotonic()
        r = client.post(
            "/api/v1/screen/batch", json={"items": squares(120)}, headers=auth("system")
        )
        elapsed = time.monotonic() - started
    assert r.status_code == 200
    results = r.json()["results"]
    late = [x for x in results if "jurisdiction" not in x]
    assert late, "nothing was cut by a 0.2 s budget"
    assert "jurisdiction" in results[0]
    assert all(x["status"] == 503 and "GEO_SCREEN_BATCH_TIME_BUDGET_S" in x["detail"] for x in late)
    assert elapsed < 30


def test_client_disconnect_stops_the_batch(
    services: Services, auth: Auth, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="geo_service")
    with live_server(create_app(services=services)) as url:

        def post() -> None:
            with contextlib.suppress(httpx.TimeoutException):
                httpx.post(
                    f"{url}/api/v1/screen/batch",
                    json={"items": squares(400)},
                    headers=auth("system"),
                    timeout=0.8,  # the client gives up and closes the connection
                )

        thread = threading.Thread(target=post)
        thread.start()
        thread.join()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any("client went away" in r.getMessage() for r in caplog.records):
                break
            time.sleep(0.1)
    cancelled = [r.getMessage() for r in caplog.records if "client went away" in r.getMessage()]
    assert cancelled, "the batch ran on after the client left"
