"""Display geometry: clip to the view, simplify by the view's scale, round coordinates.

A league or province polygon at full resolution is megabytes of HTML; a case map only needs what
is near the case at screen precision. Tolerances are in degrees, derived from the view span so a
tolerance is about one screen pixel at the zoom that fits the view.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import box, mapping
from shapely.geometry.base import BaseGeometry

Bounds = tuple[float, float, float, float]  # minx, miny, maxx, maxy

MIN_SPAN_DEG = 0.02  # about 2 km: a point case still shows its surroundings
VIEW_PAD = 0.25  # padding around the case, as a share of its span
CONTEXT_MIN_PAD_DEG = 0.5  # context features are kept at least this far around the view ...
CONTEXT_MAX_PAD_DEG = 3.0  # ... and at most this far (a view of a whole province needs little)
PIXELS = 1200  # the map's width in pixels the tolerance is matched to


@dataclass(frozen=True, slots=True)
class View:
    bounds: Bounds  # what the map fits on open
    context: Bounds  # what context features are clipped to

    @property
    def span(self) -> float:
        minx, miny, maxx, maxy = self.bounds
        return max(maxx - minx, maxy - miny)

    def base_tolerance(self) -> float:
        """About one pixel at the zoom that fits the view."""
        return self.span / PIXELS


def make_view(geometries: Iterable[BaseGeometry]) -> View:
    geoms = [g for g in geometries if g is not None and not g.is_empty]
    if not geoms:
        raise ValueError("case map needs at least one non-empty geometry")
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    span = max(maxx - minx, maxy - miny, MIN_SPAN_DEG)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half_w = max(maxx - minx, span * 0.5) / 2 + span * VIEW_PAD
    half_h = max(maxy - miny, span * 0.5) / 2 + span * VIEW_PAD
    bounds = (cx - half_w, cy - half_h, cx + half_w, cy + half_h)
    pad = min(max(4 * max(half_w, half_h), CONTEXT_MIN_PAD_DEG), CONTEXT_MAX_PAD_DEG)
    context = (cx - half_w - pad, max(cy - half_h - pad, -89.9),
               cx + half_w + pad, min(cy + half_h + pad, 89.9))
    return View(bounds=bounds, context=context)


def decimals_for(tolerance: float) -> int:
    """Coordinate decimals that keep rounding error well under the tolerance."""
    if tolerance <= 0:
        return 7
    return int(min(7, max(2, math.ceil(-math.log10(tolerance / 4)))))


def for_display(
    geometry: BaseGeometry, tolerance: float, clip_to: Bounds | None = None
) -> BaseGeometry | None:
    """Clip (to a rectangle), simplify and round; None when nothing is left to draw."""
    g = geometry
    if clip_to is not None:
        minx, miny, maxx, maxy = g.bounds
        cminx, cminy, cmaxx, cmaxy = clip_to
        if maxx < cminx or minx > cmaxx or maxy < cminy or miny > cmaxy:
            return None
        if not box(*clip_to).contains(g):
            g = shapely.clip_by_rect(g, *clip_to)
    if g.is_empty:
        return None
    if tolerance > 0 and g.geom_type not in ("Point", "MultiPoint"):
        g = _drop_specks(g, (3 * tolerance) ** 2)
        if g is None:
            return None
        simplified = g.simplify(tolerance, preserve_topology=True)
        if not simplified.is_empty:
            g = simplified
    nd = decimals_for(tolerance)
    g = shapely.transform(g, lambda c: np.round(c, nd))
    return None if g.is_empty else g


def _drop_specks(g: BaseGeometry, min_area: float) -> BaseGeometry | None:
    """Leave out islands and holes smaller than a few pixels: simplifying keeps every ring."""
    polys = shapely.get_parts(g) if g.geom_type in ("MultiPolygon", "GeometryCollection") else [g]
    kept = []
    for p in polys:
        if p.geom_type != "Polygon":
            kept.append(p)
            continue
        if p.area < min_area:
            continue
        holes = [h for h in p.interiors if shapely.Polygon(h).area >= min_area]
        kept.append(shapely.Polygon(p.exterior, holes) if len(holes) != len(p.interiors) else p)
    if not kept:
        return None
    if len(kept) == 1:
        return kept[0]
    if all(k.geom_type == "Polygon" for k in kept):
        return shapely.MultiPolygon(kept)
    return shapely.GeometryCollection(kept)


def vertex_count(geometry: BaseGeometry) -> int:
    return int(shapely.get_num_coordinates(geometry))


def feature(geometry: BaseGeometry, properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": mapping(geometry)}
