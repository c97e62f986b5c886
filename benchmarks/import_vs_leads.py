"""Lead writes during a big layer import (issue 9, hole 10): 50 lead POSTs while 500,000 features
are imported into SQLite. Before imports were stored in short transactions, the import held the
write lock ~25 s and some POSTs failed with `database is locked`.

    .venv/bin/python benchmarks/import_vs_leads.py [--features 500000] [--posts 50]
        [--backend sqlite|postgis] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Prints the import time and the POSTs' outcomes and latencies; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from fastapi.testclient import TestClient
from import_big import _pg_database, make_file

from geo_service import layer_admin
from geo_service.app import create_app
from geo_service.auth import create_token
from geo_service.services import Services
from geo_service.settings import Settings

LEAD = {
    "location": {"geometry": {"type": "Point", "coordinates": [111.65, 40.82]}},
    "case_type": "pollution_discharge",
    "source_channel": "petition_media",
    "damage_amount_yuan": 2000,
    "received_on": "2026-09-05",
}


def run(url: str, gpkg: Path, features: int, posts: int, tmp: Path) -> None:
    settings = Settings(_env_file=None, database_url=url,  # type: ignore[call-arg]
                        import_tmp_dir=tmp / "imports")
    services = Services.open(settings)
    with services.sessions() as s:
        token = create_token(s, "screener", "bench-screener", actor="benchmark")
    headers = {"Authorization": f"Bearer {token}"}
    stored: list[int] = []
    done: dict[str, float] = {}

    def run_import() -> None:
        started = time.perf_counter()
        layer_admin.upload_layer(services, gpkg,
                                 layer_admin.UploadParams(kind="red_line", name="bench"),
                                 "benchmark", progress=stored.append)
        done["import_s"] = time.perf_counter() - started

    answers: list[tuple[int, float]] = []
    with TestClient(create_app(services=services)) as client:
        importer = threading.Thread(target=run_import)
        importer.start()
        while not stored:
            time.sleep(0.05)

        def post(i: int) -> None:
            started = time.perf_counter()
            r = client.post("/api/v1/leads", headers=headers, json={**LEAD, "title": f"线索 {i}"})
            answers.append((r.status_code, time.perf_counter() - started))

        threads = []
        for i in range(posts):  # bursts of 5 every half second, all during the import
            t = threading.Thread(target=post, args=(i,))
            t.start()
            threads.append(t)
            if i % 5 == 4:
                time.sleep(0.5)
        for t in threads:
            t.join()
        overlapped = importer.is_alive()
        importer.join()
    services.close()
    latencies = sorted(a[1] for a in answers)
    ok = sum(1 for a in answers if a[0] == 201)
    print(f"import of {features:,} features: {done['import_s']:.1f} s; "
          f"{ok}/{len(answers)} lead POSTs answered 201 "
          f"(others: {sorted({a[0] for a in answers if a[0] != 201})}); "
          f"latency median {statistics.median(latencies):.2f} s, "
          f"p95 {latencies[int(0.95 * (len(latencies) - 1))]:.2f} s, max {latencies[-1]:.2f} s; "
          f"import still running after the last POST: {overlapped}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=int, default=500_000)
    parser.add_argument("--posts", type=int, default=50)
    parser.add_argument("--backend", choices=["sqlite", "postgis"], default="sqlite")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="geo-screen-bench-") as tmp:
        gpkg = Path(tmp) / "big.gpkg"
        took = make_file(gpkg, args.features, 8)
        print(f"file: {args.features:,} polygons, {gpkg.stat().st_size / 1e6:.0f} MB "
              f"(written in {took:.1f} s)")
        url = (f"sqlite:///{Path(tmp) / 'bench.db'}" if args.backend == "sqlite"
               else _pg_database(args.pg)[0])
        run(url, gpkg, args.features, args.posts, Path(tmp))


if __name__ == "__main__":
    main()
