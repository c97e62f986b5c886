"""What a layer file really is: the format decided from its extension AND its first bytes, and
the checks that keep GDAL from following anything the content points at.

GDAL picks a driver from the content, so a file named `x.geojson` holding a VRT would be opened
as a VRT (which reads any path or URL it names). Here the service decides: the extension says
what the analyst meant, the magic bytes must agree, and `DRIVERS[format]` is the only GDAL
driver the reading process registers (`layers.sandbox`). No GDAL import here: this runs before
GDAL is loaded.
"""

from __future__ import annotations

import re
import sqlite3
import struct
from pathlib import Path
from xml.etree import ElementTree

from layers.errors import LayerFileError

# The one GDAL driver each accepted format is read with. KML: LIBKML (it reads ExtendedData
# fields, which the plain KML driver drops); NetworkLinks are refused before it runs
# (`check_kml`) and the reading process has no network.
DRIVERS = {
    "shapefile": "ESRI Shapefile",
    "gpkg": "GPKG",
    "geojson": "GeoJSON",
    "kml": "LIBKML",
    "kmz": "LIBKML",
}
SQLITE_MAGIC = b"SQLite format 3\x00"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
# GeoPackage application_id values (offset 68 of the SQLite header): "GPKG", "GP10", "GP11".
GPKG_APPLICATION_IDS = {0x47504B47, 0x47503130, 0x47503131}
SHAPE_FILE_CODE = 9994  # .shp/.shx header, big-endian int at offset 0
# dBASE versions GIS software writes (III, III with memo, IV, FoxPro, Visual FoxPro).
DBF_VERSIONS = {0x02, 0x03, 0x04, 0x05, 0x30, 0x31, 0x32, 0x43, 0x63, 0x83, 0x8B, 0x8E, 0xCB,
                0xF5, 0xFB}
# A GDAL virtual file system prefix (/vsicurl/, /vsizip/, /vsis3/ …) anywhere in a text file.
_VSI = re.compile(rb"/vsi[a-z0-9_]*[/?]", re.IGNORECASE)
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_SCAN_CHUNK = 1 << 20


def _head(path: Path, n: int = 4096) -> bytes:
    with path.open("rb") as fh:
        return fh.read(n)


def _refuse(label: str, expected: str, seen: str) -> LayerFileError:
    return LayerFileError(
        f"{label} 的内容不是 {expected}（看起来是 {seen}）：请上传扩展名与内容一致的图层文件。",
        "file",
    )


def describe(head: bytes) -> str:
    """A short human description of what some bytes look like (for refusals)."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(SQLITE_MAGIC):
        return "SQLite 数据库"
    if text.startswith(ZIP_MAGICS):
        return "zip 压缩包"
    if text[:1] == b"<":
        match = re.search(rb"<\s*([A-Za-z_][\w.:-]*)", re.sub(rb"<[?!][^>]*>", b"", text))
        root = match.group(1).decode("ascii", "replace") if match else "?"
        return "GDAL 虚拟数据源 VRT" if "VRT" in root.upper() else f"XML（根元素 {root}）"
    if text[:1] in (b"{", b"["):
        return "JSON"
    return "未知格式"


def scan_for_vsi(path: Path, label: str) -> None:
    """Refuse a text file that names a GDAL virtual file system path anywhere in it."""
    tail = b""
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_SCAN_CHUNK), b""):
            if _VSI.search(tail + chunk):
                raise LayerFileError(
                    f"{label} 中含有 GDAL 虚拟文件路径（/vsi…），不予读取：图层文件不得引用"
                    "其他文件或网址。",
                    "file",
                )
            tail = chunk[-16:]


def check_geojson(path: Path, label: str) -> None:
    head = _head(path).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:1] != b"{":
        raise _refuse(label, "GeoJSON", describe(head))
    scan_for_vsi(path, label)


def check_kml(path: Path, label: str) -> None:
    """A KML document: XML whose root element is <kml>, with no DTD (entities can name files),
    no NetworkLink and no /vsi path."""
    if _DTD.search(_head(path, 1 << 16)):
        raise LayerFileError(
            f"{label} 含有文档类型定义（DOCTYPE/ENTITY），不予读取：KML 文件不需要它。", "file"
        )
    try:
        for i, (_, element) in enumerate(ElementTree.iterparse(path, events=("start",))):
            tag = element.tag.rsplit("}", 1)[-1]
            if i == 0 and tag != "kml":
                raise _refuse(label, "KML", describe(_head(path)))
            if tag == "NetworkLink":
                raise LayerFileError(
                    f"{label} 含有网络链接（NetworkLink），不予读取：请把被链接的图层导出到同一个"
                    "KML 文件中再上传。",
                    "file",
                )
    except ElementTree.ParseError as exc:
        raise _refuse(label, "KML", describe(_head(path))) from exc
    scan_for_vsi(path, label)


def check_shapefile(shp: Path, shx: Path, dbf: Path) -> None:
    for part in (shp, shx):
        head = _head(part, 100)
        if len(head) < 100 or struct.unpack(">i", head[:4])[0] != SHAPE_FILE_CODE:
            raise _refuse(part.name, f"Shapefile 的 {part.suffix}", describe(head))
    head = _head(dbf, 32)
    if len(head) < 32 or head[0] not in DBF_VERSIONS:
        raise _refuse(dbf.name, "dBASE 属性表 (.dbf)", describe(head))


def check_geopackage(path: Path, label: str) -> None:
    """A GeoPackage whose schema runs nothing when read.

    Read-only and immutable (no journal is created or removed). Refused: anything that is not a
    SQLite file with the GeoPackage tables; views (a view over an endless recursive query pins a
    core); virtual tables other than the R-tree spatial index (VirtualOGR and friends read other
    files); generated columns (computed on read); any /vsi path in the schema.
    """
    head = _head(path, 100)
    if not head.startswith(SQLITE_MAGIC):
        raise _refuse(label, "GeoPackage", describe(head))
    app_id = struct.unpack(">I", head[68:72])[0] if len(head) >= 72 else 0
    try:
        with _readonly(path) as db:
            objects = db.execute(
                "SELECT type, name, coalesce(sql, '') FROM sqlite_master"
            ).fetchall()
            _check_schema_objects(objects, label)
            tables = {name for kind, name, _ in objects if kind == "table"}
            generated = [
                t for t in sorted(tables)
                if any(col[6] in (2, 3) for col in db.execute(f"PRAGMA table_xinfo({_q(t)})"))
            ]
    except sqlite3.DatabaseError as exc:
        raise LayerFileError(
            f"{label} 不是有效的 GeoPackage（SQLite 文件已损坏）。", "file"
        ) from exc
    if not {"gpkg_contents", "gpkg_spatial_ref_sys"} <= tables:
        kind = "GeoPackage" if app_id in GPKG_APPLICATION_IDS else "SQLite 数据库"
        raise LayerFileError(
            f"{label} 缺少 GeoPackage 的 gpkg_contents 或 gpkg_spatial_ref_sys 表（是 {kind}，"
            "但不是有效的 GeoPackage）。",
            "file",
        )
    if generated:
        raise LayerFileError(
            f"{label} 的表“{generated[0]}”含有生成列（generated column），不予读取。", "file"
        )


def _check_schema_objects(objects: list[tuple[str, str, str]], label: str) -> None:
    for kind, name, sql in objects:
        if kind == "view":
            raise LayerFileError(
                f"{label} 含有视图（view）“{name}”，不予读取：请导出为普通要素表的 GeoPackage。",
                "file",
            )
        if sql.upper().startswith("CREATE VIRTUAL TABLE") and not re.search(
            r"USING\s+rtree\s*\(", sql, re.IGNORECASE
        ):
            raise LayerFileError(
                f"{label} 含有虚拟表“{name}”，不予读取：只接受普通要素表（空间索引除外）。",
                "file",
            )
        if _VSI.search(sql.encode()):
            raise LayerFileError(f"{label} 的表结构中含有 GDAL 虚拟文件路径（/vsi…）。", "file")


class _readonly:
    """A read-only, immutable sqlite3 connection (never writes or deletes -wal/-shm files)."""

    def __init__(self, path: Path) -> None:
        uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1".replace("file://", "file:", 1)
        self.db = sqlite3.connect(uri, uri=True)

    def __enter__(self) -> sqlite3.Connection:
        return self.db

    def __exit__(self, *exc: object) -> None:
        self.db.close()


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
