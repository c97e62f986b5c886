"""Layer files as GIS analysts hand them over: find what GDAL should open, and in which encoding.

Zipped Shapefile (honouring .prj and .cpg; GBK/GB18030 detected when there is no .cpg, the usual
case for files from Chinese desktop GIS), GeoPackage (several layers: the caller picks one),
GeoJSON, KML and KMZ. Nothing here reads features; `layers.importer` does.
"""

from __future__ import annotations

import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pyogrio

from layers.errors import LayerFileError

FORMATS = ("shapefile", "gpkg", "geojson", "kml", "kmz")
_SUFFIX_FORMAT = {
    ".shp": "shapefile",
    ".gpkg": "gpkg",
    ".geojson": "geojson",
    ".json": "geojson",
    ".kml": "kml",
    ".kmz": "kmz",
}
# Code pages a .cpg may name, as Python codecs (GDAL reads .cpg itself; this is for the report).
_CPG_CODECS = {
    "936": "gbk",
    "cp936": "gbk",
    "gbk": "gbk",
    "gb2312": "gbk",
    "gb18030": "gb18030",
    "54936": "gb18030",
    "65001": "utf-8",
    "utf-8": "utf-8",
    "utf8": "utf-8",
}
MAX_ZIP_MEMBERS = 10_000


@dataclass(frozen=True, slots=True)
class SourceLayer:
    """What to open: a path GDAL reads, the chosen layer, and how its text is encoded."""

    path: Path
    format: str
    layer: str | None
    layers: tuple[str, ...]  # every layer the file holds
    encoding: str | None  # passed to GDAL; None lets GDAL decide (.cpg, UTF-8 formats)
    encoding_note: str | None  # for the report: where the encoding came from
    crs_wkt: str | None  # the file's own CRS, None when it has none
    feature_count: int | None  # when GDAL knows it cheaply


def open_source(
    upload: Path,
    workdir: Path,
    *,
    layer: str | None = None,
    encoding: str | None = None,
) -> SourceLayer:
    """Unpack `upload` into `workdir` when needed and say what to read.

    Raises LayerFileError naming the field to fix (`file`, `layer`, `encoding`).
    """
    path, fmt = _unpack(upload, workdir)
    try:
        listed = pyogrio.list_layers(path)
    except Exception as exc:  # GDAL's own message names the broken part
        raise LayerFileError(f"无法读取图层文件 {upload.name}：{exc}", "file") from exc
    names = tuple(str(row[0]) for row in listed)
    chosen = _choose_layer(names, layer, path, upload.name)
    enc, enc_note = None, None
    if encoding:
        enc, enc_note = _check_codec(encoding), f"按参数 encoding={encoding} 解码属性文字"
    elif fmt == "shapefile":
        enc, enc_note = _shapefile_encoding(path, chosen)
    try:
        info = pyogrio.read_info(path, layer=chosen, encoding=enc)
    except Exception as exc:
        raise LayerFileError(f"无法读取图层 {chosen}：{exc}", "file") from exc
    crs = info.get("crs")
    crs_wkt = str(crs) if crs else None
    if crs and fmt == "shapefile" and not str(crs).upper().startswith("EPSG:"):
        crs_wkt = _crs_wkt(path, chosen) or crs_wkt
    count = info.get("features")
    return SourceLayer(
        path=path,
        format=fmt,
        layer=chosen,
        layers=names,
        encoding=enc,
        encoding_note=enc_note,
        crs_wkt=crs_wkt,
        feature_count=int(count) if count is not None and count >= 0 else None,
    )


def _unpack(upload: Path, workdir: Path) -> tuple[Path, str]:
    suffix = upload.suffix.lower()
    if suffix == ".kmz" or (suffix == ".zip" and _is_kmz(upload)):
        return _extract_kml(upload, workdir), "kmz"
    if suffix == ".zip":
        return _extract_zip(upload, workdir)
    if suffix in _SUFFIX_FORMAT and suffix != ".shp":
        return upload, _SUFFIX_FORMAT[suffix]
    if suffix == ".shp":
        raise LayerFileError(
            "Shapefile 需打包为 zip 上传（至少包含 .shp、.shx、.dbf，建议附 .prj 和 .cpg）。",
            "file",
        )
    raise LayerFileError(
        f"不支持的文件类型“{upload.suffix or upload.name}”：请上传 zip 打包的 Shapefile、"
        "GeoPackage (.gpkg)、GeoJSON (.geojson/.json)、KML 或 KMZ。",
        "file",
    )


def _safe_members(zf: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    members = [m for m in zf.infolist() if not m.is_dir()]
    if len(members) > MAX_ZIP_MEMBERS:
        raise LayerFileError(f"压缩包内文件过多（{len(members)} 个）。", "file")
    for m in members:
        p = PurePosixPath(m.filename.replace("\\", "/"))
        if p.is_absolute() or ".." in p.parts:
            raise LayerFileError(f"压缩包内路径不安全：{m.filename}", "file")
    return [m for m in members if not PurePosixPath(m.filename).name.startswith("._")]


def _open_zip(upload: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(upload)
    except zipfile.BadZipFile as exc:
        raise LayerFileError(f"{upload.name} 不是有效的 zip/kmz 压缩包。", "file") from exc


def _is_kmz(upload: Path) -> bool:
    with _open_zip(upload) as zf:
        names = [m.filename.lower() for m in zf.infolist()]
    return any(n.endswith(".kml") for n in names) and not any(
        n.endswith((".shp", ".gpkg", ".geojson", ".json")) for n in names
    )


def _extract_kml(upload: Path, workdir: Path) -> Path:
    with _open_zip(upload) as zf:
        kmls = [m for m in _safe_members(zf) if m.filename.lower().endswith(".kml")]
        if not kmls:
            raise LayerFileError("KMZ 中没有 .kml 文件。", "file")
        # doc.kml is the root document by convention; otherwise the first one.
        root = next((m for m in kmls if PurePosixPath(m.filename).name == "doc.kml"), kmls[0])
        target = workdir / "kmz"
        target.mkdir(parents=True, exist_ok=True)
        zf.extract(root, target)
    return target / root.filename


def _extract_zip(upload: Path, workdir: Path) -> tuple[Path, str]:
    target = workdir / "zip"
    target.mkdir(parents=True, exist_ok=True)
    with _open_zip(upload) as zf:
        members = _safe_members(zf)
        zf.extractall(target, members)
    found = sorted(
        p for p in target.rglob("*") if p.suffix.lower() in _SUFFIX_FORMAT and p.is_file()
    )
    shps = [p for p in found if p.suffix.lower() == ".shp"]
    for shp in shps:
        if _sidecar(shp, ".dbf") is None or _sidecar(shp, ".shx") is None:
            raise LayerFileError(
                f"压缩包缺少 {shp.stem}.dbf 或 {shp.stem}.shx："
                "Shapefile 至少需要 .shp、.shx、.dbf。",
                "file",
            )
    if len(shps) > 1 and len({p.parent for p in shps}) == 1:
        # Several Shapefiles side by side: GDAL opens the folder, each file a layer.
        return shps[0].parent, "shapefile"
    if shps:
        return shps[0], "shapefile"
    others = [p for p in found if p.suffix.lower() != ".shp"]
    if not others:
        raise LayerFileError(
            "压缩包中没有可识别的图层文件（.shp、.gpkg、.geojson、.kml）。", "file"
        )
    return others[0], _SUFFIX_FORMAT[others[0].suffix.lower()]


def _choose_layer(names: tuple[str, ...], wanted: str | None, path: Path, label: str) -> str:
    if not names:
        raise LayerFileError(f"{label} 中没有图层。", "file")
    if wanted is not None:
        if wanted not in names:
            raise LayerFileError(
                f"文件中没有名为“{wanted}”的图层；可选：{'、'.join(names)}。", "layer"
            )
        return wanted
    if len(names) == 1:
        return names[0]
    # KML folders with no features are common; choose among layers that have some.
    non_empty = [n for n in names if (pyogrio.read_info(path, layer=n).get("features") or 0) != 0]
    if len(non_empty) == 1:
        return non_empty[0]
    raise LayerFileError(
        f"文件包含多个图层：{'、'.join(names)}。请用参数 layer 指定要导入的图层。", "layer"
    )


def _check_codec(encoding: str) -> str:
    import codecs

    key = encoding.strip().lower()
    codec = _CPG_CODECS.get(key, key)
    try:
        codecs.lookup(codec)
    except (LookupError, ValueError) as exc:  # ValueError: a NUL in the name
        raise LayerFileError(
            f"无法识别的字符编码“{encoding}”；常用：UTF-8、GBK、GB18030。", "encoding"
        ) from exc
    return codec.upper()


def _sidecar(shp: Path, ext: str) -> Path | None:
    for cand in (shp.with_suffix(ext), shp.with_suffix(ext.upper())):
        if cand.exists():
            return cand
    return None


def _shapefile_path(path: Path, layer: str) -> Path:
    return path if path.is_file() else path / f"{layer}.shp"


def _shapefile_encoding(path: Path, layer: str) -> tuple[str | None, str | None]:
    """The encoding of a Shapefile's attribute text: the .cpg if present, else detected."""
    shp = _shapefile_path(path, layer)
    cpg = _sidecar(shp, ".cpg")
    if cpg is not None:
        text = cpg.read_text("ascii", errors="ignore").strip()
        return None, f"按 .cpg 文件（{text}）解码属性文字"
    dbf = _sidecar(shp, ".dbf")
    if dbf is None:
        return None, None
    codec = detect_dbf_encoding(dbf)
    if codec is None:
        return None, None
    if codec == "UTF-8":
        return "UTF-8", "无 .cpg 文件，属性文字按 UTF-8 解码（自动识别）"
    return codec, f"无 .cpg 文件，属性文字自动识别为 {codec}（国内桌面 GIS 常见编码）"


def detect_dbf_encoding(dbf: Path, max_bytes: int = 4_000_000) -> str | None:
    """UTF-8 when the DBF's text decodes as UTF-8, else GB18030 (superset of GBK) if it decodes.

    Returns None when the text is plain ASCII (any reading is right).
    """
    data = dbf.read_bytes()[:max_bytes]
    if len(data) < 32:
        return None
    header_len = struct.unpack("<H", data[8:10])[0]
    record_len = struct.unpack("<H", data[10:12])[0]
    char_fields: list[tuple[int, int]] = []
    offset = 1  # deletion flag
    pos = 32
    while pos + 32 <= header_len and data[pos] != 0x0D:
        ftype = chr(data[pos + 11])
        flen = data[pos + 16]
        if ftype == "C":
            char_fields.append((offset, flen))
        offset += flen
        pos += 32
    if not char_fields or record_len <= 0:
        return None
    chunks: list[bytes] = []
    for start in range(header_len, len(data) - record_len + 1, record_len):
        rec = data[start : start + record_len]
        for off, flen in char_fields:
            chunks.append(rec[off : off + flen].rstrip(b" \x00"))
    text = b"\n".join(c for c in chunks if c)
    if not any(b > 0x7F for b in text):
        return None
    try:
        text.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        text.decode("gb18030")
        return "GB18030"
    except UnicodeDecodeError:
        return None


def _crs_wkt(path: Path, layer: str) -> str | None:
    """A Shapefile's .prj text (pyogrio's read_info gives 'EPSG:n' when GDAL can identify it)."""
    if path.is_file() and path.suffix.lower() != ".shp":
        return None
    prj = _sidecar(_shapefile_path(path, layer), ".prj")
    if prj is None:
        return None
    return prj.read_text("utf-8", errors="replace").strip() or None
