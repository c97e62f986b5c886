"""Hostile layer files, as an outside attacker made them (issue 9), and the witnesses that show
whether an attack read or fetched anything: a canary file and a loopback HTTP listener."""

from __future__ import annotations

import sqlite3
import struct
import threading
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CANARY_TEXT = "CANARY-7f3a-do-not-leak"


def canary_csv(folder: Path) -> Path:
    """A file outside any upload that no import may ever read."""
    path = folder / "canary.csv"
    path.write_text(f"secret\n{CANARY_TEXT}\n")
    return path


@dataclass
class Listener:
    """An HTTP server on 127.0.0.1 that records every request it receives."""

    url: str
    requests: list[str] = field(default_factory=list)


@contextmanager
def loopback_listener() -> Iterator[Listener]:
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"secret\nfetched\n")

        do_HEAD = do_GET

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Listener(f"http://127.0.0.1:{server.server_address[1]}", seen)
    finally:
        server.shutdown()
        server.server_close()


def vrt_text(canary: Path, url: str, database: Path | None = None) -> str:
    """A GDAL VRT whose layers are the canary file, a URL and (issue 9) the service's own
    SQLite database, whose -wal/-shm GDAL deleted when it opened it."""
    db_layer = (f'  <OGRVRTLayer name="tokens"><SrcDataSource>{database}</SrcDataSource>\n'
                "    <SrcLayer>api_token</SrcLayer></OGRVRTLayer>\n") if database else ""
    return f"""<OGRVRTDataSource>
  <OGRVRTLayer name="secret"><SrcDataSource>{canary}</SrcDataSource>
    <SrcLayer>{canary.stem}</SrcLayer></OGRVRTLayer>
  <OGRVRTLayer name="remote"><SrcDataSource>/vsicurl/{url}/remote.csv</SrcDataSource>
  </OGRVRTLayer>
{db_layer}</OGRVRTDataSource>
"""


def gdalg_text(canary: Path) -> str:
    """A GDAL streamed-algorithm file: JSON (so it starts with "{"), reads the canary."""
    return ('{"type": "gdal_streamed_alg", "command_line": "gdal vector pipeline ! read '
            f'{canary} ! write --of stream streamed_dataset"}}')


def kml_text(body: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<kml xmlns="http://www.opengis.net/kml/2.2"><Document>{body}</Document></kml>\n')


PLACEMARK = ("<Placemark><name>红线</name><Polygon><outerBoundaryIs><LinearRing><coordinates>"
             "111.0,40.0 111.1,40.0 111.1,40.1 111.0,40.1 111.0,40.0"
             "</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>")


def network_link(href: str) -> str:
    return f"<NetworkLink><name>more</name><Link><href>{href}</href></Link></NetworkLink>"


def zip_of(path: Path, members: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def gpkg_with(gpkg: Path, *statements: str) -> Path:
    """Run SQL against a GeoPackage written by GDAL (to plant a view, a virtual table …)."""
    db = sqlite3.connect(gpkg)
    try:
        for sql in statements:
            db.execute(sql)
        db.commit()
    finally:
        db.close()
    return gpkg


def endless_view(gpkg: Path, table: str) -> Path:
    """The layer `table` replaced by a view over an endless recursive query (issue 9, hole 6)."""
    return gpkg_with(
        gpkg,
        f'ALTER TABLE "{table}" RENAME TO "{table}_data"',
        f'CREATE VIEW "{table}" AS WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c)'
        f' SELECT d.* FROM "{table}_data" d, c',
    )


def planted_virtual_table(gpkg: Path, canary: Path) -> Path:
    """A VirtualOGR table over the canary, written straight into the schema."""
    return gpkg_with(
        gpkg,
        "PRAGMA writable_schema=ON",
        "INSERT INTO sqlite_master VALUES ('table', 'leak', 'leak', 0, "
        f"'CREATE VIRTUAL TABLE leak USING VirtualOGR(''{canary}'')')",
    )


def zip_bomb(path: Path, gib: int = 3, name: str = "layer.geojson") -> Path:
    """A zip of about gib MB holding one member of `gib` GiB of zeros (deflate, ~1000:1).

    Built from one deflate block repeated (each 1 MiB of zeros, after a full flush, compresses
    to the same bytes), so it takes milliseconds. The CRC is left 0: checking it needs the whole
    member, and nothing must get that far.
    """
    mib = bytes(1 << 20)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = comp.compress(mib) + comp.flush(zlib.Z_FULL_FLUSH)
    block = comp.compress(mib) + comp.flush(zlib.Z_FULL_FLUSH)
    data = first + block * ((gib << 10) - 1) + comp.flush(zlib.Z_FINISH)
    size = gib << 30
    assert size < 1 << 32
    raw = name.encode()
    local = struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, 0, len(data), size,
                        len(raw), 0) + raw
    central = struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, 0, len(data),
                          size, len(raw), 0, 0, 0, 0, 0, 0) + raw
    end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, 1, 1, len(central),
                      len(local) + len(data), 0)
    path.write_bytes(local + data + central + end)
    return path
