"""The reading process of `layers.sandbox`: confine itself, then unpack, check and read one
layer file, and answer in frames on stdout (JSON + WKB, never pickle).

Order matters: rlimits and namespaces first, the file second, GDAL last — GDAL_SKIP must be set
before GDAL is first loaded in this process, so only the driver chosen from the content exists.
"""

from __future__ import annotations

import json
import os
import signal
import struct
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from layers.archive import ZipLimits
from layers.errors import LayerError, LayerFileError, LayerLimitError

_BATCH_BYTES = 16 << 20
_CLONE_NEWUSER, _CLONE_NEWNET = 0x10000000, 0x40000000


def child_main() -> None:
    """The child's entry: confine, read the job from stdin, answer in frames on stdout."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray prints from libraries go to the log, not into the frame stream
    job = json.loads(sys.stdin.buffer.read())
    _set_limits(job["limits"])
    isolated = _isolate_network()
    os.chdir(job["workdir"])
    try:
        _run(job, out, isolated)
    except LayerLimitError as exc:
        _send(out, "E", {"message": exc.raw, "field": exc.field, "setting": exc.setting,
                         "status": exc.status})
    except LayerError as exc:
        _send(out, "E", {"message": exc.message, "field": exc.field,
                         "class": type(exc).__name__})
    except MemoryError:
        _send(out, "E", {"message": f"读取图层文件所需内存超过 {job['limits']['memory_mb']} MB。",
                         "field": "file", "setting": "IMPORT_MEMORY_MB", "status": 413})
    except OSError as exc:
        import errno

        if exc.errno != errno.EFBIG:
            raise
        _send(out, "E", {"message": f"解压或读取时写出的文件超过 {job['limits']['disk_mb']} MB。",
                         "field": "file", "setting": "IMPORT_DISK_MB", "status": 413})
    out.flush()


def _run(job: dict[str, Any], out: IO[bytes], isolated: bool) -> None:
    from layers.upload import prepare

    prepared = prepare(Path(job["upload"]), Path(job["workdir"]), ZipLimits(**job["zip"]),
                       job["label"])
    # Exactly one GDAL driver from here on: set before GDAL is first loaded in this process.
    os.environ["GDAL_SKIP"] = ",".join(d for d in job["drivers"] if d != prepared.driver)
    import pyogrio

    registered = {str(d) for d in pyogrio.list_drivers()}
    if registered - {prepared.driver}:
        raise LayerFileError("读取环境未能限定 GDAL 驱动，已拒绝读取。", "file")

    import shapely

    from layers.importer import ImportOptions, LayerImport

    imp = LayerImport.open_prepared(prepared, ImportOptions(**job["options"]))
    _send(out, "O", {"total": imp.total, "crs_label": imp.crs.label,
                     "conversion": imp.crs.conversion, "network_isolated": isolated})
    for batch in imp.batches(progress=lambda n: _send(out, "P", {"n": n})):
        for chunk in _by_size(batch):
            wkb = shapely.to_wkb([f.geometry for f in chunk])
            _send(out, "B", {
                "features": [[f.feature_id, f.code, f.name, dict(f.attributes)] for f in chunk],
                "wkb_sizes": [len(w) for w in wkb],
            }, b"".join(wkb))
    outline = shapely.from_wkb(bytes.fromhex(job["outline"])) if job["outline"] else None
    _send(out, "R", imp.finish(outline=outline).to_dict())


def _by_size(batch: list[Any]) -> Iterator[list[Any]]:
    import shapely

    chunk: list[Any] = []
    size = 0
    for f in batch:
        chunk.append(f)
        size += int(shapely.get_num_coordinates(f.geometry)) * 16 + 64
        if size > _BATCH_BYTES:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _send(out: IO[bytes], kind: str, body: Mapping[str, Any], blob: bytes = b"") -> None:
    data = json.dumps(body, ensure_ascii=False, default=str).encode()
    frame = kind.encode() + struct.pack(">I", len(data)) + data + blob
    out.write(struct.pack(">Q", len(frame)) + frame)
    out.flush()


def _set_limits(limits: Mapping[str, Any]) -> None:
    import resource

    cpu = int(limits["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    memory = int(limits["memory_mb"]) << 20
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    disk = int(limits["disk_mb"]) << 20
    resource.setrlimit(resource.RLIMIT_FSIZE, (disk, disk))
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    _die_with_parent()


def _die_with_parent() -> None:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() == 1:  # the parent died before prctl
        os._exit(1)


def _isolate_network() -> bool:
    """Own user + network namespace: no interface but a down loopback. False when refused."""
    import ctypes

    uid, gid = os.getuid(), os.getgid()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNET) != 0:
        return False
    # Map our own ids so files we create keep their owner.
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
    Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
    return True
