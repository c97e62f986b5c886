"""Display frames: CGCS2000/WGS84 vectors shown over GCJ-02 tiles must be shifted to GCJ-02.

CGCS2000 and WGS84 agree within centimetres, far below display precision; GCJ-02 is offset by
300–700 m in China and must be applied (the published forward formula).
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

_A = 6378245.0
_EE = 0.00669342162296594323


def _in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lon > 73.66) & (lon < 135.05) & (lat > 3.86) & (lat < 53.55)


def _dlat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    r += (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * np.sin(y * math.pi) + 40.0 * np.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    r += (160.0 * np.sin(y / 12.0 * math.pi) + 320 * np.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return r


def _dlon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    r += (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * np.sin(x * math.pi) + 40.0 * np.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    r += (150.0 * np.sin(x / 12.0 * math.pi) + 300.0 * np.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return r


def wgs84_to_gcj02_coords(coords: np.ndarray) -> np.ndarray:
    """(n, 2) lon/lat WGS84 → GCJ-02; points outside China are returned unchanged."""
    lon, lat = coords[:, 0], coords[:, 1]
    x, y = lon - 105.0, lat - 35.0
    dlat, dlon = _dlat(x, y), _dlon(x, y)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * math.pi)
    inside = _in_china(lon, lat)
    out = coords.copy()
    out[:, 0] = np.where(inside, lon + dlon, lon)
    out[:, 1] = np.where(inside, lat + dlat, lat)
    return out


def to_display_frame(geometry: BaseGeometry, frame: str) -> BaseGeometry:
    """A CGCS2000 geometry in the base map's frame (unchanged for CGCS2000 / WGS84)."""
    if frame != "GCJ02":
        return geometry
    return shapely.transform(geometry, wgs84_to_gcj02_coords)
