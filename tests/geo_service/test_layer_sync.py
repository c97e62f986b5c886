"""A server follows activations made by another process (another worker, the CLI)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box
from support import make_settings

from geo_service import layer_admin
from geo_service.app import create_app
from geo_service.auth import create_token
from geo_service.layer_store import get_or_create_series, mark_active, store_version
from geo_service.services import Services
from layers.model import LayerFeature

RED = box(117.40, 49.55, 117.46, 49.62)  # around 满洲里


@pytest.fixture
def two_processes(tmp_path: Path) -> Iterator[tuple[Services, Services]]:
    """Two services over one database, as two server workers would be."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first = Services.open(make_settings(url))
    second = Services.open(make_settings(url, layer_sync_interval_s=3600))
    try:
        yield first, second
    finally:
        first.close()
        second.close()


def _store_red_line(services: Services, name: str = "red_line") -> int:
    with services.sessions() as session:
        series = get_or_create_series(session, name, "red_line", "生态保护红线（测试）")
        version = store_version(
            session,
            series=series,
            uploaded_by="test",
            features=[LayerFeature(0, "RL1", "测试红线", RED)],
        )
        session.commit()
        return version.id


def test_activation_elsewhere_reaches_this_process(two_processes) -> None:
    first, second = two_processes
    version_id = _store_red_line(first)
    layer_admin.activate_version(first, version_id, "analyst:test")
    assert first.overlay.layer_versions["red_line"] == version_id
    assert "red_line" not in second.overlay.layer_versions
    assert second.sync_layers() is False  # throttled: checked at open, interval not yet over
    assert second.sync_layers(force=True) is True
    assert second.overlay.layer_versions["red_line"] == version_id
    assert second.sync_layers(force=True) is False  # nothing new


def test_retirement_elsewhere_reaches_this_process(two_processes) -> None:
    first, second = two_processes
    v1 = _store_red_line(first)
    layer_admin.activate_version(first, v1, "analyst:test")
    second.sync_layers(force=True)
    with first.sessions() as session:  # a series taken out of service (no active version)
        from geo_service.db.models import LayerVersion

        session.get(LayerVersion, v1).status = "retired"  # type: ignore[union-attr]
        session.commit()
    assert second.sync_layers(force=True) is True
    assert "red_line" not in second.overlay.layer_versions


def test_requests_see_a_cli_activation_without_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    server = Services.open(make_settings(url, layer_sync_interval_s=0.01))
    cli = Services.open(make_settings(url))
    try:
        with server.sessions() as session:
            token = create_token(session, "screener", "测试")
        body = {"location": {"geometry": {"type": "Point", "coordinates": [117.43, 49.59]}}}
        headers = {"Authorization": f"Bearer {token}"}
        with TestClient(create_app(services=server)) as client:
            before = client.post("/api/v1/screen", json=body, headers=headers).json()
            assert before["sensitive_areas"]["red_line"] == []
            version_id = _store_red_line(cli)
            with cli.sessions() as session:  # what `geo-screen layers activate` writes
                from geo_service.db.models import LayerVersion

                mark_active(session, session.get(LayerVersion, version_id), "cli")
                session.commit()
            # Each request past the sync interval checks the database; wait on that, not a clock.
            deadline = time.monotonic() + 10
            while True:
                after = client.post("/api/v1/screen", json=body, headers=headers).json()
                if after["sensitive_areas"]["red_line"] or time.monotonic() > deadline:
                    break
        assert [h["name"] for h in after["sensitive_areas"]["red_line"]] == ["测试红线"]
        assert after["layer_versions"]["red_line"] == version_id
    finally:
        server.close()
        cli.close()


def test_a_request_never_waits_for_the_layer_sync(tmp_path: Path) -> None:
    """The sync (and the load of a version activated elsewhere: seconds for a large red line)
    runs in a thread of its own; requests go on with the snapshot they have meanwhile. Shown
    without a clock: the sync is held mid-way while a request is answered."""
    url = f"sqlite:///{tmp_path / 'slow.db'}"
    server = Services.open(make_settings(url, layer_sync_interval_s=0.01))
    cli = Services.open(make_settings(url))
    entered, release, finished = threading.Event(), threading.Event(), threading.Event()
    real_sync = server.sync_layers

    def held_sync(*, force: bool = False) -> bool:
        entered.set()
        release.wait(timeout=10)  # a sync run inline would hold the request this long
        try:
            return real_sync(force=force)
        finally:
            finished.set()

    server.sync_layers = held_sync  # type: ignore[method-assign]
    try:
        with server.sessions() as session:
            token = create_token(session, "screener", "测试")
        body = {"location": {"geometry": {"type": "Point", "coordinates": [117.43, 49.59]}}}
        headers = {"Authorization": f"Bearer {token}"}
        version_id = _store_red_line(cli)
        with cli.sessions() as session:
            from geo_service.db.models import LayerVersion

            mark_active(session, session.get(LayerVersion, version_id), "cli")
            session.commit()
        time.sleep(0.05)  # past the sync interval
        with TestClient(create_app(services=server)) as client:
            first = client.post("/api/v1/screen", json=body, headers=headers)
            assert entered.wait(timeout=30), "the request started a sync"
            during = client.post("/api/v1/screen", json=body, headers=headers)
            assert not finished.is_set(), "both requests were answered while the sync was held"
            assert first.status_code == during.status_code == 200
            assert during.json()["sensitive_areas"]["red_line"] == []  # the old snapshot
            release.set()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                after = client.post("/api/v1/screen", json=body, headers=headers).json()
                if after["sensitive_areas"]["red_line"]:
                    break
                time.sleep(0.05)
        assert [h["name"] for h in after["sensitive_areas"]["red_line"]] == ["测试红线"]
    finally:
        release.set()
        server.close()
        cli.close()
