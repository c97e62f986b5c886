"""`geo-screen screen leads.csv` with a `text` column: each row says how it was located."""

from __future__ import annotations

from pathlib import Path

from geo_service.cli_screen import flat_row, screen_file
from geo_service.services import Services

CSV_TEXT = """text,received_on,case_type
鄂尔多斯市准格尔旗薛家湾镇某煤矿排土场北侧,2026-09-05,waste_dumping
"东经111°12′36″，北纬39°50′12″处有渗坑",2026-09-05,pollution_discharge
"https://uri.amap.com/marker?position=111.7430,40.8380&name=x",2026-09-05,
群众反映有人倾倒垃圾,2026-09-05,
"""


def test_text_column_reports_how_each_row_was_located(services: Services, tmp_path: Path) -> None:
    src = tmp_path / "leads.csv"
    src.write_text(CSV_TEXT, encoding="utf-8")
    rows = [flat_row(i, r) for i, r in enumerate(screen_file(services, src), 1)]
    assert [r["ok"] for r in rows] == [True, True, True, False]
    assert (rows[0]["located_by"], rows[0]["located_unit"]) == ("address", "准格尔旗（150622）")
    assert rows[0]["located_matched"] == "鄂尔多斯市准格尔旗薛家湾镇"
    assert rows[0]["rights_holder"] == "鄂尔多斯市人民政府"
    assert rows[1]["located_by"] == "coordinates_in_text"
    assert rows[1]["located_matched"] == "东经111°12′36″，北纬39°50′12″"
    assert rows[2]["located_by"] == "coordinates_in_text"
    assert "高德地图" in rows[2]["warnings"]
    assert rows[2]["rights_holder"] == "呼和浩特市人民政府"
    assert "location.text" in rows[3]["error"] and "缺少可定位的信息" in rows[3]["error"]
