"""Real layer files of every format, written from the built-in boundaries (test fixtures)."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyogrio.raw
import shapely

from layers.builtin import builtin_layers
from layers.crs import from_cgcs2000
from layers.model import LayerFeature


def builtin_features(series: str = "league") -> tuple[LayerFeature, ...]:
    """The built-in boundaries of `series` (EPSG:4490)."""
    return builtin_layers(only=[series])[0].features


def county_features(prefix: str = "1501") -> tuple[LayerFeature, ...]:
    """Counties of Hohhot (around 111–112.5°E: inside one Gauss-Krüger 3° zone, zone 37)."""
    return tuple(f for f in builtin_features("county") if (f.code or "").startswith(prefix))


def _columns(features: Sequence[LayerFeature], code_field: str, name_field: str):
    codes = np.array([f.code for f in features], dtype=object)
    names = np.array([f.name for f in features], dtype=object)
    return [codes, names], [code_field, name_field]


def write_layer(
    path: Path,
    features: Sequence[LayerFeature],
    *,
    driver: str,
    layer: str | None = None,
    crs: str = "EPSG:4490",
    encoding: str | None = None,
    code_field: str = "code",
    name_field: str = "name",
    append: bool = False,
) -> Path:
    geoms = np.array([f.geometry for f in features], dtype=object)
    if crs not in ("EPSG:4490", "EPSG:4326"):
        geoms = np.array([from_cgcs2000(g, crs) for g in geoms], dtype=object)
    field_data, fields = _columns(features, code_field, name_field)
    pyogrio.raw.write(
        path,
        shapely.to_wkb(geoms),
        field_data,
        fields,
        driver=driver,
        layer=layer,
        geometry_type="MultiPolygon",
        promote_to_multi=True,
        crs=crs,
        encoding=encoding,
        append=append,
    )
    return path


def shapefile_zip(
    tmp: Path,
    features: Sequence[LayerFeature],
    *,
    name: str = "layer",
    crs: str | None = "EPSG:4490",
    encoding: str = "UTF-8",
    cpg: bool = True,
    code_field: str = "XZQDM",
    name_field: str = "XZQMC",
) -> Path:
    """A zipped Shapefile; `cpg=False` drops the .cpg and the DBF's code-page byte, as Chinese
    desktop GIS files come; `crs=None` drops the .prj."""
    folder = tmp / f"{name}_shp"
    folder.mkdir()
    write_layer(folder / f"{name}.shp", features, driver="ESRI Shapefile", crs=crs or "EPSG:4490",
                encoding=encoding, code_field=code_field, name_field=name_field)
    if not cpg:
        (folder / f"{name}.cpg").unlink(missing_ok=True)
        dbf = folder / f"{name}.dbf"
        data = bytearray(dbf.read_bytes())
        data[29] = 0  # language driver id: none
        dbf.write_bytes(bytes(data))
    if crs is None:
        (folder / f"{name}.prj").unlink()
    out = tmp / f"{name}.zip"
    with zipfile.ZipFile(out, "w") as zf:
        for p in sorted(folder.iterdir()):
            zf.write(p, p.name)
    return out


def kmz(tmp: Path, features: Sequence[LayerFeature], name: str = "layer") -> Path:
    kml = write_layer(tmp / "doc.kml", features, driver="KML", crs="EPSG:4326", layer=name)
    out = tmp / f"{name}.kmz"
    with zipfile.ZipFile(out, "w") as zf:
        zf.write(kml, "doc.kml")
    kml.unlink()
    return out
