"""An area oracle independent of layers.measure: project onto an Albers equal-area conic for
China (standard parallels 25°N and 47°N, central meridian 105°E, CGCS2000's GRS80 ellipsoid) and
take the planar area there. Edges are first densified along their geodesics (every ~1 km), so the
polygon is the same one a geodesic area measures, not its chord-straightened twin."""

from __future__ import annotations

from functools import cache
from itertools import pairwise

import shapely
from pyproj import Geod, Transformer
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import transform

ALBERS_CHINA = "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +ellps=GRS80 +units=m"
_GEOD = Geod(ellps="GRS80")


@cache
def _to_albers() -> Transformer:
    return Transformer.from_crs("EPSG:4490", ALBERS_CHINA, always_xy=True)


def _densify_ring(coords: list[tuple[float, float]], step_m: float) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for (x0, y0), (x1, y1) in pairwise(coords):
        out.append((x0, y0))
        length = _GEOD.inv(x0, y0, x1, y1)[2]
        n = int(length // step_m)
        if n > 0:
            out.extend(_GEOD.npts(x0, y0, x1, y1, n))
    out.append(coords[-1])
    return out


def albers_area_m2(geometry: BaseGeometry, step_m: float = 1000.0) -> float:
    """Area (m²) of the polygonal parts of `geometry`, by the equal-area projection."""
    total = 0.0
    for part in shapely.get_parts(geometry):
        if part.geom_type == "MultiPolygon" or part.geom_type == "GeometryCollection":
            total += albers_area_m2(part, step_m)
            continue
        if part.geom_type != "Polygon" or part.is_empty:
            continue
        shell = _densify_ring(list(part.exterior.coords), step_m)
        holes = [_densify_ring(list(r.coords), step_m) for r in part.interiors]
        total += transform(_to_albers().transform, Polygon(shell, holes)).area
    return total
