"""Settings the engine cannot honour are refused when the file is loaded, never silently ignored."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest

from geo_service.services import load_rulebook
from layers.overlay import OverlayEngine
from screening.config import GAP_SEARCH_M, RulebookConfig, RulebookConfigError


def test_the_limit_is_what_the_overlay_searches() -> None:
    # The pipeline calls the overlay without gap_search_m, so its default is the real reach.
    for method in (OverlayEngine.overlay, OverlayEngine.overlay_many):
        assert inspect.signature(method).parameters["gap_search_m"].default == GAP_SEARCH_M
    assert GAP_SEARCH_M == 1000.0


@pytest.mark.parametrize("value", [1000.5, 1500, 5000])
def test_gap_tolerance_beyond_the_overlay_search_is_refused(value: float) -> None:
    with pytest.raises(RulebookConfigError) as err:
        RulebookConfig.from_mapping({"gap_tolerance_m": value})
    message = str(err.value)
    assert "gap_tolerance_m" in message and "1000 米" in message and f"{value:g}" in message


@pytest.mark.parametrize("value", [0, 100, 999.9, 1000])
def test_gap_tolerance_within_the_search_is_kept(value: float) -> None:
    assert RulebookConfig.from_mapping({"gap_tolerance_m": value}).gap_tolerance_m == value


def test_the_service_refuses_such_a_file_at_load(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"gap_tolerance_m": 2000}), encoding="utf-8")
    with pytest.raises(RulebookConfigError, match="gap_tolerance_m 不能超过 1000 米"):
        load_rulebook(path)
