"""Display copies of polygon layers for maps: simplified so that neighbours keep sharing edges.

Simplifying each polygon on its own moves a shared edge differently on each side: measured on the
real leagues at 0.001°, that opened 131 gaps and 3.3 km² of overlaps. Coverage simplification
(GEOS CoverageSimplifier, via shapely) simplifies each shared edge once, for both neighbours.
These copies are for drawing only; overlays always use the stored geometry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from layers.validation import area_km2

DEFAULT_TOLERANCE_DEG = 0.001  # ≈ 100 m: fine for a province-wide or league-wide map


def display_copies(
    geometries: Sequence[BaseGeometry], tolerance: float = DEFAULT_TOLERANCE_DEG
) -> list[BaseGeometry]:
    """Simplified copies, shared edges kept shared (polygons); lines and points simplified alone.

    Coverage simplification needs a valid coverage (no overlaps); when the input has overlaps it
    still runs on the polygons, and GEOS keeps what edges match.
    """
    arr = np.asarray(list(geometries), dtype=object)
    if len(arr) == 0:
        return []
    out = arr.copy()
    poly = shapely.get_dimensions(arr) == 2
    if poly.any():
        out[poly] = shapely.coverage_simplify(arr[poly], tolerance, simplify_boundary=True)
    if (~poly).any():
        out[~poly] = shapely.simplify(arr[~poly], tolerance, preserve_topology=True)
    return list(out)


def independent_copies(
    geometries: Sequence[BaseGeometry], tolerance: float = DEFAULT_TOLERANCE_DEG
) -> list[BaseGeometry]:
    """Each polygon simplified on its own (what not to do; kept to measure against)."""
    arr = np.asarray(list(geometries), dtype=object)
    return list(shapely.simplify(arr, tolerance, preserve_topology=True))


def coverage_defects(
    original: Sequence[BaseGeometry],
    simplified: Sequence[BaseGeometry],
    *,
    min_gap_km2: float = 1e-6,
) -> dict[str, Any]:
    """Gaps (area the originals covered that no simplified polygon covers, inside the outer
    outline of the simplified set) and overlaps (pairwise) opened by simplification, in km².

    Only defects *between* neighbours count; an outer boundary that moves is not a gap.
    """
    orig = np.asarray(list(original), dtype=object)
    simp = np.asarray(list(simplified), dtype=object)
    union_simp = shapely.union_all(simp)
    # Holes of the simplified union that were covered before are gaps between neighbours.
    holes = shapely.get_parts(_interior_holes(union_simp))
    covered_before = shapely.union_all(orig)
    gaps = [h for h in holes if not h.is_empty]
    gap_parts = [shapely.intersection(h, covered_before) for h in gaps]
    gap_areas = np.array([float(area_km2(g)) for g in gap_parts if not g.is_empty])
    gap_areas = gap_areas[gap_areas >= min_gap_km2] if len(gap_areas) else gap_areas
    base_overlap = _pairwise_overlap_km2(orig)
    overlap = _pairwise_overlap_km2(simp) - base_overlap
    return {
        "gap_count": len(gap_areas),
        "gap_km2": round(float(gap_areas.sum()) if len(gap_areas) else 0.0, 4),
        "overlap_km2": round(max(overlap, 0.0), 4),
        "vertices_before": int(shapely.get_num_coordinates(orig).sum()),
        "vertices_after": int(shapely.get_num_coordinates(simp).sum()),
    }


def _interior_holes(geom: BaseGeometry) -> BaseGeometry:
    polys = shapely.get_parts(geom)
    rings = [shapely.polygons(r) for p in polys for r in shapely.get_rings(p)[1:]]
    return shapely.union_all(rings) if rings else shapely.Polygon()


def _pairwise_overlap_km2(arr: np.ndarray) -> float:
    tree = shapely.STRtree(arr)
    left, right = tree.query(arr, predicate="intersects")
    pairs = left < right
    if not pairs.any():
        return 0.0
    inter = shapely.intersection(arr[left[pairs]], arr[right[pairs]])
    poly = shapely.get_dimensions(inter) == 2
    return float(np.sum(area_km2(inter[poly]))) if poly.any() else 0.0
