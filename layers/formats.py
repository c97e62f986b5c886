"""Layer files as GIS analysts hand them over: find what GDAL should open, and in which encoding.

Zipped Shapefile (honouring .prj and .cpg; GBK/GB18030 detected when there is no .cpg, the usual
case for files from Chinese desktop GIS), GeoPackage (several layers: the caller picks one),
GeoJSON, KML and KMZ, once `layers.upload` has checked and unpacked them. Nothing here reads
features; `layers.importer` does.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import pyogrio

from layers.errors import LayerFileError
from layers.upload import Prepared, sidecar

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
    prepared: Prepared,
    *,
    layer: str | None = None,
    encoding: str | None = None,
) -> SourceLayer:
    """Say what to read in a prepared (checked, unpacked) layer file.

    Raises LayerFileError naming the field to fix (`file`, `layer`, `encoding`).
    """
    path, fmt, label = prepared.path, prepared.format, prepared.label
    try:
        listed = pyogrio.list_layers(path)
    except Exception as exc:  # GDAL's own message names the broken part
        raise LayerFileError(f"无法读取图层文件 {label}：{gdal_message(exc, path)}",
                             "file") from exc
    names = tuple(str(row[0]) for row in listed)
    chosen = _choose_layer(names, layer, path, label)
    enc, enc_note = None, None
    if encoding:
        enc, enc_note = _check_codec(encoding), f"按参数 encoding={encoding} 解码属性文字"
    elif fmt == "shapefile":
        enc, enc_note = _shapefile_encoding(path, chosen)
    try:
        info = pyogrio.read_info(path, layer=chosen, encoding=enc)
    except Exception as exc:
        raise LayerFileError(f"无法读取图层 {chosen}：{gdal_message(exc, path)}",
                             "file") from exc
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


def gdal_message(exc: BaseException, path: Path) -> str:
    """GDAL's message without the server's paths in it."""
    text = str(exc)
    for p in sorted({str(path), str(path.parent)}, key=len, reverse=True):
        text = text.replace(p, "…")
    return text


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


def _shapefile_path(path: Path, layer: str) -> Path:
    return path if path.is_file() else path / f"{layer}.shp"


def _shapefile_encoding(path: Path, layer: str) -> tuple[str | None, str | None]:
    """The encoding of a Shapefile's attribute text: the .cpg if present, else detected."""
    shp = _shapefile_path(path, layer)
    cpg = sidecar(shp, ".cpg")
    if cpg is not None:
        text = cpg.read_text("ascii", errors="ignore").strip()
        return None, f"按 .cpg 文件（{text}）解码属性文字"
    dbf = sidecar(shp, ".dbf")
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
    prj = sidecar(_shapefile_path(path, layer), ".prj")
    if prj is None:
        return None
    return prj.read_text("utf-8", errors="replace").strip() or None
