"""Issue 14's table in one run: the engine against PostGIS on the same rows, bulk, HTTP, import.

    .venv/bin/python benchmarks/speed.py --layers DIR [--quick]
        [--admin-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

DIR holds red_line.gpkg and nature_reserve.gpkg from the shared red-line generator
(`make_redline.py --out DIR`: 10,000 patches / 2.5 M vertices, 300 reserves). One process:
1. a throwaway PostGIS database; the service migrates it and loads the built-in boundaries;
   both layers are imported and activated through the service (the import figure);
2. the engine is loaded from those rows (Services.open), PostGIS answers from the same rows,
   stored and subdivided (ST_Subdivide 256 + GiST);
3. per point lead (memberships + 5 km nearby + boundary distance ≤ 1 km), per 1 km² polygon
   lead (shares + nearby), bulk overlay_many (full answer, and containment alone);
4. HTTP: `geo-screen serve --workers N` (1, then 2) against that database, loaded by a client in
   another process (this script with --client: asyncio + httpx, bounded count and time,
   loopback only); server CPU per request from /proc; RSS per worker.
Prints figures and ratios; asserts nothing. Timings on a shared machine are noisy: compare the
ratios measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SENSITIVE = ("red_line", "nature_reserve")


def line(label: str, value: str) -> None:
    print(f"{label:<64} {value}", flush=True)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


# --- the database ---------------------------------------------------------------------------


def throwaway(admin_url: str) -> tuple[str, object]:
    from sqlalchemy import create_engine, make_url, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"geo_screen_speed_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    db = create_engine(url)
    with db.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    db.dispose()

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return url, drop


def import_layers(url: str, layers: Path) -> None:
    from geo_service import layer_admin
    from geo_service.services import Services
    from geo_service.settings import Settings

    started = time.perf_counter()
    services = Services.open(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]
    line("open + migrate + built-in boundaries", f"{time.perf_counter() - started:8.1f} s")
    try:
        for kind, file in (
            ("red_line", "red_line.gpkg"),
            ("nature_reserve", "nature_reserve.gpkg"),
        ):
            started = time.perf_counter()
            summary, _ = layer_admin.upload_layer(
                services, layers / file, layer_admin.UploadParams(kind=kind), "bench"
            )
            imported = time.perf_counter() - started
            started = time.perf_counter()
            layer_admin.activate_version(services, summary["id"], "bench")
            line(
                f"import {file} (validate + store) / activate",
                f"{imported:8.1f} s / {time.perf_counter() - started:.1f} s",
            )
    finally:
        services.close()


def subdivide(conn) -> None:
    from sqlalchemy import text

    conn.execute(
        text(
            "CREATE TABLE sub AS SELECT id, kind, series, code, ST_Subdivide(geom, 256) AS geom "
            "FROM active_layer_feature"
        )
    )
    conn.execute(text("CREATE INDEX sub_geom ON sub USING gist (geom)"))
    conn.execute(
        text(
            "CREATE TABLE bnd AS SELECT id, kind, ST_Subdivide(ST_Boundary(geom), 256) AS geom "
            "FROM active_layer_feature WHERE kind IN ('league', 'county', 'province')"
        )
    )
    conn.execute(text("CREATE INDEX bnd_geom ON bnd USING gist (geom)"))
    conn.execute(text("ANALYZE bnd"))
    conn.execute(text("CREATE INDEX sub_kind ON sub (kind)"))
    conn.execute(text("ANALYZE sub"))
    conn.commit()


# --- leads -----------------------------------------------------------------------------------


def region_points(services, rng: np.random.Generator, n: int) -> np.ndarray:
    region = next(
        f.geometry
        for ix in services.overlay._snapshot.by_kind["province"]
        for f in ix.version.features
        if f.code == "150000"
    )
    x0, y0, x1, y1 = region.bounds
    out = []
    while sum(len(o) for o in out) < n:
        p = shapely.points(rng.uniform(x0, x1, n), rng.uniform(y0, y1, n))
        out.append(p[shapely.contains_xy(region, *shapely.get_coordinates(p).T)])
    return np.concatenate(out)[:n]


def square_km2(p: shapely.Point) -> shapely.Polygon:
    half_lat = 0.5 / 111.0
    half_lon = half_lat / np.cos(np.radians(p.y))
    return shapely.box(p.x - half_lon, p.y - half_lat, p.x + half_lon, p.y + half_lat)


POINT_SQL = {
    "memberships": "SELECT DISTINCT series, code FROM {t} WHERE ST_Intersects(geom, {g})",
    "nearby": "SELECT series, code, min(ST_Distance(geom::geography, {g}::geography)) "
    "FROM {t} WHERE kind IN ('red_line', 'nature_reserve') "
    "AND geom && ST_Expand({g}, 0.07) AND ST_DWithin(geom::geography, {g}::geography, 5000) "
    "AND NOT ST_Intersects(geom, {g}) GROUP BY series, code",
    # boundaries: the outlines of the containing units, subdivided (table bnd; a subdivided
    # polygon's own boundary would have cut lines)
    "boundary": "SELECT b.kind, min(ST_Distance(b.geom::geography, {g}::geography)) FROM bnd b "
    "WHERE b.geom && ST_Expand({g}, 0.02) "
    "AND ST_DWithin(b.geom::geography, {g}::geography, 1000) AND b.id IN (SELECT id FROM {t} "
    "WHERE kind IN ('league', 'county', 'province') AND ST_Intersects(geom, {g})) "
    "GROUP BY b.kind",
}
SHARE_SQL = (
    "SELECT series, code, ST_Area(ST_Intersection(geom, {g})::geography) FROM {t} "
    "WHERE ST_Intersects(geom, {g})"
)


def postgis_leads(conn, table: str, points, polygons) -> tuple[list[float], list[float]]:
    from sqlalchemy import text

    g = "ST_GeomFromText(:wkt, 4490)"
    point_sql = [text(q.format(t=table, g=g)) for q in POINT_SQL.values()]
    share_sql = [text(SHARE_SQL.format(t=table, g=g)), point_sql[1]]
    point_ms, polygon_ms = [], []
    for p in points:
        started = time.perf_counter()
        for q in point_sql:
            conn.execute(q, {"wkt": p.wkt}).all()
        point_ms.append((time.perf_counter() - started) * 1e3)
    for poly in polygons:
        started = time.perf_counter()
        for q in share_sql:
            conn.execute(q, {"wkt": poly.wkt}).all()
        polygon_ms.append((time.perf_counter() - started) * 1e3)
    return point_ms, polygon_ms


def engine_leads(engine, points, polygons) -> tuple[list[float], list[float]]:
    point_ms, polygon_ms = [], []
    for p in points:
        started = time.perf_counter()
        engine.overlay(p, boundary_search_m=1000.0)
        point_ms.append((time.perf_counter() - started) * 1e3)
    for poly in polygons:
        started = time.perf_counter()
        engine.overlay(poly, boundary_search_m=1000.0)
        polygon_ms.append((time.perf_counter() - started) * 1e3)
    return point_ms, polygon_ms


def postgis_bulk(conn, table: str, points) -> tuple[float, float]:
    """Seconds for containment alone, and for the full answer, of all points in SQL joins."""
    from sqlalchemy import text

    conn.execute(text("CREATE TEMP TABLE pts (i int, geom geometry(Point, 4490))"))
    xy = shapely.get_coordinates(points)
    conn.execute(
        text("INSERT INTO pts SELECT i, ST_SetSRID(ST_MakePoint(x, y), 4490) FROM "
             "unnest(CAST(:i AS int[]), CAST(:x AS float8[]), CAST(:y AS float8[])) AS u(i, x, y)"),
        {"i": list(range(len(xy))), "x": xy[:, 0].tolist(), "y": xy[:, 1].tolist()},
    )  # fmt: skip
    conn.execute(text("CREATE INDEX ON pts USING gist (geom)"))
    conn.execute(text("ANALYZE pts"))
    started = time.perf_counter()
    conn.execute(
        text(
            f"SELECT p.i, f.series, f.code FROM pts p "
            f"JOIN {table} f ON ST_Intersects(f.geom, p.geom)"
        )
    ).all()
    containment = time.perf_counter() - started
    started = time.perf_counter()
    conn.execute(
        text(
            f"SELECT p.i, f.series, f.code, ST_Distance(f.geom::geography, p.geom::geography) "
            f"FROM pts p JOIN {table} f ON f.kind IN ('red_line', 'nature_reserve') "
            "AND f.geom && ST_Expand(p.geom, 0.07) "
            "AND ST_DWithin(f.geom::geography, p.geom::geography, 5000)"
        )
    ).all()
    conn.execute(
        text(
            "SELECT p.i, b.kind, min(ST_Distance(b.geom::geography, p.geom::geography)) "
            f"FROM pts p JOIN {table} f ON f.kind IN ('league', 'county', 'province') "
            "AND ST_Intersects(f.geom, p.geom) JOIN bnd b ON b.id = f.id "
            "AND b.geom && ST_Expand(p.geom, 0.02) "
            "AND ST_DWithin(b.geom::geography, p.geom::geography, 1000) GROUP BY p.i, b.kind"
        )
    ).all()
    full = containment + time.perf_counter() - started
    conn.rollback()
    return containment, full


def qgis_view(conn, points) -> list[float]:
    from sqlalchemy import text

    sql = text(
        "SELECT id, code FROM active_layer_feature WHERE kind = :kind "
        "AND ST_Intersects(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4490))"
    )
    out = []
    for p in points:
        for kind in ("red_line", "county"):
            started = time.perf_counter()
            conn.execute(sql, {"kind": kind, "x": p.x, "y": p.y}).all()
            out.append((time.perf_counter() - started) * 1e3)
    return out


# --- HTTP ------------------------------------------------------------------------------------


def proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mb(pid: int) -> float:
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        if row.startswith("VmRSS:"):
            return int(row.split()[1]) / 1024
    return 0.0


def server_pids(root: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(root)], capture_output=True, text=True)
    children = [int(p) for p in out.stdout.split()]
    return [root, *children]


def http_run(url: str, workers: int, points, seconds: float, count: int, rate: float) -> None:
    env = {**os.environ, "GEO_SCREEN_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    cli = [sys.executable, "-c", "from geo_service.cli import main; main()"]
    token = subprocess.run(
        [*cli, "tokens", "create", "--role", "screener", "--name", f"bench{workers}"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    port = 18700 + workers
    server = subprocess.Popen(
        [*cli, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        import httpx

        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                time.sleep(1)
        time.sleep(2 * workers)  # let every worker finish loading its index
        pids = server_pids(server.pid)
        xy = shapely.get_coordinates(points).tolist()
        for label, r in (("max rate", 0.0), (f"{rate:.0f} req/s offered", rate)):
            stats = load(port, token, xy, seconds, count, r, pids)
            cpu = stats["server_cpu_s"]
            line(
                f"HTTP POST /screen, {workers} worker(s), {label} ({stats['client']})",
                f"{stats['rps']:7.0f} req/s  p50 {stats['p50']:.1f} ms  p99 {stats['p99']:.1f} ms"
                f"  server CPU {cpu / max(stats['ok'], 1) * 1e3:.2f} ms/req  ({stats['ok']} ok,"
                f" {stats['failed']} failed)",
            )
        workers_rss = [proc_rss_mb(p) for p in pids[1:]] or [proc_rss_mb(pids[0])]
        line(
            f"server RSS per worker ({workers} worker(s)), after the single screens",
            " ".join(f"{m:.0f} MB" for m in workers_rss),
        )
        if workers == 1:
            batch_run(port, token, xy)
            line(
                "server RSS after the two 10,000-item batches",
                " ".join(f"{proc_rss_mb(p):.0f} MB" for p in pids[1:] or pids),
            )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("GEO_SCREEN_BENCH_TOKEN")
local bodies, i, ok, failed = {}, 0, 0, 0
for line in io.lines(os.getenv("GEO_SCREEN_BENCH_BODIES")) do bodies[#bodies + 1] = line end
local pause = tonumber(os.getenv("GEO_SCREEN_BENCH_PAUSE_MS"))
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, "/api/v1/screen", nil, bodies[i])
end
if pause > 0 then delay = function() return pause end end
done = function(summary, latency, requests)
  io.write(string.format("GEO_SCREEN_BENCH %d %d %f %f %f\\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, summary.duration / 1e6,
    latency:percentile(50) / 1e3, latency:percentile(99) / 1e3))
end
"""


def load(
    port: int, token: str, xy: list, seconds: float, count: int, rate: float, pids: list[int]
) -> dict:
    """Load /screen from another process: wrk (C, 16 connections) when it is installed, else
    this script's own asyncio client. A rate is offered by pausing each wrk connection between
    its requests, the pause calibrated by a short first run (see below). `server_cpu_s`: the
    CPU the server processes `pids` spent during the measured run (not the calibration)."""

    def cpu() -> float:
        return sum(proc_cpu_s(p) for p in pids)

    body = {"received_on": "2026-09-05", "case_type": "pollution_discharge"}
    lines = [
        json.dumps({**body, "location": {"geometry": {"type": "Point", "coordinates": [x, y]}}})
        for x, y in xy
    ]
    wrk = shutil.which("wrk")
    if wrk is None:
        cpu0 = cpu()
        client = subprocess.run(
            [sys.executable, __file__, "--client", f"http://127.0.0.1:{port}", "--token", token,
             "--seconds", str(seconds), "--count", str(count), "--rate", str(rate)],
            input=json.dumps(xy), capture_output=True, text=True, check=True,
        )  # fmt: skip
        return {**json.loads(client.stdout), "client": "httpx", "server_cpu_s": cpu() - cpu0}
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "bodies.jsonl").write_text("\n".join(lines) + "\n")
        Path(tmp, "post.lua").write_text(WRK_SCRIPT)

        def run(pause_ms: float, duration: float) -> dict:
            env = {
                **os.environ,
                "GEO_SCREEN_BENCH_TOKEN": token,
                "GEO_SCREEN_BENCH_BODIES": str(Path(tmp, "bodies.jsonl")),
                "GEO_SCREEN_BENCH_PAUSE_MS": str(pause_ms),
            }
            cpu0 = cpu()
            out = subprocess.run(
                [wrk, "-t1", "-c16", f"-d{duration:.0f}s", "--latency", "-s",
                 str(Path(tmp, "post.lua")), f"http://127.0.0.1:{port}/"],
                env=env, capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            used = cpu() - cpu0
            row = next(r for r in out.splitlines() if r.startswith("GEO_SCREEN_BENCH "))
            n, failed, elapsed, p50, p99 = row.split()[1:]
            ok = int(n) - int(failed)
            return {"ok": ok, "failed": int(failed), "rps": ok / float(elapsed),
                    "p50": float(p50), "p99": float(p99), "client": "wrk",
                    "server_cpu_s": used}  # fmt: skip

        if rate <= 0:
            return run(0.0, seconds)
        # Each connection waits `pause` after a response: a cycle is pause + latency, so the
        # rate delivered falls short of 16 / pause. One short calibration run measures the
        # shortfall and takes it off the pause, so the rate offered is the rate asked for.
        pause = 16 / rate * 1e3
        probe = run(pause, 5)
        pause = max(pause - (16 / max(probe["rps"], 1.0) * 1e3 - pause), 0.0)
        return run(pause, seconds)


def batch_run(port: int, token: str, xy: list) -> None:
    """One 10,000-point POST /screen/batch: server time and response size, full and compact."""
    import httpx

    items = [
        {"received_on": "2026-09-05", "case_type": "pollution_discharge",
         "location": {"geometry": {"type": "Point", "coordinates": [x, y]}}}
        for x, y in (xy * (10_000 // len(xy) + 1))[:10_000]
    ]  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    for label, params in (("full", {}), ("compact ?fields=jurisdiction,sensitive_area_lead",
                                         {"fields": "jurisdiction,sensitive_area_lead"})):
        started = time.perf_counter()
        r = httpx.post(f"http://127.0.0.1:{port}/api/v1/screen/batch", json={"items": items},
                       params=params, headers=headers, timeout=600)  # fmt: skip
        elapsed = time.perf_counter() - started
        line(
            f"HTTP POST /screen/batch, 10,000 points, {label}",
            f"{elapsed:6.2f} s  {len(r.content) / 1e6:.1f} MB  (status {r.status_code})",
        )


async def client_main(base: str, token: str, seconds: float, count: int, rate: float) -> None:
    import httpx

    xy = json.loads(sys.stdin.read())
    latencies: list[float] = []
    failed = 0
    headers = {"Authorization": f"Bearer {token}"}
    body = {"received_on": "2026-09-05", "case_type": "pollution_discharge"}
    stop = time.monotonic() + seconds
    sent = 0

    async def one(c: httpx.AsyncClient, i: int) -> None:
        nonlocal failed
        x, y = xy[i % len(xy)]
        started = time.perf_counter()
        r = await c.post(
            "/api/v1/screen",
            json={**body, "location": {"geometry": {"type": "Point", "coordinates": [x, y]}}},
            headers=headers,
        )
        if r.status_code == 200:
            latencies.append((time.perf_counter() - started) * 1e3)
        else:
            failed += 1

    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as c:
        started = time.perf_counter()
        if rate > 0:  # open loop at a fixed offered rate
            tasks = []
            while sent < count and time.monotonic() < stop:
                tasks.append(asyncio.create_task(one(c, sent)))
                sent += 1
                await asyncio.sleep(max(0.0, started + sent / rate - time.perf_counter()))
            await asyncio.gather(*tasks)
        else:  # closed loop, 16 at a time

            async def worker(k: int) -> None:
                nonlocal sent
                while sent < count and time.monotonic() < stop:
                    sent += 1
                    await one(c, sent)

            await asyncio.gather(*(worker(k) for k in range(16)))
        elapsed = time.perf_counter() - started
    ok = len(latencies)
    print(json.dumps({
        "ok": ok, "failed": failed, "rps": ok / elapsed,
        "p50": statistics.median(latencies) if ok else 0.0,
        "p99": pct(latencies, 99) if ok else 0.0,
    }))  # fmt: skip


# --- main ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layers", type=Path)
    parser.add_argument(
        "--admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--quick", action="store_true", help="fewer leads and points")
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--client")
    parser.add_argument("--token")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--rate", type=float, default=0)
    args = parser.parse_args()
    if args.client:
        asyncio.run(client_main(args.client, args.token, args.seconds, args.count, args.rate))
        return
    if args.layers is None:
        parser.error("--layers DIR (red_line.gpkg, nature_reserve.gpkg) is required")

    from geo_service.services import Services
    from geo_service.settings import Settings

    n_leads, n_polygons, n_bulk = (300, 100, 10_000) if args.quick else (2000, 500, 100_000)
    print(f"# geo-screen speed, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    url, drop = throwaway(args.admin_url)
    try:
        import_layers(url, args.layers)
        started = time.perf_counter()
        services = Services.open(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]
        line(
            "engine loaded from the rows (Services.open)", f"{time.perf_counter() - started:8.1f} s"
        )
        engine = services.overlay
        rng = np.random.default_rng(14)
        points = region_points(services, rng, n_leads + 200)
        polygons = [square_km2(p) for p in points[:n_polygons]]
        engine_leads(engine, points[:200], polygons[:20])  # warm the lazy boundary indexes
        e_point, e_poly = engine_leads(engine, points[200:], polygons)
        with services.engine.connect() as conn:
            started = time.perf_counter()
            subdivide(conn)
            line("PostGIS: ST_Subdivide(256) + GiST", f"{time.perf_counter() - started:8.1f} s")
            postgis_leads(conn, "sub", points[:50], polygons[:10])  # warm
            s_point, s_poly = postgis_leads(
                conn, "active_layer_feature", points[200:400], polygons[:50]
            )
            d_point, d_poly = postgis_leads(conn, "sub", points[200:], polygons)
            q_ms = qgis_view(conn, points[200:400])
        line(
            "engine point lead median / p99",
            f"{statistics.median(e_point):.3f} / {pct(e_point, 99):.3f} ms",
        )
        line(
            "PostGIS stored point lead median / p99",
            f"{statistics.median(s_point):.3f} / {pct(s_point, 99):.3f} ms",
        )
        line(
            "PostGIS subdivided point lead median / p99",
            f"{statistics.median(d_point):.3f} / {pct(d_point, 99):.3f} ms",
        )
        line(
            "  ratio PostGIS subdivided / engine (median, p99)",
            f"{statistics.median(d_point) / statistics.median(e_point):.1f}× "
            f"{pct(d_point, 99) / pct(e_point, 99):.1f}×",
        )
        line(
            "engine 1 km² polygon lead (shares + nearby) median",
            f"{statistics.median(e_poly):.3f} ms",
        )
        line(
            "PostGIS stored / subdivided polygon lead median",
            f"{statistics.median(s_poly):.3f} / {statistics.median(d_poly):.3f} ms",
        )
        line(
            "  ratio PostGIS subdivided / engine",
            f"{statistics.median(d_poly) / statistics.median(e_poly):.1f}×",
        )
        line("QGIS view: kind K at point P, median / max",
             f"{statistics.median(q_ms):.2f} / {max(q_ms):.2f} ms")  # fmt: skip

        bulk_points = list(region_points(services, rng, n_bulk))
        started = time.perf_counter()
        engine.overlay_many(bulk_points, boundary_search_m=1000.0)
        full = time.perf_counter() - started
        started = time.perf_counter()
        engine.overlay_many(bulk_points, nearby_radius_m=0, gap_search_m=0, boundary_search_m=0)
        contain_results = time.perf_counter() - started
        snapshot = engine._snapshot
        xy = shapely.get_coordinates(np.array(bulk_points))
        started = time.perf_counter()
        p, g = snapshot.tree.query(shapely.points(xy))
        shapely.intersects_xy(snapshot.geoms[g], xy[p, 0], xy[p, 1])
        contain_plain = time.perf_counter() - started
        from layers.overlay import _contained

        started = time.perf_counter()  # the engine's own step: one test per grid cell where
        p, g = snapshot.tree.query(shapely.points(xy))  # no edge of a big feature comes in
        _contained(snapshot, xy[:, 0], xy[:, 1], p, g)
        contain = time.perf_counter() - started
        n_sql = min(n_bulk, 10_000)
        with services.engine.connect() as conn:
            sql_contain, sql_full = postgis_bulk(conn, "sub", np.array(bulk_points[:n_sql]))
        line(
            "bulk full answer: engine / PostGIS subdivided",
            f"{n_bulk / full:,.0f} / {n_sql / sql_full:,.0f} points/s",
        )
        line("bulk containment: engine step / plain GEOS / with results / PostGIS",
             f"{n_bulk / contain:,.0f} / {n_bulk / contain_plain:,.0f} / "
             f"{n_bulk / contain_results:,.0f} / {n_sql / sql_contain:,.0f} points/s")  # fmt: skip
        services.close()
        if not args.no_http:
            seconds = 10 if args.quick else 20
            for workers in (1, 2):
                http_run(url, workers, points[200:], seconds, 20_000, 500.0)
    finally:
        drop()


if __name__ == "__main__":
    main()
