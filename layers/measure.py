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
        c = math.cos(math.radians(lat))
        pa, pb = shapely.ops.nearest_points(_scaled(a, c), _scaled(near_b, c))
        best = min(best, float(GEOD.inv(pa.x / c, pa.y, pb.x / c, pb.y)[2]))
        lat = (pa.y + pb.y) / 2.0
    return best


def point_segments_distance(px: float, py: float, segments: NDArray[np.float64]) -> float:
    """Geodesic distance (m) from a point to the nearest of `segments` (rows x0, y0, x1, y1).

    Closest points are found in the point's local equirectangular frame; the geodesic distance
    is then taken to those within 2 % of the frame's minimum, where the true nearest must be.
    """
    if len(segments) == 0:
        return math.inf
    c = math.cos(math.radians(py))
    x0 = (segments[:, 0] - px) * c
    y0 = segments[:, 1] - py
    dx = (segments[:, 2] - px) * c - x0
    dy = segments[:, 3] - py - y0
    length2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(length2 > 0, -(x0 * dx + y0 * dy) / length2, 0.0)
    t = np.clip(t, 0.0, 1.0)
    qx = x0 + t * dx
    qy = y0 + t * dy
    local = np.hypot(qx, qy)
    best = local <= local.min() * 1.02 + 1e-12
    qx, qy = qx[best] / c + px, qy[best] + py
    return float(geodesic_point_distance(np.full_like(qx, px), np.full_like(qy, py), qx, qy).min())


class SegmentIndex:
    """The segments of a geometry's boundary (or of a line), indexed for fast point distances.

    Runs of CHUNK consecutive segments go into an STRtree as short linestrings (a 50,000-vertex
    boundary: ~3,000 entries). A distance query then costs tens of microseconds instead of a
    pass over every vertex. Read-only after construction.
    """

    CHUNK = 16

    def __init__(self, geometry: BaseGeometry) -> None:
        segments, chunk_coords, chunk_ids, ranges = [], [], [], []
        offset = n_chunks = 0
        for part in single_parts(geometry):
            if part.geom_type == "Polygon":
                rings = [part.exterior, *part.interiors]
            elif part.geom_type in ("LineString", "LinearRing"):
                rings = [part]
            else:
                continue
            for ring in rings:
                xy = shapely.get_coordinates(ring)
                n_seg = len(xy) - 1
                if n_seg < 1:
                    continue
                segments.append(np.hstack([xy[:-1], xy[1:]]))
                starts = np.arange(0, n_seg, self.CHUNK)
                stops = np.minimum(starts + self.CHUNK, n_seg)
                lengths = stops - starts + 1  # vertices per chunk
                first = np.repeat(starts, lengths)
                within = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
                chunk_coords.append(xy[first + within])
                chunk_ids.append(np.repeat(np.arange(len(starts)) + n_chunks, lengths))
                ranges.append(np.column_stack([starts + offset, stops + offset]))
                offset += n_seg
                n_chunks += len(starts)
        self.segments = np.vstack(segments) if segments else np.empty((0, 4))
        self._ranges = np.vstack(ranges) if ranges else np.empty((0, 2), dtype=int)
        lines = (
            shapely.linestrings(np.vstack(chunk_coords), indices=np.concatenate(chunk_ids))
            if chunk_coords
            else np.empty(0, dtype=object)
        )
        self.tree = STRtree(lines)

    def _segments_of(self, chunks: NDArray[np.intp]) -> NDArray[np.float64]:
        ranges = self._ranges[chunks]
        index = ranges[:, :1] + np.arange(self.CHUNK)
        return self.segments[index[index < ranges[:, 1:]]]

    def any_within(self, x: float, y: float, radius_m: float) -> bool:
        """Whether some segment may lie within `radius_m` of (x, y): a cheap, conservative test
        (a degree box that holds every point within the radius; false means certainly farther)."""
        dlat = radius_m / 110_000.0 + 1e-9  # a degree of latitude is at least 110.57 km
        coslat = math.cos(math.radians(min(abs(y) + dlat, 89.9)))
        dlon = radius_m / (111_000.0 * coslat) + 1e-9  # a degree of longitude ≥ 111.32 km·cos(lat)
        box = shapely.box(x - dlon, y - dlat, x + dlon, y + dlat)
        return len(self.tree.query(box)) > 0

    def distance_m(self, x: float, y: float) -> float:
        """Geodesic metres from (x, y) to the nearest segment; inf when there are none."""
        point = shapely.Point(x, y)
        nearest = self.tree.query_nearest(point, all_matches=False)
        if len(nearest) == 0:
            return math.inf
        d0 = float(shapely.distance(point, self.tree.geometries[nearest[0]]))
        # The nearest segment in metres lies within d0 (degrees) of the point in latitude and
        # d0 / cos(lat) in longitude: scaling longitude by cos(lat) only shortens distances.
        dlat = d0 * 1.001 + 1e-12
        dlon = dlat / math.cos(math.radians(min(abs(y) + dlat, 89.9)))
        candidates = self.tree.query(shapely.box(x - dlon, y - dlat, x + dlon, y + dlat))
        if len(candidates) == 0:
            candidates = nearest
        return point_segments_distance(x, y, self._segments_of(candidates))
