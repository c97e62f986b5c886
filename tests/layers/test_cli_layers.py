"""`geo-screen layers load/list/activate` as an analyst runs them (a subprocess, SQLite)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from layer_files import county_features, shapefile_zip


def run_cli(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "geo_service.cli", "layers", *args],
        capture_output=True, text=True, cwd=db.parent, timeout=300, check=False,
        env={"GEO_SCREEN_DATABASE_URL": f"sqlite:///{db}", "PATH": "/usr/bin:/bin"},
    )


def test_load_report_activate_list(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    upload = shapefile_zip(tmp_path, county_features(), name="呼和浩特旗县", crs="EPSG:4525",
                           encoding="GBK", cpg=False)
    loaded = run_cli("load", str(upload), "--kind", "county", "--name", "hohhot_counties",
                     db=db)
    assert loaded.returncode == 0, loaded.stderr
    assert "读取要素 9 个，保存 9 个" in loaded.stdout
    assert "EPSG:4525" in loaded.stdout and "GB18030" in loaded.stdout
    assert "9/9" in loaded.stderr  # the progress bar ran to the end
    assert "待启用" in loaded.stdout

    listed = json.loads(run_cli("list", "--json", db=db).stdout)
    series = next(s for s in listed["series"] if s["name"] == "hohhot_counties")
    assert series["active_version"] is None
    version_id = series["history"][0]["id"]

    activated = run_cli("activate", str(version_id), db=db)
    assert activated.returncode == 0, activated.stderr
    listed = json.loads(run_cli("list", "--json", db=db).stdout)
    series = next(s for s in listed["series"] if s["name"] == "hohhot_counties")
    assert series["active_version"] == version_id

    again = run_cli("load", str(upload), "--kind", "league", "--name", "hohhot_counties",
                    "--activate", db=db)
    assert again.returncode == 2
    assert "kind" in again.stderr
