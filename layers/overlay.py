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
- Speed: one STRtree over the features of every active series (with series/kind arrays), so a
  footprint is one query plan whatever the number of series. Big features (many vertices, and
  every unit whose boundary distance is reported) also have their edges in chunks with boxes
  (an STRtree, and the 0.125° grid cells the boxes meet): where no edge comes near, a footprint
  is wholly inside or wholly outside such a feature and farther from its edges than the box
  around it, which spares GEOS's tests on the feature itself (slow for a many-part one).
  Many points (overlay_many) go through one array path: containment (for a big feature, a
  lookup in its grid of cell states, built with the series, where its edges stay out of the
  point's cell), nearby, nearest unit and boundary distance as array
  operations over all points, in steps; the result objects are assembled from array sorts and
  share what points have in common. One point (overlay, every screened lead) takes a path of
  its own without that per-call array overhead: the same candidates in the same order, and
  distances with the same arithmetic per segment (layers.measure.nearest_m is
  Chunks.distances_m for one point, element for element), so both give the same answer to the
  float; tests/layers/test_overlay_bulk.py holds them to it.
- Distances (nearby, nearest unit, boundary) are geodesic metres to the features' edges as
  drawn (straight in longitude/latitude, as GEOS and PostGIS `geometry` intersect them). From
  points: exact to well under 0.1 m within the search radius (layers.measure.Chunks). From
  lines and polygons: the same to big features (outlines); to small ones GEOS's nearest pair in
  the ellipsoid-corrected local frame (layers.measure.geodesic_distances_m), which can pick the
  wrong one of two nearly equidistant parts (then off by up to ~0.1 % of the distance).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
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
    Chunks,
    covering_margin,
    covering_margin_of,
    degree_margin,
    densify,
    frame_scale_of,
    geodesic_area,
    geodesic_distances_m,
    geodesic_length,
    metres_lower_bound,
    nearest_m,
    point_distances_m,
    segment_codes,
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

# Features with more vertices than this (and the units whose boundary distance is reported) are
# measured through the snapshot's edge index, built on first use; smaller ones are cut into
# chunks per query, so the bulk of the geometry (the red line's patches) is held once.
_BIG_FEATURE_VERTICES = 2048

# Points per step of the array path: bounds the memory of the pair arrays.
_POINTS_PER_STEP = 20_000

# Up to this many (point, feature) pairs, one GEOS distance call drops the pairs surely beyond
# their radius before any chunk is cut (it pays for few pairs; bulk calls go straight on).
_PREFILTER_PAIRS = 4096


class _EdgeIndex:
    """The edges, in chunks, of the features distances are measured to without a per-query
    cut: those with more than _BIG_FEATURE_VERTICES vertices and the units whose boundary
    distance is reported (administrative outlines, mostly). One STRtree of chunk boxes; built
    once (build(), or on first use), then read-only."""

    def __init__(self, geoms: NDArray[np.object_], members: NDArray[np.intp]) -> None:
        self._geoms = geoms
        self._members = members
        self.members = len(members)
        self._lock = threading.Lock()
        self._built: tuple[Chunks, NDArray[np.intp], NDArray[np.intp], STRtree] | None = None
        self._cells: _ChunkCells | None = None
        self._states: _CellStates | None = None

    def build(self) -> None:
        if self.members:
            self._get()
            self.cells()
            self.states()

    def states(self) -> _CellStates:
        """Every grid cell of each member's box: crossed by an edge chunk, inside or outside
        (built on first use)."""
        states = self._states
        if states is None:
            chunks, chunk_feature, row, _ = self._get()
            states = self._states = _CellStates(
                self._geoms[self._members], chunks.bounds, row[chunk_feature]
            )
        return states

    def cells(self) -> _ChunkCells:
        """The grid cells the chunk boxes meet (built on first use)."""
        cells = self._cells
        if cells is None:
            chunks, chunk_feature, _, _ = self._get()
            cells = self._cells = _ChunkCells(chunks.bounds, chunk_feature)
        return cells

    def _get(self) -> tuple[Chunks, NDArray[np.intp], NDArray[np.intp], STRtree]:
        built = self._built
        if built is None:
            with self._lock:
                if self._built is None:
                    chunks = Chunks(self._geoms[self._members])
                    per_member = np.diff(chunks.of_geometry)
                    chunk_feature = np.repeat(self._members, per_member)
                    row = np.full(len(self._geoms), -1, dtype=np.intp)
                    row[self._members] = np.arange(len(self._members))
                    b = chunks.bounds
                    tree = STRtree(shapely.box(b[:, 0], b[:, 1], b[:, 2], b[:, 3]))
                    self._built = (chunks, chunk_feature, row, tree)
                built = self._built
        return built

    def row(self, feature: NDArray[np.intp]) -> NDArray[np.intp]:
        """The members' places among the members."""
        return self._get()[2][feature]

    def distances_m(
        self,
        px: NDArray[np.float64],
        py: NDArray[np.float64],
        feature: NDArray[np.intp],
        cap_m: NDArray[np.float64] | None,
    ) -> NDArray[np.float64]:
        """Geodesic m from (px[i], py[i]) to the edges of feature[i]; inf beyond cap_m[i]."""
        if len(feature) == 0:
            return np.empty(0)
        chunks, chunk_feature, row, tree = self._get()
        if cap_m is None:  # every chunk of the feature (pruned by box before any segment)
            pair, chunk = chunks.pair_rows(row[feature])
        else:
            dlon, dlat = covering_margin(cap_m, py)
            pair, chunk = tree.query(shapely.box(px - dlon, py - dlat, px + dlon, py + dlat))
            mine = chunk_feature[chunk] == feature[pair]
            pair, chunk = pair[mine], chunk[mine]
        return chunks.distances_m(px, py, pair, chunk, cap_m)

    def chunks_near(self, box: shapely.Polygon, feature: list[int]) -> dict[int, NDArray]:
        """feature -> its chunks whose box meets `box`, for those of `feature` with any."""
        _, chunk_feature, _, tree = self._get()
        found = _query_one(tree, box)
        if len(found) == 0:
            return {}
        of = chunk_feature[found]
        mine = {f: found[of == f] for f in feature}
        return {f: m for f, m in mine.items() if len(m)}

    def point_segments(self, x: float, y: float, chunks_of: Sequence[NDArray]):
        """Chunks.point_segments of features whose rows are their chunks near (x, y)."""
        chunks = self._get()[0]
        return chunks.point_segments(x, y, np.concatenate(chunks_of), [len(m) for m in chunks_of])

    def near_features(self, box: tuple[float, float, float, float]) -> NDArray[np.intp]:
        """The features with an edge chunk whose box meets `box`."""
        _, chunk_feature, _, tree = self._get()
        return np.unique(chunk_feature[tree.query(shapely.box(*box))])

    def vertices_in(
        self, box: tuple[float, float, float, float], feature: int
    ) -> NDArray[np.float64]:
        """The vertices of feature's edges in chunks whose box meets `box` (a superset)."""
        chunks, chunk_feature, _, tree = self._get()
        found = _query_one(tree, shapely.box(*box))
        found = found[chunk_feature[found] == feature]
        if len(found) == 0:
            return np.empty((0, 2))
        return chunks.vertices(found)


# Grid cells (degrees): the points of a cell that no edge of a big feature comes into are alike
# for that feature (all inside or all outside), or all farther from its edges than a radius.
_CELL_DEG = 0.125
# A chunk whose box spans more cells than this (a long edge) is tested by its box instead.
_WIDE_CELLS = 64


def _cell_keys(
    feature: NDArray[np.intp], cx: NDArray[np.int64], cy: NDArray[np.int64]
) -> NDArray[np.int64]:
    return (feature.astype(np.int64) << 26) | ((cx + 4096) << 13) | (cy + 4096)


class _ChunkCells:
    """Which grid cells (feature, cell x, cell y) the edge chunks' boxes meet, as sorted keys:
    a few per chunk, no geometry (and the boxes of the few that span many cells)."""

    def __init__(self, bounds: NDArray[np.float64], feature: NDArray[np.intp]) -> None:
        pad = 1e-9  # floor() of a quotient may put a point a rounding off its cell
        x0 = np.floor((bounds[:, 0] - pad) / _CELL_DEG).astype(np.int64)
        y0 = np.floor((bounds[:, 1] - pad) / _CELL_DEG).astype(np.int64)
        nx = np.floor((bounds[:, 2] + pad) / _CELL_DEG).astype(np.int64) - x0 + 1
        ny = np.floor((bounds[:, 3] + pad) / _CELL_DEG).astype(np.int64) - y0 + 1
        wide = nx * ny > _WIDE_CELLS
        self.wide_bounds, self.wide_feature = bounds[wide], feature[wide]
        x0, y0, nx, ny, feature = x0[~wide], y0[~wide], nx[~wide], ny[~wide], feature[~wide]
        count = nx * ny
        of = np.repeat(np.arange(len(count)), count)
        k = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        cx = x0[of] + k % nx[of]
        cy = y0[of] + k // nx[of]
        self.keys = np.unique(_cell_keys(feature[of], cx, cy))
        self._key_set: frozenset[int] | None = None
        self._wide = [
            (f, *b)
            for b, f in zip(self.wide_bounds.tolist(), self.wide_feature.tolist(), strict=True)
        ]

    def in_box(self, feature: int, x0: float, y0: float, x1: float, y1: float) -> bool:
        """Whether a chunk box of `feature` may meet the box (False: certainly not)."""
        keys = self._key_set
        if keys is None:  # for one point at a time: a set (a few MB), made on first use
            keys = self._key_set = frozenset(self.keys.tolist())
        pad = 1e-9
        cx0, cx1 = math.floor((x0 - pad) / _CELL_DEG), math.floor((x1 + pad) / _CELL_DEG)
        cy0, cy1 = math.floor((y0 - pad) / _CELL_DEG), math.floor((y1 + pad) / _CELL_DEG)
        if (cx1 - cx0 + 1) * (cy1 - cy0 + 1) > _WIDE_CELLS:
            return True
        base = feature << 26
        for cx in range(cx0, cx1 + 1):
            for cy in range(cy0, cy1 + 1):
                if base | ((cx + 4096) << 13) | (cy + 4096) in keys:
                    return True
        return any(
            f == feature
            and bx0 <= x1 + pad
            and bx1 >= x0 - pad
            and by0 <= y1 + pad
            and by1 >= y0 - pad
            for f, bx0, by0, bx1, by1 in self._wide
        )

    def met(
        self, feature: NDArray[np.intp], cx: NDArray[np.int64], cy: NDArray[np.int64], reach: int
    ) -> NDArray[np.bool_]:
        """Whether a chunk box meets cell (cx[i], cy[i]) of feature[i] or one within `reach`
        cells of it."""
        out = np.zeros(len(feature), dtype=bool)
        keys = self.keys
        if len(keys):
            for dx in range(-reach, reach + 1):
                for dy in range(-reach, reach + 1):
                    key = _cell_keys(feature, cx + dx, cy + dy)
                    at = np.minimum(np.searchsorted(keys, key), len(keys) - 1)
                    out |= keys[at] == key
        pad = 1e-9
        for b, f in zip(self.wide_bounds, self.wide_feature.tolist(), strict=True):
            out |= (
                (feature == f)
                & ((cx + reach + 1) * _CELL_DEG + pad >= b[0])
                & ((cx - reach) * _CELL_DEG - pad <= b[2])
                & ((cy + reach + 1) * _CELL_DEG + pad >= b[1])
                & ((cy - reach) * _CELL_DEG - pad <= b[3])
            )
        return out


# A grid cell of a big feature's box: an edge chunk's box meets it (GEOS decides its points),
# or its points are all inside the feature, or all outside.
_CROSSED, _INSIDE, _OUTSIDE = 0, 1, 2
_STATE_DEG = _CELL_DEG  # finer (1/16°, 1/32°) cost 4-16× the memory and build for ~10 % less


class _CellStates:
    """Per big feature, the state of every _STATE_DEG grid cell of its box (one byte a cell:
    ~1.3 MB for the built-in boundaries), so most points' containment is an array lookup.

    A cell no chunk box meets (padded as _ChunkCells pads) has no edge in it: its points are
    on one side. So is a run of such cells along a grid row (neighbours share a side and no
    edge crosses either), so one GEOS test at the centre of a run's first cell decides it."""

    def __init__(
        self, geoms: NDArray[np.object_], bounds: NDArray[np.float64], owner: NDArray[np.intp]
    ) -> None:
        """geoms: the features; bounds: their edge chunks' boxes; owner: each chunk's feature
        (an index into geoms)."""
        pad = 1e-9
        fb = shapely.bounds(geoms)
        ok = np.isfinite(fb).all(axis=1)
        fb[~ok] = 0.0
        self.x0 = np.floor((fb[:, 0] - pad) / _STATE_DEG).astype(np.int64)
        self.y0 = np.floor((fb[:, 1] - pad) / _STATE_DEG).astype(np.int64)
        self.nx = np.where(ok, np.floor((fb[:, 2] + pad) / _STATE_DEG) - self.x0 + 1, 0)
        self.nx = self.nx.astype(np.int64)
        ny = np.where(ok, np.floor((fb[:, 3] + pad) / _STATE_DEG) - self.y0 + 1, 0)
        self.ny = ny.astype(np.int64)
        size = self.nx * self.ny
        self.offset = np.cumsum(size) - size
        total = int(size.sum())
        crossed = np.zeros(total, dtype=bool)
        # the cells each chunk box meets (a few chunks at a time: long edges span many)
        cx0 = np.floor((bounds[:, 0] - pad) / _STATE_DEG).astype(np.int64)
        cy0 = np.floor((bounds[:, 1] - pad) / _STATE_DEG).astype(np.int64)
        cnx = np.floor((bounds[:, 2] + pad) / _STATE_DEG).astype(np.int64) - cx0 + 1
        cny = np.floor((bounds[:, 3] + pad) / _STATE_DEG).astype(np.int64) - cy0 + 1
        count = cnx * cny
        ends = np.cumsum(count)
        lo = 0
        while lo < len(count):
            hi = int(np.searchsorted(ends, ends[lo] - count[lo] + 4_000_000, side="right"))
            hi = max(hi, lo + 1)
            c = count[lo:hi]
            of = np.repeat(np.arange(lo, hi), c)
            k = np.arange(int(c.sum())) - np.repeat(np.cumsum(c) - c, c)
            cx = cx0[of] + k % cnx[of]
            cy = cy0[of] + k // cnx[of]
            f = owner[of]
            crossed[self.offset[f] + (cy - self.y0[f]) * self.nx[f] + (cx - self.x0[f])] = True
            lo = hi
        # runs of uncrossed cells along each row; one test at the centre of each run's first
        feature = np.repeat(np.arange(len(geoms)), size)
        at = np.arange(total) - self.offset[feature]
        col = at % np.maximum(self.nx[feature], 1)
        first = ~crossed & ((col == 0) | np.r_[True, crossed[:-1]])
        run = np.flatnonzero(first)
        f = feature[run]
        x = (self.x0[f] + col[run] + 0.5) * _STATE_DEG
        y = (self.y0[f] + at[run] // self.nx[f] + 0.5) * _STATE_DEG
        with _PREPARED_LOCK:
            inside = shapely.intersects_xy(geoms[f], x, y)
        self.state = np.full(total, _CROSSED, dtype=np.int8)
        free = ~crossed
        self.state[free] = np.where(inside, _INSIDE, _OUTSIDE)[np.cumsum(first)[free] - 1]
        self.runs = len(run)

    def of(
        self, feature: NDArray[np.intp], px: NDArray[np.float64], py: NDArray[np.float64]
    ) -> NDArray[np.int8]:
        """The state of the cell of (px[i], py[i]) in feature[i]'s grid (_CROSSED off it)."""
        cx = np.floor(px / _STATE_DEG).astype(np.int64) - self.x0[feature]
        cy = np.floor(py / _STATE_DEG).astype(np.int64) - self.y0[feature]
        nx = self.nx[feature]
        on = (cx >= 0) & (cx < nx) & (cy >= 0) & (cy < self.ny[feature])
        out = np.full(len(feature), _CROSSED, dtype=np.int8)
        out[on] = self.state[self.offset[feature[on]] + cy[on] * nx[on] + cx[on]]
        return out


def _query_one(tree: STRtree, geometry: BaseGeometry) -> NDArray[np.intp]:
    """tree.query(geometry) for one geometry, without the wrapper's cost for a scalar (a third
    of it): the indexes of the tree's geometries whose box meets the geometry's."""
    one = np.empty(1, dtype=object)
    one[0] = geometry
    return tree.query(one)[1]


class _SnapshotEdges:
    """The series' edge indexes seen with the snapshot's feature numbers."""

    def __init__(
        self, order: Sequence[_SeriesIndex], owner: NDArray[np.intp], offset: NDArray[np.intp]
    ) -> None:
        self._order = order
        self._owner = owner
        self._offset = offset
        self._owner_list = owner.tolist()
        self._offset_list = offset.tolist()

    def _per_series(
        self, feature: NDArray[np.intp]
    ) -> Iterator[tuple[_EdgeIndex, NDArray[np.intp], NDArray[np.intp]]]:
        """Per series of `feature`: its edge index, the positions in `feature` and the series'
        own numbers of those features."""
        owner = self._owner[feature]
        for o in np.unique(owner).tolist():
            at = np.flatnonzero(owner == o)
            yield self._order[o].edges, at, feature[at] - self._offset[o]

    def distances_m(
        self,
        px: NDArray[np.float64],
        py: NDArray[np.float64],
        feature: NDArray[np.intp],
        cap_m: NDArray[np.float64] | None,
    ) -> NDArray[np.float64]:
        out = np.full(len(feature), np.inf)
        for edges, at, local in self._per_series(feature):
            cap = None if cap_m is None else cap_m[at]
            out[at] = edges.distances_m(px[at], py[at], local, cap)
        return out

    def cells_met(
        self,
        feature: NDArray[np.intp],
        cx: NDArray[np.int64],
        cy: NDArray[np.int64],
        reach: int,
    ) -> NDArray[np.bool_]:
        """Whether an edge chunk box of feature[i] meets cell (cx[i], cy[i]) or one within
        `reach` cells of it."""
        out = np.zeros(len(feature), dtype=bool)
        for edges, at, local in self._per_series(feature):
            out[at] = edges.cells().met(local, cx[at], cy[at], reach)
        return out

    def cell_states(
        self, feature: NDArray[np.intp], px: NDArray[np.float64], py: NDArray[np.float64]
    ) -> NDArray[np.int8]:
        """_CellStates.of for big features (of any series)."""
        out = np.full(len(feature), _CROSSED, dtype=np.int8)
        for edges, at, local in self._per_series(feature):
            out[at] = edges.states().of(edges.row(local), px[at], py[at])
        return out

    def chunks_near(
        self, box: shapely.Polygon, feature: list[int], bounds: tuple | None = None
    ) -> dict[int, tuple[int, NDArray[np.intp]]]:
        """feature -> (its series, its edge chunks whose box meets `box`), for those of
        `feature` with any: the others are farther from anything in the box than its sides.
        (bounds: the box's, when known.) The grid cells rule most out without a tree query."""
        x0, y0, x1, y1 = box.bounds if bounds is None else bounds
        owner, offset, order = self._owner_list, self._offset_list, self._order
        todo: dict[int, list[int]] = {}
        for f in feature:
            o = owner[f]
            local = f - offset[o]
            if order[o].edges.cells().in_box(local, x0, y0, x1, y1):
                todo.setdefault(o, []).append(local)
        out = {}
        for o, mine in todo.items():
            for f, chunks in order[o].edges.chunks_near(box, mine).items():
                out[f + offset[o]] = (o, chunks)
        return out

    def point_distances_m(
        self, x: float, y: float, near: Mapping[int, tuple[int, NDArray[np.intp]]], cap_m: float
    ) -> dict[int, float]:
        """feature -> distances_m from one point (x, y) with cap_m, the same float, for the
        features of chunks_near(the box around the point for cap_m)."""
        features, parts = [], []
        for o in {o for o, _ in near.values()}:
            mine = [f for f, (owner, _) in near.items() if owner == o]
            parts.append(self._order[o].edges.point_segments(x, y, [near[f][1] for f in mine]))
            features.extend(mine)
        x0, y0, dx, dy = (np.concatenate([part[i] for part in parts]) for i in range(4))
        segments = [n for part in parts for n in part[4]]
        d = nearest_m(
            x, y, frame_scale_of(y), x0, y0, dx, dy, segments, None, [cap_m] * len(segments)
        )
        return dict(zip(features, d, strict=True))

    def near_features(self, box: tuple[float, float, float, float]) -> NDArray[np.intp]:
        found = [
            ix.edges.near_features(box) + self._offset[o]
            for o, ix in enumerate(self._order)
            if ix.edges.members
        ]
        return np.concatenate(found) if found else np.empty(0, dtype=np.intp)

    def vertices_in(self, box: tuple[float, float, float, float], feature: int):
        o = int(self._owner[feature])
        return self._order[o].edges.vertices_in(box, feature - int(self._offset[o]))


@dataclass(frozen=True, eq=False)
class _SeriesIndex:
    version: LayerVersionData
    geoms: NDArray[np.object_]  # prepared, aligned with version.features
    # its big features and (for boundary kinds) all its units; built with the series (before
    # the swap, so no screen after an activation waits for it) and kept for as long as the
    # version is active, whatever other series are swapped meanwhile
    edges: _EdgeIndex
    segments: tuple[bytes, ...]  # per feature not in `edges`: segment_codes (else b"")

    @classmethod
    def build(cls, version: LayerVersionData) -> _SeriesIndex:
        geoms = np.array([f.geometry for f in version.features] or [], dtype=object)
        with _PREPARED_LOCK:
            shapely.prepare(geoms)
        measured = shapely.get_num_coordinates(geoms) > _BIG_FEATURE_VERTICES
        if version.kind in BOUNDARY_KINDS:
            measured[:] = True
        edges = _EdgeIndex(geoms, np.flatnonzero(measured))
        edges.build()
        return cls(version, geoms, edges, segment_codes(geoms, ~measured))

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


@dataclass(frozen=True, eq=False)
class _Snapshot:
    """The active series, and all their features in one STRtree with per-feature arrays
    (the same geometry objects as the series hold: nothing is copied)."""

    series: Mapping[str, _SeriesIndex]
    layer_versions: Mapping[str, int]
    by_kind: Mapping[str, tuple[_SeriesIndex, ...]]
    order: tuple[_SeriesIndex, ...]  # owner number -> series
    kinds: tuple[str, ...]  # kind number -> kind
    geoms: NDArray[np.object_]  # every feature of every series
    owner: NDArray[np.intp]  # feature -> owner number
    local: NDArray[np.intp]  # feature -> index in its series
    kind: NDArray[np.intp]  # feature -> kind number
    sensitive: NDArray[np.bool_]
    admin: NDArray[np.bool_]
    boundary: NDArray[np.bool_]  # its kind's boundary distance is reported
    vertices: NDArray[np.intp]
    tree: STRtree
    has_sensitive: bool
    has_admin: bool
    edges: _SnapshotEdges  # big features and boundary units, through their series' indexes
    by_edges: NDArray[np.bool_]  # distances go through `edges` (else: segments, or chunks cut)
    segments: tuple[bytes, ...]  # feature -> its series' segment_codes
    # feature -> ..., as Python objects for the result loops and the one-point path
    kind_names: tuple[str, ...]
    sensitive_list: tuple[bool, ...]
    admin_list: tuple[bool, ...]
    boundary_list: tuple[bool, ...]
    by_edges_list: tuple[bool, ...]
    owner_list: tuple[int, ...]
    local_list: tuple[int, ...]
    # feature -> Hit with share 1.0 (a point's hits), built on first use; values never change
    whole_hits: dict[int, Hit] = field(default_factory=dict)
    # feature -> its Near's fields but the distance, built on first use
    near_about: dict[int, tuple[str, str, int, int | str, str | None, str | None]] = field(
        default_factory=dict
    )
    # the result orders as ranks (ranks()), built on first use
    _ranks: list[tuple[NDArray[np.intp], NDArray[np.intp]]] = field(default_factory=list)

    @classmethod
    def of(cls, indexes: Iterable[_SeriesIndex]) -> _Snapshot:
        by_series = {ix.series: ix for ix in sorted(indexes, key=lambda ix: ix.series)}
        by_kind: dict[str, list[_SeriesIndex]] = {}
        for ix in by_series.values():
            by_kind.setdefault(ix.kind, []).append(ix)
        order = tuple(by_series.values())
        kinds = tuple(sorted(by_kind))
        sizes = [len(ix.geoms) for ix in order]
        geoms = np.concatenate([ix.geoms for ix in order]) if order else np.empty(0, dtype=object)
        owner = np.repeat(np.arange(len(order), dtype=np.intp), sizes)
        kind_of_owner = np.array([kinds.index(ix.kind) for ix in order], dtype=np.intp)
        kind = kind_of_owner[owner]

        def flag(names: Iterable[str]) -> NDArray[np.bool_]:
            wanted = np.array([k in set(names) for k in kinds] or [False], dtype=bool)
            return wanted[kind] if len(kinds) else np.zeros(0, dtype=bool)

        vertices = shapely.get_num_coordinates(geoms).astype(np.intp)
        boundary = flag(BOUNDARY_KINDS)
        sensitive, admin = flag(SENSITIVE_KINDS), flag(ADMIN_KINDS)
        by_edges = (vertices > _BIG_FEATURE_VERTICES) | boundary
        local = (
            np.concatenate([np.arange(n, dtype=np.intp) for n in sizes])
            if order
            else np.empty(0, dtype=np.intp)
        )
        return cls(
            series=MappingProxyType(by_series),
            layer_versions=MappingProxyType(
                {name: ix.version.version_id for name, ix in by_series.items()}
            ),
            by_kind=MappingProxyType({k: tuple(v) for k, v in sorted(by_kind.items())}),
            order=order,
            kinds=kinds,
            geoms=geoms,
            owner=owner,
            local=local,
            kind=kind,
            sensitive=sensitive,
            admin=admin,
            boundary=boundary,
            vertices=vertices,
            tree=STRtree(geoms),
            has_sensitive=bool(sensitive.any()),
            has_admin=bool(admin.any()),
            edges=_SnapshotEdges(order, owner, np.cumsum(sizes, dtype=np.intp) - sizes),
            by_edges=by_edges,
            segments=tuple(code for ix in order for code in ix.segments),
            kind_names=tuple(kinds[k] for k in kind.tolist()),
            sensitive_list=tuple(sensitive.tolist()),
            admin_list=tuple(admin.tolist()),
            boundary_list=tuple(boundary.tolist()),
            by_edges_list=tuple(by_edges.tolist()),
            owner_list=tuple(owner.tolist()),
            local_list=tuple(local.tolist()),
        )

    def replaced(self, version: LayerVersionData) -> _Snapshot:
        others = [ix for name, ix in self.series.items() if name != version.series]
        return _Snapshot.of([*others, _SeriesIndex.build(version)])

    def without(self, series: str) -> _Snapshot:
        return _Snapshot.of(ix for name, ix in self.series.items() if name != series)

    def hit(self, feature: int, share: float) -> Hit:
        return self.order[self.owner_list[feature]].hit(self.local_list[feature], share)

    def whole_hit(self, feature: int) -> Hit:
        h = self.whole_hits.get(feature)
        if h is None:
            h = self.whole_hits[feature] = self.hit(feature, 1.0)
        return h

    def near(self, feature: int, distance_m: float) -> Near:
        about = self.near_about.get(feature)
        if about is None:
            near = self.order[self.owner_list[feature]].near(self.local_list[feature], 0.0)
            about = self.near_about[feature] = (
                near.kind,
                near.series,
                near.version_id,
                near.feature_id,
                near.code,
                near.name,
            )
        kind, series, version_id, feature_id, code, name = about
        return Near(kind, series, version_id, feature_id, code, name, distance_m)

    def ranks(self) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """Per feature, its place among the others in _hit_order when shares are alike, and
        in _near_order when distances are alike (equal keys, equal places)."""
        if not self._ranks:
            keys = [
                (ix.series, f.code or "", str(f.feature_id))
                for ix in self.order
                for f in ix.version.features
            ]
            n = len(keys)
            hit = np.empty(n, dtype=np.intp)
            hit[sorted(range(n), key=keys.__getitem__)] = np.arange(n)
            near_keys = sorted({k[:2] for k in keys})
            place = {k: i for i, k in enumerate(near_keys)}
            near = np.array([place[k[:2]] for k in keys], dtype=np.intp)
            self._ranks.append((hit, near))
        return self._ranks[0]

    def unit_key(self, feature: int, distance_m: float) -> tuple[float, str, int]:
        """The order of candidate nearest units: distance, then series and feature."""
        return (distance_m, self.order[self.owner_list[feature]].series, self.local_list[feature])

    def measured_by_edges(self, feature: NDArray[np.intp]) -> NDArray[np.bool_]:
        """Whether distances to these features go through the edge index (else: chunks cut
        per query)."""
        return self.by_edges[feature]


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
    if geometry.geom_type == "Point":
        return _Footprint(geometry, geometry, "point", 1.0, np.array([geometry], dtype=object))
    if geometry.geom_type == "Polygon" and geometry.is_valid:  # most leads: no union needed
        measured = densify(shapely.MultiPolygon([geometry]))
        area = geodesic_area(measured)
        if area <= 0:
            raise GeometryError("面的面积为零（顶点重合或共线），请检查坐标。", "geometry")
        return _Footprint(geometry, measured, "polygon", area, np.empty(0, dtype=object))
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


def _share(feature: BaseGeometry, fp: _Footprint) -> float:
    """measure(footprint ∩ feature) / measure(footprint), for one intersecting feature."""
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


def _hit_order(h: Hit) -> tuple:
    return (-h.share, h.series, h.code or "", str(h.feature_id))


def _near_order(n: Near) -> tuple:
    return (n.distance_m, n.series, n.code or "")


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
        if _is_point(geometry):
            return _point(snapshot, geometry, radii)
        return _overlay(snapshot, geometry, radii)

    def overlay_many(
        self,
        geometries: Sequence[BaseGeometry],
        *,
        nearby_radius_m: float = 5000.0,
        gap_search_m: float = 1000.0,
        boundary_search_m: float | None = None,
    ) -> list[OverlayResult]:
        """overlay() of each geometry, all on one snapshot. Points take the array path all at
        once (in steps of _POINTS_PER_STEP); other footprints are answered one by one."""
        snapshot = self._snapshot
        radii = _Radii.checked(nearby_radius_m, gap_search_m, boundary_search_m)
        items = list(geometries)
        geoms = np.empty(len(items), dtype=object)
        geoms[:] = items  # (np.array() would look into every geometry)
        out: list[OverlayResult | None] = [None] * len(geoms)
        is_point = (shapely.get_type_id(geoms) == 0) & ~shapely.is_empty(geoms)
        at = np.flatnonzero(is_point)
        if len(at):
            xy = shapely.get_coordinates(geoms[at])
            for i, result in zip(
                at.tolist(), _points(snapshot, xy[:, 0], xy[:, 1], radii), strict=True
            ):
                out[i] = result
        for i in np.flatnonzero(~is_point).tolist():
            out[i] = _overlay(snapshot, geoms[i], radii)
        return out  # type: ignore[return-value]


def _is_point(geometry: BaseGeometry | None) -> bool:
    return (
        geometry is not None
        and shapely.get_type_id(geometry) == 0
        and not shapely.is_empty(geometry)
    )


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


def _check_radius(value: float, name: str) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
        raise GeometryError(f"{name} 应为不小于 0 的米数，收到 {value!r}。", name)


# --- distances, as array operations over (point, feature) pairs ---------------------------------


def _distances(
    snapshot: _Snapshot,
    px: NDArray[np.float64],
    py: NDArray[np.float64],
    feature: NDArray[np.intp],
    cap_m: NDArray[np.float64],
    chunk_cache: _ChunkCache | None = None,
) -> NDArray[np.float64]:
    """Geodesic m from (px[i], py[i]) to feature[i] (a point outside it), inf beyond cap_m[i]."""
    out = np.full(len(feature), np.inf)
    if len(feature) == 0:
        return out
    big = snapshot.measured_by_edges(feature)
    at = np.flatnonzero(big)
    if len(at):
        out[at] = _edge_distances(snapshot, px[at], py[at], feature[at], cap_m[at])
    small = np.flatnonzero(~big)
    if 0 < len(small) <= _PREFILTER_PAIRS:  # few pairs: drop the surely too far in one call
        points = shapely.points(px[small], py[small])
        with _PREPARED_LOCK:  # a prepared geometry's distance index is built on first use
            degrees = shapely.distance(snapshot.geoms[feature[small]], points)
        small = small[metres_lower_bound(degrees, py[small]) <= cap_m[small]]
    if len(small):
        cache = chunk_cache if chunk_cache is not None else _ChunkCache(snapshot)
        for chunks, at, rows in cache.grouped(small, feature[small]):
            pair, chunk = chunks.pair_rows(rows)
            out[at] = chunks.distances_m(px[at], py[at], pair, chunk, cap_m[at])
    return out


class _ChunkCache:
    """Chunks of the small features one query (or one overlay_many call) measures to, built
    once for the call and thrown away with it: the layer geometry itself is held only once."""

    def __init__(self, snapshot: _Snapshot) -> None:
        self._geoms = snapshot.geoms
        self._segments = snapshot.segments
        self._parts: list[Chunks] = []
        self._part = np.full(len(snapshot.geoms), -1, dtype=np.intp)
        self._row = np.full(len(snapshot.geoms), -1, dtype=np.intp)

    def grouped(self, at: NDArray[np.intp], features: NDArray[np.intp]):
        """(chunks, positions, rows) for the features (built if missing), one per Chunks."""
        missing = np.unique(features[self._part[features] < 0])
        if len(missing):
            self._part[missing] = len(self._parts)
            self._row[missing] = np.arange(len(missing))
            codes = [self._segments[f] for f in missing.tolist()]
            self._parts.append(Chunks(self._geoms[missing], codes))
        part = self._part[features]
        for k in np.unique(part).tolist():
            sel = np.flatnonzero(part == k)
            yield self._parts[k], at[sel], self._row[features[sel]]


def _boundary_distances(
    snapshot: _Snapshot,
    px: NDArray[np.float64],
    py: NDArray[np.float64],
    feature: NDArray[np.intp],
    cap_m: float | None,
) -> NDArray[np.float64]:
    """Geodesic m from (px[i], py[i]), inside feature[i], to that feature's boundary; inf for
    features of kinds without boundary distances, or farther than cap_m."""
    out = np.full(len(feature), np.inf)
    at = np.flatnonzero(snapshot.boundary[feature])
    if len(at):
        cap = None if cap_m is None else np.full(len(at), float(cap_m))
        out[at] = _edge_distances(snapshot, px[at], py[at], feature[at], cap)
    return out


# --- points: one array path for one lead or a million ------------------------------------------


def _points(
    snapshot: _Snapshot, xs: NDArray[np.float64], ys: NDArray[np.float64], radii: _Radii
) -> list[OverlayResult]:
    out: list[OverlayResult] = []
    cache = _ChunkCache(snapshot)
    for lo in range(0, len(xs), _POINTS_PER_STEP):
        hi = lo + _POINTS_PER_STEP
        out.extend(_points_step(snapshot, xs[lo:hi], ys[lo:hi], radii, cache))
    return out


def _points_step(
    snapshot: _Snapshot,
    xs: NDArray[np.float64],
    ys: NDArray[np.float64],
    radii: _Radii,
    cache: _ChunkCache,
) -> list[OverlayResult]:
    n = len(xs)
    points = shapely.points(xs, ys)
    # containment: the features whose box holds the point, then point-in-feature (prepared)
    p, g = snapshot.tree.query(points)
    inside = _contained(snapshot, xs, ys, p, g)
    hit_p, hit_g = p[inside], g[inside]
    near_p, near_g, near_d = _searched(snapshot, xs, ys, hit_p, hit_g, radii, cache)
    boundary_d = _boundary_distances(snapshot, xs[hit_p], ys[hit_p], hit_g, radii.boundary)
    return _assembled(snapshot, n, hit_p, hit_g, boundary_d, near_p, near_g, near_d, radii)


class _Cells:
    """The grid cells of (point, big feature) pairs: one key per feature and cell."""

    def __init__(
        self, px: NDArray[np.float64], py: NDArray[np.float64], feature: NDArray[np.intp]
    ) -> None:
        cx = np.floor(px / _CELL_DEG).astype(np.int64)
        cy = np.floor(py / _CELL_DEG).astype(np.int64)
        keys, self.first, self.inverse = np.unique(
            _cell_keys(feature, cx, cy), return_index=True, return_inverse=True
        )
        self.feature = (keys >> 26).astype(np.intp)
        self.cx = ((keys >> 13) & 8191) - 4096
        self.cy = (keys & 8191) - 4096

    def crossed(self, snapshot: _Snapshot, radius_m: float | None = None) -> NDArray[np.bool_]:
        """Per key: whether an edge chunk of its feature comes into its cell (or within
        radius_m of it)."""
        reach = 0
        if radius_m is not None and len(self.cy):
            lat = float(np.abs(self.cy).max() + 1) * _CELL_DEG
            dlon, dlat = covering_margin_of(radius_m, min(lat, 89.0))
            reach = math.ceil(max(dlon, dlat) / _CELL_DEG)
        return snapshot.edges.cells_met(self.feature, self.cx, self.cy, reach)


def _contained(
    snapshot: _Snapshot,
    xs: NDArray[np.float64],
    ys: NDArray[np.float64],
    p: NDArray[np.intp],
    g: NDArray[np.intp],
) -> NDArray[np.bool_]:
    """Whether point p[i] intersects feature g[i]. A big feature (edge index) answers from its
    precomputed grid (_CellStates) where no edge chunk comes into the point's cell; GEOS
    decides the others (GEOS's test costs a big feature the more, the more edges cross its
    scan line)."""
    out = np.zeros(len(p), dtype=bool)
    big = np.flatnonzero(snapshot.by_edges[g])
    each = np.flatnonzero(~snapshot.by_edges[g])
    if len(big):
        state = snapshot.edges.cell_states(g[big], xs[p[big]], ys[p[big]])
        out[big] = state == _INSIDE
        each = np.concatenate([each, big[state == _CROSSED]])
    if len(each):
        with _PREPARED_LOCK:
            out[each] = shapely.intersects_xy(snapshot.geoms[g[each]], xs[p[each]], ys[p[each]])
    return out


def _edge_distances(
    snapshot: _Snapshot,
    px: NDArray[np.float64],
    py: NDArray[np.float64],
    feature: NDArray[np.intp],
    cap_m: NDArray[np.float64] | None,
) -> NDArray[np.float64]:
    """snapshot.edges.distances_m, without the pairs whose grid cell no edge of the feature
    comes within the cap of (those are farther: inf)."""
    out = np.full(len(feature), np.inf)
    if cap_m is None or len(feature) < 64:
        return snapshot.edges.distances_m(px, py, feature, cap_m)
    for r in np.unique(cap_m).tolist():
        at = np.flatnonzero(cap_m == r)
        cells = _Cells(px[at], py[at], feature[at])
        at = at[cells.crossed(snapshot, r)[cells.inverse]]
        out[at] = snapshot.edges.distances_m(px[at], py[at], feature[at], cap_m[at])
    return out


def _searched(
    snapshot: _Snapshot,
    xs: NDArray[np.float64],
    ys: NDArray[np.float64],
    hit_p: NDArray[np.intp],
    hit_g: NDArray[np.intp],
    radii: _Radii,
    cache: _ChunkCache,
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
    """(point, feature, metres) of the sensitive features within the nearby radius that the
    point does not touch, and of the units of administrative kinds the point touches none of,
    within the gap search."""
    none = np.empty(0, dtype=np.intp)
    r_near = radii.nearby if snapshot.sensitive.any() else 0.0
    r_gap = radii.gap if snapshot.admin.any() else 0.0
    reach = max(r_near, r_gap)
    if reach <= 0:
        return none, none, np.empty(0)
    dlon, dlat = covering_margin(reach, ys)
    p, g = snapshot.tree.query(shapely.box(xs - dlon, ys - dlat, xs + dlon, ys + dlat))
    n_features, n_kinds = len(snapshot.geoms), len(snapshot.kinds)
    touched = _member(p * n_features + g, hit_p * n_features + hit_g)
    kind_touched = _member(p * n_kinds + snapshot.kind[g], hit_p * n_kinds + snapshot.kind[hit_g])
    radius = np.where(
        snapshot.sensitive[g],
        r_near,
        np.where(snapshot.admin[g] & ~kind_touched, r_gap, 0.0),
    )
    keep = ~touched & (radius > 0)
    p, g, radius = p[keep], g[keep], radius[keep]
    d = _distances(snapshot, xs[p], ys[p], g, radius, cache)
    within = d <= radius
    return p[within], g[within], d[within]


def _member(keys: NDArray[np.intp], pool: NDArray[np.intp]) -> NDArray[np.bool_]:
    """keys[i] in pool, for integer arrays (np.isin, with less overhead on small arrays)."""
    if len(pool) == 0:
        return np.zeros(len(keys), dtype=bool)
    pool = np.sort(pool)
    at = np.minimum(np.searchsorted(pool, keys), len(pool) - 1)
    return pool[at] == keys


def _assembled(
    snapshot: _Snapshot,
    n: int,
    hit_p: NDArray[np.intp],
    hit_g: NDArray[np.intp],
    boundary_d: NDArray[np.float64],
    near_p: NDArray[np.intp],
    near_g: NDArray[np.intp],
    near_d: NDArray[np.float64],
    radii: _Radii,
) -> list[OverlayResult]:
    """One OverlayResult per point from the pair arrays (each sorted by point): the orders of
    _point as array sorts, then one light step per point that shares what points have in common
    (the same hits; no boundary within the cap; no gap)."""
    hit_rank, near_rank = snapshot.ranks()
    kind = snapshot.kind
    # hits, by point, kind and _hit_order (every share 1.0): one mapping per set of features
    o = np.lexsort((hit_rank[hit_g], kind[hit_g], hit_p))
    hit_at = np.searchsorted(hit_p[o], np.arange(n + 1)).tolist()
    hit_list = hit_g[o].tolist()
    # boundary distances within the cap: the least per point and kind
    d = boundary_d[o]
    cap = radii.boundary
    ok = np.flatnonzero(np.isfinite(d) if cap is None else d <= cap)
    boundary_of = _least_per_kind(snapshot, hit_p[o][ok], hit_g[o][ok], d[ok], BOUNDARY_KINDS)
    # nearby: by point, then _near_order (ties in the order found)
    sensitive = snapshot.sensitive[near_g]
    sp, sg, sd = near_p[sensitive], near_g[sensitive], near_d[sensitive]
    o = np.lexsort((np.arange(len(sp)), near_rank[sg], sd, sp))
    sp, sg, sd = sp[o], sg[o], sd[o]
    near_at = np.searchsorted(sp, np.arange(n + 1)).tolist()
    near_list = [snapshot.near(f, v) for f, v in zip(sg.tolist(), sd.tolist(), strict=True)]
    # nearest units (admin kinds touched by none): the least (distance, series, feature)
    units = ~sensitive
    units_of = _least_per_kind(snapshot, near_p[units], near_g[units], near_d[units], ADMIN_KINDS)
    none: Mapping = MappingProxyType({})
    made: dict[tuple[int, ...], Mapping[str, Sequence[Hit]]] = {}
    empty_hits = {k: () for k in snapshot.by_kind}
    kind_names, layer_versions = snapshot.kind_names, snapshot.layer_versions
    out: list[OverlayResult] = []
    for i in range(n):
        key = tuple(hit_list[hit_at[i] : hit_at[i + 1]])
        hits = made.get(key)
        if hits is None:
            grouped: dict[str, tuple[Hit, ...]] = dict(empty_hits)
            for f in key:
                grouped[kind_names[f]] += (snapshot.whole_hit(f),)
            hits = made[key] = MappingProxyType(grouped)
        out.append(
            OverlayResult(
                "point",
                1.0,
                hits,
                tuple(near_list[near_at[i] : near_at[i + 1]]),
                units_of.get(i, none),
                boundary_of.get(i, none),
                layer_versions,
            )
        )
    return out


def _least_per_kind(
    snapshot: _Snapshot,
    p: NDArray[np.intp],
    g: NDArray[np.intp],
    d: NDArray[np.float64],
    kinds: Sequence[str],
) -> dict[int, Mapping]:
    """point -> {kind: value} of the pair with the least (distance, series, feature) per point
    and kind, in the order of `kinds`; a Near for administrative units, metres for boundaries."""
    if len(p) == 0:
        return {}
    kind = snapshot.kind[g]
    o = np.lexsort((g, d, kind, p))  # snapshot features run by series, then within it
    p, g, d, kind = p[o], g[o], d[o], kind[o]
    first = np.flatnonzero(np.r_[True, (p[1:] != p[:-1]) | (kind[1:] != kind[:-1])])
    place = {k: i for i, k in enumerate(kinds)}
    found: dict[int, list[tuple[int, str, object]]] = {}
    boundary = kinds is BOUNDARY_KINDS
    for i, f, v in zip(p[first].tolist(), g[first].tolist(), d[first].tolist(), strict=True):
        name = snapshot.kind_names[f]
        found.setdefault(i, []).append((place[name], name, v if boundary else snapshot.near(f, v)))
    return {i: MappingProxyType({k: v for _, k, v in sorted(items)}) for i, items in found.items()}


# --- one point: the array path's answer, without its per-call array overhead ------------------


def _point(snapshot: _Snapshot, point: BaseGeometry, radii: _Radii) -> OverlayResult:
    """overlay() of one point (every screened lead): the same candidates in the same order as
    _points_step, measured with the same arithmetic (the edge index as it is; small features by
    layers.measure.point_distances_m, Chunks.distances_m's formulas per segment), so the answer
    is identical; in Python where there are only a few candidates, and a box test that usually
    shows no unit boundary within the cap."""
    x, y = point.x, point.y
    kind_names = snapshot.kind_names
    boxes = _Boxes(x, y)
    found = _query_one(snapshot.tree, point)
    hit: list[int] = []
    if len(found):
        with _PREPARED_LOCK:
            inside = shapely.intersects_xy(snapshot.geoms[found], x, y)
        hit = found[inside].tolist()
    by_kind: dict[str, list[Hit]] = {k: [] for k in snapshot.by_kind}
    for f in hit:
        h = snapshot.whole_hit(f)
        by_kind[h.kind].append(h)
    # boundary distances of the containing units, within the cap
    cap = radii.boundary
    boundary: dict[str, float] = {}
    units = [f for f in hit if snapshot.boundary_list[f]]
    if units and cap is not None:  # no edge in the box around the point: farther than cap
        box = boxes.around(cap)
        near = snapshot.edges.chunks_near(box, units, boxes.bounds(cap))
        if near:  # nor when the unit holds the box
            with _PREPARED_LOCK:
                held = shapely.contains_properly(snapshot.geoms[list(near)], box).tolist()
            near = {f: v for (f, v), h in zip(near.items(), held, strict=True) if not h}
        d = snapshot.edges.point_distances_m(x, y, near, float(cap)) if near else {}
        units = list(d)
        distances = list(d.values())
    elif units:
        n = len(units)
        distances = snapshot.edges.distances_m(
            np.full(n, x), np.full(n, y), np.array(units, dtype=np.intp), None
        ).tolist()
    if units:
        for f, dist in zip(units, distances, strict=True):
            kind = kind_names[f]
            if dist < boundary.get(kind, math.inf) and (cap is None or dist <= cap):
                boundary[kind] = dist
    # nearby sensitive features, and the nearest unit of an administrative kind not touched
    nearby: list[Near] = []
    nearest: dict[str, tuple[tuple, Near]] = {}
    r_near = radii.nearby if snapshot.has_sensitive else 0.0
    r_gap = radii.gap if snapshot.has_admin else 0.0
    reach = max(r_near, r_gap)
    if reach > 0:
        box = boxes.around(reach)
        touched = set(hit)
        kinds_touched = {kind_names[f] for f in hit}
        candidates: list[int] = []
        radius: list[float] = []
        for f in _query_one(snapshot.tree, box).tolist():
            if f in touched:
                continue
            if snapshot.sensitive_list[f]:
                r = r_near
            elif snapshot.admin_list[f] and kind_names[f] not in kinds_touched:
                r = r_gap
            else:
                continue
            if r > 0:
                candidates.append(f)
                radius.append(r)
        distances = _point_distances(snapshot, boxes, candidates, radius) if candidates else []
        for f, dist, r in zip(candidates, distances, radius, strict=True):
            if dist > r:
                continue
            if snapshot.sensitive_list[f]:
                nearby.append(snapshot.near(f, dist))
                continue
            kind, key = kind_names[f], snapshot.unit_key(f, dist)
            if kind not in nearest or key < nearest[kind][0]:
                nearest[kind] = (key, snapshot.near(f, dist))
        if len(nearby) > 1:
            nearby.sort(key=_near_order)
    return OverlayResult(
        footprint_type="point",
        footprint_measure=1.0,
        hits=MappingProxyType(
            {
                k: tuple(sorted(v, key=_hit_order)) if len(v) > 1 else tuple(v)
                for k, v in by_kind.items()
            }
        ),
        nearby=tuple(nearby),
        nearest_unit=MappingProxyType({k: nearest[k][1] for k in ADMIN_KINDS if k in nearest}),
        boundary_distance_m=MappingProxyType(
            {k: boundary[k] for k in BOUNDARY_KINDS if k in boundary}
        ),
        layer_versions=snapshot.layer_versions,
    )


class _Boxes:
    """Boxes around one point that hold every point within a radius (covering_margin)."""

    def __init__(self, x: float, y: float) -> None:
        self.x, self.y = x, y
        self._made: dict[float, tuple[shapely.Polygon, tuple[float, float, float, float]]] = {}

    def around(self, radius_m: float) -> shapely.Polygon:
        return self._get(radius_m)[0]

    def bounds(self, radius_m: float) -> tuple[float, float, float, float]:
        return self._get(radius_m)[1]

    def _get(self, radius_m: float):
        made = self._made.get(radius_m)
        if made is None:
            dlon, dlat = covering_margin_of(radius_m, self.y)
            bounds = (self.x - dlon, self.y - dlat, self.x + dlon, self.y + dlat)
            made = self._made[radius_m] = (shapely.box(*bounds), bounds)
        return made


def _point_distances(
    snapshot: _Snapshot, boxes: _Boxes, features: list[int], cap_m: list[float]
) -> list[float]:
    """Geodesic m from the point to each feature (the point outside it), inf beyond its cap."""
    x, y = boxes.x, boxes.y
    out = [math.inf] * len(features)
    big = [i for i, f in enumerate(features) if snapshot.by_edges_list[f]]
    for r in {cap_m[i] for i in big}:
        of_r = [i for i in big if cap_m[i] == r]
        near = snapshot.edges.chunks_near(
            boxes.around(r), [features[i] for i in of_r], boxes.bounds(r)
        )
        found = snapshot.edges.point_distances_m(x, y, near, r) if near else {}
        for i in of_r:
            out[i] = found.get(features[i], math.inf)
    small = [i for i, f in enumerate(features) if not snapshot.by_edges_list[f]]
    if small:
        chosen = [features[i] for i in small]
        codes = [snapshot.segments[f] for f in chosen]
        d = point_distances_m(
            x,
            y,
            shapely.get_coordinates(snapshot.geoms[chosen]),
            [len(code) for code in codes],
            b"".join(codes),
            [cap_m[i] for i in small],
        )
        for i, v in zip(small, d, strict=True):
            out[i] = v
    return out


# --- other footprints: lines, polygons, several points -----------------------------------------


def _overlay(snapshot: _Snapshot, geometry: BaseGeometry, radii: _Radii) -> OverlayResult:
    fp = _footprint(geometry)
    shares = _touched(snapshot, fp)
    found = np.array(sorted(shares), dtype=np.intp)
    hits: dict[str, list[Hit]] = {kind: [] for kind in snapshot.by_kind}
    for f in found.tolist():
        h = snapshot.hit(f, shares[f])
        hits[h.kind].append(h)
    nearby: list[Near] = []
    units: dict[str, Near] = {}
    r_near = radii.nearby if snapshot.has_sensitive else 0.0
    r_gap = radii.gap if snapshot.has_admin else 0.0
    reach = max(r_near, r_gap)
    if reach > 0:
        x0, y0, x1, y1 = fp.geometry.bounds
        dlon, dlat = degree_margin(reach, max(abs(y0), abs(y1)))
        around = _query_one(snapshot.tree, shapely.box(x0 - dlon, y0 - dlat, x1 + dlon, y1 + dlat))
        hit_kinds = {k for k, v in hits.items() if v}
        g_list, r_list = [], []
        for f in sorted(around.tolist()):
            if f in shares:
                continue
            if snapshot.sensitive_list[f]:
                r = r_near
            elif snapshot.admin_list[f] and snapshot.kind_names[f] not in hit_kinds:
                r = r_gap
            else:
                continue
            if r > 0:
                g_list.append(f)
                r_list.append(r)
        g, radius = np.array(g_list, dtype=np.intp), np.array(r_list, dtype=float)
        d = _footprint_distances(snapshot, fp, g, radius)
        for f, dist, r in zip(g.tolist(), d.tolist(), radius.tolist(), strict=True):
            if dist > r:
                continue
            near = snapshot.near(f, dist)
            if snapshot.sensitive[f]:
                nearby.append(near)
            elif near.kind not in units or dist < units[near.kind].distance_m:
                units[near.kind] = near
        nearby.sort(key=_near_order)
    boundary = (
        _footprint_boundary(snapshot, fp, found, radii.boundary) if fp.type == "point" else {}
    )
    return OverlayResult(
        footprint_type=fp.type,
        footprint_measure=fp.measure,
        hits=MappingProxyType({k: tuple(sorted(v, key=_hit_order)) for k, v in hits.items()}),
        nearby=tuple(nearby),
        nearest_unit=MappingProxyType({k: units[k] for k in ADMIN_KINDS if k in units}),
        boundary_distance_m=MappingProxyType(boundary),
        layer_versions=snapshot.layer_versions,
    )


def _touched(snapshot: _Snapshot, fp: _Footprint) -> dict[int, float]:
    """feature -> share of the features the footprint touches.

    A feature measured through the edge index (big, or a unit) with no edge chunk near the
    footprint has no edge within its box: the footprint is then wholly inside it (share 1.0)
    or wholly outside, as one vertex of it says, without GEOS's polygon predicates on a big
    feature (a many-part one, such as Russia, tests each of its parts)."""
    candidates = _query_one(snapshot.tree, fp.geometry).tolist()
    big = [f for f in candidates if snapshot.by_edges_list[f]]
    near = snapshot.edges.chunks_near(shapely.box(*fp.geometry.bounds), big) if big else {}
    away = [f for f in big if f not in near]
    tested = [f for f in candidates if not snapshot.by_edges_list[f] or f in near]
    shares: dict[int, float] = {}
    with _PREPARED_LOCK:
        if away:
            x, y = shapely.get_coordinates(fp.geometry)[0]
            inside = shapely.intersects_xy(snapshot.geoms[away], x, y).tolist()
            shares.update((f, 1.0) for f, hit in zip(away, inside, strict=True) if hit)
        if tested:
            hit = shapely.intersects(snapshot.geoms[tested], fp.geometry).tolist()
            tested = [f for f, h in zip(tested, hit, strict=True) if h]
    for f in tested:
        shares[f] = _share(snapshot.geoms[f], fp)
    return shares


def _footprint_distances(
    snapshot: _Snapshot, fp: _Footprint, g: NDArray[np.intp], radius: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Geodesic m from the footprint to each feature g (none touched), inf beyond radius.

    Several points: the least over them, on the point array path (exact). Lines and polygons:
    small features with geodesic_distances_m; big ones exactly on the array path — two disjoint
    sets of straight edges are nearest at a vertex of one of them, so the least of the
    footprint's vertices to the feature's edges and the feature's vertices near the footprint
    to the footprint's edges."""
    if len(g) == 0:
        return np.empty(0)
    lat = max(abs(fp.geometry.bounds[1]), abs(fp.geometry.bounds[3]))
    out = np.full(len(g), np.inf)
    # a GEOS distance drops the small features surely too far (big ones: the edge index does)
    lower = np.zeros(len(g))
    by_edges = snapshot.measured_by_edges(g)
    small = np.flatnonzero(~by_edges)
    with _PREPARED_LOCK:  # a prepared geometry's distance index is built on first use
        degrees = shapely.distance(snapshot.geoms[g[small]], fp.geometry)
    lower[small] = metres_lower_bound(degrees, lat)
    big = np.flatnonzero(by_edges).tolist()
    if big:
        x0, y0, x1, y1 = fp.geometry.bounds
        dlon, dlat = degree_margin(float(radius[big].max()), max(abs(y0), abs(y1)))
        box = shapely.box(x0 - dlon, y0 - dlat, x1 + dlon, y1 + dlat)
        near = snapshot.edges.chunks_near(box, g[big].tolist())
        lower[[i for i in big if int(g[i]) not in near]] = np.inf
    possible = np.flatnonzero(lower <= radius)
    if len(possible) == 0:
        return out
    if fp.type != "point":
        # lines and polygons: small features by GEOS in the local frame (geodesic_distances_m,
        # all at once); big ones (outlines) through the edge index, vertex to edge
        mine = possible[~by_edges[possible]]
        if len(mine):
            at = np.searchsorted(small, mine)
            out[mine] = geodesic_distances_m(fp.geometry, snapshot.geoms[g[mine]], degrees[at])
        possible = possible[by_edges[possible]]
    if len(possible) == 0:
        return out
    g, radius = g[possible], radius[possible]
    xy = np.unique(shapely.get_coordinates(fp.geometry), axis=0)
    k = len(xy)
    # the footprint's vertices to each feature
    d = _distances(
        snapshot,
        np.tile(xy[:, 0], len(g)),
        np.tile(xy[:, 1], len(g)),
        np.repeat(g, k),
        np.repeat(radius, k),
    ).reshape(len(g), k)
    best = d.min(axis=1)
    if fp.type != "point":
        best = np.minimum(best, _vertices_to_footprint(snapshot, fp, g, radius))
    out[possible] = best
    return out


def _vertices_to_footprint(
    snapshot: _Snapshot, fp: _Footprint, g: NDArray[np.intp], radius: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Per feature g: geodesic m from its vertices within reach of the footprint to the
    footprint's edges (inf when none is within its radius)."""
    x0, y0, x1, y1 = fp.geometry.bounds
    dlon, dlat = degree_margin(float(radius.max()), max(abs(y0), abs(y1)))
    box = (x0 - dlon, y0 - dlat, x1 + dlon, y1 + dlat)
    vx, vy, owner = [], [], []
    by_edges = snapshot.measured_by_edges(g).tolist()
    for i, f in enumerate(g.tolist()):
        if by_edges[i]:
            c = snapshot.edges.vertices_in(box, f)
        else:
            c = shapely.get_coordinates(shapely.clip_by_rect(snapshot.geoms[f], *box))
        if len(c) == 0:
            continue
        vx.append(c[:, 0])
        vy.append(c[:, 1])
        owner.append(np.full(len(c), i, dtype=np.intp))
    out = np.full(len(g), np.inf)
    if not vx:
        return out
    px, py, who = np.concatenate(vx), np.concatenate(vy), np.concatenate(owner)
    # clip_by_rect adds vertices on the box's sides; they are points of the feature too, so a
    # distance from one is never less than the feature's true distance. A point footprint's
    # feature vertices are many: the edge index's chunks give a superset, which is harmless.
    edges = Chunks([shapely.GeometryCollection(single_parts(fp.geometry))])
    pair, chunk = edges.pair_rows(np.zeros(len(px), dtype=np.intp))
    d = edges.distances_m(px, py, pair, chunk, radius[who])
    np.minimum.at(out, who, d)
    return out


def _footprint_boundary(
    snapshot: _Snapshot, fp: _Footprint, found: NDArray[np.intp], cap_m: float | None
) -> dict[str, float]:
    """kind -> least distance from a footprint point inside a unit to that unit's boundary."""
    xy = shapely.get_coordinates(fp.points)
    best: dict[str, float] = {}
    for f in found[snapshot.boundary[found]].tolist():
        with _PREPARED_LOCK:
            inside = shapely.intersects_xy(snapshot.geoms[f], xy[:, 0], xy[:, 1])
        if not inside.any():
            continue
        k = int(np.count_nonzero(inside))
        d = float(
            _boundary_distances(
                snapshot, xy[inside, 0], xy[inside, 1], np.full(k, f, dtype=np.intp), cap_m
            ).min()
        )
        kind = snapshot.kinds[snapshot.kind[f]]
        if d < best.get(kind, math.inf) and (cap_m is None or d <= cap_m):
            best[kind] = d
    return {k: best[k] for k in BOUNDARY_KINDS if k in best}
