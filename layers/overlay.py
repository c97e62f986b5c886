"""The overlay engine: what a footprint touches in the active layers, and how much of it.

CONTRACT (implemented by the layers helper; names are relied on by geo_service and tests).

Semantics, in one place:
- A feature is *hit* when its closed geometry intersects the footprint (PostGIS ST_Intersects).
- The footprint is measured in its highest dimension present (polygon > line > point); shares are
  geodesic area / geodesic length / point count of footprint ∩ feature over the footprint's.
  A point on a shared boundary lies in both units: each gets share 1.0, and the rulebook decides
  what that means. A feature touched only along its edge, or only by a lower-dimensional part of
  a mixed footprint (the point of a polygon+point collection), is a hit with share 0.0 — reported,
  never dropped, so the rulebook can list it as a sliver.
- Concurrency: the engine holds one immutable snapshot; activate/deactivate build a new one and
  swap the attribute; a query reads the attribute once. GEOS prepared geometries are not
  thread-safe (libgeos/geos#825), so the few calls that use them hold a short module-wide lock.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely import STRtree
from shapely.geometry.base import BaseGeometry

from layers import ADMIN_KINDS, SENSITIVE_KINDS
from layers.errors import GeometryError
from layers.measure import (
    SegmentIndex,
    degree_margin,
    densify,
    geodesic_area,
    geodesic_distance_m,
    geodesic_length,
    single_parts,
)
from layers.model import LayerFeature, LayerVersionData

FootprintType = Literal["point", "line", "polygon"]

# Kinds whose containing unit's boundary distance is reported for point footprints.
BOUNDARY_KINDS = ("league", "county", "province")


@dataclass(frozen=True, slots=True)
class Hit:
    """A feature the footprint touches, with its share of the footprint (0..1].

    share = measure(footprint ∩ feature) / measure(footprint): geodesic area for polygons,
    geodesic length for lines, count for points. 0.0 only when the feature is touched without
    measure: along its edge, or by a lower-dimensional part of a mixed footprint.
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
    # kind -> hits, largest share first; every active kind present
    hits: Mapping[str, Sequence[Hit]]
    nearby: Sequence[Near]  # sensitive kinds only, nearest first, within nearby_radius_m
    # Administrative kinds (league, county, province, country) the footprint touches no unit of:
    # the nearest unit within gap_search_m, for gap handling (R2).
    nearest_unit: Mapping[str, Near] = field(default_factory=dict)
    # For point footprints: kind -> geodesic distance (m) from the point to the boundary of the
    # unit that contains it (league, province), for the near_boundary rule (R2). With a
    # boundary_search_m, only distances up to it are reported (a missing kind means "farther").
    boundary_distance_m: Mapping[str, float] = field(default_factory=dict)
    layer_versions: Mapping[str, int] = field(default_factory=dict)  # series -> version id


# GEOS prepared geometries build lazy indexes and keep scratch state: never use one from two
# threads at once. Held only around the calls that use them.
_PREPARED_LOCK = threading.Lock()


class _BoundarySegments:
    """Per-feature boundary segment indexes, built on first use (then read-only)."""

    def __init__(self, geoms: NDArray[np.object_]) -> None:
        self._geoms = geoms
        self._built: dict[int, SegmentIndex] = {}
        self._lock = threading.Lock()

    def get(self, index: int) -> SegmentIndex:
        found = self._built.get(index)
        if found is not None:
            return found
        with self._lock:
            found = self._built.get(index)
            if found is None:
                found = SegmentIndex(self._geoms[index])
                self._built[index] = found
        return found


@dataclass(frozen=True, eq=False)
class _SeriesIndex:
    version: LayerVersionData
    geoms: NDArray[np.object_]  # prepared, aligned with version.features
    tree: STRtree
    boundaries: _BoundarySegments

    @classmethod
    def build(cls, version: LayerVersionData) -> _SeriesIndex:
        geoms = np.array([f.geometry for f in version.features] or [], dtype=object)
        with _PREPARED_LOCK:
            shapely.prepare(geoms)
        return cls(version, geoms, STRtree(geoms), _BoundarySegments(geoms))

    @property
    def kind(self) -> str:
        return self.version.kind

    @property
    def series(self) -> str:
        return self.version.series

    def hit(self, index: int, share: float) -> Hit:
        f = self.version.features[index]
        return Hit(
            self.kind, self.series, self.version.version_id, f.feature_id, f.code, f.name, share
        )

    def near(self, index: int, distance_m: float) -> Near:
        f = self.version.features[index]
        return Near(
            self.kind,
            self.series,
            self.version.version_id,
            f.feature_id,
            f.code,
            f.name,
            distance_m,
        )

    def intersecting(self, geometry: BaseGeometry) -> NDArray[np.intp]:
        """Indices of the features whose closed geometry intersects `geometry`."""
        candidates = self.tree.query(geometry)
        if len(candidates) == 0:
            return candidates
        with _PREPARED_LOCK:
            mask = shapely.intersects(self.geoms[candidates], geometry)
        return np.sort(candidates[mask])

    def containing_points(self, points: NDArray[np.object_]) -> tuple[NDArray, NDArray]:
        """(point index, feature index) pairs, bulk: points tree queried by the features."""
        tree = STRtree(points)
        with _PREPARED_LOCK:
            feature_idx, point_idx = tree.query(self.geoms, predicate="intersects")
        return point_idx, feature_idx

    def within(self, geometry: BaseGeometry, radius_m: float) -> NDArray[np.intp]:
        """Features that may lie within `radius_m` of `geometry` (a superset, never missing one).

        A bounding-box query, then a prepared planar distance test in degrees with a margin
        no geodesic distance of `radius_m` can exceed.
        """
        x0, y0, x1, y1 = geometry.bounds
        dlon, dlat = degree_margin(radius_m, max(abs(y0), abs(y1)))
        candidates = self.tree.query(shapely.box(x0 - dlon, y0 - dlat, x1 + dlon, y1 + dlat))
        if len(candidates) == 0:
            return candidates
        with _PREPARED_LOCK:
            mask = shapely.dwithin(self.geoms[candidates], geometry, max(dlon, dlat))
        return np.sort(candidates[mask])


@dataclass(frozen=True, eq=False)
class _Snapshot:
    series: Mapping[str, _SeriesIndex]
    layer_versions: Mapping[str, int]
    by_kind: Mapping[str, tuple[_SeriesIndex, ...]]

    @classmethod
    def of(cls, indexes: Iterable[_SeriesIndex]) -> _Snapshot:
        by_series = {ix.series: ix for ix in sorted(indexes, key=lambda ix: ix.series)}
        by_kind: dict[str, list[_SeriesIndex]] = {}
        for ix in by_series.values():
            by_kind.setdefault(ix.kind, []).append(ix)
        return cls(
            series=MappingProxyType(by_series),
            layer_versions=MappingProxyType(
                {name: ix.version.version_id for name, ix in by_series.items()}
            ),
            by_kind=MappingProxyType({k: tuple(v) for k, v in sorted(by_kind.items())}),
        )

    def replaced(self, version: LayerVersionData) -> _Snapshot:
        others = [ix for name, ix in self.series.items() if name != version.series]
        return _Snapshot.of([*others, _SeriesIndex.build(version)])

    def without(self, series: str) -> _Snapshot:
        return _Snapshot.of(ix for name, ix in self.series.items() if name != series)


@dataclass(frozen=True)
class _Footprint:
    geometry: BaseGeometry  # the whole input, for hit tests
    measured: BaseGeometry  # the parts of the highest dimension, dissolved
    type: FootprintType
    measure: float
    points: NDArray[np.object_]  # distinct points, for point footprints


def _footprint(geometry: BaseGeometry) -> _Footprint:
    if geometry is None or geometry.is_empty:
        raise GeometryError("位置几何为空，请提供点、线或面。", "geometry")
    if geometry.geom_type == "Point":  # the common case, kept cheap
        return _Footprint(geometry, geometry, "point", 1.0, np.array([geometry], dtype=object))
    parts = single_parts(geometry)
    polygons = [p for p in parts if p.geom_type == "Polygon"]
    lines = [p for p in parts if p.geom_type in ("LineString", "LinearRing")]
    if polygons:
        measured = shapely.union_all(
            [shapely.make_valid(p) if not p.is_valid else p for p in polygons]
        )
        measured = densify(
            shapely.MultiPolygon([p for p in single_parts(measured) if p.geom_type == "Polygon"])
        )
        area = geodesic_area(measured)
        if area <= 0:
            raise GeometryError("面的面积为零（顶点重合或共线），请检查坐标。", "geometry")
        whole = geometry if geometry.is_valid else shapely.make_valid(geometry)
        return _Footprint(whole, measured, "polygon", area, np.empty(0, dtype=object))
    if lines:
        measured = densify(shapely.line_merge(shapely.union_all(lines)))
        length = geodesic_length(measured)
        if length <= 0:
            raise GeometryError("线的长度为零（顶点重合），请检查坐标。", "geometry")
        return _Footprint(geometry, measured, "line", length, np.empty(0, dtype=object))
    xy = np.unique(shapely.get_coordinates(geometry), axis=0)
    points = shapely.points(xy)
    return _Footprint(geometry, shapely.MultiPoint(points), "point", float(len(points)), points)


def _share(ix: _SeriesIndex, index: int, fp: _Footprint) -> float:
    """measure(footprint ∩ feature) / measure(footprint), for one intersecting feature."""
    feature = ix.geoms[index]
    if fp.type == "point":
        with _PREPARED_LOCK:
            inside = int(np.count_nonzero(shapely.intersects(feature, fp.points)))
        return inside / fp.measure
    with _PREPARED_LOCK:
        covered = bool(shapely.covers(feature, fp.measured))
    if covered:
        return 1.0
    x0, y0, x1, y1 = fp.measured.bounds
    pad = 1e-7
    local = shapely.clip_by_rect(feature, x0 - pad, y0 - pad, x1 + pad, y1 + pad)
    part = shapely.intersection(fp.measured, local)
    measure = geodesic_area(part) if fp.type == "polygon" else geodesic_length(part)
    return min(measure / fp.measure, 1.0)


def _sorted_hits(hits: list[Hit]) -> tuple[Hit, ...]:
    return tuple(sorted(hits, key=lambda h: (-h.share, h.series, h.code or "", str(h.feature_id))))


class OverlayEngine:
    """Holds an immutable snapshot of the active layer versions; swaps it atomically."""

    def __init__(self, versions: Iterable[LayerVersionData] = ()) -> None:
        by_series: dict[str, LayerVersionData] = {}
        for v in versions:
            by_series[v.series] = v  # the last one given for a series wins
        self._write_lock = threading.Lock()
        self._snapshot = _Snapshot.of(_SeriesIndex.build(v) for v in by_series.values())

    @classmethod
    def _from_snapshot(cls, snapshot: _Snapshot) -> OverlayEngine:
        engine = cls.__new__(cls)
        engine._write_lock = threading.Lock()
        engine._snapshot = snapshot
        return engine

    @property
    def layer_versions(self) -> Mapping[str, int]:
        """series -> active version id, of the current snapshot."""
        return self._snapshot.layer_versions

    @property
    def active_kinds(self) -> frozenset[str]:
        """Kinds with at least one active series in the current snapshot."""
        return frozenset(self._snapshot.by_kind)

    def features_of(self, kind: str) -> tuple[LayerFeature, ...]:
        """Every feature of the active series of `kind` (e.g. township names for geocoding)."""
        return tuple(f for ix in self._snapshot.by_kind.get(kind, ()) for f in ix.version.features)

    def activate(self, version: LayerVersionData) -> None:
        """Make `version` the active version of its series (build, then swap)."""
        with self._write_lock:
            self._snapshot = self._snapshot.replaced(version)

    def preview(self, version: LayerVersionData) -> OverlayEngine:
        """A new engine whose snapshot is this one with `version` active (for re-screen impact)."""
        return OverlayEngine._from_snapshot(self._snapshot.replaced(version))

    def deactivate(self, series: str) -> None:
        with self._write_lock:
            self._snapshot = self._snapshot.without(series)

    # --- queries ------------------------------------------------------------------------------

    def overlay(
        self,
        geometry: BaseGeometry,
        *,
        nearby_radius_m: float = 5000.0,
        gap_search_m: float = 1000.0,
        boundary_search_m: float | None = None,
    ) -> OverlayResult:
        """What `geometry` touches. `boundary_search_m` caps the point-to-boundary distances
        (the rulebook only needs those within its buffer); None measures them all."""
        snapshot = self._snapshot  # read once: the whole query sees one snapshot
        radii = _Radii.checked(nearby_radius_m, gap_search_m, boundary_search_m)
        return _overlay(snapshot, geometry, radii)

    def overlay_many(
        self,
        geometries: Sequence[BaseGeometry],
        *,
        nearby_radius_m: float = 5000.0,
        gap_search_m: float = 1000.0,
        boundary_search_m: float | None = None,
    ) -> list[OverlayResult]:
        """overlay() of each geometry, all on one snapshot; all-point inputs take a bulk path
        (one STRtree of the points, queried by each series' prepared features)."""
        snapshot = self._snapshot
        radii = _Radii.checked(nearby_radius_m, gap_search_m, boundary_search_m)
        geoms = list(geometries)
        if geoms and all(
            g is not None and g.geom_type == "Point" and not g.is_empty for g in geoms
        ):
            return _bulk_points(snapshot, np.array(geoms, dtype=object), radii)
        return [_overlay(snapshot, g, radii) for g in geoms]


@dataclass(frozen=True, slots=True)
class _Radii:
    """The search distances of one query, in metres."""

    nearby: float
    gap: float
    boundary: float | None

    @classmethod
    def checked(cls, nearby: float, gap: float, boundary: float | None) -> _Radii:
        _check_radius(nearby, "nearby_radius_m")
        _check_radius(gap, "gap_search_m")
        if boundary is not None:
            _check_radius(boundary, "boundary_search_m")
        return cls(nearby, gap, boundary)


def _overlay(snapshot: _Snapshot, geometry: BaseGeometry, radii: _Radii) -> OverlayResult:
    fp = _footprint(geometry)
    hits: dict[str, list[Hit]] = {kind: [] for kind in snapshot.by_kind}
    touched: dict[str, set[int]] = {}
    for name, ix in snapshot.series.items():
        found = ix.intersecting(fp.geometry)
        touched[name] = set(found.tolist())
        hits[ix.kind].extend(ix.hit(int(i), _share(ix, int(i), fp)) for i in found)
    return _result(snapshot, fp, hits, touched, radii)


def _result(
    snapshot: _Snapshot,
    fp: _Footprint,
    hits: Mapping[str, list[Hit]],
    touched: Mapping[str, set[int]],
    radii: _Radii,
) -> OverlayResult:
    boundary = (
        _boundary_distances(snapshot, fp, touched, radii.boundary) if fp.type == "point" else {}
    )
    return OverlayResult(
        footprint_type=fp.type,
        footprint_measure=fp.measure,
        hits=MappingProxyType({k: _sorted_hits(v) for k, v in hits.items()}),
        nearby=tuple(_nearby(snapshot, fp.geometry, touched, radii.nearby)),
        nearest_unit=MappingProxyType(_nearest_units(snapshot, fp.geometry, hits, radii.gap)),
        boundary_distance_m=MappingProxyType(boundary),
        layer_versions=snapshot.layer_versions,
    )


def _nearby(
    snapshot: _Snapshot,
    geometry: BaseGeometry,
    touched: Mapping[str, set[int]],
    radius_m: float,
) -> list[Near]:
    found: list[Near] = []
    if radius_m <= 0:
        return found
    for kind in SENSITIVE_KINDS:
        for ix in snapshot.by_kind.get(kind, ()):
            for i in ix.within(geometry, radius_m).tolist():
                if i in touched[ix.series]:
                    continue
                d = geodesic_distance_m(geometry, ix.geoms[i])
                if d <= radius_m:
                    found.append(ix.near(i, d))
    return sorted(found, key=lambda n: (n.distance_m, n.series, n.code or ""))


def _nearest_units(
    snapshot: _Snapshot,
    geometry: BaseGeometry,
    hits: Mapping[str, list[Hit]],
    gap_search_m: float,
) -> dict[str, Near]:
    out: dict[str, Near] = {}
    if gap_search_m <= 0:
        return out
    for kind in ADMIN_KINDS:
        if kind not in snapshot.by_kind or hits.get(kind):
            continue
        best: Near | None = None
        for ix in snapshot.by_kind[kind]:
            for i in ix.within(geometry, gap_search_m).tolist():
                d = geodesic_distance_m(geometry, ix.geoms[i])
                if d <= gap_search_m and (best is None or d < best.distance_m):
                    best = ix.near(i, d)
        if best is not None:
            out[kind] = best
    return out


def _boundary_distances(
    snapshot: _Snapshot, fp: _Footprint, touched: Mapping[str, set[int]], cap_m: float | None
) -> dict[str, float]:
    out: dict[str, float] = {}
    for kind in BOUNDARY_KINDS:
        best = math.inf
        for ix in snapshot.by_kind.get(kind, ()):
            for i in touched[ix.series]:
                segments = ix.boundaries.get(i)
                with _PREPARED_LOCK:
                    inside = shapely.intersects(ix.geoms[i], fp.points)
                for point in fp.points[inside]:
                    if cap_m is not None and not segments.any_within(point.x, point.y, cap_m):
                        continue  # farther than the cap: no need for the exact distance
                    best = min(best, segments.distance_m(point.x, point.y))
        if math.isfinite(best) and (cap_m is None or best <= cap_m):
            out[kind] = best
    return out


def _check_radius(value: float, name: str) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
        raise GeometryError(f"{name} 应为不小于 0 的米数，收到 {value!r}。", name)


def _bulk_points(
    snapshot: _Snapshot, points: NDArray[np.object_], radii: _Radii
) -> list[OverlayResult]:
    """The bulk path for N points: each series' features query one STRtree of the points."""
    n = len(points)
    hits: list[dict[str, list[Hit]]] = [{k: [] for k in snapshot.by_kind} for _ in range(n)]
    touched: list[dict[str, set[int]]] = [{s: set() for s in snapshot.series} for _ in range(n)]
    for name, ix in snapshot.series.items():
        point_idx, feature_idx = ix.containing_points(points)
        for p, f in zip(point_idx.tolist(), feature_idx.tolist(), strict=True):
            hits[p][ix.kind].append(ix.hit(f, 1.0))
            touched[p][name].add(f)
    return [
        _result(
            snapshot,
            _Footprint(points[p], points[p], "point", 1.0, points[p : p + 1]),
            hits[p],
            touched[p],
            radii,
        )
        for p in range(n)
    ]
