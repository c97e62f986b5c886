"""Unpacking uploaded zip and KMZ archives without letting them fill the disk.

Checked before anything is written: member count, the declared total uncompressed size, each
member's compression ratio, unsafe paths. Checked while writing: the bytes really produced
(a header can lie), against the same total. Only the members a layer reader needs are written.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from layers.errors import LayerFileError, LayerLimitError

# Extensions worth unpacking: layer files and the Shapefile parts GDAL reads.
LAYER_MEMBER_SUFFIXES = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".gpkg", ".geojson", ".json",
                         ".kml")
_RATIO_FLOOR = 1 << 20  # members smaller than this may compress as well as they like
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class ZipLimits:
    """Caps for one archive (GEO_SCREEN_IMPORT_ZIP_MAX_MB, _MAX_MEMBERS, _MAX_RATIO)."""

    max_bytes: int = 2 << 30
    max_members: int = 1000
    max_ratio: int = 200


def open_zip(upload: Path, label: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(upload)
    except (zipfile.BadZipFile, OSError) as exc:
        raise LayerFileError(f"{label} 不是有效的 zip/kmz 压缩包。", "file") from exc


def safe_members(zf: zipfile.ZipFile, limits: ZipLimits) -> list[zipfile.ZipInfo]:
    """The archive's files (no folders, no macOS `._` forks), refused when over the limits or
    when a path would land outside the target folder."""
    members = [m for m in zf.infolist() if not m.is_dir()]
    if len(members) > limits.max_members:
        raise LayerLimitError(
            f"压缩包内文件过多（{len(members)} 个，上限 {limits.max_members} 个）。",
            "IMPORT_ZIP_MAX_MEMBERS",
        )
    for m in members:
        p = PurePosixPath(m.filename.replace("\\", "/"))
        if p.is_absolute() or ".." in p.parts or "\x00" in m.filename:
            raise LayerFileError(f"压缩包内路径不安全：{m.filename}", "file")
    declared = sum(m.file_size for m in members)
    if declared > limits.max_bytes:
        raise LayerLimitError(
            f"压缩包解压后共 {_mb(declared)}，超过上限 {_mb(limits.max_bytes)}。",
            "IMPORT_ZIP_MAX_MB",
        )
    for m in members:
        if m.file_size > _RATIO_FLOOR and m.file_size > limits.max_ratio * max(m.compress_size, 1):
            raise LayerLimitError(
                f"压缩包内文件 {PurePosixPath(m.filename).name} 的压缩比异常"
                f"（{m.file_size // max(m.compress_size, 1)}:1，上限 {limits.max_ratio}:1），"
                "疑似压缩炸弹。",
                "IMPORT_ZIP_MAX_RATIO",
            )
    return [m for m in members if not PurePosixPath(m.filename).name.startswith("._")]


def extract(zf: zipfile.ZipFile, members: list[zipfile.ZipInfo], target: Path,
            limits: ZipLimits) -> list[Path]:
    """Write `members` under `target`, counting the bytes actually produced."""
    written = 0
    out: list[Path] = []
    for m in members:
        dest = target.joinpath(*PurePosixPath(m.filename.replace("\\", "/")).parts)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            with zf.open(m) as src, dest.open("wb") as fh:
                for chunk in iter(lambda src=src: src.read(_CHUNK), b""):  # type: ignore[misc]
                    written += len(chunk)
                    if written > limits.max_bytes:
                        raise LayerLimitError(
                            f"压缩包解压后超过上限 {_mb(limits.max_bytes)}（文件头所记大小不实）。",
                            "IMPORT_ZIP_MAX_MB",
                        )
                    fh.write(chunk)
        except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError) as exc:
            # Bad CRC (a header that lies about sizes ends here), encrypted or unknown method.
            raise LayerFileError(
                f"压缩包内文件 {PurePosixPath(m.filename).name} 已损坏或已加密，无法解压。",
                "file",
            ) from exc
        out.append(dest)
    return out


def layer_members(members: list[zipfile.ZipInfo]) -> list[zipfile.ZipInfo]:
    return [m for m in members if m.filename.lower().endswith(LAYER_MEMBER_SUFFIXES)]


def _mb(n: int) -> str:
    return f"{n / (1 << 20):,.0f} MB"
