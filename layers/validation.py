"""The validation report of a layer import, and the checks behind it.

Geometries are checked a batch at a time (shapely's vectorised functions), so a 50,000-polygon
file is validated while it streams in. Repairs use make_valid; what cannot be used is rejected
with its index and reason; the report says all of it, in the analyst's terms.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from layers.measure import geodesic_area, geodesic_areas

# Rough extent of Inner Mongolia (EPSG:4490): a layer that misses it entirely is suspicious.
REGION_BBOX = (97.17, 37.40, 126.07, 53.34)
REGION_CODE = "150000"
# Kinds that describe the whole country or beyond: lying outside the region is normal.
NATIONWIDE_KINDS = ("province", "country")
LEAGUE_CODES = {
    "150100": "呼和浩特市", "150200": "包头市", "150300": "乌海市", "150400": "赤峰市",
    "150500": "通辽市", "150600": "鄂尔多斯市", "150700": "呼伦贝尔市", "150800": "巴彦淖尔市",
    "150900": "乌兰察布市", "152200": "兴安盟", "152500": "锡林郭勒盟", "152900": "阿拉善盟",
}
CODE_REQUIRED_KINDS = ("league", "county")
_SIX_DIGITS = re.compile(r"^\d{6}$")
# Geometry dimensions each kind accepts (0 point, 1 line, 2 polygon).
KIND_DIMENSIONS: dict[str, tuple[int, ...]] = {"river_lake": (1, 2)}
DEFAULT_DIMENSIONS = (2,)
DIMENSION_ZH = {0: "点", 1: "线", 2: "面"}
REASON_ZH = {
    "null_geometry": "几何为空值（NULL）",
    "empty_geometry": "几何为空",
    "wrong_geometry_type": "几何类型不符",
    "unrepairable": "几何无效且无法修复",
    "coordinates_out_of_range": "坐标超出经纬度范围",
    "missing_code": "缺少行政区划代码",
    "invalid_code": "行政区划代码不是 6 位数字或不属于内蒙古",
}


def allowed_dimensions(kind: str) -> tuple[int, ...]:
    return KIND_DIMENSIONS.get(kind, DEFAULT_DIMENSIONS)


def area_km2(geoms: Any) -> Any:
    """Geodesic area in km² of EPSG:4490 geometries: a float for one, an array for many."""
    if isinstance(geoms, BaseGeometry):
        return geodesic_area(geoms) / 1e6
    return geodesic_areas(geoms) / 1e6


@dataclass
class ValidationReport:
    kind: str
    features_read: int = 0
    features_kept: int = 0
    repaired: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    bbox: list[float] | None = None
    crs_used: str | None = None
    conversion: str | None = None
    encoding: str | None = None
    code_field: str | None = None
    name_field: str | None = None
    layer: str | None = None
    layers: list[str] = field(default_factory=list)
    format: str | None = None
    warnings: list[dict[str, str]] = field(default_factory=list)
    tiling: dict[str, Any] | None = None

    def warn(self, code: str, message: str) -> None:
        self.warnings.append({"code": code, "message": message})

    def reject(self, index: int, reason: str, detail: str | None = None) -> None:
        entry: dict[str, Any] = {"index": index, "reason": reason,
                                 "message": REASON_ZH.get(reason, reason)}
        if detail:
            entry["message"] += f"：{detail}"
        self.rejected.append(entry)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "format": self.format,
            "layer": self.layer,
            "layers": self.layers,
            "features_read": self.features_read,
            "feature_count": self.features_kept,
            "repaired": self.repaired,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "bbox": self.bbox,
            "crs_used": self.crs_used,
            "conversion": self.conversion,
            "encoding": self.encoding,
            "code_field": self.code_field,
            "name_field": self.name_field,
            "warnings": self.warnings,
            "tiling": self.tiling,
        }


class BatchValidator:
    """Checks geometries batch by batch, accumulating one report."""

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        self.dims = allowed_dimensions(report.kind)
        self._seen: dict[bytes, int] = {}
        self._bounds = [np.inf, np.inf, -np.inf, -np.inf]
        self._codes: dict[str, int] = {}

    def geometries(self, start: int, geoms: np.ndarray) -> np.ndarray:
        """Validate/repair a batch (EPSG:4490); returns a boolean mask of the kept ones.

        `geoms` is modified in place where a geometry is repaired.
        """
        rep = self.report
        n = len(geoms)
        rep.features_read += n
        keep = np.ones(n, dtype=bool)
        null = shapely.is_missing(geoms)
        for i in np.flatnonzero(null):
            rep.reject(start + int(i), "null_geometry")
        keep &= ~null
        empty = np.zeros(n, dtype=bool)
        empty[keep] = shapely.is_empty(geoms[keep])
        for i in np.flatnonzero(empty):
            rep.reject(start + int(i), "empty_geometry")
        keep &= ~empty
        idx = np.flatnonzero(keep)
        if len(idx):
            b = shapely.bounds(geoms[idx])
            bad = ((b[:, 0] < -180) | (b[:, 2] > 180) | (b[:, 1] < -90) | (b[:, 3] > 90)
                   | ~np.isfinite(b).all(axis=1))
            for j in np.flatnonzero(bad):
                i = idx[j]
                rep.reject(start + int(i), "coordinates_out_of_range",
                           f"范围 {_fmt_bounds(b[j])}，可能坐标系不对")
                keep[i] = False
        idx = np.flatnonzero(keep)
        if len(idx):
            valid = shapely.is_valid(geoms[idx])
            for j in np.flatnonzero(~valid):
                i = idx[j]
                reason = shapely.is_valid_reason(geoms[i])
                fixed = _keep_dimensions(shapely.make_valid(geoms[i]), self.dims)
                if fixed is None or fixed.is_empty:
                    rep.reject(start + int(i), "unrepairable", reason)
                    keep[i] = False
                else:
                    geoms[i] = fixed
                    rep.repaired.append({"index": start + int(i), "reason": reason})
        idx = np.flatnonzero(keep)
        if len(idx):
            dims = shapely.get_dimensions(geoms[idx])
            types = shapely.get_type_id(geoms[idx])
            for j in np.flatnonzero(~np.isin(dims, self.dims) | (types == 7)):
                i = idx[j]
                g = geoms[i]
                if int(types[j]) == 7:  # a collection: keep the parts of the right dimension
                    part = _keep_dimensions(g, self.dims)
                    if part is not None and not part.is_empty:
                        geoms[i] = part
                        rep.repaired.append({"index": start + int(i),
                                             "reason": "GeometryCollection 仅保留所需类型部分"})
                        continue
                want = "、".join(DIMENSION_ZH[d] for d in self.dims)
                rep.reject(start + int(i), "wrong_geometry_type",
                           f"{g.geom_type}（{DIMENSION_ZH.get(int(dims[j]), '?')}），"
                           f"{rep.kind} 图层需要{want}")
                keep[i] = False
        idx = np.flatnonzero(keep)
        if len(idx):
            wkb = shapely.to_wkb(shapely.normalize(geoms[idx]))
            for pos, blob in zip(idx.tolist(), wkb, strict=True):
                digest = hashlib.blake2b(blob, digest_size=16).digest()
                first = self._seen.setdefault(digest, start + pos)
                if first != start + pos:
                    rep.duplicates.append({"index": start + pos, "duplicate_of": first})
            b = shapely.bounds(geoms[idx])
            lo, hi = b[:, :2].min(axis=0), b[:, 2:].max(axis=0)
            self._bounds = [min(self._bounds[0], lo[0]), min(self._bounds[1], lo[1]),
                            max(self._bounds[2], hi[0]), max(self._bounds[3], hi[1])]
        return keep

    def code(self, index: int, code: str | None) -> bool:
        """Check a feature's code for the kinds that need one; False rejects the feature."""
        kind = self.report.kind
        if kind not in CODE_REQUIRED_KINDS:
            return True
        if not code:
            self.report.reject(index, "missing_code", f"{kind} 图层的每个要素都需要 6 位代码")
            return False
        ok = bool(_SIX_DIGITS.match(code)) and code.startswith("15")
        if kind == "league":
            ok = ok and code in LEAGUE_CODES
        if not ok:
            self.report.reject(index, "invalid_code", f"“{code}”")
            return False
        if code in self._codes:
            self.report.warn("duplicate_code",
                             f"代码 {code} 出现多次（要素 {self._codes[code]} 与 {index}）。")
        else:
            self._codes[code] = index
        return True

    def finish(self) -> None:
        rep = self.report
        rep.features_kept = rep.features_read - len(rep.rejected)
        if rep.features_kept == 0:
            return
        rep.bbox = [round(float(v), 6) for v in self._bounds]
        check_bbox(rep)
        if rep.duplicates:
            rep.warn("duplicate_geometries",
                     f"有 {len(rep.duplicates)} 个要素与前面的要素几何完全相同（见 duplicates）。")
        if rep.kind == "league":
            missing = sorted(set(LEAGUE_CODES) - set(self._codes))
            if missing:
                rep.warn("leagues_missing", "盟市图层缺少："
                         + "、".join(f"{LEAGUE_CODES[c]}（{c}）" for c in missing) + "。")


def _fmt_bounds(b: Sequence[float]) -> str:
    return "[" + ", ".join(f"{v:.6g}" for v in b) + "]"


def _keep_dimensions(g: BaseGeometry, dims: tuple[int, ...]) -> BaseGeometry | None:
    """The parts of `g` of the highest accepted dimension (make_valid may add lines/points)."""
    parts = shapely.get_parts(g)
    if len(parts) == 0:
        return None
    pdims = shapely.get_dimensions(parts)
    for d in sorted(dims, reverse=True):
        chosen = parts[pdims == d]
        if len(chosen):
            # Collections inside collections: flatten once more.
            flat = shapely.get_parts(chosen)
            flat = flat[shapely.get_dimensions(flat) == d]
            if len(flat) == 1:
                return flat[0]
            return shapely.union_all(flat) if d == 2 else shapely.multilinestrings(flat) \
                if d == 1 else shapely.multipoints(flat)
    return None


def check_bbox(rep: ValidationReport) -> None:
    """Warn when the layer lies outside the region (wrong CRS?) or its extent is implausible."""
    if rep.bbox is None:
        return
    minx, miny, maxx, maxy = rep.bbox
    rx0, ry0, rx1, ry1 = REGION_BBOX
    outside = maxx < rx0 or minx > rx1 or maxy < ry0 or miny > ry1
    if outside and rep.kind not in NATIONWIDE_KINDS:
        rep.warn("bbox_outside_region",
                 f"图层范围 {_fmt_bounds(rep.bbox)} 不在内蒙古自治区范围内——坐标系是否有误？"
                 "（例如投影坐标未附 .prj，或经纬度顺序颠倒）")
    elif (maxx - minx) > 60 or (maxy - miny) > 40:
        if rep.kind not in NATIONWIDE_KINDS:
            rep.warn("bbox_implausible",
                     f"图层范围 {_fmt_bounds(rep.bbox)} 过大，不像自治区内的图层——请检查坐标系。")
    elif rep.kind not in NATIONWIDE_KINDS and (
        minx < rx0 - 1 or maxx > rx1 + 1 or miny < ry0 - 1 or maxy > ry1 + 1
    ):
        rep.warn("bbox_partly_outside",
                 f"图层范围 {_fmt_bounds(rep.bbox)} 有部分超出内蒙古自治区范围，请确认。")


def tiling_report(
    geoms: Sequence[BaseGeometry],
    outline: BaseGeometry,
    *,
    min_part_km2: float = 0.01,
    listed: int = 10,
    labels: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """How well `geoms` tile `outline`: gaps (outline not covered) and overlaps, in km².

    Parts smaller than `min_part_km2` count in the totals but are not listed one by one.
    """
    arr = np.asarray(list(geoms), dtype=object)
    union = shapely.union_all(arr)
    gaps = shapely.get_parts(shapely.difference(outline, union))
    gap_areas = area_km2(gaps) if len(gaps) else np.array([])
    outside = shapely.get_parts(shapely.difference(union, outline))
    outside_areas = area_km2(outside) if len(outside) else np.array([])
    tree = shapely.STRtree(arr)
    left, right = tree.query(arr, predicate="intersects")
    pairs = left < right
    overlaps: list[dict[str, Any]] = []
    total_overlap = 0.0
    for i, j in zip(left[pairs], right[pairs], strict=True):
        inter = shapely.intersection(arr[i], arr[j])
        if shapely.get_dimensions(inter) < 2:
            continue
        a = float(area_km2(inter))
        total_overlap += a
        if a >= min_part_km2:
            pair = [labels[i], labels[j]] if labels is not None else [int(i), int(j)]
            overlaps.append({"features": pair, "area_km2": round(a, 4)})
    overlaps.sort(key=lambda o: -o["area_km2"])
    big_gaps = np.flatnonzero(gap_areas >= min_part_km2)
    order = big_gaps[np.argsort(-gap_areas[big_gaps])] if len(big_gaps) else big_gaps
    return {
        "gap_km2": round(float(gap_areas.sum()), 4),
        "gap_count": len(big_gaps),
        "gaps": [
            {"area_km2": round(float(gap_areas[k]), 4),
             "at": [round(c, 5) for c in gaps[k].representative_point().coords[0]]}
            for k in order[:listed]
        ],
        "overlap_km2": round(total_overlap, 4),
        "overlap_count": len(overlaps),
        "overlaps": overlaps[:listed],
        "outside_km2": round(float(outside_areas.sum()), 4),
    }


def add_tiling_warnings(rep: ValidationReport, tiling: dict[str, Any],
                        tolerance_km2: float = 1.0) -> None:
    rep.tiling = tiling
    if tiling["gap_km2"] > tolerance_km2:
        rep.warn("tiling_gaps",
                 f"替换的盟市图层未能完整覆盖自治区：缝隙 {tiling['gap_count']} 处，"
                 f"共 {tiling['gap_km2']:.2f} km²。")
    if tiling["overlap_km2"] > tolerance_km2:
        rep.warn("tiling_overlaps",
                 f"盟市之间存在重叠 {tiling['overlap_count']} 处，"
                 f"共 {tiling['overlap_km2']:.2f} km²。")
    if tiling["outside_km2"] > tolerance_km2:
        rep.warn("tiling_outside",
                 f"盟市图层超出自治区边界 {tiling['outside_km2']:.2f} km²。")
