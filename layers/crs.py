"""Coordinate reference systems: parse what callers send, and bring every vertex to CGCS2000.

Storage is CGCS2000 geographic (EPSG:4490). WGS84 (EPSG:4326) and CGCS2000 agree within a few
centimetres in China, far below the precision of any boundary layer or phone fix, so 4326 → 4490
is treated as the identity (and said so in the conversion note).

GCJ-02 (国测局坐标, "火星坐标": Amap/高德, Tencent, WeChat) is WGS84 passed through a published
obfuscation polynomial on the Krasovsky ellipsoid; BD-09 (Baidu) is GCJ-02 with one more twist.
Only the forward maps have closed forms; the inverses here are exact fixed-point iterations,
each coordinate iterated until its own update is below 1e-10° (≈ 10 µm), so a vertex shared by
two polygons converts to the same value whichever array it arrives in.

Coordinates are always x, y (longitude, latitude or easting, northing), whatever axis order the
CRS officially declares: every pyproj Transformer here uses always_xy=True.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from layers import STORAGE_SRID
from layers.errors import GeometryError, UnknownCRSError

CRSKind = Literal["geographic", "projected", "gcj02", "bd09"]

# Krasovsky 1940 semi-major axis and first eccentricity squared, as the GCJ-02 algorithm uses them.
_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
_BD_X_PI = np.pi * 3000.0 / 180.0
_ITERATION_TOL_DEG = 1e-10
_MAX_ITERATIONS = 60

ACCEPTED_CRS_TEXT = (
    "EPSG:4490（CGCS2000，默认）、EPSG:4326（WGS84）、GCJ02（高德/腾讯/微信位置）、"
    "BD09（百度）、CGCS2000 3度带高斯-克吕格投影 EPSG:4513–4554，或 PROJ 认识的任意 EPSG:n"
)

IDENTITY_NOTE = "已是 CGCS2000（EPSG:4490），未做转换"
WGS84_NOTE = (
    "WGS84（EPSG:4326）与 CGCS2000（EPSG:4490）在我国境内相差仅厘米级，按同一坐标处理，未做数值变换"
)
GCJ02_NOTE = (
    "GCJ-02（国测局“火星坐标”）→ WGS84：对公开的加偏公式做逐点精确迭代反算（残差 < 1e-9°，"
    "毫米级）；WGS84 与 CGCS2000 相差厘米级，视同 EPSG:4490"
)
BD09_NOTE = (
    "BD-09（百度坐标）→ GCJ-02 → WGS84：两步均为逐点精确迭代反算（残差 < 1e-9°，毫米级）；"
    "WGS84 与 CGCS2000 相差厘米级，视同 EPSG:4490"
)


@dataclass(frozen=True, slots=True)
class CRSSpec:
    """A parsed CRS: `name` is the canonical spelling ("EPSG:4490", "GCJ-02", "BD-09")."""

    name: str
    kind: CRSKind
    epsg: int | None
    title: str  # what PROJ (or we) call it, for people

    @property
    def is_geographic(self) -> bool:
        """Longitude/latitude in degrees (GCJ-02 and BD-09 included)."""
        return self.kind != "projected"


CGCS2000 = CRSSpec("EPSG:4490", "geographic", 4490, "China Geodetic Coordinate System 2000")
WGS84 = CRSSpec("EPSG:4326", "geographic", 4326, "WGS 84")
GCJ02 = CRSSpec("GCJ-02", "gcj02", None, "GCJ-02（国测局坐标，高德/腾讯）")
BD09 = CRSSpec("BD-09", "bd09", None, "BD-09（百度坐标）")

_ALIASES: dict[str, CRSSpec] = {
    "GCJ02": GCJ02,
    "GCJ-02": GCJ02,
    "GCJ_02": GCJ02,
    "BD09": BD09,
    "BD-09": BD09,
    "BD_09": BD09,
    "BD09LL": BD09,
    "CGCS2000": CGCS2000,
    "WGS84": WGS84,
    "WGS-84": WGS84,
    "CRS84": WGS84,
    "OGC:CRS84": WGS84,
    "URN:OGC:DEF:CRS:OGC:1.3:CRS84": WGS84,
    "URN:OGC:DEF:CRS:OGC::CRS84": WGS84,
}
_EPSG_RE = re.compile(r"^(?:EPSG:{1,2}|URN:OGC:DEF:CRS:EPSG:[0-9.]*:)?(\d{4,6})$")


def parse_crs(text: str | CRSSpec | None, *, field: str = "crs") -> CRSSpec:
    """Parse a CRS name as callers write it (case-insensitive); None means EPSG:4490.

    Accepts "EPSG:4490", "EPSG:4326", "GCJ02"/"GCJ-02", "BD09"/"BD-09", OGC CRS84 and GeoJSON's
    "urn:ogc:def:crs:EPSG::n", and any EPSG code PROJ knows as a 2-D geographic or projected CRS.
    """
    if isinstance(text, CRSSpec):
        return text
    if text is None:
        return CGCS2000
    if not isinstance(text, str):
        raise UnknownCRSError(f"坐标系应为文本，例如 EPSG:4490。可用：{ACCEPTED_CRS_TEXT}", field)
    key = re.sub(r"\s+", "", text).upper()
    if key in _ALIASES:
        return _ALIASES[key]
    match = _EPSG_RE.match(key)
    if match is None:
        raise UnknownCRSError(f"无法识别的坐标系“{text}”。可用：{ACCEPTED_CRS_TEXT}", field)
    return _epsg_spec(int(match.group(1)), text, field)


def _epsg_spec(code: int, text: str, field: str) -> CRSSpec:
    if code == 4490:
        return CGCS2000
    if code == 4326:
        return WGS84
    try:
        crs = _pyproj_crs(code)
    except CRSError:
        raise UnknownCRSError(
            f"PROJ 中没有坐标系 EPSG:{code}（输入为“{text}”）。可用：{ACCEPTED_CRS_TEXT}", field
        ) from None
    if crs.is_geographic and len(crs.axis_info) == 2:
        kind: CRSKind = "geographic"
    elif crs.is_projected and len(crs.axis_info) == 2:
        kind = "projected"
    else:
        raise UnknownCRSError(
            f"EPSG:{code}（{crs.name}）不是平面或地理二维坐标系，不能用于定位。可用：{ACCEPTED_CRS_TEXT}",
            field,
        )
    return CRSSpec(f"EPSG:{code}", kind, code, crs.name)


@lru_cache(maxsize=256)
def _pyproj_crs(code: int) -> CRS:
    return CRS.from_epsg(code)


@lru_cache(maxsize=128)
def _transformer(source: int, target: int) -> Transformer:
    """Cached; pyproj Transformers are safe to share between threads (pyproj ≥ 3.1)."""
    return Transformer.from_crs(_pyproj_crs(source), _pyproj_crs(target), always_xy=True)


# --- GCJ-02 and BD-09 on arrays ------------------------------------------------------------


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """The GCJ-02 rule: outside this rectangle coordinates are not shifted."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _gcj_offset(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> tuple[NDArray, NDArray]:
    """GCJ-02 minus WGS84 at WGS84 (lon, lat), in degrees; zero outside China."""
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    six = np.sin(6.0 * x * np.pi)
    two = np.sin(2.0 * x * np.pi)
    common = (20.0 * six + 20.0 * two) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
    dlat += common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
    dlon += common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _KRASOVSKY_EE * np.sin(radlat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_KRASOVSKY_A / sqrt_magic * np.cos(radlat) * np.pi)
    outside = out_of_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    lon_a, lat_a = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return lon_a.astype(float, copy=True), lat_a.astype(float, copy=True)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray, NDArray]:
    """Forward GCJ-02 obfuscation (the published algorithm), vectorized."""
    lon_a, lat_a = _as_arrays(lon, lat)
    dlon, dlat = _gcj_offset(lon_a, lat_a)
    return lon_a + dlon, lat_a + dlat


def _invert(
    forward, target_x: NDArray[np.float64], target_y: NDArray[np.float64], x, y
) -> tuple[NDArray, NDArray]:
    """Solve forward(x, y) = target by fixed-point iteration, each element on its own.

    The update is x ← x − (forward(x) − target); it contracts because the forward maps are the
    identity plus a smooth offset whose derivatives are ~1e-3. An element stops once its own step
    is below the tolerance, so its result never depends on the other elements in the array.
    """
    shape = np.shape(target_x)
    target_x = np.ravel(target_x)
    target_y = np.ravel(target_y)
    x = np.array(x, dtype=float, copy=True).ravel()
    y = np.array(y, dtype=float, copy=True).ravel()
    active = np.flatnonzero(np.isfinite(target_x) & np.isfinite(target_y))
    for _ in range(_MAX_ITERATIONS):
        if active.size == 0:
            break
        fx, fy = forward(x[active], y[active])
        step_x = fx - target_x[active]
        step_y = fy - target_y[active]
        x[active] -= step_x
        y[active] -= step_y
        moving = (np.abs(step_x) >= _ITERATION_TOL_DEG) | (np.abs(step_y) >= _ITERATION_TOL_DEG)
        active = active[moving]
    return x.reshape(shape), y.reshape(shape)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray, NDArray]:
    """Exact inverse of `wgs84_to_gcj02` (iterated to < 1e-10°), vectorized."""
    lon_a, lat_a = _as_arrays(lon, lat)
    dlon, dlat = _gcj_offset(lon_a, lat_a)
    return _invert(wgs84_to_gcj02, lon_a, lat_a, lon_a - dlon, lat_a - dlat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray, NDArray]:
    """Forward BD-09 (Baidu's published formula), vectorized."""
    x, y = _as_arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray, NDArray]:
    """Exact inverse of `gcj02_to_bd09`: the usual approximate inverse, then iterated."""
    bx, by = _as_arrays(lon, lat)
    x = bx - 0.0065
    y = by - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    return _invert(gcj02_to_bd09, bx, by, z * np.cos(theta), z * np.sin(theta))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray, NDArray]:
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray, NDArray]:
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


# --- Geometries ------------------------------------------------------------------------------


def _apply(geometry: BaseGeometry, func) -> BaseGeometry:
    """Apply func(lon_array, lat_array) -> (x, y) to every vertex (2-D)."""

    def on_coords(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        if coords.size == 0:
            return coords
        x, y = func(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geometry, on_coords)


def _check_lonlat(geometry: BaseGeometry, spec: CRSSpec, field: str) -> None:
    coords = shapely.get_coordinates(geometry)
    if coords.size == 0:
        return
    if not np.isfinite(coords).all():
        raise GeometryError("坐标含有非数值（NaN 或无穷大），请检查输入。", field)
    lon, lat = coords[:, 0], coords[:, 1]
    if (np.abs(coords) > 1000).any():
        raise GeometryError(
            f"坐标 {float(np.abs(coords).max()):g} 不是经纬度（坐标系 {spec.name} 以度为单位）；"
            "如为投影坐标（米），请注明对应的 EPSG 代码，如 CGCS2000 3度带 EPSG:4549。",
            field,
        )
    if (np.abs(lat) > 90).any():
        bad = float(lat[np.abs(lat) > 90][0])
        hint = "；经度和纬度似乎写反了，应为 [经度, 纬度]" if (np.abs(lon) <= 90).all() else ""
        raise GeometryError(
            f"纬度 {bad:g} 超出 −90 到 90 的范围（坐标系 {spec.name}）{hint}。", field
        )
    if (np.abs(lon) > 180).any():
        bad = float(lon[np.abs(lon) > 180][0])
        raise GeometryError(
            f"经度 {bad:g} 超出 −180 到 180 的范围（坐标系 {spec.name}）；"
            "投影坐标（米）请注明对应的 EPSG 代码，如 EPSG:4549。",
            field,
        )


def to_cgcs2000(
    geometry: BaseGeometry, crs: str | CRSSpec | None, *, field: str = "geometry"
) -> tuple[BaseGeometry, str]:
    """`geometry` (x, y in `crs`) in EPSG:4490, and a note of the conversion applied (Chinese).

    Raises GeometryError (naming `field`) when coordinates are out of range for the CRS or do
    not transform to finite values, UnknownCRSError when `crs` is not understood.
    """
    spec = parse_crs(crs)
    if spec.is_geographic:
        _check_lonlat(geometry, spec, field)
    if spec.kind == "gcj02":
        return _apply(geometry, gcj02_to_wgs84), GCJ02_NOTE
    if spec.kind == "bd09":
        return _apply(geometry, bd09_to_wgs84), BD09_NOTE
    if spec.epsg == STORAGE_SRID:
        return geometry, IDENTITY_NOTE
    if spec.epsg == 4326:
        return geometry, WGS84_NOTE
    assert spec.epsg is not None
    transformer = _transformer(spec.epsg, STORAGE_SRID)
    result = _apply(geometry, transformer.transform)
    coords = shapely.get_coordinates(result)
    if not np.isfinite(coords).all():
        raise GeometryError(
            f"坐标无法从 {spec.name}（{spec.title}）转换到 CGCS2000：部分坐标超出该坐标系的"
            "有效范围，请确认坐标系是否正确（例如高斯-克吕格带号）。",
            field,
        )
    _check_lonlat(result, CGCS2000, field)
    return result, f"{spec.name}（{spec.title}）→ EPSG:4490，PROJ：{transformer.description}"


def from_cgcs2000(geometry: BaseGeometry, crs: str | CRSSpec) -> BaseGeometry:
    """The reverse of `to_cgcs2000`: EPSG:4490 geometry into `crs` (e.g. GCJ-02 for web tiles)."""
    spec = parse_crs(crs)
    if spec.kind == "gcj02":
        return _apply(geometry, wgs84_to_gcj02)
    if spec.kind == "bd09":
        return _apply(geometry, wgs84_to_bd09)
    if spec.epsg in (STORAGE_SRID, 4326):
        return geometry
    assert spec.epsg is not None
    return _apply(geometry, _transformer(STORAGE_SRID, spec.epsg).transform)


def cgcs2000_to_gcj02(geometry: BaseGeometry) -> BaseGeometry:
    """For drawing on GCJ-02 web tiles (Amap, Tencent): shift every vertex forward."""
    return _apply(geometry, wgs84_to_gcj02)
