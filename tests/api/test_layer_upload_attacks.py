"""Issue 9, holes 1, 5, 6, 12 and the upload leftovers, attacked through the HTTP API on both
backends: hostile layer files are refused and read nothing (a canary file and a loopback
listener are the witnesses), no server path in any answer, nothing left behind, one import per
series at a time (409), and an unfinished import is never a version."""

from __future__ import annotations

import dataclasses
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers"))

from attack_files import (
    CANARY_TEXT,
    PLACEMARK,
    canary_csv,
    endless_view,
    gdalg_text,
    kml_text,
    loopback_listener,
    network_link,
    planted_virtual_table,
    vrt_text,
    zip_bomb,
    zip_of,
)
from layer_files import county_features, shapefile_zip, write_layer
from support import live_server

from geo_service import layer_admin
from geo_service.app import create_app
from geo_service.db.models import LayerFeatureRow, LayerSeries, LayerVersion
from geo_service.services import Services
from layers.crs import from_cgcs2000


@pytest.fixture
def imports_root(tmp_path: Path) -> Path:
    return tmp_path / "imports"


@pytest.fixture
def boxed(services: Services, imports_root: Path) -> Services:
    """The shared service of the backend, unpacking uploads under a folder of this test."""
    settings = services.settings.model_copy(update={"import_tmp_dir": imports_root})
    return dataclasses.replace(services, settings=settings)


@pytest.fixture
def client(boxed: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=boxed)) as c:
        yield c


def _post(client: TestClient, headers: dict[str, str], path: Path, **form: str):
    with path.open("rb") as fh:
        return client.post("/api/v1/layers", headers=headers,
                           files={"file": (path.name, fh, "application/octet-stream")},
                           data=form)


def _counts(services: Services) -> tuple[int, int, int]:
    with services.sessions() as s:
        return (s.scalar(select(func.count()).select_from(LayerSeries)),
                s.scalar(select(func.count()).select_from(LayerVersion)),
                s.scalar(select(func.count()).select_from(LayerFeatureRow)))


def _leftovers(root: Path) -> list[str]:
    return [str(p) for p in root.rglob("*")] if root.exists() else []


def _assert_no_server_path(body: str, *paths: Path) -> None:
    assert "/tmp" not in body and "/proc" not in body, body
    for p in paths:
        assert str(p) not in body, body


# --- hostile files ---------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Witnesses:
    canary: Path  # a file no import may read
    url: str  # the loopback listener no import may call
    database: Path | None  # the service's own SQLite file (None on PostGIS)

    @property
    def vrt(self) -> str:
        return vrt_text(self.canary, self.url, self.database)


Builder = Callable[[Path, Witnesses], Path]


def _write(name: str, text: str) -> Builder:
    def build(tmp: Path, w: Witnesses) -> Path:
        path = tmp / name
        path.write_text(text.format(vrt=w.vrt, url=w.url))
        return path
    return build


def _zip(name: str, members: dict[str, str]) -> Builder:
    def build(tmp: Path, w: Witnesses) -> Path:
        return zip_of(tmp / name, {k: v.format(vrt=w.vrt, url=w.url) for k, v in members.items()})
    return build


def _gpkg(plant: Callable[[Path, Path], Path]) -> Builder:
    def build(tmp: Path, w: Witnesses) -> Path:
        gpkg = write_layer(tmp / "layer.gpkg", county_features(), driver="GPKG", layer="c")
        return plant(gpkg, w.canary)
    return build


def _gdalg(tmp: Path, w: Witnesses) -> Path:
    path = tmp / "x.geojson"
    path.write_text(gdalg_text(w.canary))
    return path


HOSTILE: dict[str, tuple[Builder, int, str]] = {
    "vrt_named_geojson": (_write("x.geojson", "{vrt}"), 422, "不是 GeoJSON"),
    "vrt_named_json": (_write("x.json", "  \n{vrt}"), 422, "VRT"),
    "gpkg_that_is_a_vrt": (_write("x.gpkg", "{vrt}"), 422, "不是 GeoPackage"),
    "vrt_named_kml": (_write("x.kml", "{vrt}"), 422, "不是 KML"),
    "vrt_geojson_in_zip": (_zip("x.zip", {"layer.geojson": "{vrt}"}), 422, "VRT"),
    "vrt_shapefile_in_zip": (
        _zip("x.zip", {"layer.shp": "{vrt}", "layer.shx": "{vrt}", "layer.dbf": "{vrt}"}),
        422, "Shapefile"),
    "bare_vrt_in_zip": (_zip("x.zip", {"layer.vrt": "{vrt}"}), 422, "没有可识别的图层文件"),
    "kml_vsicurl_network_link": (
        _write("x.kml", kml_text(PLACEMARK + network_link("/vsicurl/{url}/more.kml"))),
        422, "NetworkLink"),
    "kml_http_network_link": (
        _write("x.kml", kml_text(PLACEMARK + network_link("{url}/more.kml"))), 422, "NetworkLink"),
    "kml_vsicurl_href": (
        _write("x.kml", kml_text(PLACEMARK.replace(
            "<name>", "<description><![CDATA[/vsicurl/{url}/x]]></description><name>"))),
        422, "/vsi"),
    "kml_external_entity": (
        _write("x.kml", '<?xml version="1.0"?>\n<!DOCTYPE kml [<!ENTITY leak SYSTEM '
               '"file:///etc/passwd">]>\n' + kml_text(PLACEMARK.replace(
                   "<name>红线", "<name>&leak;")).split("\n", 1)[1]),
        422, "DOCTYPE"),
    "kmz_vsicurl_network_link": (
        _zip("x.kmz", {"doc.kml": kml_text(network_link("/vsicurl/{url}/more.kml"))}),
        422, "NetworkLink"),
    "geojson_vsizip_member": (
        _write("x.geojson", '{{"type": "FeatureCollection", "$ref": "/vsizip//vsicurl/{url}/a.zip",'
               ' "features": []}}'), 422, "/vsi"),
    "gdal_algorithm_named_geojson": (_gdalg, 422, "无法读取"),
    "gpkg_endless_view": (_gpkg(lambda g, _c: endless_view(g, "c")), 422, "视图"),
    "gpkg_virtual_ogr_table": (_gpkg(planted_virtual_table), 422, "虚拟表"),
    "gpkg_generated_column": (_gpkg(lambda g, _c: _generated(g)), 422, "生成列"),
    "zip_bomb": (lambda tmp, w: zip_bomb(tmp / "bomb.zip", gib=3), 413,
                 "GEO_SCREEN_IMPORT_ZIP_MAX_MB"),
}


def _generated(gpkg: Path) -> Path:
    from attack_files import gpkg_with

    return gpkg_with(gpkg, 'ALTER TABLE "c" ADD COLUMN shout TEXT AS (upper(name))')


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_file_is_refused_and_reads_nothing(case, client, auth, boxed, tmp_path,
                                                   imports_root):
    build, status, fragment = HOSTILE[case]
    canary = canary_csv(tmp_path)
    url = boxed.settings.database_url
    database = Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite") else None
    wal = Path(f"{database}-wal") if database else None
    before = _counts(boxed)
    with loopback_listener() as listener:
        upload = build(tmp_path, Witnesses(canary, listener.url, database))
        started = time.monotonic()
        r = _post(client, auth("analyst"), upload, kind="county", name=f"attack_{case}")
        took = time.monotonic() - started
        time.sleep(0.2)  # a fetch in flight would have landed by now
        assert listener.requests == []
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert fragment in body["detail"], body
    assert body["errors"][0]["field"] == "file"
    assert CANARY_TEXT not in r.text
    _assert_no_server_path(r.text, tmp_path, imports_root)
    assert took < 20
    assert _counts(boxed) == before
    assert wal is None or wal.exists()  # the live database's journal is untouched
    assert _leftovers(imports_root) == []


def test_kml_hrefs_to_icons_and_styles_are_never_fetched(client, auth, tmp_path, imports_root):
    """Icon and style links are ordinary in KML and harmless: accepted, and nothing fetched."""
    with loopback_listener() as listener:
        style = (f'<Style id="s"><IconStyle><Icon><href>{listener.url}/icon.png</href></Icon>'
                 "</IconStyle></Style>")
        mark = PLACEMARK.replace("<name>", f"<styleUrl>{listener.url}/styles.kml#s</styleUrl>"
                                           "<name>")
        upload = tmp_path / "styled.kml"
        upload.write_text(kml_text(style + mark))
        r = _post(client, auth("analyst"), upload, kind="red_line", name="styled_kml")
        time.sleep(0.2)
        assert listener.requests == []
    assert r.status_code == 201, r.text
    assert r.json()["feature_count"] == 1
    assert _leftovers(imports_root) == []


# --- one import per series; an unfinished import is no version -------------------------------


def test_upload_while_another_imports_to_the_series_is_409(client, auth, boxed, tmp_path,
                                                           imports_root):
    gate, holding = threading.Event(), threading.Event()
    first = write_layer(tmp_path / "a.geojson", county_features(), driver="GeoJSON")
    second = write_layer(tmp_path / "b.geojson", county_features(), driver="GeoJSON")
    result: dict[str, object] = {}

    def held(_n: int) -> None:
        holding.set()
        assert gate.wait(60)

    def run_first() -> None:
        try:
            result["summary"] = layer_admin.upload_layer(
                boxed, first, layer_admin.UploadParams(kind="county", name="busy_series"),
                "test", progress=held)[0]
        except BaseException as exc:  # reported below
            result["error"] = exc

    thread = threading.Thread(target=run_first)
    thread.start()
    try:
        assert holding.wait(60)
        with boxed.sessions() as s:
            importing = s.scalars(select(LayerVersion).join(LayerSeries).where(
                LayerSeries.name == "busy_series")).one()
        assert importing.status == "importing"
        vid = importing.id
        # Not a version yet: no activation, no features, no diff; the listing says so.
        r = client.post(f"/api/v1/layers/versions/{vid}/activate", headers=auth("analyst"))
        assert r.status_code == 409 and "导入中" in r.json()["detail"]
        r = client.get(f"/api/v1/layers/versions/{vid}/features", headers=auth("viewer"))
        assert r.status_code == 409
        listing = client.get("/api/v1/layers", headers=auth("viewer")).json()
        busy = next(s for s in listing["series"] if s["name"] == "busy_series")
        assert busy["history"][0]["status"] == "importing" and busy["active_version"] is None

        r = _post(client, auth("analyst"), second, kind="county", name="busy_series")
        assert r.status_code == 409, r.text
        assert "正在导入" in r.json()["detail"] and r.json()["errors"][0]["field"] == "name"
        _assert_no_server_path(r.text, tmp_path, imports_root)
    finally:
        gate.set()
        thread.join(60)
    assert "error" not in result, result
    assert result["summary"]["status"] == "draft"  # type: ignore[index]
    assert result["summary"]["feature_count"] == len(county_features())  # type: ignore[index]
    r = _post(client, auth("analyst"), second, kind="county", name="busy_series")
    assert r.status_code == 201 and r.json()["version_no"] == 2
    assert _leftovers(imports_root) == []


def test_eight_concurrent_uploads_to_one_series(client, auth, boxed, tmp_path, imports_root):
    """Issue 9 hole 12: each answer is 201 or 409 (never 500), numbers never collide."""
    upload = write_layer(tmp_path / "c.geojson", county_features(), driver="GeoJSON")
    answers: list[tuple[int, dict]] = []

    def post() -> None:
        r = _post(client, auth("analyst"), upload, kind="county", name="crowded_series")
        answers.append((r.status_code, r.json()))

    threads = [threading.Thread(target=post) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(answers) == 8
    assert {code for code, _ in answers} <= {201, 409}, answers
    created = [body for code, body in answers if code == 201]
    assert created
    for code, body in answers:
        if code == 409:
            assert "crowded_series" in body["detail"]
    with boxed.sessions() as s:
        versions = s.scalars(select(LayerVersion).join(LayerSeries).where(
            LayerSeries.name == "crowded_series")).all()
    assert sorted(v.version_no for v in versions) == list(range(1, len(created) + 1))
    assert {v.status for v in versions} == {"draft"}
    assert _leftovers(imports_root) == []


def test_a_refused_file_leaves_no_version_series_or_file(client, auth, boxed, tmp_path,
                                                         imports_root):
    """Every feature rejected after storing began: the half-stored import is deleted."""
    projected = [dataclasses.replace(f, geometry=from_cgcs2000(f.geometry, "EPSG:4525"))
                 for f in county_features()]
    upload = shapefile_zip(tmp_path, projected, crs=None)  # metres, declared degrees below
    before = _counts(boxed)
    r = _post(client, auth("analyst"), upload, kind="county", name="refused_series",
              crs="EPSG:4490")
    assert r.status_code == 422, r.text
    _assert_no_server_path(r.text, tmp_path, imports_root)
    assert _counts(boxed) == before
    assert _leftovers(imports_root) == []


# --- the client goes away --------------------------------------------------------------------


def _sandbox_children() -> list[int]:
    me, out = os.getpid(), []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmd = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == me and fields[0] != "Z" and b"layers.sandbox" in cmd:
            out.append(int(stat.parent.name))
    return out


def test_client_disconnect_kills_the_import(boxed, tokens, tmp_path, imports_root):
    """A slow file (a CPU bomb of a polygon) uploaded, then the connection dropped: the child
    is killed, its folder removed, no version kept."""
    import json

    import numpy as np

    rng = np.random.default_rng(9)
    ring = (rng.random((1500, 2)) * 0.5 + [111.0, 40.0]).tolist()
    payload = json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {},
        "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}}]}).encode()
    boundary = "geo-screen-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nred_line\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\ngone_series"
            f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"slow.geojson\"\r\nContent-Type: application/geo+json\r\n\r\n"
            ).encode() + payload + f"\r\n--{boundary}--\r\n".encode()
    before = _counts(boxed)
    with live_server(create_app(services=boxed)) as base:
        port = int(base.rsplit(":", 1)[1])
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall((f"POST /api/v1/layers HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      f"Authorization: Bearer {tokens['analyst']}\r\n"
                      f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                      f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
        deadline = time.monotonic() + 30
        while not _sandbox_children():
            assert time.monotonic() < deadline, "the import never started"
            time.sleep(0.05)
        sock.close()
        dropped = time.monotonic()
        while _sandbox_children() or _leftovers(imports_root):
            assert time.monotonic() - dropped < 10, "the import outlived its client"
            time.sleep(0.05)
    assert _counts(boxed) == before


def test_an_import_abandoned_by_a_killed_server_is_deleted(client, auth, boxed, tmp_path,
                                                           imports_root):
    """A server killed mid-import leaves an "importing" version and a folder; once older than
    the import timeout both are removed by the next upload."""
    from datetime import timedelta

    from geo_service.db.models import AuditEntry
    from geo_service.layer_store import begin_import, get_or_create_series, insert_features, now

    old = now() - timedelta(seconds=boxed.settings.import_timeout_s + 600)
    with boxed.sessions() as s:
        series = get_or_create_series(s, "abandoned_series", "county")
        version = begin_import(s, series=series, uploaded_by="test")
        version.uploaded_at = old
        insert_features(s, version.id, county_features()[:3])
        s.commit()
        abandoned = version.id
    stale = imports_root / "upload-killed"
    stale.mkdir(parents=True)
    (stale / "half.geojson").write_text("{")
    os.utime(stale, (old.timestamp(), old.timestamp()))

    upload = write_layer(tmp_path / "c.geojson", county_features(), driver="GeoJSON")
    r = _post(client, auth("analyst"), upload, kind="county", name="after_the_crash")
    assert r.status_code == 201, r.text
    new_id = r.json()["id"]  # SQLite may hand the freed id to the new version
    with boxed.sessions() as s:
        assert s.scalars(select(LayerVersion).where(LayerVersion.status == "importing")
                         ).all() == []
        for vid in {abandoned, new_id}:
            version = s.get(LayerVersion, vid)
            assert version is None or version.uploaded_by != "test"
        assert s.scalar(select(func.count()).select_from(LayerFeatureRow)
                        .where(LayerFeatureRow.version_id == new_id)) == len(county_features())
        assert s.scalars(select(LayerSeries).where(LayerSeries.name == "abandoned_series")
                         ).first() is None
        assert s.scalars(select(AuditEntry).where(
            AuditEntry.action == "layer_import_abandoned",
            AuditEntry.entity_id == str(abandoned))).first() is not None
    assert _leftovers(imports_root) == []


def test_a_shared_import_folder_is_not_used(boxed, imports_root, tmp_path):
    """A world-writable import folder (another local user could swap files in it between the
    checks and GDAL) is passed over for a private folder in the system temp."""
    imports_root.mkdir(mode=0o777)
    imports_root.chmod(0o777)
    with layer_admin.import_workdir(boxed.settings) as work:
        assert imports_root not in work.parents
        assert work.stat().st_mode & 0o777 == 0o700
    assert not work.exists()
    imports_root.chmod(0o700)
    with layer_admin.import_workdir(boxed.settings) as work:
        assert work.parent == imports_root
        assert work.stat().st_mode & 0o777 == 0o700
    assert not work.exists()
