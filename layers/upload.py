"""From an uploaded file to the one path GDAL will open, its format and its driver.

The extension says what the analyst meant; `layers.content` checks the bytes agree; archives are
unpacked under limits (`layers.archive`). Nothing here loads GDAL: the reading process calls this
first, then registers only `DRIVERS[format]`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from layers import archive, content
from layers.archive import ZipLimits
from layers.errors import LayerFileError

FORMATS = ("shapefile", "gpkg", "geojson", "kml", "kmz")
SUFFIX_FORMAT = {
    ".shp": "shapefile",
    ".gpkg": "gpkg",
    ".geojson": "geojson",
    ".json": "geojson",
    ".kml": "kml",
    ".kmz": "kmz",
}


@dataclass(frozen=True, slots=True)
class Prepared:
    """A layer file ready for GDAL: `path` (a file, or a folder of Shapefiles), its format, the
    GDAL driver allowed to open it, and the name to show the analyst."""

    path: Path
    format: str
    label: str

    @property
    def driver(self) -> str:
        return content.DRIVERS[self.format]


def prepare(upload: Path, workdir: Path, limits: ZipLimits | None = None,
            label: str | None = None) -> Prepared:
    """Check `upload` and unpack it into `workdir` when it is an archive.

    Raises LayerFileError (field `file`) when the content is not what the name says, or
    LayerLimitError when an archive is over the limits.
    """
    limits = limits or ZipLimits()
    label = label or upload.name
    suffix = upload.suffix.lower()
    head = upload.open("rb").read(8) if upload.is_file() else b""
    is_zip = head.startswith(content.ZIP_MAGICS)
    if suffix in (".zip", ".kmz") and not is_zip:
        raise LayerFileError(
            f"{label} 不是有效的 zip/kmz 压缩包（内容看起来是 {content.describe(head)}）。", "file"
        )
    if suffix == ".kmz" or (suffix == ".zip" and _is_kmz(upload, label)):
        return Prepared(_extract_kml(upload, workdir, limits, label), "kmz", label)
    if suffix == ".zip":
        return _extract_zip(upload, workdir, limits, label)
    if suffix == ".shp":
        raise LayerFileError(
            "Shapefile 需打包为 zip 上传（至少包含 .shp、.shx、.dbf，建议附 .prj 和 .cpg）。",
            "file",
        )
    if suffix not in SUFFIX_FORMAT:
        raise LayerFileError(
            f"不支持的文件类型“{upload.suffix or label}”：请上传 zip 打包的 Shapefile、"
            "GeoPackage (.gpkg)、GeoJSON (.geojson/.json)、KML 或 KMZ。",
            "file",
        )
    fmt = SUFFIX_FORMAT[suffix]
    check_file(upload, fmt, label)
    return Prepared(upload, fmt, label)


def check_file(path: Path, fmt: str, label: str) -> None:
    """The content checks of one (non-archive) layer file of format `fmt`."""
    if fmt == "geojson":
        content.check_geojson(path, label)
    elif fmt == "gpkg":
        content.check_geopackage(path, label)
    elif fmt in ("kml", "kmz"):
        content.check_kml(path, label)


def _is_kmz(upload: Path, label: str) -> bool:
    with archive.open_zip(upload, label) as zf:
        names = [m.filename.lower() for m in zf.infolist()]
    return any(n.endswith(".kml") for n in names) and not any(
        n.endswith((".shp", ".gpkg", ".geojson", ".json")) for n in names
    )


def _extract_kml(upload: Path, workdir: Path, limits: ZipLimits, label: str) -> Path:
    with archive.open_zip(upload, label) as zf:
        kmls = [m for m in archive.safe_members(zf, limits)
                if m.filename.lower().endswith(".kml")]
        if not kmls:
            raise LayerFileError("KMZ 中没有 .kml 文件。", "file")
        # doc.kml is the root document by convention; otherwise the first one.
        root = next((m for m in kmls if PurePosixPath(m.filename).name == "doc.kml"), kmls[0])
        target = workdir / "kmz"
        target.mkdir(parents=True, exist_ok=True)
        (path,) = archive.extract(zf, [root], target, limits)
    check_file(path, "kmz", f"{label} 中的 {path.name}")
    return path


def _extract_zip(upload: Path, workdir: Path, limits: ZipLimits, label: str) -> Prepared:
    target = workdir / "zip"
    target.mkdir(parents=True, exist_ok=True)
    with archive.open_zip(upload, label) as zf:
        members = archive.layer_members(archive.safe_members(zf, limits))
        archive.extract(zf, members, target, limits)
    found = sorted(
        p for p in target.rglob("*") if p.suffix.lower() in SUFFIX_FORMAT and p.is_file()
    )
    shps = [p for p in found if p.suffix.lower() == ".shp"]
    for shp in shps:
        dbf, shx = sidecar(shp, ".dbf"), sidecar(shp, ".shx")
        if dbf is None or shx is None:
            raise LayerFileError(
                f"压缩包缺少 {shp.stem}.dbf 或 {shp.stem}.shx："
                "Shapefile 至少需要 .shp、.shx、.dbf。",
                "file",
            )
        content.check_shapefile(shp, shx, dbf)
    if len(shps) > 1 and len({p.parent for p in shps}) == 1:
        # Several Shapefiles side by side: GDAL opens the folder, each file a layer.
        return Prepared(shps[0].parent, "shapefile", label)
    if shps:
        return Prepared(shps[0], "shapefile", label)
    others = [p for p in found if p.suffix.lower() != ".shp"]
    if not others:
        raise LayerFileError(
            "压缩包中没有可识别的图层文件（.shp、.gpkg、.geojson、.kml）。", "file"
        )
    fmt = SUFFIX_FORMAT[others[0].suffix.lower()]
    check_file(others[0], fmt, f"{label} 中的 {others[0].name}")
    return Prepared(others[0], fmt, label)


def sidecar(shp: Path, ext: str) -> Path | None:
    for cand in (shp.with_suffix(ext), shp.with_suffix(ext.upper())):
        if cand.exists():
            return cand
    return None
