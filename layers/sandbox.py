"""Reading an uploaded layer file in a box: a child process that can only hurt itself.

The child (`layers.sandbox_child`, run as `python -I -c …`) first confines itself, then does
everything the file can influence: unpacking (`layers.upload`), GDAL, CRS conversion,
validation. It

- has CPU-time, address-space (memory), file-size and open-file rlimits, and dies with its parent;
- runs in its own user and network namespaces when the kernel allows (no network at all: a file
  cannot make the server fetch a URL), with GDAL's HTTP and PROJ network access off as well;
- registers exactly one GDAL driver, the one `layers.content` chose from the extension and the
  magic bytes (GDAL_SKIP lists every other driver, VRT included), and checks that it did;
- works in the upload's private temp folder (cwd, HOME, CPL_TMPDIR), with GDAL told not to
  list directories.

The parent (`SandboxedImport`) stores what the child sends: length-prefixed frames of JSON and
WKB over a pipe — never pickle, so a subverted child cannot run code in the service. It kills
the child on the wall-clock timeout, when `cancel()` says the client went away, and on any exit.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import select
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from layers.archive import ZipLimits
from layers.errors import LayerError, LayerFileError, LayerLimitError

log = logging.getLogger("layers.sandbox")

# GDAL configuration of the reading process: no network, no directory listings, no threads.
GDAL_CONFIG = {
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".geo-screen-no-network",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_HTTP_CONNECTTIMEOUT": "1",
    "GDAL_HTTP_MAX_RETRY": "0",
    "CPL_VSIL_CURL_CHUNK_SIZE": "1",
    "PROJ_NETWORK": "OFF",
    "OSR_USE_NON_DEPRECATED": "NO",
    "GDAL_NUM_THREADS": "1",
    "OGR_SQLITE_JOURNAL": "OFF",
    "LIBKML_RESOLVE_STYLE": "NO",
    "LIBKML_EXTERNAL_STYLE": "NO",
}
# Drivers every GDAL build may have that must never open an upload, listed even when the
# service's GDAL does not report them as vector drivers.
ALWAYS_SKIP = ("VRT", "OGR_VRT", "GDALG", "HTTP", "KML", "SQLite", "WFS", "OAPIF", "CSW")
_FRAME_MAX = 512 << 20
_POLL_S = 0.2


@dataclass(frozen=True, slots=True)
class ImportLimits:
    """Limits of one import; each names the GEO_SCREEN_ setting that sets it."""

    cpu_seconds: int = 300  # GEO_SCREEN_IMPORT_CPU_SECONDS
    memory_mb: int = 3072  # GEO_SCREEN_IMPORT_MEMORY_MB (address space)
    disk_mb: int = 4096  # GEO_SCREEN_IMPORT_DISK_MB (largest file the child may write)
    timeout_s: float = 900  # GEO_SCREEN_IMPORT_TIMEOUT_S (wall clock)
    zip: ZipLimits = field(default_factory=ZipLimits)


@dataclass(frozen=True, slots=True)
class Opened:
    """What the child found before reading features."""

    total: int | None
    crs_label: str
    conversion: str | None
    network_isolated: bool


class ImportCancelled(Exception):
    """The caller went away (client disconnected): the child was killed."""


# --- parent --------------------------------------------------------------------------------


class SandboxedImport:
    """One import in a child process. Use as a context manager; read `opened()`, then
    `batches()`, then `report()`.

    `options` is a `layers.importer.ImportOptions`; `outline` (WKB) is the region for a league
    layer's tiling check; `cancel()` is polled while waiting for the child.
    """

    def __init__(
        self,
        upload: Path,
        workdir: Path,
        options: Any,
        limits: ImportLimits,
        *,
        label: str | None = None,
        outline: bytes | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> None:
        self.upload, self.workdir, self.limits = upload, workdir, limits
        self.label = label or upload.name
        self.job = {
            "upload": str(upload),
            "workdir": str(workdir),
            "label": self.label,
            "options": asdict(options),
            "limits": {k: v for k, v in asdict(limits).items() if k != "zip"},
            "zip": asdict(limits.zip),
            "drivers": sorted(set(_known_drivers()) | set(ALWAYS_SKIP)),
            "outline": outline.hex() if outline else None,
        }
        self.cancel = cancel or (lambda: False)
        self._proc: subprocess.Popen[bytes] | None = None
        self._buf = bytearray()
        self._messages: Iterator[tuple[str, dict[str, Any], bytes]] | None = None
        self._deadline = 0.0
        self._report: dict[str, Any] | None = None

    def __enter__(self) -> SandboxedImport:
        self.workdir.mkdir(parents=True, exist_ok=True)
        stderr = (self.workdir / "child.log").open("wb")
        code = (f"import sys; sys.path.insert(0, {str(_package_root())!r}); "
                "from layers.sandbox_child import child_main; child_main()")
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-c", code],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
            cwd=self.workdir, env=_child_env(self.workdir), close_fds=True,
        )
        stderr.close()
        self._deadline = time.monotonic() + self.limits.timeout_s
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(json.dumps(self.job).encode())
            self._proc.stdin.close()
        except BrokenPipeError:
            pass  # the child died at once; _messages says why
        self._messages = self._read()
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()

    def kill(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
        if proc is not None:
            proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def opened(self) -> Opened:
        kind, body, _ = self._next()
        if kind != "O":
            raise self._unexpected(kind)
        if not body["network_isolated"]:
            log.warning("layer import without a network namespace (kernel refused): "
                        "relying on GDAL's network settings alone")
        return Opened(body["total"], body["crs_label"], body["conversion"],
                      body["network_isolated"])

    def batches(self, progress: Callable[[int], None] | None = None
                ) -> Iterator[list[Any]]:
        """Feature batches (LayerFeature lists) as the child sends them."""
        import shapely

        from layers.model import LayerFeature

        while True:
            kind, body, blob = self._next()
            if kind == "P":
                if progress is not None:
                    progress(int(body["n"]))
            elif kind == "B":
                sizes = body["wkb_sizes"]
                offsets = list(itertools.accumulate(sizes, initial=0))
                geoms = shapely.from_wkb([blob[a:b] for a, b in itertools.pairwise(offsets)])
                yield [
                    LayerFeature(feature_id=int(fid), code=code, name=name, geometry=g,
                                 attributes=attrs)
                    for (fid, code, name, attrs), g in zip(body["features"], geoms, strict=True)
                ]
            elif kind == "R":
                self._report = body
                return
            else:
                raise self._unexpected(kind)

    def report(self) -> dict[str, Any]:
        if self._report is None:
            raise RuntimeError("report() before the batches were read")
        return self._report

    # -- reading frames --

    def _next(self) -> tuple[str, dict[str, Any], bytes]:
        assert self._messages is not None
        try:
            kind, body, blob = next(self._messages)
        except StopIteration:
            raise self._died() from None
        if kind == "E":
            raise _error_from(body)
        return kind, body, blob

    def _unexpected(self, kind: str) -> LayerError:
        self.kill()
        return LayerFileError(f"读取图层文件的进程返回了意外的消息（{kind}）。", "file")

    def _read(self) -> Iterator[tuple[str, dict[str, Any], bytes]]:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        fd = proc.stdout.fileno()
        while True:
            frame = self._take_frame()
            if frame is not None:
                yield frame
                continue
            if self.cancel():
                self.kill()
                raise ImportCancelled()
            if time.monotonic() > self._deadline:
                self.kill()
                raise LayerLimitError(
                    f"读取图层文件超过 {self.limits.timeout_s:g} 秒，已中止。",
                    "IMPORT_TIMEOUT_S", status=422,
                )
            ready, _, _ = select.select([fd], [], [], _POLL_S)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return
            self._buf += chunk

    def _take_frame(self) -> tuple[str, dict[str, Any], bytes] | None:
        if len(self._buf) < 8:
            return None
        size = struct.unpack(">Q", self._buf[:8])[0]
        if size > _FRAME_MAX:
            self.kill()
            raise LayerFileError("读取图层文件的进程发送了过大的数据块。", "file")
        if len(self._buf) < 8 + size:
            return None
        frame = bytes(self._buf[8:8 + size])
        del self._buf[:8 + size]
        kind = chr(frame[0])
        json_len = struct.unpack(">I", frame[1:5])[0]
        body = json.loads(frame[5:5 + json_len])
        return kind, body, frame[5 + json_len:]

    def _died(self) -> LayerError:
        """The child ended without a final message: name the limit that killed it."""
        proc = self._proc
        assert proc is not None
        cpu = _cpu_seconds(proc.pid)  # readable until the child is reaped
        rc = proc.wait()
        tail = _tail(self.workdir / "child.log")
        log.warning("layer import child exited with %s after %.1f s CPU without answering; "
                    "stderr: %s", rc, cpu, tail)
        if rc == -signal.SIGXCPU or (rc == -signal.SIGKILL
                                     and cpu >= self.limits.cpu_seconds - 0.5):
            return LayerLimitError(
                f"读取图层文件用尽了 {self.limits.cpu_seconds} 秒 CPU 时间，已中止。",
                "IMPORT_CPU_SECONDS", status=422,
            )
        if rc == -signal.SIGXFSZ:
            return LayerLimitError(
                f"读取图层文件时写出的文件超过 {self.limits.disk_mb} MB，已中止。",
                "IMPORT_DISK_MB",
            )
        return LayerLimitError(
            "读取图层文件的进程异常退出或被终止（文件可能已损坏，或超过内存上限 "
            f"{self.limits.memory_mb} MB），未保存任何数据。",
            "IMPORT_MEMORY_MB", status=422,
        )


def _error_from(body: Mapping[str, Any]) -> LayerError:
    if body.get("setting"):
        return LayerLimitError(body["message"], body["setting"], int(body.get("status") or 413))
    if body.get("class") == "UnknownCRSError":
        from layers.errors import UnknownCRSError

        return UnknownCRSError(body["message"], body.get("field"))
    if body.get("class") == "GeometryError":
        from layers.errors import GeometryError

        return GeometryError(body["message"], body.get("field"))
    return LayerFileError(body["message"], body.get("field") or "file")


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a finished, not yet reaped child; 0 when unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tail(path: Path, n: int = 2000) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(max(0, path.stat().st_size - n))
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _known_drivers() -> list[str]:
    """Every vector driver this GDAL build has (the child skips all but one)."""
    import pyogrio

    return [str(d) for d in pyogrio.list_drivers()]


def _package_root() -> Path:
    return Path(__file__).resolve().parents[1]


def _child_env(workdir: Path) -> dict[str, str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": str(workdir),
        "TMPDIR": str(workdir),
        "CPL_TMPDIR": str(workdir),
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MALLOC_ARENA_MAX": "2",
        **GDAL_CONFIG,
    }
    for key in ("PROJ_DATA", "PROJ_LIB", "GDAL_DATA"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env
