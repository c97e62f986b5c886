"""Plain data a layer version is made of, as the overlay engine and the importers see it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry


@dataclass(frozen=True, slots=True)
class LayerFeature:
    """One feature of a layer version, geometry in EPSG:4490."""

    feature_id: int | str  # database id once stored; the source index before
    code: str | None
    name: str | None
    geometry: BaseGeometry
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LayerVersionData:
    """An immutable layer version: what the overlay engine indexes."""

    version_id: int
    series: str  # the layer series name, e.g. "league" or "national_nature_reserves"
    kind: str  # one of layers.LAYER_KINDS
    features: tuple[LayerFeature, ...]
