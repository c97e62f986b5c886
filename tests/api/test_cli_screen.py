"""`geo-screen screen FILE [-o OUT]` and the demo's data, as a user runs them."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from support import make_settings

from geo_service.cli_screen import DEMO_TAG, install_demo, read_requests
from geo_service.errors import DomainError
from geo_service.services import Services

CSV_TEXT = """lon,lat,crs,case_type,damage_amount_yuan,received_on,admin_name,obligor_id
119.76,49.21,,pollution_discharge,2000,2026-09-05,,
111.743084,40.838557,GCJ02,waste_dumping,50000,2026-09-05,,
49.21,119.76,,,,,,
,,,,,,科右前旗,
106.27,38.47,,illegal_mining,,,,
119.76,49.21,,pollution_discharge,abc,2026-09-05,,91150100MA0N0C8A1X
"""


def run_cli(*args: str, db_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "geo_service.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
        check=False,
        env={"GEO_SCREEN_DATABASE_URL": db_url, "PATH": "/usr/bin:/bin"},
    )


def test_screen_csv_to_csv_and_geojson(services: Services, tmp_path: Path) -> None:
    src = tmp_path / "leads.csv"
    src.write_text(CSV_TEXT, encoding="utf-8")
    out = tmp_path / "decisions.csv"
    done = run_cli(
        "screen", str(src), "-o", str(out), db_url=services.settings.database_url, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "共 6 条：筛查 4 条，输入有误 2 条" in done.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert [r["ok"] for r in rows] == ["True", "True", "False", "True", "True", "False"]
    assert rows[0]["rights_holder"] == "呼伦贝尔市人民政府"
    assert rows[1]["rights_holder"] == "呼和浩特市人民政府"
    assert "GCJ-02" in rows[1]["warnings"]
    assert "经度和纬度似乎写反了" in rows[2]["error"]
    assert rows[3]["rights_holder"] == "兴安盟行政公署"
    assert rows[4]["jurisdiction_status"] == "out_of_region"
    assert "damage_amount_yuan" in rows[5]["error"] and "obligor.id" in rows[5]["error"]

    geo = tmp_path / "decisions.geojson"
    done = run_cli(
        "screen", str(src), "-o", str(geo), db_url=services.settings.database_url, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    features = json.loads(geo.read_text(encoding="utf-8"))["features"]
    assert len(features) == 6
    assert features[0]["geometry"] == {"type": "Point", "coordinates": [119.76, 49.21]}
    assert features[3]["geometry"] is None  # coarse: no geometry to draw
    assert features[2]["properties"]["result"]["status"] == 422


def test_screen_geojson_input(tmp_path: Path) -> None:
    src = tmp_path / "leads.geojson"
    src.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "EPSG:4326"}},
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [111.75, 40.84]},
                        "properties": {
                            "case_type": "waste_dumping",
                            "obligor_id": "91150100MA0N0C8A1H",
                        },
                    },
                    {"type": "Feature", "geometry": None, "properties": {"admin_name": "达茂旗"}},
                    "not a feature",
                ],
            }
        ),
        encoding="utf-8",
    )
    requests = read_requests(src)
    assert requests[0] == {
        "case_type": "waste_dumping",
        "location": {
            "geometry": {"type": "Point", "coordinates": [111.75, 40.84]},
            "crs": "EPSG:4326",
        },
        "obligor": {"id": "91150100MA0N0C8A1H", "name": None},
    }
    assert requests[1] == {"location": {"admin_name": "达茂旗", "crs": "EPSG:4326"}}
    assert isinstance(requests[2], DomainError)


def test_screen_reports_an_unreadable_file(tmp_path: Path, sqlite_url: str) -> None:
    src = tmp_path / "leads.xlsx"
    src.write_bytes(b"PK\x03\x04")
    done = run_cli("screen", str(src), db_url=sqlite_url, cwd=tmp_path)
    assert done.returncode == 2
    assert "只支持 .csv 或 .geojson" in done.stderr


def test_demo_installs_labelled_layers_and_sample_leads(tmp_path: Path) -> None:
    services = Services.open(make_settings(f"sqlite:///{tmp_path / 'demo.db'}"))
    try:
        first = install_demo(services)
        assert sorted(first["layers_added"]) == [
            "demo_key_function_zone",
            "demo_nature_reserve",
            "demo_red_line",
        ]
        assert first["leads_created"] == 7
        assert install_demo(services) == {"layers_added": [], "leads_created": 0}
        assert {"demo_red_line", "demo_nature_reserve"} <= set(services.overlay.layer_versions)
        from sqlalchemy import select

        from geo_service.db.models import LayerFeatureRow, LayerSeries, Lead

        with services.sessions() as session:
            titles = session.scalars(
                select(LayerSeries.title).where(LayerSeries.name.like("demo_%"))
            ).all()
            names = session.scalars(select(LayerFeatureRow.name)).all()
            leads = session.scalars(select(Lead).where(Lead.source_system == "demo")).all()
            assert all(DEMO_TAG in t for t in titles)
            assert sum(DEMO_TAG in (n or "") for n in names) == 3
            by_ref = {lead.external_ref: lead for lead in leads}
            assert all(DEMO_TAG in (lead.title or "") for lead in leads)
            red = by_ref["demo-1"].decisions[0].result
            assert red["minor"]["override_reasons"] == ["red_line"]
            assert by_ref["demo-6"].status == "excluded"
            assert by_ref["demo-7"].is_major is True
            result = by_ref["demo-5"].decisions[0].result
            assert result["jurisdiction"]["status"] == "out_of_region"
    finally:
        services.close()


def test_history_import_command(tmp_path: Path, sqlite_url: str) -> None:
    src = tmp_path / "history.csv"
    src.write_text(
        "赔偿义务人证件号码,损害发生日期,案号\n"
        "91150100MA0N0C8A1H,2025年3月1日,（2025）内01民初9号\n"
        "91150100MA0N0C8A1H,2025-02-30,\n",
        encoding="gb18030",
    )
    done = run_cli("history", "import", str(src), db_url=sqlite_url, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "第 3 行被拒绝" in done.stderr and "不存在" in done.stderr
    assert "导入 1 行" in done.stdout or "导入 0 行，重复 1 行" in done.stdout
