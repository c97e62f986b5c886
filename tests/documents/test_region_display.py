"""A region-level case's 盟市 reads 内蒙古自治区（自治区级） everywhere, never its code 150000:
the case list, the case page, the printed opinion and the batch CSV export."""

from __future__ import annotations

import csv
import io
import re

from demo_cases import CROSS_LEAGUE, Demo

from geo_service.cli_screen import OUT_COLUMNS, flat_row
from geo_service.db.models import Lead
from geo_service.leads import current_record
from maps.labels import REGION_DISPLAY, league_display

REGION_CELL = re.compile(r"<t[dh][^>]*>\s*150000\s*</t[dh]>")


def test_one_display_function() -> None:
    assert league_display("150000") == "内蒙古自治区（自治区级）" == REGION_DISPLAY
    assert league_display("150700") == "呼伦贝尔市"
    assert league_display("152900") == "阿拉善盟"
    assert league_display(None) == "—"
    assert "150000" not in league_display("150000")


def test_the_demo_holds_a_region_level_case(demo: Demo) -> None:
    with demo.services.sessions() as session:
        lead = session.get(Lead, CROSS_LEAGUE)
        assert lead is not None and lead.league_code == "150000"


def test_pages_show_the_region_with_its_level(demo: Demo) -> None:
    for url in ("/", f"/leads/{CROSS_LEAGUE}", f"/leads/{CROSS_LEAGUE}/opinion"):
        r = demo.get(url)
        assert r.status_code == 200, url
        assert REGION_DISPLAY in r.text, url
        assert not REGION_CELL.search(r.text), url
        assert ">150000<" not in r.text.replace(" ", ""), url


def test_csv_export_shows_the_region_with_its_level(demo: Demo) -> None:
    with demo.services.sessions() as session:
        lead = session.get(Lead, CROSS_LEAGUE)
        assert lead is not None
        record = current_record(lead)
        assert record is not None
        row = flat_row(1, record.dump())
    assert row["league"] == REGION_DISPLAY
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=OUT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerow(row)
    parsed = next(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert parsed["league"] == REGION_DISPLAY
    assert "150000" not in parsed.values()
