"""The boundary layers a lead's text resolves against, by kind: the active county and league
layers (the built-in ones when none is active) and the township/village layers an analyst loads."""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from shapely import STRtree
from shapely.geometry.base import BaseGeometry

from layers.measure import geodesic_area
from layers.model import LayerFeature

UNIT_KINDS = ("league", "county", "township", "village")


class _KindIndex:
    def __init__(self, features: Sequence[LayerFeature]) -> None:
        self.features = tuple(features)
        self._tree: STRtree | None = None
        self._lock = threading.Lock()

    def containing(self, geometry: BaseGeometry) -> LayerFeature | None:
        """The feature that holds most of `geometry` (its representative point)."""
        if not self.features:
            return None
        with self._lock:
            if self._tree is None:
                self._tree = STRtree([f.geometry for f in self.features])
            hits = self._tree.query(geometry.representative_point(), predicate="intersects")
        if len(hits) == 0:
            return None
        return self.features[int(min(hits))]


class UnitLayers:
    """The administrative layers a text resolves against, by kind."""

    def __init__(self, features: Mapping[str, Sequence[LayerFeature]]) -> None:
        self._kinds = {kind: _KindIndex(features.get(kind, ())) for kind in UNIT_KINDS}
        self._by_code: dict[str, dict[str, LayerFeature]] = {
            kind: {str(f.code): f for f in ix.features if f.code}
            for kind, ix in self._kinds.items()
        }
        self._radii: dict[int, float] = {}

    @classmethod
    def from_engine(cls, engine: Any) -> UnitLayers:
        """From an OverlayEngine's active layers; the built-in county/league boundaries stand in
        for a kind with no active layer. Kept with the engine until its active versions change."""
        key = tuple(sorted(engine.layer_versions.items()))
        with _BY_ENGINE_LOCK:
            cached = _BY_ENGINE.get(engine)
            if cached is not None and cached[0] == key:
                return cached[1]
        features = {kind: engine.features_of(kind) for kind in UNIT_KINDS}
        for kind in ("county", "league"):
            if not features[kind]:
                from layers.builtin import load_series

                features[kind] = load_series(kind).features
        units = cls(features)
        with _BY_ENGINE_LOCK:
            _BY_ENGINE[engine] = (key, units)
        return units

    def containing(self, kind: str, geometry: BaseGeometry) -> LayerFeature | None:
        return self._kinds[kind].containing(geometry)

    def by_code(self, kind: str, code: str) -> LayerFeature | None:
        return self._by_code[kind].get(code)

    def named_in(self, kind: str, county: str) -> list[LayerFeature]:
        """Features of a township/village layer whose code nests in `county`."""
        return [f for f in self._kinds[kind].features if str(f.code or "").startswith(county)]

    def radius_m(self, feature: LayerFeature) -> float:
        """How far from 'somewhere in this unit' a lead may be: the radius of a circle as
        large as the unit (cached: a county's geodesic area takes milliseconds)."""
        key = id(feature)
        if key not in self._radii:
            self._radii[key] = _radius_m(feature.geometry)
        return self._radii[key]

    def inside_region(self, geometry: BaseGeometry) -> bool:
        return self.containing("county", geometry) is not None


# Per engine (weakly held: preview engines come and go), rebuilt when its active versions change.
_BY_ENGINE: weakref.WeakKeyDictionary[Any, tuple[tuple, UnitLayers]] = weakref.WeakKeyDictionary()
_BY_ENGINE_LOCK = threading.Lock()


def _radius_m(geometry: BaseGeometry) -> float:
    """The radius of a circle as large as the unit: how far from 'somewhere in it' a lead may be."""
    return float(math.sqrt(max(geodesic_area(geometry), 0.0) / math.pi))
