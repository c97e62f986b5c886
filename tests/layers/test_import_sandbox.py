"""The import box (layers.sandbox) under attack: zip bombs, CPU bombs, slow files, a client
that goes away, and a file GDAL would open with a driver we did not choose."""

from __future__ import annotations

import contextlib
import json
import os
import struct
import threading
import time
from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
from attack_files import CANARY_TEXT, canary_csv, gdalg_text, loopback_listener, zip_bomb, zip_of
from layer_files import county_features, write_layer

from layers.archive import ZipLimits
from layers.errors import LayerFileError, LayerLimitError
from layers.importer import ImportOptions
from layers.sandbox import ImportCancelled, ImportLimits, SandboxedImport


def _run(upload: Path, workdir: Path, limits: ImportLimits | None = None, **kw) -> dict:
    with SandboxedImport(upload, workdir, ImportOptions(kind="red_line"),
                         limits or ImportLimits(), **kw) as run:
        run.opened()
        features = [f for batch in run.batches() for f in batch]
        return {"features": features, "report": run.report(), "pid": run.pid}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat").read_text().split()[2]
    return status != "Z"


class DiskWatch:
    """The most bytes ever present under a folder, sampled every few milliseconds."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.peak, self._stop = folder, 0, threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.is_set():
            total = 0
            for root, _, files in os.walk(self.folder):
                for name in files:
                    with contextlib.suppress(OSError):  # a file removed meanwhile
                        total += os.stat(os.path.join(root, name)).st_blocks * 512
            self.peak = max(self.peak, total)
            time.sleep(0.005)

    def __enter__(self) -> DiskWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def test_a_good_file_goes_through_the_box(tmp_path):
    upload = write_layer(tmp_path / "c.geojson", county_features(), driver="GeoJSON")
    out = _run(upload, tmp_path / "work")
    assert len(out["features"]) == len(county_features()) == out["report"]["feature_count"]
    assert not _alive(out["pid"])


# --- zips ----------------------------------------------------------------------------------


def test_zip_bomb_is_refused_before_100_mb_hit_the_disk(tmp_path):
    bomb = zip_bomb(tmp_path / "bomb.zip", gib=3)
    assert bomb.stat().st_size < 4 << 20  # a few MB holding 3 GiB
    work = tmp_path / "work"
    started = time.monotonic()
    with DiskWatch(work) as disk, pytest.raises(LayerLimitError) as err:
        _run(bomb, work)
    assert err.value.setting == "IMPORT_ZIP_MAX_MB" and err.value.status == 413
    assert "GEO_SCREEN_IMPORT_ZIP_MAX_MB" in err.value.message
    # Under a raised total cap, the compression ratio alone refuses it, still up front.
    with DiskWatch(work) as disk2, pytest.raises(LayerLimitError) as err:
        _run(bomb, work, ImportLimits(zip=ZipLimits(max_bytes=4 << 30)))
    assert err.value.setting == "IMPORT_ZIP_MAX_RATIO"
    assert time.monotonic() - started < 20
    assert max(disk.peak, disk2.peak) < 100 << 20


def test_zip_within_caps_still_cannot_fill_the_disk(tmp_path):
    """Caps raised far above the bomb: the child's file-size rlimit stops the unpacking."""
    bomb = zip_bomb(tmp_path / "bomb.zip", gib=3)
    limits = ImportLimits(disk_mb=50, zip=ZipLimits(max_bytes=4 << 30, max_ratio=10**6))
    work = tmp_path / "work"
    with DiskWatch(work) as disk, pytest.raises(LayerLimitError) as err:
        _run(bomb, work, limits)
    assert err.value.setting == "IMPORT_DISK_MB"
    assert disk.peak < 100 << 20


def test_zip_whose_headers_lie_is_refused(tmp_path):
    """Central directory and local header claim 1 kB; the data inflates to 3 GiB."""
    bomb = bytearray(zip_bomb(tmp_path / "bomb.zip", gib=3).read_bytes())
    struct.pack_into("<I", bomb, 22, 1000)  # local header: uncompressed size
    central = bomb.rindex(b"PK\x01\x02")
    struct.pack_into("<I", bomb, central + 24, 1000)
    liar = tmp_path / "liar.zip"
    liar.write_bytes(bytes(bomb))
    work = tmp_path / "work"
    with DiskWatch(work) as disk, pytest.raises(LayerFileError) as err:
        _run(liar, work)
    assert "损坏" in err.value.message
    assert disk.peak < 100 << 20


def test_too_many_members(tmp_path):
    upload = zip_of(tmp_path / "many.zip", {f"f{i}.txt": "x" for i in range(1001)})
    with pytest.raises(LayerLimitError) as err:
        _run(upload, tmp_path / "work")
    assert err.value.setting == "IMPORT_ZIP_MAX_MEMBERS"


# --- time and memory -----------------------------------------------------------------------


def _cpu_bomb(path: Path) -> Path:
    """One polygon of 1,500 random vertices: repairing its self-intersections takes minutes."""
    rng = np.random.default_rng(9)
    ring = (rng.random((1500, 2)) * 0.5 + [111.0, 40.0]).tolist()
    ring.append(ring[0])
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"code": "X"},
        "geometry": {"type": "Polygon", "coordinates": [ring]}}]}))
    return path


def test_cpu_bomb_is_killed_by_the_cpu_limit(tmp_path):
    started = time.monotonic()
    with pytest.raises(LayerLimitError) as err:
        _run(_cpu_bomb(tmp_path / "bomb.geojson"), tmp_path / "work",
             ImportLimits(cpu_seconds=2, timeout_s=60))
    assert err.value.setting == "IMPORT_CPU_SECONDS" and err.value.status == 422
    assert time.monotonic() - started < 30


def test_wall_clock_timeout_kills_the_child(tmp_path):
    pids: list[int] = []
    with (
        pytest.raises(LayerLimitError) as err,
        SandboxedImport(_cpu_bomb(tmp_path / "bomb.geojson"), tmp_path / "work",
                        ImportOptions(kind="red_line"),
                        ImportLimits(cpu_seconds=120, timeout_s=1.5)) as run,
    ):
        pids.append(run.pid)
        run.opened()
        list(run.batches())
    assert err.value.setting == "IMPORT_TIMEOUT_S"
    assert not _alive(pids[0])


def test_cancel_kills_the_child(tmp_path):
    """The client went away: `cancel()` turns true and the child is gone at once."""
    gone_at = time.monotonic() + 1.0
    pids: list[int] = []
    with (
        pytest.raises(ImportCancelled),
        SandboxedImport(_cpu_bomb(tmp_path / "bomb.geojson"), tmp_path / "work",
                        ImportOptions(kind="red_line"), ImportLimits(),
                        cancel=lambda: time.monotonic() > gone_at) as run,
    ):
        pids.append(run.pid)
        run.opened()
        list(run.batches())
    assert time.monotonic() - gone_at < 5
    assert not _alive(pids[0])


def test_memory_limit_is_named(tmp_path):
    upload = write_layer(tmp_path / "c.geojson", county_features(), driver="GeoJSON")
    with pytest.raises(LayerLimitError) as err:
        _run(upload, tmp_path / "work", ImportLimits(memory_mb=150))
    assert err.value.setting == "IMPORT_MEMORY_MB"


# --- the driver is ours, and nothing is fetched -----------------------------------------------


def test_gdal_algorithm_file_named_geojson_reads_nothing(tmp_path):
    """A `.geojson` holding a GDALG pipeline starts with "{" like GeoJSON; plain GDAL would run it
    and hand back the canary. In the box only the GeoJSON driver exists."""
    canary = canary_csv(tmp_path)
    upload = tmp_path / "x.geojson"
    upload.write_text(gdalg_text(canary))
    _, _, _, fields = pyogrio.raw.read(upload)  # the attack is live against GDAL itself
    assert CANARY_TEXT in list(fields[0])
    with pytest.raises(LayerFileError) as err:
        _run(upload, tmp_path / "work")
    assert CANARY_TEXT not in err.value.message
    assert str(tmp_path) not in err.value.message


def test_the_box_has_no_network(tmp_path):
    """A GeoJSON naming its CRS by URL (old GeoJSON "link" CRS): nothing reaches the listener."""
    features = county_features()
    plain = json.loads(write_layer(tmp_path / "c.geojson", features, driver="GeoJSON")
                       .read_text())
    with loopback_listener() as listener:
        plain["crs"] = {"type": "link", "properties": {"href": f"{listener.url}/crs.wkt",
                                                       "type": "ogcwkt"}}
        plain["$ref"] = f"{listener.url}/ref.json"
        upload = tmp_path / "linked.geojson"
        upload.write_text(json.dumps(plain))
        pyogrio.read_info(upload)  # plain GDAL fetches the CRS: the attack is live
        assert listener.requests == ["/crs.wkt"]
        listener.requests.clear()
        out = _run(upload, tmp_path / "work", ImportLimits(timeout_s=60))
        time.sleep(0.2)
        assert listener.requests == []
    assert len(out["features"]) == len(features)  # the link is not followed, the data is read


def test_vrt_named_geojson_reads_nothing(tmp_path):
    """The VRT of the attack reads the canary when GDAL opens it as a VRT; named `.geojson`,
    it is refused before GDAL is loaded."""
    from attack_files import vrt_text

    canary = canary_csv(tmp_path)
    live = tmp_path / "attack.vrt"
    live.write_text(vrt_text(canary, "http://127.0.0.1:9"))
    _, _, _, fields = pyogrio.raw.read(live, layer="secret")
    assert CANARY_TEXT in list(fields[0])
    upload = tmp_path / "x.geojson"
    upload.write_text(live.read_text())
    with pytest.raises(LayerFileError) as err:
        _run(upload, tmp_path / "work")
    assert "VRT" in err.value.message and CANARY_TEXT not in err.value.message


def test_a_child_killed_from_outside_is_reported_not_mistaken(tmp_path):
    """The kernel's OOM killer (here: a test) kills the child: a clear refusal, not a hang and
    not "CPU time used up"."""
    import signal

    def kill_soon(pid: int) -> None:
        time.sleep(0.5)
        os.kill(pid, signal.SIGKILL)

    with (
        pytest.raises(LayerLimitError) as err,
        SandboxedImport(_cpu_bomb(tmp_path / "bomb.geojson"), tmp_path / "work",
                        ImportOptions(kind="red_line"), ImportLimits()) as run,
    ):
        threading.Thread(target=kill_soon, args=(run.pid,), daemon=True).start()
        run.opened()
        list(run.batches())
    assert err.value.setting == "IMPORT_MEMORY_MB" and "终止" in err.value.message
