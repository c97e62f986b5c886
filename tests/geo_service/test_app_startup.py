"""What a served app prepares at startup, before the first request asks for it."""

from __future__ import annotations

import gc
import json
import threading
import time
import weakref
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from support import make_settings

from geo_service import layer_admin
from geo_service.app import create_app
from geo_service.services import SERVER_GC_THRESHOLDS, Services, settle_heap
from layers.textloc import address


def test_a_served_app_reads_the_address_dictionary_in_the_background(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(address, "_INDEX", None)  # as in a fresh worker process
    settings = make_settings(f"sqlite:///{tmp_path / 'startup.db'}", load_builtin_layers=False)
    with TestClient(create_app(settings)) as client:  # owns its services, as `serve` does
        assert client.get("/api/v1/health").status_code == 200
        deadline = time.monotonic() + 60
        while address._INDEX is None and time.monotonic() < deadline:
            time.sleep(0.1)  # no request has asked for an address
        assert address._INDEX is not None


class _Cycle:
    """Garbage only the cyclic collector can free (it refers to itself)."""

    def __init__(self) -> None:
        self.me = self


def test_a_served_app_keeps_its_long_lived_objects_out_of_the_collectors_sight(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server freezes what lives as long as it (layers, indexes, the address dictionary), so a
    batch's short-lived objects do not make every full collection walk them again; a layer
    swap settles the heap again, so what the swap let go is still collected, never kept. Its
    collector thresholds (for a batch's millions of allocations) are put back when it stops."""
    monkeypatch.setattr(address, "_INDEX", None)
    settings = make_settings(f"sqlite:///{tmp_path / 'heap.db'}")
    gc.unfreeze()
    before = gc.get_threshold()
    try:
        with TestClient(create_app(settings)) as client:
            services = client.app.state.services  # type: ignore[attr-defined]
            assert services.keeps_heap_settled
            assert gc.get_threshold() == SERVER_GC_THRESHOLDS
            for thread in threading.enumerate():  # the address dictionary settles it too
                if thread.name == "address-index":
                    thread.join(timeout=120)
            snapshot = services.overlay._snapshot
            # frozen objects are not in the collector's generations any more
            assert gc.get_freeze_count() > 100_000
            assert not any(o is snapshot for o in gc.get_objects())

            doomed = _Cycle()
            dead = weakref.ref(doomed)
            settle_heap()  # frozen with the rest, as a layer swap's old snapshot would be
            del doomed
            gc.collect()
            assert dead() is not None, "a frozen cycle is not collected until the next settle"

            upload = tmp_path / "reserve.geojson"
            upload.write_text(json.dumps({"type": "FeatureCollection", "features": [{
                "type": "Feature", "properties": {"code": "R1", "name": "某自然保护区"},
                "geometry": {"type": "Polygon", "coordinates": [[
                    [110.0, 40.0], [110.1, 40.0], [110.1, 40.1], [110.0, 40.1], [110.0, 40.0]]]},
            }]}))  # fmt: skip
            summary, _ = layer_admin.upload_layer(
                services, upload, layer_admin.UploadParams(kind="nature_reserve"), "test"
            )
            layer_admin.activate_version(services, summary["id"], "test")
            assert dead() is None, "the layer swap collected what the last freeze held"
            assert not any(o is services.overlay._snapshot for o in gc.get_objects())
        assert gc.get_threshold() == before  # put back when the server stops
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()  # the rest of the test session collects as usual


def test_an_app_given_its_services_leaves_the_collector_alone(tmp_path: Path) -> None:
    """Tests and the CLI pass their own services: nothing is frozen behind their back."""
    services = Services.open(make_settings(f"sqlite:///{tmp_path / 'given.db'}"))
    gc.unfreeze()
    try:
        with TestClient(create_app(services=services)) as client:
            assert client.get("/api/v1/health").status_code == 200
            assert not services.keeps_heap_settled
            assert gc.get_freeze_count() == 0
            assert gc.get_threshold() != SERVER_GC_THRESHOLDS
    finally:
        services.close()
