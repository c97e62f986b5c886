"""An independent GCJ-02 check for tests: the published forward formula written out in scalar
math (not layers.crs, whose vectorised forward and iterative inverse are what is under test),
and geodesic distances with pyproj.Geod.

A point the service says is the WGS84/CGCS2000 position of a GCJ-02 input is right when the
formula below, applied to it, gives the input back: the forward map is the definition of GCJ-02.
"""

from __future__ import annotations

import math

from pyproj import Geod

_A = 6378245.0  # Krasovsky 1940
_EE = 0.00669342162296594323
_GEOD = Geod(ellps="GRS80")  # CGCS2000's ellipsoid


def _lat_shift(x: float, y: float) -> float:
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    r += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return r


def _lon_shift(x: float, y: float) -> float:
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    r += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return r


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """The forward GCJ-02 shift of one point inside China."""
    dlat = _lat_shift(lon - 105.0, lat - 35.0)
    dlon = _lon_shift(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(radlat) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * math.cos(radlat) * math.pi)
    return lon + dlon, lat + dlat


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Geodesic distance between two (lon, lat) points, metres."""
    return float(_GEOD.inv(a[0], a[1], b[0], b[1])[2])


def gcj02_error_m(gcj: tuple[float, float], converted: tuple[float, float]) -> float:
    """How far (m) the GCJ-02 image of `converted` lies from the GCJ-02 input `gcj`."""
    return distance_m(wgs84_to_gcj02(*converted), gcj)
