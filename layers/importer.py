"""Read a layer file into LayerFeatures (EPSG:4490), validating as it streams.

    imp = LayerImport.open(upload, workdir, ImportOptions(kind="league"))
    for batch in imp.batches():          # lists of LayerFeature, a few thousand at a time
        store(batch)
    report = imp.finish(outline=...)      # the ValidationReport

Big files are read in slices (pyogrio skip/max features), so the file is never held twice.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio.errors
import pyogrio.raw
import shapely
from shapely.geometry.base import BaseGeometry

from layers import LAYER_KINDS
from layers.errors import LayerFileError
from layers.formats import SourceLayer, open_source
from layers.model import LayerFeature
from layers.source_crs import SourceCRS, resolve
from layers.validation import (
    CODE_REQUIRED_KINDS,
    BatchValidator,
    ValidationReport,
    add_tiling_warnings,
    tiling_report,
)

# Attribute names Chinese GIS data commonly uses, tried in order (case-insensitive).
CODE_FIELDS = ("code", "adcode", "xzqdm", "xzqhdm", "qhdm", "dm", "pac", "gb", "行政区划代码",
               "区划代码", "代码", "bm", "id_code")
NAME_FIELDS = ("name", "xzqmc", "qhmc", "mc", "名称", "行政区名称", "区划名称", "zrbhdmc", "bhdmc",
               "hxmc", "label")
DEFAULT_BATCH = 5000
_GDAL_ERRORS = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    pyogrio.errors.FeatureError,
    pyogrio.errors.FieldError,
    pyogrio.errors.GeometryError,
    UnicodeDecodeError,
)
ProgressFn = Callable[[int], None]


@dataclass(frozen=True)
class ImportOptions:
    kind: str
    crs: str | None = None
    encoding: str | None = None
    code_field: str | None = None
    name_field: str | None = None
    layer: str | None = None
    batch_size: int = DEFAULT_BATCH


class LayerImport:
    """One import in progress: source, CRS, field mapping and the report being built."""

    def __init__(self, source: SourceLayer, options: ImportOptions, crs: SourceCRS,
                 fields: Sequence[str]) -> None:
        self.source = source
        self.options = options
        self.crs = crs
        self.fields = list(fields)
        self.code_field = _pick_field(self.fields, options.code_field, CODE_FIELDS, "code_field")
        self.name_field = _pick_field(self.fields, options.name_field, NAME_FIELDS, "name_field")
        rep = ValidationReport(kind=options.kind)
        rep.format = source.format
        rep.layer = source.layer
        rep.layers = list(source.layers)
        rep.crs_used = crs.label
        rep.conversion = crs.conversion
        rep.encoding = source.encoding_note
        rep.code_field = self.code_field
        rep.name_field = self.name_field
        for w in crs.warnings:
            rep.warn(w["code"], w["message"])
        if source.encoding_note and "自动识别" in source.encoding_note:
            rep.warn("encoding_detected",
                     source.encoding_note + "；如有乱码请用参数 encoding 指定。")
        if self.code_field is None and options.kind in CODE_REQUIRED_KINDS:
            raise LayerFileError(
                f"{options.kind} 图层需要 6 位行政区划代码字段，但未找到：请用 code_field 指定"
                f"（文件中的字段：{'、'.join(self.fields) or '无'}）。",
                "code_field",
            )
        if self.name_field is None:
            rep.warn("no_name_field", "未找到名称字段，要素将没有名称；可用 name_field 指定。")
        self.report = rep
        self.validator = BatchValidator(rep)
        # League layers are small and must tile the region: keep them for the tiling check.
        self._kept: list[BaseGeometry] | None = [] if options.kind == "league" else None
        self._kept_codes: list[str | None] = []

    @classmethod
    def open(cls, upload: Path, workdir: Path, options: ImportOptions) -> LayerImport:
        if options.kind not in LAYER_KINDS:
            raise LayerFileError(
                f"未知的图层类别“{options.kind}”；可用：{'、'.join(LAYER_KINDS)}。", "kind"
            )
        source = open_source(upload, workdir, layer=options.layer, encoding=options.encoding)
        crs = resolve(source.crs_wkt, options.crs)
        meta = pyogrio.read_info(source.path, layer=source.layer, encoding=source.encoding)
        return cls(source, options, crs, [str(f) for f in meta["fields"]])

    @property
    def total(self) -> int | None:
        return self.source.feature_count

    def batches(self, progress: ProgressFn | None = None) -> Iterator[list[LayerFeature]]:
        """Features that passed, batch by batch; `progress(n)` after each batch of n read."""
        step = self.options.batch_size
        sliced = self.source.format in ("shapefile", "gpkg") and (self.total or 0) > step
        start = 0
        while True:
            try:
                meta, _, wkb, field_data = pyogrio.raw.read(
                    self.source.path,
                    layer=self.source.layer,
                    encoding=self.source.encoding,
                    force_2d=True,
                    skip_features=start if sliced else 0,
                    max_features=step if sliced else None,
                )
            except _GDAL_ERRORS as exc:
                raise LayerFileError(
                    f"读取第 {start} 个要素之后的数据时出错（文件可能已损坏）：{exc}", "file"
                ) from exc
            n = len(wkb)
            if n == 0:
                break
            yield self._convert(start, meta, wkb, field_data)
            if progress is not None:
                progress(n)
            start += n
            if not sliced or n < step:
                break

    def _convert(self, start: int, meta: dict[str, Any], wkb: np.ndarray,
                 field_data: Sequence[np.ndarray]) -> list[LayerFeature]:
        geoms = shapely.from_wkb(wkb, on_invalid="ignore")
        if not self.crs.identity:
            present = ~shapely.is_missing(geoms)
            geoms[present] = shapely.transform(geoms[present], self.crs.transform)
        keep = self.validator.geometries(start, geoms)
        names = [str(f) for f in meta["fields"]]
        columns = dict(zip(names, field_data, strict=True))
        codes = columns.get(self.code_field) if self.code_field else None
        labels = columns.get(self.name_field) if self.name_field else None
        out: list[LayerFeature] = []
        for i in np.flatnonzero(keep):
            index = start + int(i)
            code = _text(codes[i]) if codes is not None else None
            if not self.validator.code(index, code):
                continue
            attributes = {k: _json_value(v[i]) for k, v in columns.items()}
            out.append(LayerFeature(
                feature_id=index,
                code=code,
                name=_text(labels[i]) if labels is not None else None,
                geometry=geoms[i],
                attributes=attributes,
            ))
            if self._kept is not None:
                self._kept.append(geoms[i])
                self._kept_codes.append(code)
        return out

    def finish(self, outline: BaseGeometry | None = None) -> ValidationReport:
        """Close the report; for a league layer, check it tiles `outline` (the region)."""
        self.validator.finish()
        if self._kept and outline is not None:
            try:
                tiling = tiling_report(self._kept, outline, labels=self._kept_codes)
            except shapely.errors.GEOSException as exc:
                self.report.warn("tiling_check_failed", f"无法完成盟市覆盖检查：{exc}")
            else:
                add_tiling_warnings(self.report, tiling)
        return self.report


def read_layer(
    upload: Path, workdir: Path, options: ImportOptions, outline: BaseGeometry | None = None
) -> tuple[list[LayerFeature], ValidationReport]:
    """The whole layer in memory (small layers, tests): features and report."""
    imp = LayerImport.open(upload, workdir, options)
    features = [f for batch in imp.batches() for f in batch]
    return features, imp.finish(outline)


def _pick_field(fields: list[str], wanted: str | None, candidates: Sequence[str],
                param: str) -> str | None:
    lower = {f.lower(): f for f in fields}
    if wanted:
        if wanted in fields:
            return wanted
        if wanted.lower() in lower:
            return lower[wanted.lower()]
        raise LayerFileError(
            f"文件中没有字段“{wanted}”；可选字段：{'、'.join(fields) or '无'}。", param
        )
    for cand in candidates:
        if cand in lower:
            return lower[cand]
    return None


def _text(value: Any) -> str | None:
    v = _json_value(value)
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    s = str(v).strip()
    return s or None


def _json_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, np.ndarray):
        return [_json_value(v) for v in value.tolist()]
    return value
