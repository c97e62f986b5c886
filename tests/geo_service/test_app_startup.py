"""What a served app prepares at startup, before the first request asks for it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from support import make_settings

from geo_service.app import create_app
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
