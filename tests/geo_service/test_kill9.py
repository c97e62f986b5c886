"""One short round of benchmarks/kill9.py per backend: the real server is killed with SIGKILL
while it creates leads, records filings and imports layers; nothing it acknowledged may be lost
and nothing may be half-written (the full 20-round run is the benchmark script)."""

from __future__ import annotations

import importlib.util
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_kill9():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("kill9", ROOT / "benchmarks" / "kill9.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["kill9"] = module
    spec.loader.exec_module(module)
    return module


def test_kill_9_loses_no_acknowledged_write(backend: str) -> None:
    kill9 = load_kill9()
    rng = random.Random(99)
    with tempfile.TemporaryDirectory(prefix="geo-screen-kill9-test-") as tmp:
        workdir = Path(tmp)
        with kill9.database(backend, workdir) as url:
            kill9.cli(url, "init")
            token = kill9.cli(url, "tokens", "create", "--role", "admin", "--name", "kill9")
            results = [kill9.run_round(url, token, workdir, rng)]
    for result in results:
        assert result.ok, (result.lost, result.partial)
    assert sum(r.acked_leads for r in results) > 0, "no write was acknowledged before the kill"
