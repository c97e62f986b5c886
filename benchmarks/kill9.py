"""Crash safety: `kill -9` the real server at random points during lead creation, filings and
layer imports, on each backend, and check that nothing acknowledged was lost and nothing is
half-written.

    .venv/bin/python benchmarks/kill9.py [--rounds 20] [--backends sqlite,postgis]

Each round starts `geo-screen serve` (a subprocess), runs writers that record every write the
server acknowledged (2xx received), kills the server with SIGKILL after a random delay, then
checks the database directly:

- every acknowledged lead is there, and every lead has its screening decision;
- every acknowledged filing is there;
- every acknowledged layer version is there, and no layer version anywhere has fewer (or more)
  feature rows than its `feature_count` says (a half-written import marked complete);
- the audit log's hash chain is intact.

Prints the counts per round and in total; exits 1 on any loss or partial state. Not a test by
itself: tests/geo_service/test_kill9.py runs one short round per backend.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "tests"))
from support import PG_ADMIN_URL, throwaway_database  # noqa: E402  (the suite's own helper)

from geo_service.audit_chain import verify_chain  # noqa: E402
from geo_service.db.engine import make_sessionmaker  # noqa: E402
from geo_service.db.models import (  # noqa: E402
    DecisionRow,
    Filing,
    LayerFeatureRow,
    LayerVersion,
    Lead,
)


@dataclass
class Acked:
    leads: set[int] = field(default_factory=set)
    filings: set[int] = field(default_factory=set)  # lead ids whose filing was acknowledged
    versions: dict[int, int] = field(default_factory=dict)  # version id -> feature_count
    attempts: int = 0
    failures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class RoundResult:
    acked_leads: int
    acked_filings: int
    acked_versions: int
    attempts: int
    lost: list[str]
    partial: list[str]

    @property
    def ok(self) -> bool:
        return not self.lost and not self.partial


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def service_env(database_url: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "GEO_SCREEN_DATABASE_URL": database_url,
        "GEO_SCREEN_SECRET_KEY": secrets.token_urlsafe(32),
        "GEO_SCREEN_LAYER_SYNC_INTERVAL_S": "0",
    }


def cli(database_url: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "geo_service.cli", *args],
        capture_output=True,
        text=True,
        env=service_env(database_url),
        cwd=ROOT,
        timeout=600,
        check=True,
    )
    return done.stdout.strip()


@contextmanager
def server(database_url: str, workdir: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    log = (workdir / f"server-{port}.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "geo_service.cli", "serve", "--port", str(port)],
        env=service_env(database_url),
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}; see {log.name}")
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.2)
        yield proc, base
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        log.close()


def layer_file(n: int, seed: int) -> bytes:
    rng = random.Random(seed)
    features = []
    for i in range(n):
        x, y = rng.uniform(108, 120), rng.uniform(40, 48)
        ring = [[x, y], [x + 0.01, y], [x + 0.01, y + 0.01], [x, y + 0.01], [x, y]]
        features.append(
            {
                "type": "Feature",
                "properties": {"code": f"K{seed}-{i}", "name": f"红线 {i}"},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def writer(base: str, token: str, acked: Acked, stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        while not stop.is_set():
            choice = rng.random()
            try:
                with acked.lock:
                    acked.attempts += 1
                    filable = sorted(acked.leads - acked.filings)
                if choice < 0.15:
                    body = layer_file(rng.randint(200, 3000), rng.randint(0, 10**9))
                    r = client.post(
                        "/api/v1/layers",
                        files={"file": ("k.geojson", body, "application/geo+json")},
                        data={"kind": "red_line", "name": f"kill9_{uuid.uuid4().hex[:8]}"},
                    )
                    if r.status_code == 201:
                        with acked.lock:
                            acked.versions[r.json()["id"]] = r.json()["feature_count"]
                elif choice < 0.45 and filable:
                    lead_id = rng.choice(filable)
                    r = client.post(
                        f"/api/v1/leads/{lead_id}/filing",
                        json={
                            "decision": "file",
                            "grounds": [],
                            "reasons": "经初步核查。",
                            "approved_by": "负责人",
                        },
                    )
                    if r.status_code == 201:
                        with acked.lock:
                            acked.filings.add(lead_id)
                else:
                    point = [rng.uniform(108, 120), rng.uniform(40, 48)]
                    r = client.post(
                        "/api/v1/leads",
                        json={
                            "location": {"geometry": {"type": "Point", "coordinates": point}},
                            "source_system": "kill9",
                            "external_ref": uuid.uuid4().hex,
                            "received_on": "2026-09-05",
                        },
                    )
                    if r.status_code == 201:
                        with acked.lock:
                            acked.leads.add(r.json()["id"])
                if r.status_code >= 300:
                    with acked.lock:
                        acked.failures += 1
            except httpx.HTTPError:
                return  # the server is gone


def check(database_url: str, acked: Acked) -> tuple[list[str], list[str]]:
    engine = create_engine(database_url)
    lost: list[str] = []
    partial: list[str] = []
    try:
        with make_sessionmaker(engine)() as session:
            leads = set(session.scalars(select(Lead.id).where(Lead.id.in_(acked.leads or {-1}))))
            lost += [f"lead {i}" for i in sorted(acked.leads - leads)]
            undecided = session.scalars(
                select(Lead.id).where(
                    ~select(DecisionRow.id).where(DecisionRow.lead_id == Lead.id).exists()
                )
            ).all()
            partial += [f"lead {i} without a decision" for i in undecided]
            filed = set(
                session.scalars(
                    select(Filing.lead_id).where(Filing.lead_id.in_(acked.filings or {-1}))
                )
            )
            lost += [f"filing of lead {i}" for i in sorted(acked.filings - filed)]
            stored = session.execute(
                select(LayerVersion.id, LayerVersion.feature_count, LayerVersion.status)
            ).all()
            # An import cut off by the kill stays "importing": never acknowledged, never usable
            # (activate/features answer 409), deleted by the next upload's sweep.
            importing = {vid for vid, _, status in stored if status == "importing"}
            partial += [f"layer version {v} acknowledged but still importing"
                        for v in sorted(importing & set(acked.versions))]
            versions = {vid: count for vid, count, status in stored if vid not in importing}
            lost += [f"layer version {v}" for v in sorted(set(acked.versions) - set(versions))]
            rows = dict(
                session.execute(
                    select(LayerFeatureRow.version_id, func.count()).group_by(
                        LayerFeatureRow.version_id
                    )
                ).all()
            )
            for vid, count in versions.items():
                if rows.get(vid, 0) != count:
                    partial.append(f"layer version {vid}: {rows.get(vid, 0)} rows, says {count}")
            for vid, count in acked.versions.items():
                if vid in versions and versions[vid] != count:
                    partial.append(
                        f"layer version {vid}: acknowledged {count}, stored {versions[vid]}"
                    )
            report = verify_chain(session)
            if not report.intact:
                partial.append(f"audit chain broken at id={report.broken_id}: {report.problem}")
    finally:
        engine.dispose()
    return lost, partial


def run_round(database_url: str, token: str, workdir: Path, rng: random.Random) -> RoundResult:
    acked = Acked()
    stop = threading.Event()
    with server(database_url, workdir) as (proc, base):
        # Warm up (the first screening builds lazy indexes), so the round's writes are quick.
        httpx.post(
            f"{base}/api/v1/screen",
            json={"location": {"geometry": {"type": "Point", "coordinates": [111.7, 40.8]}}},
            headers={"Authorization": f"Bearer {token}"},
            timeout=300,
        )
        threads = [
            threading.Thread(target=writer, args=(base, token, acked, stop, rng.random()))
            for _ in range(4)
        ]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.5, 6.0))
        os.kill(proc.pid, signal.SIGKILL)  # the server this round started, by its pid
        proc.wait()
        stop.set()
        for t in threads:
            t.join(timeout=60)
    lost, partial = check(database_url, acked)
    return RoundResult(
        len(acked.leads), len(acked.filings), len(acked.versions), acked.attempts, lost, partial
    )


@contextmanager
def database(backend: str, workdir: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'kill9.db'}"
        return
    with throwaway_database(PG_ADMIN_URL, prefix="geo_screen_kill9") as url:
        yield url


def run(backend: str, rounds: int, seed: int = 9) -> list[RoundResult]:
    rng = random.Random(seed)
    results = []
    with (
        tempfile.TemporaryDirectory(prefix="geo-screen-kill9-") as tmp,
        database(backend, Path(tmp)) as url,
    ):
        cli(url, "init")
        token = cli(url, "tokens", "create", "--role", "admin", "--name", "kill9")
        for n in range(rounds):
            result = run_round(url, token, Path(tmp), rng)
            results.append(result)
            print(
                f"{backend} round {n + 1:2d}: acknowledged leads {result.acked_leads}, "
                f"filings {result.acked_filings}, layer versions {result.acked_versions} "
                f"({result.attempts} attempts); lost {len(result.lost)}, "
                f"partial {len(result.partial)}",
                flush=True,
            )
            for problem in result.lost + result.partial:
                print(f"    {problem}", flush=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--backends", default="sqlite,postgis")
    args = parser.parse_args()
    failed = False
    for backend in args.backends.split(","):
        results = run(backend, args.rounds)
        total = (
            sum(r.acked_leads for r in results),
            sum(r.acked_filings for r in results),
            sum(r.acked_versions for r in results),
        )
        bad = sum(len(r.lost) + len(r.partial) for r in results)
        print(
            f"{backend}: {len(results)} rounds, acknowledged leads {total[0]}, filings "
            f"{total[1]}, layer versions {total[2]}; lost or partial: {bad}"
        )
        failed |= bad > 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
