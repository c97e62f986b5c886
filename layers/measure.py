"""Geodesic measures on the CGCS2000 ellipsoid (GRS80): areas in m², lengths and distances in m.

Geometries are EPSG:4490 (x = longitude, y = latitude). Nothing here measures in square degrees.

Edges are what GEOS (and PostGIS `geometry`) intersect: straight in longitude/latitude. A
geodesic between the same two vertices bows away from that line (268 m at the middle of a 1.5°
east-west edge at 40°N), so measuring long edges as geodesics would make the pieces of a split
polygon add up to more than the whole (0.17 % for a 1.5° box). Edges longer than
MAX_SEGMENT_DEG are therefore densified before measuring; the bow of a 0.05° edge is 0.3 m.
Shorter edges, all real boundaries and leads of a few km, are measured exactly as PostGIS
`geography` measures them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import shapely
import shapely.ops
from numpy.typing import NDArray
from pyproj import Geod
from shapely import STRtree
from shapely.geometry.base import BaseGeometry

# CGCS2000 uses the GRS80-equivalent CGCS2000 ellipsoid (f differs in the 11th digit).
GEOD = Geod(ellps="GRS80")

MAX_SEGMENT_DEG = 0.05

# Metres per degree of latitude is never below this (at the equator); used to turn a radius in
# metres into a degree margin that is certainly large enough.
_MIN_M_PER_DEG_LAT = 110_574.0
# Metres per degree in any direction never exceed this (a degree of latitude at the pole).
_MAX_M_PER_DEG = 111_700.0
# GRS80 first eccentricity squared.
_E2 = GEOD.es
_DEG = math.pi / 180.0  # what np.radians multiplies by


def _ring_area(ring: BaseGeometry) -> float:
    coords = shapely.get_coordinates(ring)
    if len(coords) < 4:
        return 0.0
    area, _ = GEOD.polygon_area_perimeter(coords[:, 0], coords[:, 1])
    return abs(area)


def _polygon_area(polygon: BaseGeometry) -> float:
    if polygon.is_empty:
        return 0.0
    polygon = densify(polygon)
    area = _ring_area(polygon.exterior)
    for interior in polygon.interiors:
        area -= _ring_area(interior)
    return max(area, 0.0)


def geodesic_area(geometry: BaseGeometry) -> float:
    """Area in m² of the polygonal parts (multi-parts and collections summed; holes subtracted)."""
    if geometry is None or geometry.is_empty:
        return 0.0
    return float(sum(_polygon_area(p) for p in single_parts(geometry) if p.geom_type == "Polygon"))


def geodesic_areas(geometries) -> NDArray[np.float64]:
    """geodesic_area of each geometry in a sequence or array."""
    return np.array([geodesic_area(g) for g in geometries], dtype=float)


def _line_length(coords: NDArray[np.float64]) -> float:
    if len(coords) < 2:
        return 0.0
    _, _, dist = GEOD.inv(coords[:-1, 0], coords[:-1, 1], coords[1:, 0], coords[1:, 1])
    return float(np.sum(dist))


def geodesic_length(geometry: BaseGeometry) -> float:
    """Length in m of the lineal parts; a polygon counts with its perimeter (all rings)."""
    if geometry is None or geometry.is_empty:
        return 0.0
    total = 0.0
    for part in single_parts(geometry):
        part = densify(part)
        if part.geom_type in ("LineString", "LinearRing"):
            total += _line_length(shapely.get_coordinates(part))
        elif part.geom_type == "Polygon":
            for ring in (part.exterior, *part.interiors):
                total += _line_length(shapely.get_coordinates(ring))
    return total


def densify(geometry: BaseGeometry) -> BaseGeometry:
    """Edges longer than MAX_SEGMENT_DEG split so geodesic measures follow the drawn edges."""
    return shapely.segmentize(geometry, MAX_SEGMENT_DEG)


def single_parts(geometry: BaseGeometry) -> list[BaseGeometry]:
    """The non-empty single-part geometries inside `geometry` (multi-parts, nested collections)."""
    out: list[BaseGeometry] = []
    stack = [geometry]
    while stack:
        g = stack.pop()
        if g is None or g.is_empty:
            continue
        if g.geom_type in ("GeometryCollection", "MultiPolygon", "MultiLineString", "MultiPoint"):
            stack.extend(reversed(shapely.get_parts(g).tolist()))
        else:
            out.append(g)
    return out


def degree_margin(radius_m: float, max_abs_lat: float) -> tuple[float, float]:
    """(dlon, dlat) in degrees that certainly cover `radius_m` at latitudes up to `max_abs_lat`."""
    dlat = radius_m / _MIN_M_PER_DEG_LAT
    cos_lat = math.cos(math.radians(min(abs(max_abs_lat) + dlat, 89.0)))
    return dlat / cos_lat, dlat


def geodesic_point_distance(x0, y0, x1, y1) -> NDArray[np.float64]:
    """Geodesic distance in m between point arrays (lon/lat)."""
    _, _, dist = GEOD.inv(
        np.asarray(x0, float), np.asarray(y0, float), np.asarray(x1, float), np.asarray(y1, float)
    )
    return np.asarray(dist, dtype=float)


def frame_scale(lat_deg):
    """x-scale of the local frame (dlon·c, dlat) that is isometric on GRS80 at `lat_deg`.

    A degree of longitude is N·cos(φ) and a degree of latitude M (radii of curvature), so
    c = cos(φ)·N/M = cos(φ)·(1 − e²sin²φ)/(1 − e²); plain cos(φ) would be 0.34 % short at 45°N.
    """
    phi = np.radians(lat_deg)
    s2 = np.sin(phi) ** 2
    return np.cos(phi) * (1.0 - _E2 * s2) / (1.0 - _E2)


def frame_scale_of(lat_deg: float) -> float:
    """frame_scale of one latitude, the same float (numpy's sine and cosine, the rest as it
    does it)."""
    phi = lat_deg * _DEG
    s = float(np.sin(phi))
    return float(np.cos(phi)) * (1.0 - _E2 * (s * s)) / (1.0 - _E2)


def metres_lower_bound(distance_deg, lat_deg):
    """A lower bound (m) of the geodesic length of anything `distance_deg` long (plain degrees,
    GEOS distance) near latitude `lat_deg`: a degree is at least this many metres there."""
    lat = np.minimum(np.abs(lat_deg) + np.asarray(distance_deg) + 0.01, 89.0)
    per_deg = np.minimum(_MIN_M_PER_DEG_LAT, 111_320.0 * np.cos(np.radians(lat)))
    return np.asarray(distance_deg) * per_deg * 0.995


def _scaled(geometry: BaseGeometry, c: float) -> BaseGeometry:
    return shapely.transform(geometry, lambda xy: xy * np.array([c, 1.0]))


def geodesic_distance_m(a: BaseGeometry, b: BaseGeometry) -> float:
    """Geodesic distance in m between two geometries; 0 when they intersect.

    The nearest pair of points is found in a local equirectangular frame (longitude scaled by
    cos(latitude)), so it matches the geodesic nearest pair to well under a metre at the
    distances this service searches (kilometres); the distance itself is Geod.inv between them.
    `b` is clipped to the neighbourhood of `a` first, so a large boundary costs little.
    """
    if a.is_empty or b.is_empty:
        raise ValueError("distance to an empty geometry")
    if shapely.intersects(a, b):
        return 0.0
    d_deg = shapely.distance(a, b)
    ax0, ay0, ax1, ay1 = a.bounds
    lat0 = min(max(abs(ay0), abs(ay1)) + d_deg, 89.0)
    c = math.cos(math.radians(lat0))
    margin_x, margin_y = d_deg / c * 1.01 + 1e-9, d_deg * 1.01 + 1e-9
    near_b = shapely.clip_by_rect(b, ax0 - margin_x, ay0 - margin_y, ax1 + margin_x, ay1 + margin_y)
    if near_b.is_empty:  # clipping a degenerate geometry can lose it; fall back to all of it
        near_b = b
    # Scale at the middle of `a`, then again at the middle of the pair found: the second pass
    # corrects the frame when the pair spans a noticeable change of latitude.
    best = math.inf
    lat = (ay0 + ay1) / 2.0
    for _ in range(2):
        c = float(frame_scale(lat))
        pa, pb = shapely.ops.nearest_points(_scaled(a, c), _scaled(near_b, c))
        best = min(best, float(GEOD.inv(pa.x / c, pa.y, pb.x / c, pb.y)[2]))
        lat = (pa.y + pb.y) / 2.0
    return best


def linework(geometries) -> tuple[NDArray[np.object_], NDArray[np.intp]]:
    """The lines of each geometry — polygon rings, lines, points — in shapely.get_coordinates
    order (multi-parts and nested collections opened), and the geometry each belongs to."""
    parts, owner = shapely.get_parts(np.asarray(geometries, dtype=object), return_index=True)
    while True:  # collections inside collections
        multi = shapely.get_type_id(parts) >= 4
        if not multi.any():
            break
        sub, of = shapely.get_parts(parts[multi], return_index=True)
        parts, owner = _spliced(parts, owner, multi, sub, of)
    polygonal = shapely.get_type_id(parts) == 3
    if polygonal.all():
        rings, of = shapely.get_rings(parts, return_index=True)
        return rings, owner[of]
    rings, of = shapely.get_rings(parts[polygonal], return_index=True)
    return _spliced(parts, owner, polygonal, rings, of)


def _spliced(items, owner, replaced, sub, of):
    """items with items[replaced] each replaced by its sub-items (sub[of == k] for the k-th)."""
    position = np.concatenate([np.flatnonzero(~replaced), np.flatnonzero(replaced)[of]])
    order = np.argsort(position, kind="stable")
    merged = np.concatenate([items[~replaced], sub])[order]
    return merged, np.concatenate([owner[~replaced], owner[replaced][of]])[order]


def geodesic_distances_m(
    a: BaseGeometry, bs: NDArray[np.object_], d_deg: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """geodesic_distance_m(a, b) for each b of bs, none intersecting `a`, as array operations
    over them (d_deg: shapely.distance(bs, a) when known). The bs are clipped to one box around
    `a` that holds the nearest part of each."""
    if d_deg is None:
        d_deg = shapely.distance(bs, a)
    ax0, ay0, ax1, ay1 = a.bounds
    lat0 = np.minimum(max(abs(ay0), abs(ay1)) + d_deg, 89.0)
    margin_x = float((d_deg / np.cos(np.radians(lat0)) * 1.01).max()) + 1e-9
    margin_y = float(d_deg.max()) * 1.01 + 1e-9
    near = shapely.clip_by_rect(bs, ax0 - margin_x, ay0 - margin_y, ax1 + margin_x, ay1 + margin_y)
    lost = shapely.is_empty(near)  # clipping a degenerate geometry can lose it
    near[lost] = np.asarray(bs, dtype=object)[lost]
    n = len(near)
    best = np.full(n, np.inf)
    c = np.full(n, float(frame_scale((ay0 + ay1) / 2.0)))
    # at the middle of `a`, then again at the middle of the pair found (as geodesic_distance_m)
    for _ in range(2):
        lines = shapely.shortest_line(
            _scaled_each(np.full(n, a, dtype=object), c), _scaled_each(near, c)
        )
        ends = shapely.get_coordinates(lines).reshape(n, 2, 2)
        pa, pb = ends[:, 0], ends[:, 1]
        best = np.minimum(best, GEOD.inv(pa[:, 0] / c, pa[:, 1], pb[:, 0] / c, pb[:, 1])[2])
        c = frame_scale((pa[:, 1] + pb[:, 1]) / 2.0)
    return best


def _scaled_each(geoms: NDArray[np.object_], c: NDArray[np.float64]) -> NDArray[np.object_]:
    """geoms[i] with its x scaled by c[i] (new geometries)."""
    xy, at = shapely.get_coordinates(geoms, return_index=True)
    xy[:, 0] *= c[at]
    return shapely.set_coordinates(geoms.copy(), xy)


# --- point-to-linework distances, vectorised --------------------------------------------------
#
# Linework (polygon rings, lines, points as zero-length segments) is cut into chunks of CHUNK
# consecutive segments with a bounding box each. A distance query is a set of (pair, chunk)
# rows, a pair being one point and one feature; then, all as array operations:
# 1. chunks whose box is farther (in the point's local frame) than the nearest upper bound of
#    the pair (its distance to a chunk's first vertex) are dropped;
# 2. the kept chunks' segments: closest point of each in the point's local frame
#    (dlon·frame_scale, dlat) — isometric at the point, off by ~tan(φ)·Δφ (0.1 % at 5 km);
# 3. every segment within a tolerance above the pair's frame minimum (so the true nearest is
#    among them however the frame errs) is measured exactly with Geod.inv to its closest point;
#    the pair's distance is the least. A frame closest point that is off along the segment by
#    ε·d errs by ε²·d/2: 3 mm at 5 km.

CHUNK = 16


def _relative_tolerance(frame_deg, lat_deg):
    theta = np.radians(frame_deg)
    # the frame errs by at most ~θ·tan(φ) relatively (θ: the distance in radians); twice that
    # separates the true nearest from the frame's, with margin
    return 1e-4 + 3.0 * theta * _tan_term(lat_deg)


def _tan_term(lat_deg):
    return 1.0 + np.abs(np.tan(np.radians(np.minimum(np.abs(lat_deg), 89))))


def _nearest_on_segments(
    x0: NDArray[np.float64],
    y0: NDArray[np.float64],
    dx: NDArray[np.float64],
    dy: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """In the local frame centred on the point: the nearest point q of each segment
    (x0, y0) + t·(dx, dy), t in [0, 1], and |q|². One function for the one-point and the bulk
    path, so both compute the same floats. t = clip(-(x0·dx + y0·dy) / |d|², 0, 1) is -w here
    (negation is exact); a zero-length segment gives nan, which fmin drops: q is its vertex."""
    w = x0 * dx
    w += y0 * dy
    length2 = dx * dx
    length2 += dy * dy
    with np.errstate(invalid="ignore"):
        w /= length2
    np.fmin(w, 0.0, out=w)
    np.fmax(w, -1.0, out=w)
    qx = w * dx
    np.subtract(x0, qx, out=qx)  # x0 + t·dx
    qy = w * dy
    np.subtract(y0, qy, out=qy)
    local2 = qx * qx
    local2 += qy * qy
    return qx, qy, local2


class Chunks:
    """The linework of some geometries (rings, lines; a point is a zero-length segment) as one
    coordinate array, cut into chunks of up to CHUNK consecutive vertices with a box each.

    Chunks never span two lines (a ring, a line, a point); chunk k covers vertices starts[k] ..
    stops[k] (inclusive when its last segment goes on to the next chunk's first vertex, on the
    same line); segment i joins vertex i to i + 1 when both are on one line (else it is no
    segment, or a zero-length one for a lone point). No copy beyond the coordinates."""

    __slots__ = ("bounds", "of_geometry", "starts", "stops", "to", "x", "xy", "y")

    def __init__(self, geometries, codes: Sequence[bytes] | None = None) -> None:
        """codes: the geometries' segment_codes when known (no need to take them apart)."""
        geoms = np.asarray(geometries, dtype=object)
        if codes is None:
            lines, owners = linework(geoms)
            xy, line_of = shapely.get_coordinates(lines, return_index=True)
            n = len(xy)
            # the other end of segment i: i + 1 on the same line, i for a lone point, -1 for none
            to = np.full(n, -1, dtype=np.intp)
            same = np.flatnonzero(line_of[1:] == line_of[:-1])
            to[same] = same + 1
            lone = np.bincount(line_of, minlength=len(lines))[line_of] == 1
            to[lone] = np.flatnonzero(lone)
            vertex_owner = owners[line_of]
            line_first = np.searchsorted(line_of, np.arange(len(lines) + 1))[line_of]
        else:
            xy = shapely.get_coordinates(geoms)
            n = len(xy)
            code = np.frombuffer(b"".join(codes), dtype=np.uint8)
            index = np.arange(n)
            to = np.where(code == 0, index + 1, np.where(code == 2, index, -1))
            vertex_owner = np.repeat(np.arange(len(geoms)), [len(c) for c in codes])
            first = np.r_[True, code[:-1] != 0] if n else np.empty(0, dtype=bool)
            line_first = np.maximum.accumulate(np.where(first, index, 0))
        self.xy = np.asfortranarray(xy)  # its columns contiguous: x and y
        self.x, self.y = self.xy[:, 0], self.xy[:, 1]
        self.to = to.astype(np.int32) if n < 2**31 else to  # half the memory
        position = np.arange(n) - line_first
        self.starts = np.flatnonzero(position % CHUNK == 0)
        self.stops = np.append(self.starts[1:], n)  # exclusive for segments' first vertices
        if n:
            # the end vertex of the chunk's last segment (a chunk at a line's end: its own)
            last = to[self.stops - 1]
            last = np.where(last >= 0, last, self.stops - 1)
            x, y = self.x, self.y
            self.bounds = np.column_stack(
                [
                    np.minimum(np.minimum.reduceat(x, self.starts), x[last]),
                    np.minimum(np.minimum.reduceat(y, self.starts), y[last]),
                    np.maximum(np.maximum.reduceat(x, self.starts), x[last]),
                    np.maximum(np.maximum.reduceat(y, self.starts), y[last]),
                ]
            )
        else:
            self.bounds = np.empty((0, 4))
        # geometry i owns chunks of_geometry[i] .. of_geometry[i + 1]
        self.of_geometry = np.searchsorted(vertex_owner[self.starts], np.arange(len(geoms) + 1))

    def vertices(self, chunks: NDArray[np.intp]) -> NDArray[np.float64]:
        """The vertices of these chunks (each chunk's own, plus its last segment's end)."""
        counts = self.stops[chunks] - self.starts[chunks]
        rows = np.repeat(self.starts[chunks] - (np.cumsum(counts) - counts), counts) + np.arange(
            counts.sum()
        )
        ends = self.to[rows]
        return np.vstack([self.xy[rows], self.xy[ends[ends >= 0]]])

    def pair_rows(self, geometry_of_pair: NDArray[np.intp]) -> tuple[NDArray, NDArray]:
        """(pair, chunk) rows for pairs whose feature is geometry_of_pair[pair], all its chunks."""
        lo = self.of_geometry[geometry_of_pair]
        counts = self.of_geometry[geometry_of_pair + 1] - lo
        pair = np.repeat(np.arange(len(geometry_of_pair)), counts)
        chunk = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        return pair, chunk + np.repeat(lo, counts)

    def point_segments(
        self, x: float, y: float, chunk: NDArray[np.intp], per: list[int]
    ) -> tuple[NDArray, NDArray, NDArray, NDArray, list[int]]:
        """The segments of distances_m for one point (x, y) and len(per) pairs whose rows are
        chunk (per[i] of them for pair i, one after the other), as nearest_m takes them:
        x0, y0, dx, dy (in the point's frame, distances_m's floats) and how many per pair."""
        counts = self.stops[chunk] - self.starts[chunk]
        total = int(counts.sum())
        rows = np.repeat(self.starts[chunk] - (np.cumsum(counts) - counts), counts) + np.arange(
            total
        )
        ends = self.to[rows]
        real = ends >= 0
        pair = np.repeat(np.repeat(np.arange(len(per)), per), counts)[real]
        rows, ends = rows[real], ends[real]
        c = frame_scale_of(y)
        x0 = (self.x[rows] - x) * c
        y0 = self.y[rows] - y
        dx = (self.x[ends] - x) * c - x0
        dy = self.y[ends] - y - y0
        return x0, y0, dx, dy, np.bincount(pair, minlength=len(per)).tolist()

    def distances_m(
        self,
        px: NDArray[np.float64],
        py: NDArray[np.float64],
        pair: NDArray[np.intp],
        chunk: NDArray[np.intp],
        cap_m=None,
    ) -> NDArray[np.float64]:
        """Geodesic m from point (px[i], py[i]) to the segments of the chunks rows name for i;
        inf for a pair without rows (or, with cap_m, farther than the cap)."""
        n_pairs = len(px)
        out = np.full(n_pairs, np.inf)
        if len(pair) == 0:
            return out
        if len(pair) > 1 and (pair[1:] < pair[:-1]).any():
            order = np.argsort(pair, kind="stable")
            pair, chunk = pair[order], chunk[order]
        c_pair = frame_scale(py)
        x, y, c = px[pair], py[pair], c_pair[pair]
        b = self.bounds[chunk]
        gx = np.maximum(np.maximum(b[:, 0] - x, x - b[:, 2]), 0.0) * c
        gy = np.maximum(np.maximum(b[:, 1] - y, y - b[:, 3]), 0.0)
        lower2 = gx * gx + gy * gy
        first = self.starts[chunk]
        ux = (self.x[first] - x) * c
        uy = self.y[first] - y
        upper2 = ux * ux + uy * uy
        group = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])  # rows run by pair
        present = pair[group]
        best_upper = np.full(n_pairs, np.inf)
        best_upper[present] = np.sqrt(np.minimum.reduceat(upper2, group))
        limit = best_upper * (1.0 + _relative_tolerance(best_upper, py)) + 1e-12
        if cap_m is not None:
            cap_m = np.asarray(cap_m, float)  # one for all pairs, or one per pair
            limit = np.minimum(limit, cap_m * (1.01 / _MIN_M_PER_DEG_LAT) + 1e-9)
        keep = np.flatnonzero(lower2 <= (limit * limit)[pair])
        pair, chunk = pair[keep], chunk[keep]
        # the kept chunks' segments (rows still run by pair)
        counts = self.stops[chunk] - self.starts[chunk]
        rows = np.repeat(self.starts[chunk] - (np.cumsum(counts) - counts), counts) + np.arange(
            counts.sum()
        )
        ends = self.to[rows]
        real = np.flatnonzero(ends >= 0)
        rows, ends = rows[real], ends[real]
        pair = np.repeat(pair, counts)[real]
        x, y, c = px[pair], py[pair], c_pair[pair]
        x0 = (self.x[rows] - x) * c
        y0 = self.y[rows] - y
        dx = (self.x[ends] - x) * c - x0
        dy = self.y[ends] - y - y0
        qx, qy, local2 = _nearest_on_segments(x0, y0, dx, dy)
        if len(pair) == 0:
            return out
        group = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
        present = pair[group]
        least = np.full(n_pairs, np.inf)
        least[present] = np.sqrt(np.minimum.reduceat(local2, group))
        tolerance = _relative_tolerance(least, py)
        limit = least * (1.0 + tolerance) + 1e-12
        limit2 = limit * limit
        if cap_m is not None:  # surely beyond the cap (the frame errs by less): none
            limit2[least * _MIN_M_PER_DEG_LAT * (1.0 - tolerance) > cap_m] = -1.0
        near = np.flatnonzero(local2 <= limit2[pair])
        pair, x, y, c = pair[near], x[near], y[near], c[near]
        exact = geodesic_point_distance(x, y, qx[near] / c + x, qy[near] + y)
        np.minimum.at(out, pair, exact)
        if cap_m is not None:
            out[out > cap_m] = np.inf
        return out


def segment_codes(geoms: NDArray[np.object_], wanted: NDArray[np.bool_]) -> tuple[bytes, ...]:
    """Per wanted geometry, one byte per vertex in shapely.get_coordinates order: 0 where a
    segment joins the vertex to the next, 1 at the end of a line, 2 for a lone point (a
    zero-length segment, as Chunks has it); b"" for the others. One byte per vertex: the
    coordinates themselves stay in the geometries."""
    out = [b""] * len(geoms)
    wanted_at = np.flatnonzero(wanted)
    for lo in range(0, len(wanted_at), 512):  # rings copied a few at a time
        at = wanted_at[lo : lo + 512]
        lines, owner = linework(geoms[at])
        sizes = shapely.get_num_coordinates(lines)
        del lines
        ends = np.cumsum(sizes) - 1
        code = np.zeros(int(sizes.sum()), dtype=np.uint8)
        code[ends[sizes > 0]] = 1
        code[ends[sizes == 1]] = 2
        stops = np.cumsum(np.bincount(owner, weights=sizes, minlength=len(at)).astype(np.intp))
        starts = np.concatenate([[0], stops[:-1]])
        blob = code.tobytes()
        for i, a, b in zip(at.tolist(), starts.tolist(), stops.tolist(), strict=True):
            out[i] = blob[a:b]
    return tuple(out)


def point_distances_m(
    x: float,
    y: float,
    xy: NDArray[np.float64],
    sizes: list[int],
    code: bytes,
    cap_m: list[float],
) -> list[float]:
    """Geodesic m from one point (x, y) to each of len(sizes) geometries given by their
    vertices, one after the other (sizes: how many each; code: their segment_codes), inf
    beyond cap_m: what Chunks.distances_m gives, in fewer array operations."""
    k = len(sizes)
    c = frame_scale_of(y)
    fx = xy[:, 0] - x
    fx *= c  # every vertex in the point's frame (contiguous: faster array operations)
    fy = xy[:, 1] - y
    if 2 not in code and min(sizes) >= 2:  # rings and lines only: vertex i to i + 1
        x0, y0 = fx[:-1], fy[:-1]
        segments = [*sizes[:-1], sizes[-1] - 1]  # per geometry, with its last vertex's pair
        gap = np.frombuffer(code, dtype=np.bool_)[:-1]  # no segment to the next vertex
        return nearest_m(x, y, c, x0, y0, fx[1:] - x0, fy[1:] - y0, segments, gap, cap_m)
    codes = np.frombuffer(code, dtype=np.uint8)  # a lone point is a zero-length segment
    a = np.flatnonzero(codes != 1)
    e = a + (codes[a] == 0)
    segments = np.bincount(np.repeat(np.arange(k), sizes)[a], minlength=k).tolist()
    x0, y0 = fx[a], fy[a]
    return nearest_m(x, y, c, x0, y0, fx[e] - x0, fy[e] - y0, segments, None, cap_m)


def nearest_m(
    x: float,
    y: float,
    c: float,
    x0: NDArray[np.float64],
    y0: NDArray[np.float64],
    dx: NDArray[np.float64],
    dy: NDArray[np.float64],
    segments: list[int],
    gap: NDArray[np.bool_] | None,
    cap_m: list[float],
) -> list[float]:
    """Chunks.distances_m's arithmetic, element for element, for one point (x, y) and
    segments (x0, y0) + (dx, dy) in its frame (c = frame_scale_of(y)), grouped by geometry
    (segments: how many each; gap: pairs that are no segment): per geometry, the least exact
    distance from the segments within the tolerance of the nearest in the frame, inf beyond
    cap_m. All the segments of the chunks Chunks.distances_m keeps are among them, and it
    drops none that decides its answer, so the result is the same to the float."""
    k = len(segments)
    qx, qy, local2 = _nearest_on_segments(x0, y0, dx, dy)
    if gap is not None:
        np.putmask(local2, gap, np.inf)
    starts = [0] * k
    for j in range(1, k):
        starts[j] = starts[j - 1] + segments[j - 1]
    some = [j for j in range(k) if segments[j]]
    least = [math.inf] * k
    if some:
        per = np.minimum.reduceat(local2, [starts[j] for j in some]).tolist()
        for j, d in zip(some, per, strict=True):
            least[j] = math.sqrt(d)  # np.sqrt's float: both are IEEE's correctly rounded root
    lean = 1.0 + abs(float(np.tan(min(abs(y), 89.0) * _DEG)))  # _tan_term, the same float
    tolerance = [1e-4 + 3.0 * (d * _DEG) * lean for d in least]
    limit = [d * (1.0 + tol) + 1e-12 for d, tol in zip(least, tolerance, strict=True)]
    limit2 = [
        -1.0  # surely beyond the cap (the frame errs by less than the tolerance): none
        if d * _MIN_M_PER_DEG_LAT * (1.0 - tol) > cap
        else lim * lim
        for d, tol, lim, cap in zip(least, tolerance, limit, cap_m, strict=True)
    ]
    near = np.flatnonzero(local2 <= np.repeat(limit2, segments)).tolist()
    out = [math.inf] * k
    j = 0
    for i, qxi, qyi in zip(near, qx[near].tolist(), qy[near].tolist(), strict=True):
        while i >= starts[j] + segments[j]:
            j += 1
        exact = GEOD.inv(x, y, qxi / c + x, qyi + y)[2]
        if exact < out[j]:
            out[j] = exact
    return [d if d <= cap else math.inf for d, cap in zip(out, cap_m, strict=True)]


def covering_margin(radius_m, lat_deg) -> tuple[NDArray, NDArray]:
    """(dlon, dlat) degree half-sizes of boxes that hold every point within radius_m of a point
    at lat_deg (vectorised degree_margin)."""
    radius_m = np.asarray(radius_m, float)
    dlat = radius_m / _MIN_M_PER_DEG_LAT + 1e-9
    cos_lat = np.cos(np.radians(np.minimum(np.abs(lat_deg) + dlat, 89.0)))
    return dlat / cos_lat, dlat


def covering_margin_of(radius_m: float, lat_deg: float) -> tuple[float, float]:
    """covering_margin for one point, in plain floats."""
    dlat = radius_m / _MIN_M_PER_DEG_LAT + 1e-9
    return dlat / math.cos(math.radians(min(abs(lat_deg) + dlat, 89.0))), dlat


class SegmentIndex:
    """The segments of a geometry's boundary (or of a line), indexed for fast point distances.

    Chunks of CHUNK consecutive segments go into an STRtree by their boxes (a 50,000-vertex
    boundary: ~3,000 entries). Distances of many points are array operations (Chunks). Read-only
    after construction.
    """

    CHUNK = CHUNK

    def __init__(self, geometry: BaseGeometry) -> None:
        self.chunks = Chunks([geometry])
        b = self.chunks.bounds
        self.tree = STRtree(shapely.box(b[:, 0], b[:, 1], b[:, 2], b[:, 3]))

    def any_within(self, x: float, y: float, radius_m: float) -> bool:
        """Whether some segment may lie within `radius_m` of (x, y): a cheap, conservative test
        (a degree box that holds every point within the radius; false means certainly farther)."""
        dlon, dlat = covering_margin(radius_m, y)
        box = shapely.box(x - dlon, y - dlat, x + dlon, y + dlat)
        return len(self.tree.query(box)) > 0

    def distances_m(self, xs, ys, cap_m=None) -> NDArray[np.float64]:
        """Geodesic metres from each (xs[i], ys[i]) to the nearest segment; inf when there are
        none (or, with cap_m — a number or one per point — when farther than the cap)."""
        xs = np.asarray(xs, float)
        ys = np.asarray(ys, float)
        if len(xs) == 0 or len(self.chunks.starts) == 0:
            return np.full(len(xs), np.inf)
        if cap_m is None:
            # a sure upper bound per point: the frame distance to the first vertex of the
            # nearest chunk (in degrees); every nearer segment lies in a box of that size
            points = shapely.points(xs, ys)
            p, k = self.tree.query_nearest(points, all_matches=False)
            v = self.chunks.xy[self.chunks.starts[k]]
            reach = np.empty(len(xs))
            reach[p] = np.hypot((v[:, 0] - xs[p]) * frame_scale(ys[p]), v[:, 1] - ys[p])
            dlat = reach * (1.0 + _relative_tolerance(reach, ys)) + 1e-9
            dlon = dlat / frame_scale(np.minimum(np.abs(ys) + dlat, 89.0))
        else:
            dlon, dlat = covering_margin(cap_m, ys)
        boxes = shapely.box(xs - dlon, ys - dlat, xs + dlon, ys + dlat)
        pair, chunk = self.tree.query(boxes)
        order = np.argsort(pair, kind="stable")
        return self.chunks.distances_m(xs, ys, pair[order], chunk[order], cap_m)

    def distance_m(self, x: float, y: float) -> float:
        """Geodesic metres from (x, y) to the nearest segment; inf when there are none."""
        return float(self.distances_m([x], [y])[0])
