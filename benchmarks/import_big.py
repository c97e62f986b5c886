"""Big-layer import benchmark: 50,000 polygons, 5,000,000 vertices, GeoPackage → SQLite / PostGIS.

    .venv/bin/python benchmarks/import_big.py [--polygons 50000] [--vertices 100]
        [--backend sqlite --backend postgis] [--pg postgresql+psycopg://postgres@127.0.0.1/postgres]

Times each stage of `geo-screen layers load` on this machine: read + validate + store (one
streaming pass, as the service runs it), then activation (loading the version and building the
overlay engine's index). Prints figures; asserts nothing. The target: import under a minute.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pyogrio.raw
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo_service.db.engine import make_engine, make_sessionmaker
from geo_service.db.migrate import upgrade
from geo_service.layer_admin import UploadParams, activate_version, upload_layer
from geo_service.settings import Settings


def make_file(path: Path, polygons: int, vertices: int) -> float:
    """A GeoPackage of `polygons` wobbly polygons of `vertices` vertices each, over the region."""
    started = time.perf_counter()
    cols = int(np.ceil(np.sqrt(polygons * 1.6)))
    rows = int(np.ceil(polygons / cols))
    x0, y0, x1, y1 = 107.0, 39.0, 123.0, 49.0
    dx, dy = (x1 - x0) / cols, (y1 - y0) / rows
    rng = np.random.default_rng(1)
    angles = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    batch = 5000
    for start in range(0, polygons, batch):
        n = min(batch, polygons - start)
        idx = np.arange(start, start + n)
        cx = x0 + (idx % cols + 0.5) * dx
        cy = y0 + (idx // cols + 0.5) * dy
        radius = 0.4 * min(dx, dy) * (1 + 0.1 * np.sin(angles[None, :] * 7 + rng.random((n, 1))))
        xs = cx[:, None] + radius * np.cos(angles)[None, :]
        ys = cy[:, None] + radius * np.sin(angles)[None, :]
        coords = np.stack([xs, ys], axis=-1)
        coords = np.concatenate([coords, coords[:, :1]], axis=1)  # close the rings
        geoms = shapely.polygons(coords)
        codes = np.array([f"RL{i:06d}" for i in idx], dtype=object)
        names = np.array([f"红线斑块{i}" for i in idx], dtype=object)
        pyogrio.raw.write(path, shapely.to_wkb(geoms), [codes, names], ["code", "name"],
                          driver="GPKG", layer="red_line", geometry_type="Polygon",
                          crs="EPSG:4490", append=start > 0)
    return time.perf_counter() - started


class _Services:
    """What upload/activation need: settings, sessions and the overlay engine."""

    def __init__(self, url: str) -> None:
        from layers.overlay import OverlayEngine

        self.settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
        self.engine = make_engine(url)
        upgrade(self.engine)
        self.sessions = make_sessionmaker(self.engine)
        self.overlay = OverlayEngine()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(backend: str, url: str, path: Path) -> None:
    services = _Services(url)
    try:
        started = time.perf_counter()
        summary, report = upload_layer(
            services, path, UploadParams(kind="red_line", name=f"bench_{uuid.uuid4().hex[:6]}"),
            "benchmark", filename=path.name)  # type: ignore[arg-type]
        imported = time.perf_counter() - started
        started = time.perf_counter()
        activate_version(services, summary["id"], "benchmark")  # type: ignore[arg-type]
        activated = time.perf_counter() - started
        print(f"{backend:8} read+validate+store {imported:6.1f} s   "
              f"activate (load + engine index) {activated:6.1f} s   "
              f"total {imported + activated:6.1f} s   features {report['feature_count']}   "
              f"peak RSS {_peak_rss_mb():.0f} MB")
    finally:
        services.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polygons", type=int, default=50_000)
    parser.add_argument("--vertices", type=int, default=100)
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgis"])
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    backends = args.backend or ["sqlite", "postgis"]
    with tempfile.TemporaryDirectory(prefix="geo-screen-bench-") as tmp:
        path = Path(tmp) / "big_red_line.gpkg"
        took = make_file(path, args.polygons, args.vertices)
        print(f"file: {args.polygons} polygons × {args.vertices} vertices = "
              f"{args.polygons * args.vertices:,} vertices, "
              f"{path.stat().st_size / 1e6:.0f} MB GeoPackage (written in {took:.1f} s)")
        for backend in backends:
            if backend == "sqlite":
                run(backend, f"sqlite:///{Path(tmp) / 'bench.db'}", path)
            else:
                run(backend, *_pg_database(args.pg), path)


def _pg_database(admin_url: str) -> tuple[str]:
    """A throwaway PostGIS database for the run (dropped at exit)."""
    import atexit

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"geo_screen_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    atexit.register(drop)
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    return (url,)


if __name__ == "__main__":
    main()
