"""The overlay engine: what a footprint touches in the active layers, and how much of it.

CONTRACT (implemented by the layers helper; names are relied on by geo_service and tests).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from shapely.geometry.base import BaseGeometry

from layers.model import LayerVersionData

FootprintType = Literal["point", "line", "polygon"]


@dataclass(frozen=True, slots=True)
class Hit:
    """A feature the footprint touches, with its share of the footprint (0..1].

    share = measure(footprint ∩ feature) / measure(footprint): geodesic area for polygons,
    geodesic length for lines, count for points.
    """

    kind: str
    series: str
    version_id: int
    feature_id: int | str
    code: str | None
    name: str | None
    share: float


@dataclass(frozen=True, slots=True)
class Near:
    """A feature the footprint does not touch, within the search radius; geodesic metres."""

    kind: str
    series: str
    version_id: int
    feature_id: int | str
    code: str | None
    name: str | None
    distance_m: float


@dataclass(frozen=True, slots=True)
class OverlayResult:
    footprint_type: FootprintType  # the dimension that measures shares (highest present)
    footprint_measure: float  # m² / m / number of points
    hits: Mapping[str, Sequence[Hit]]  # kind -> hits, largest share first; every active kind present
    nearby: Sequence[Near]  # sensitive kinds only, nearest first, within nearby_radius_m
    # Administrative kinds (league, county, province, country) the footprint touches no unit of:
    # the nearest unit within gap_search_m, for gap handling (R2).
    nearest_unit: Mapping[str, Near] = field(default_factory=dict)
    # For point footprints: kind -> geodesic distance (m) from the point to the boundary of the
    # unit that contains it (league, province), for the near_boundary rule (R2).
    boundary_distance_m: Mapping[str, float] = field(default_factory=dict)
    layer_versions: Mapping[str, int] = field(default_factory=dict)  # series -> version id


class OverlayEngine:
    """Holds an immutable snapshot of the active layer versions; swaps it atomically."""

    def __init__(self, versions: Iterable[LayerVersionData] = ()) -> None:
        raise NotImplementedError

    @property
    def layer_versions(self) -> Mapping[str, int]:
        """series -> active version id, of the current snapshot."""
        raise NotImplementedError

    @property
    def active_kinds(self) -> frozenset[str]:
        """Kinds with at least one active series in the current snapshot."""
        raise NotImplementedError

    def activate(self, version: LayerVersionData) -> None:
        """Make `version` the active version of its series (build, then swap)."""
        raise NotImplementedError

    def preview(self, version: LayerVersionData) -> OverlayEngine:
        """A new engine whose snapshot is this one with `version` active (for re-screen impact)."""
        raise NotImplementedError

    def deactivate(self, series: str) -> None:
        raise NotImplementedError

    def overlay(
        self,
        geometry: BaseGeometry,
        *,
        nearby_radius_m: float = 5000.0,
        gap_search_m: float = 1000.0,
    ) -> OverlayResult:
        raise NotImplementedError

    def overlay_many(
        self, geometries: Sequence[BaseGeometry], *, nearby_radius_m: float = 5000.0
    ) -> list[OverlayResult]:
        raise NotImplementedError
