"""Measured lines a case map draws: from the damage area to the nearest edge of what contains it
(a red line or reserve it lies in; its league when it lies near the league's boundary), and to
the nearest point of each nearby sensitive feature. Lengths are geodesic on the CGCS2000
ellipsoid (GRS 80's, to well under a millimetre over a case's extent), in metres.

The interactive case map (maps/case_map.py) and the static figure (maps/figure.py) both draw
these, so the two show the same distances.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from maps.labels import SENSITIVE_KINDS, format_distance, kind_name
from maps.model import MapFeature

MIN_EDGE_M = 1.0  # an edge closer than this runs through the damage area: nothing to measure


@dataclass(frozen=True, slots=True)
class MeasuredLine:
    """A line from the damage area to a feature, with its geodesic length and its label."""

    feature: MapFeature
    line: LineString
    length_m: float
    role: Literal["edge", "boundary", "nearby"]

    @property
    def label(self) -> str:
        what = f"{kind_name(self.feature.kind)}“{self.feature.name or self.feature.code or ''}”"
        if self.role == "nearby":
            return f"距{what}{format_distance(self.length_m)}"
        return f"距{what}边界 {format_metres(self.length_m)}"


def format_metres(length_m: float) -> str:
    """A measured length in whole metres, grouped: 22,083 米."""
    return f"{length_m:,.0f} 米"


def geodesic_length_m(line: LineString) -> float:
    return float(Geod(ellps="GRS80").geometry_length(line))


def nearest_line(damage: BaseGeometry, target: BaseGeometry) -> LineString:
    """The shortest line from `damage` to `target`, found in metres (an azimuthal equidistant
    projection centred on the case), not in degrees: at 49° N a degree of longitude is two
    thirds of a degree of latitude, so the nearest edge in degrees can be the wrong one."""
    c = damage.centroid
    crs = f"+proj=aeqd +lat_0={c.y} +lon_0={c.x} +ellps=GRS80 +units=m"
    fwd = Transformer.from_crs("EPSG:4490", crs, always_xy=True)
    back = Transformer.from_crs(crs, "EPSG:4490", always_xy=True)

    def project(t: Transformer, g: BaseGeometry) -> BaseGeometry:
        return shapely.transform(g, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))

    a, b = nearest_points(project(fwd, damage), project(fwd, target))
    return LineString(project(back, LineString([a, b])).coords)


def edge_lines(
    damage: BaseGeometry, features: Sequence[MapFeature], *, near_boundary: bool = False
) -> list[MeasuredLine]:
    """From the damage area to the nearest edge of every sensitive feature that contains it, and
    of each affected league when the decision says the case lies near a league boundary."""
    out = []
    for f in features:
        if not f.highlight or f.geometry.is_empty or f.geometry.geom_type not in (
            "Polygon", "MultiPolygon"
        ):
            continue
        if f.kind in SENSITIVE_KINDS:
            role: Literal["edge", "boundary"] = "edge"
        elif f.kind == "league" and near_boundary:
            role = "boundary"
        else:
            continue
        if not f.geometry.contains(damage):
            continue  # it crosses the edge: the edge is already in view, at distance 0
        line = nearest_line(damage, f.geometry.boundary)
        length = geodesic_length_m(line)
        if length >= MIN_EDGE_M:
            out.append(MeasuredLine(f, line, length, role))
    return out


def measured_lines(
    damage: BaseGeometry | None, features: Sequence[MapFeature], *, near_boundary: bool = False
) -> list[MeasuredLine]:
    """Every line a case map draws: the edge lines, then the nearby ones. None without a damage
    area: from a located area (a whole county) a distance means nothing."""
    if damage is None:
        return []
    return [*edge_lines(damage, features, near_boundary=near_boundary),
            *nearby_lines(damage, features)]


def nearby_lines(damage: BaseGeometry, features: Sequence[MapFeature]) -> list[MeasuredLine]:
    """For each nearby (untouched) feature, the line to its nearest point, labelled with the
    distance the decision measured."""
    out = []
    for f in features:
        if f.distance_m is None or f.highlight or f.geometry.is_empty:
            continue
        out.append(MeasuredLine(f, nearest_line(damage, f.geometry), float(f.distance_m),
                                "nearby"))
    return out
