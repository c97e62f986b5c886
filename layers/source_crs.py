"""Which CRS a layer file is in, and the vectorised transform that brings it to EPSG:4490.

A layer file names its CRS (.prj, GeoPackage SRS, GeoJSON/KML are WGS84) or the analyst passes
`crs`; with neither the import is refused. CGCS2000 geographic and its Gauss-Krüger zones are
recognised by EPSG code; Xi'an 1980 and Beijing 1954 are accepted with a warning (PROJ has no
national transformation for them: a ballpark shift only); GCJ-02 and BD-09 for layers traced
from web maps go through `layers.crs`.
(`layers.crs.parse_crs` is for one location; this module is for whole files with a .prj.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyproj
from pyproj.exceptions import CRSError

from layers import STORAGE_SRID
from layers.crs import (
    BD09_NOTE,
    GCJ02_NOTE,
    IDENTITY_NOTE,
    WGS84_NOTE,
    bd09_to_wgs84,
    gcj02_to_wgs84,
    parse_crs,
)
from layers.errors import UnknownCRSError

XY = Callable[[np.ndarray], np.ndarray]  # (n, 2) -> (n, 2), x = lon, y = lat after
_LOCAL_DATUMS = {"Xian 1980": "西安1980", "Beijing 1954": "北京1954"}


@dataclass(frozen=True)
class SourceCRS:
    label: str  # e.g. "EPSG:4527 CGCS2000 / 3-degree Gauss-Kruger zone 39", "GCJ-02"
    transform: XY
    conversion: str  # what is applied to reach EPSG:4490
    warnings: tuple[dict[str, str], ...] = field(default=())
    identity: bool = False


def resolve(file_crs: str | None, param_crs: str | None) -> SourceCRS:
    """The file's own CRS wins unless the analyst's `crs` names a web-map frame (GCJ-02/BD-09).

    GeoJSON and KML always declare WGS84, even when traced off Amap: so `crs=GCJ02` overrides.
    A file CRS and a different `crs` parameter otherwise: the file wins, with a warning.
    """
    warnings: list[dict[str, str]] = []
    spec = parse_crs(param_crs, field="crs") if param_crs else None
    if spec is not None and spec.kind in ("gcj02", "bd09"):
        return _web_frame(spec.name)
    if file_crs:
        crs = _parse(file_crs, "file")
        if spec is not None:
            given = _parse(spec.name, "crs")
            if not given.equals(crs, ignore_axis_order=True):
                warnings.append({
                    "code": "crs_parameter_ignored",
                    "message": f"文件自带坐标系 {_name(crs)}，已按文件坐标系读取，"
                    f"忽略参数 crs={param_crs}。",
                })
    elif spec is not None:
        crs = _parse(spec.name, "crs")
    else:
        raise UnknownCRSError(
            "图层文件没有坐标系信息（如 Shapefile 缺少 .prj），且未提供参数 crs："
            "请补充 .prj 文件，或用 crs 指定（如 EPSG:4490、EPSG:4527、GCJ02）。",
            "crs",
        )
    return _from_pyproj(crs, warnings)


def _parse(text: str, field_name: str) -> pyproj.CRS:
    try:
        return pyproj.CRS.from_user_input(text.strip())
    except CRSError as exc:
        raise UnknownCRSError(
            f"无法识别的坐标系“{text[:80]}”：请用 EPSG 代码（如 EPSG:4490、EPSG:4527）"
            "或 GCJ02、BD09。",
            field_name,
        ) from exc


def _name(crs: pyproj.CRS) -> str:
    code = crs.to_epsg(min_confidence=70)
    return f"EPSG:{code} {crs.name}" if code else crs.name


def _from_pyproj(crs: pyproj.CRS, warnings: list[dict[str, str]]) -> SourceCRS:
    if crs.is_vertical or crs.geodetic_crs is None:
        raise UnknownCRSError(f"坐标系 {crs.name} 不是平面或地理坐标系，无法用于图层。", "crs")
    label = _name(crs)
    datum = crs.geodetic_crs.datum.name if crs.geodetic_crs.datum is not None else ""
    for key, zh in _LOCAL_DATUMS.items():
        if key in datum:
            warnings.append({
                "code": "local_datum",
                "message": f"图层坐标系为{zh}坐标系（{label}）。已按 PROJ 的近似换算转为 CGCS2000，"
                "误差可达数十米；亚米级精度的工作需使用当地的坐标转换参数（七参数）另行转换。",
            })
    target = pyproj.CRS.from_epsg(STORAGE_SRID)
    if crs.equals(target, ignore_axis_order=True):
        return SourceCRS(label, _same, IDENTITY_NOTE, tuple(warnings), identity=True)
    if crs.equals(pyproj.CRS.from_epsg(4326), ignore_axis_order=True):
        return SourceCRS(label, _same, WGS84_NOTE, tuple(warnings), identity=True)
    transformer = pyproj.Transformer.from_crs(crs, target, always_xy=True)

    def apply(xy: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return SourceCRS(label, apply, f"{label} → EPSG:4490（{transformer.description}）",
                     tuple(warnings))


def _same(xy: np.ndarray) -> np.ndarray:
    return xy


def _web_frame(frame: str) -> SourceCRS:
    return SourceCRS(
        frame,
        _web_frame_inverse(frame),
        GCJ02_NOTE if frame == "GCJ-02" else BD09_NOTE,
        ({
            "code": "web_map_frame",
            "message": f"按 {frame} 坐标（网络地图描绘）读取并纠偏为 CGCS2000。",
        },),
    )


def _web_frame_inverse(frame: str) -> XY:
    """GCJ-02/BD-09 → WGS84 (≈ CGCS2000 within centimetres), via layers.crs."""
    fn = gcj02_to_wgs84 if frame == "GCJ-02" else bd09_to_wgs84

    def apply(xy: np.ndarray) -> np.ndarray:
        x, y = fn(xy[:, 0], xy[:, 1])
        return np.column_stack([np.asarray(x), np.asarray(y)])

    return apply
