"""A township layer loaded the way an analyst loads it refines text addresses in screening,
on both backends (a service of its own: activating layers must not move other tests)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from layer_services import PG_ADMIN_URL, fresh_services

from geo_service import layer_admin
from geo_service.errors import InvalidInput
from geo_service.pipeline import screen
from geo_service.schemas import ScreenRequest
from geo_service.services import Services

TOWNSHIPS = Path(__file__).parents[1] / "data" / "geocode_corpus_townships.geojson"


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def svc(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Services]:
    with fresh_services(request.param, tmp_path_factory.mktemp("geocode"), PG_ADMIN_URL) as s:
        yield s


def _screen(services: Services, text: str) -> dict:
    request = ScreenRequest.model_validate({"location": {"text": text}})
    return screen(services, request, None).decision


def test_loaded_township_layer_refines_screening(svc: Services, tmp_path: Path) -> None:
    before = _screen(svc, "准格尔旗薛家湾镇某煤矿排土场北侧")["location_resolution"]
    assert before["unit"]["code"] == "150622"
    assert before["unresolved_parts"] == ["薛家湾镇"]

    upload = tmp_path / "townships.geojson"
    shutil.copy(TOWNSHIPS, upload)
    params = layer_admin.UploadParams(kind="township", name="zhunge_townships")
    summary, report = layer_admin.upload_layer(svc, upload, params, "test")
    assert report["feature_count"] == 2 and not report["rejected"]
    layer_admin.activate_version(svc, summary["id"], "test")

    decision = _screen(svc, "准格尔旗薛家湾镇某煤矿排土场北侧")
    after = decision["location_resolution"]
    assert after["unit"] == {"level": "township", "code": "150622100", "name": "薛家湾镇"}
    assert after["unresolved_parts"] == []
    assert after["precision_m"] < before["precision_m"]
    # still a coarse location for the rulebook: the league decides, never a guess inside it
    assert decision["jurisdiction"]["rights_holder"]["code"] == "150600"


def test_township_codes_must_nest(svc: Services, tmp_path: Path) -> None:
    bad = tmp_path / "bad.geojson"
    bad.write_text(
        TOWNSHIPS.read_text(encoding="utf-8")
        .replace("150622100", "440103100")
        .replace("150622104", "1506221"),
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput) as refused:  # nothing usable: refused, nothing stored
        layer_admin.upload_layer(
            svc, bad, layer_admin.UploadParams(kind="township", name="bad_towns"), "test"
        )
    assert "前 6 位是内蒙古的旗县代码 2 个" in refused.value.detail
