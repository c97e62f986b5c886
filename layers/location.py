"""A request's location: GeoJSON in any accepted CRS → a valid EPSG:4490 geometry, or a clear error.

Every error names the field it is about (a dotted path into the request, down to the offending
coordinate) and says what to do, so a screening officer or a calling system can fix the input.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from pyproj import CRS
from shapely.geometry import (
    GeometryCollection,
    LineString,
    MultiLineString,
    MultiPoint,
    MultiPolygon,
    Point,
    Polygon,
)
from shapely.geometry.base import BaseGeometry

from layers.crs import CRSSpec, parse_crs, to_cgcs2000
from layers.errors import GeometryError, LayerError

GEOMETRY_TYPES = (
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
)
# A repair (make_valid) is accepted when it keeps the area within this relative tolerance:
# it removed spikes or touching rings, not real area. Otherwise the input is ambiguous.
REPAIR_AREA_TOLERANCE = 1e-6
# How far (degrees) outside a projected CRS's area of use its coordinates may land.
AREA_OF_USE_MARGIN_DEG = 1.0
MAX_COLLECTION_DEPTH = 3


@dataclass(frozen=True, slots=True)
class LocationWarning:
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class ParsedLocation:
    geometry: BaseGeometry  # EPSG:4490, valid
    crs: str  # the input CRS, canonical ("EPSG:4549", "GCJ-02")
    conversion: str  # what was applied to reach EPSG:4490 (Chinese)
    warnings: tuple[LocationWarning, ...] = ()


class _Counter:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _finite(value: int | float) -> bool:
    """Finite and representable as a float (JSON integers may be arbitrarily long)."""
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _position(value: Any, path: str, counter: _Counter) -> tuple[float, float]:
    if not isinstance(value, list | tuple):
        raise GeometryError(
            f"坐标应为数组 [x, y]（经度, 纬度 或 东坐标, 北坐标），收到的是 {_describe(value)}。",
            path,
        )
    if len(value) < 2 or len(value) > 3:
        raise GeometryError(
            f"一个坐标应有 2 个数（可带第 3 个高程值），收到 {len(value)} 个：{_short(value)}。",
            path,
        )
    for i, v in enumerate(value[:2]):  # an elevation is dropped, never used
        if not _is_number(v):
            raise GeometryError(
                f"坐标分量应为数字，收到 {_describe(v)}；请勿使用字符串或度分秒格式。",
                f"{path}[{i}]",
            )
        if not _finite(v):
            raise GeometryError(
                "坐标含有非数值（NaN 或无穷大）或大得无法表示的数，请检查输入。", f"{path}[{i}]"
            )
    counter.count += 1
    if counter.count > counter.limit:
        raise GeometryError(
            f"顶点过多：超过 {counter.limit:,} 个。请先简化图形（例如在 GIS 中按 1 米容差抽稀）。",
            path.split("[", 1)[0],
        )
    return float(value[0]), float(value[1])


def _positions(value: Any, path: str, counter: _Counter, minimum: int, what: str) -> list:
    if not isinstance(value, list | tuple):
        raise GeometryError(f"{what}的坐标应为数组，收到的是 {_describe(value)}。", path)
    if len(value) == 0:
        raise GeometryError(f"{what}的坐标为空。", path)
    points = [_position(p, f"{path}[{i}]", counter) for i, p in enumerate(value)]
    if len(points) < minimum:
        raise GeometryError(f"{what}至少需要 {minimum} 个坐标，只有 {len(points)} 个。", path)
    return points


def _ring(value: Any, path: str, counter: _Counter) -> list:
    points = _positions(value, path, counter, 4, "多边形的环")
    if points[0] != points[-1]:
        raise GeometryError(
            f"多边形的环未闭合：首点 {list(points[0])} 与末点 {list(points[-1])} 不同。"
            "GeoJSON 要求最后一个坐标与第一个相同，请补上首点。",
            path,
        )
    if len(set(points)) < 3:
        raise GeometryError("多边形的环至少需要 3 个不同的顶点。", path)
    return points


def _polygon(value: Any, path: str, counter: _Counter) -> Polygon:
    if not isinstance(value, list | tuple) or len(value) == 0:
        raise GeometryError(
            "多边形的坐标应为环的数组 [[[x, y], …]]（第一个为外环，其余为内环/洞）。", path
        )
    rings = [_ring(r, f"{path}[{i}]", counter) for i, r in enumerate(value)]
    return Polygon(rings[0], rings[1:])


def _parse(obj: Any, path: str, counter: _Counter, depth: int = 0) -> BaseGeometry:
    if not isinstance(obj, Mapping):
        raise GeometryError(
            f'几何应为 GeoJSON 对象，如 {{"type": "Point", "coordinates": [117.4, 48.9]}}，'
            f"收到的是 {_describe(obj)}。",
            path,
        )
    gtype = obj.get("type")
    if gtype == "Feature":
        return _parse(obj.get("geometry"), f"{path}.geometry", counter, depth)
    if gtype not in GEOMETRY_TYPES:
        raise GeometryError(
            f"不支持的几何类型 {gtype!r}。可用：{'、'.join(GEOMETRY_TYPES)}。", f"{path}.type"
        )
    if gtype == "GeometryCollection":
        parts = obj.get("geometries")
        if not isinstance(parts, list) or not parts:
            raise GeometryError(
                "GeometryCollection 的 geometries 应为非空数组。", f"{path}.geometries"
            )
        if depth >= MAX_COLLECTION_DEPTH:
            raise GeometryError("GeometryCollection 嵌套过深。", path)
        return GeometryCollection(
            [_parse(g, f"{path}.geometries[{i}]", counter, depth + 1) for i, g in enumerate(parts)]
        )
    if "coordinates" not in obj:
        raise GeometryError(f"{gtype} 缺少 coordinates。", f"{path}.coordinates")
    coords = obj["coordinates"]
    cpath = f"{path}.coordinates"
    if gtype == "Point":
        return Point(_position(coords, cpath, counter))
    if gtype == "MultiPoint":
        return MultiPoint(_positions(coords, cpath, counter, 1, "MultiPoint"))
    if gtype == "LineString":
        return LineString(_positions(coords, cpath, counter, 2, "线"))
    if gtype == "MultiLineString":
        if not isinstance(coords, list | tuple) or not coords:
            raise GeometryError("MultiLineString 的坐标应为非空的线数组。", cpath)
        return MultiLineString(
            [_positions(c, f"{cpath}[{i}]", counter, 2, "线") for i, c in enumerate(coords)]
        )
    if gtype == "Polygon":
        return _polygon(coords, cpath, counter)
    if not isinstance(coords, list | tuple) or not coords:
        raise GeometryError("MultiPolygon 的坐标应为非空的多边形数组。", cpath)
    return MultiPolygon([_polygon(c, f"{cpath}[{i}]", counter) for i, c in enumerate(coords)])


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "布尔值"
    if isinstance(value, str):
        return f"字符串 {_short(value)}"
    if isinstance(value, Mapping):
        return "对象"
    if isinstance(value, list | tuple):
        return f"数组 {_short(value)}"
    return _short(value)


def _short(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def parse_geojson(obj: Any, field: str, max_vertices: int) -> BaseGeometry:
    """GeoJSON geometry (or Feature) → shapely, checking structure and numbers; not validity."""
    return _parse(obj, field, _Counter(max_vertices))


def _polygonal_area(geometry: BaseGeometry) -> float:
    return float(sum(g.area for g in _flatten(geometry) if isinstance(g, Polygon)))


def _flatten(geometry: BaseGeometry) -> list[BaseGeometry]:
    if hasattr(geometry, "geoms"):
        return [part for g in geometry.geoms for part in _flatten(g)]
    return [geometry]


def repair(geometry: BaseGeometry, field: str) -> tuple[BaseGeometry, LocationWarning | None]:
    """Make a self-intersecting area valid if that keeps its area; reject it otherwise."""
    if geometry.is_valid:
        return geometry, None
    reason = shapely.is_valid_reason(geometry)
    parts = _flatten(geometry)
    polygons = [g for g in parts if isinstance(g, Polygon)]
    others = [g for g in parts if not isinstance(g, Polygon)]
    if any(not g.is_valid for g in others):
        raise GeometryError(f"线的顶点全部重合，无法构成线（{reason}）。请检查坐标。", field)
    before = _polygonal_area(geometry)
    if before == 0.0:
        what = (
            "自相交（如“8”字形的环）" if "intersection" in reason else "面积为零（顶点共线或重合）"
        )
        raise GeometryError(f"多边形{what}：{reason}。请检查顶点顺序后重新提交。", field)
    merged = shapely.union_all([shapely.make_valid(p) for p in polygons])
    polys = [g for g in _flatten(merged) if isinstance(g, Polygon)]
    fixed: BaseGeometry = polys[0] if len(polys) == 1 else MultiPolygon(polys)
    if others:
        fixed = GeometryCollection([fixed, *others])
    change = abs(_polygonal_area(fixed) - before) / before
    if change > REPAIR_AREA_TOLERANCE or fixed.is_empty or not fixed.is_valid:
        raise GeometryError(
            f"多边形自相交或重叠（{reason}），自动修复会使面积改变 {change:.2%}，无法判断原意。"
            "请检查顶点顺序（如“8”字形的环）或重叠的部分，修正后重新提交。",
            field,
        )
    return fixed, LocationWarning(
        "geometry_repaired",
        f"输入的图形无效（{reason}），已自动修复（make_valid），面积变化小于百万分之一。"
        "请核对图形。",
    )


@lru_cache(maxsize=128)
def _area_of_use(epsg: int) -> tuple[float, float, float, float] | None:
    area = CRS.from_epsg(epsg).area_of_use
    if area is None:
        return None
    return (area.west, area.south, area.east, area.north)


def _inside(bounds: Sequence[float], area: Sequence[float]) -> bool:
    m = AREA_OF_USE_MARGIN_DEG
    return (
        bounds[0] >= area[0] - m
        and bounds[2] <= area[2] + m
        and bounds[1] >= area[1] - m
        and bounds[3] <= area[3] + m
    )


def _projected(geometry: BaseGeometry, spec: CRSSpec, field: str) -> tuple[BaseGeometry, str]:
    """Convert a projected input, checking it lands in the CRS's area of use (the zone)."""
    area = _area_of_use(spec.epsg) if spec.epsg else None
    try:
        converted, note = to_cgcs2000(geometry, spec, field=f"{field}.coordinates")
    except GeometryError:
        converted, note = None, ""
    if converted is not None and (area is None or _inside(converted.bounds, area)):
        return converted, note
    zone = (
        f"有效范围为东经 {area[0]:g}°–{area[2]:g}°、北纬 {area[1]:g}°–{area[3]:g}°"
        if area
        else "有效范围之外"
    )
    hint = _projected_hint(geometry, spec, area)
    raise GeometryError(
        f"坐标不在坐标系 {spec.name}（{spec.title}）的适用范围内（{zone}）。{hint}", field
    )


def _projected_hint(geometry: BaseGeometry, spec: CRSSpec, area: Sequence[float] | None) -> str:
    swapped = shapely.transform(geometry, lambda xy: xy[:, ::-1])
    if area is not None:
        try:
            back, _ = to_cgcs2000(swapped, spec)
            if _inside(back.bounds, area):
                return "东坐标（x）与北坐标（y）似乎写反了：GeoJSON 中应为 [东坐标, 北坐标]。"
        except GeometryError:
            pass
    x = float(np.median(shapely.get_coordinates(geometry)[:, 0]))
    epsg = spec.epsg or 0
    if 4513 <= epsg <= 4533 and x < 1_000_000:
        return f"{spec.name} 的东坐标含带号（如 39500000）；不含带号的坐标请用 EPSG:{epsg + 21}。"
    if 4534 <= epsg <= 4554 and x > 10_000_000:
        return (
            f"东坐标 {x:.0f} 含带号（前两位 {int(x // 1_000_000)}）；"
            "请改用含带号的坐标系 EPSG:4513–4533，或去掉带号。"
        )
    if abs(x) <= 180:
        return "坐标看起来是经纬度（度）：请将坐标系写为 EPSG:4490 或 EPSG:4326。"
    return "请确认坐标系（高斯-克吕格投影请核对带号与中央经线）。"


def _prepare(
    geometry: Any, spec: CRSSpec, gfield: str, max_vertices: int
) -> tuple[BaseGeometry, list[LocationWarning]]:
    """Parse and check the input geometry in its own frame (repairing it if that is safe)."""
    shape = parse_geojson(geometry, gfield, max_vertices)
    if shape.is_empty:
        raise GeometryError("几何为空。", gfield)
    shape, repaired = repair(shape, gfield)
    return shape, [repaired] if repaired else []


def _finish(
    converted: BaseGeometry,
    note: str,
    spec: CRSSpec,
    gfield: str,
    warnings: list[LocationWarning],
) -> ParsedLocation:
    if not converted.is_valid:  # a transform can fold a ring that was valid in its own frame
        converted, again = repair(converted, gfield)
        if again and not warnings:
            warnings.append(again)
    if spec.kind in ("gcj02", "bd09"):
        frame = "GCJ-02（高德/腾讯/微信）" if spec.kind == "gcj02" else "BD-09（百度）"
        warnings.append(
            LocationWarning(
                "crs_converted",
                f"位置以 {frame} 坐标提交，已换算为 CGCS2000（两者相差约 300–700 米）：{note}",
            )
        )
    return ParsedLocation(
        geometry=converted, crs=spec.name, conversion=note, warnings=tuple(warnings)
    )


def parse_location(
    geometry: Any,
    crs: str | None = None,
    *,
    field: str = "location",
    max_vertices: int = 200_000,
) -> ParsedLocation:
    """The request's `location` → ParsedLocation (EPSG:4490, valid), or GeometryError /
    UnknownCRSError naming the field."""
    spec = parse_crs(crs, field=f"{field}.crs")
    gfield = f"{field}.geometry"
    shape, warnings = _prepare(geometry, spec, gfield, max_vertices)
    if spec.kind == "projected":
        converted, note = _projected(shape, spec, gfield)
    else:
        converted, note = to_cgcs2000(shape, spec, field=f"{gfield}.coordinates")
    return _finish(converted, note, spec, gfield, warnings)


def parse_locations(
    items: Sequence[tuple[Any, str | None, str]], *, max_vertices: int = 200_000
) -> list[ParsedLocation | LayerError]:
    """`parse_location` for many (geometry, crs, field) at once, each answered on its own.

    Geographic inputs are checked and converted together, one vectorised call per frame (the
    GCJ-02 and BD-09 inverses iterate, so one call per point would dominate a large batch); if a
    group's call fails, its items are converted one by one so each error names its own item.
    """
    out: list[ParsedLocation | LayerError | None] = [None] * len(items)
    groups: dict[str, list[tuple[int, CRSSpec, BaseGeometry, list[LocationWarning]]]] = {}
    for i, (geometry, crs, field) in enumerate(items):
        try:
            spec = parse_crs(crs, field=f"{field}.crs")
            if spec.kind == "projected":  # checked per item against its zone
                out[i] = parse_location(geometry, crs, field=field, max_vertices=max_vertices)
                continue
            shape, warnings = _prepare(geometry, spec, f"{field}.geometry", max_vertices)
            groups.setdefault(spec.name, []).append((i, spec, shape, warnings))
        except LayerError as exc:
            out[i] = exc
    for members in groups.values():
        spec = members[0][1]
        try:
            shapes = np.empty(len(members), dtype=object)
            shapes[:] = [m[2] for m in members]
            converted, note = to_cgcs2000(shapes, spec, field="location.geometry.coordinates")
        except LayerError:
            converted = None
        for k, (i, _, shape, warnings) in enumerate(members):
            field = items[i][2]
            gfield = f"{field}.geometry"
            try:
                if converted is None:
                    one, one_note = to_cgcs2000(shape, spec, field=f"{gfield}.coordinates")
                    out[i] = _finish(one, one_note, spec, gfield, warnings)
                else:
                    out[i] = _finish(converted[k], note, spec, gfield, warnings)
            except LayerError as exc:
                out[i] = exc
    return [o for o in out if o is not None]
