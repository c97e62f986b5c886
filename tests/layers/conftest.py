"""Fixtures for the layer tests: the built-in boundaries and a scratch folder per test."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from layer_files import builtin_features

from layers.model import LayerFeature


@pytest.fixture(scope="session")
def leagues() -> tuple[LayerFeature, ...]:
    return builtin_features("league")


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path
