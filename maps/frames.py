"""Display frames: CGCS2000/WGS84 vectors shown over GCJ-02 tiles must be shifted to GCJ-02.

CGCS2000 and WGS84 agree within centimetres, far below display precision; GCJ-02 is offset by
300–700 m in China and must be applied (the published forward formula, kept in layers.crs).
"""

from __future__ import annotations

from shapely.geometry.base import BaseGeometry

from layers.crs import cgcs2000_to_gcj02


def to_display_frame(geometry: BaseGeometry, frame: str) -> BaseGeometry:
    """A CGCS2000 geometry in the base map's frame (unchanged for CGCS2000 / WGS84)."""
    if frame != "GCJ02":
        return geometry
    return cgcs2000_to_gcj02(geometry)
