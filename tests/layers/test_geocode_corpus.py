"""The whole lead-text corpus (tests/data/geocode_corpus.jsonl): each text against its known answer.

A text is a hit when the best candidate is the expected unit (and the township names kept as
`unresolved_parts`), the expected point within its tolerance, or the expected polygon; an
ambiguous text must be flagged `needs_verification` with the right reading among its candidates;
a hopeless text must be refused. A miss that is not flagged would be a silent wrong place.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from layer_files import builtin_features
from shapely.geometry import Polygon

from layers.admin_names import COUNTIES
from layers.measure import GEOD
from layers.textloc import Candidate, TextNotLocated, UnitLayers, locate_text
from layers.textloc.dictionary import read_divisions

CORPUS = Path(__file__).parents[1] / "data" / "geocode_corpus.jsonl"
# The README states this (measured: see `test_corpus_hit_rate`'s message).
REQUIRED_HIT_RATE = 0.98


def _rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def units() -> UnitLayers:
    return UnitLayers({"county": builtin_features("county"), "league": builtin_features("league")})


def _near(c: Candidate, point: list[float], tolerance: float) -> bool:
    if c.geometry is None or c.geometry.geom_type != "Point":
        return False
    return float(GEOD.inv(point[0], point[1], c.geometry.x, c.geometry.y)[2]) <= tolerance


def _matches(c: Candidate, expect: dict[str, Any]) -> str | None:
    """None when the candidate is the expected answer, else why not."""
    if "point" in expect and not _near(c, expect["point"], expect["tolerance_m"]):
        return f"point {c.geometry.wkt if c.geometry else None} ≠ {expect['point']}"
    if "polygon" in expect:
        want = Polygon(expect["polygon"])
        if c.geometry is None or c.geometry.geom_type != "Polygon":
            return f"not a polygon: {c.geometry.geom_type if c.geometry else None}"
        if c.geometry.symmetric_difference(want).area / want.area > 1e-3:
            return "polygon differs"
    if "crs" in expect and c.crs != expect["crs"]:
        return f"frame {c.crs} ≠ {expect['crs']}"
    code = expect.get("code")
    if code is not None:
        got = c.unit.code if c.unit else None
        if c.method == "coordinates_in_text":
            got = c.county.code if c.county else None
        if got != code:
            return f"unit {got} ≠ {code}"
        if "level" in expect and c.unit is not None and c.unit.level != expect["level"]:
            return f"level {c.unit.level} ≠ {expect['level']}"
    if (
        "unresolved" in expect
        and list(c.unresolved_parts[: len(expect["unresolved"])]) != expect["unresolved"]
    ):
        return f"unresolved {list(c.unresolved_parts)} ≠ {expect['unresolved']}"
    return None


def judge(row: dict[str, Any], units: UnitLayers) -> tuple[str, str]:
    """('hit' | 'flagged' | 'wrong', why) for one corpus row."""
    expect = row["expect"]
    try:
        located = locate_text(row["text"], units=units)
    except TextNotLocated as exc:
        if expect.get("hopeless"):
            return "hit", ""
        return "flagged", f"refused: {exc.message}"
    if expect.get("hopeless"):
        return "wrong", f"located hopeless text at {located.best.unit}"
    if expect.get("ambiguous"):
        if not located.needs_verification:
            return "wrong", "ambiguous text not flagged"
        if any(_matches(c, expect) is None for c in located.candidates):
            return "hit", ""
        return "wrong", "the right reading is not among the candidates"
    why = _matches(located.best, expect)
    if why is None:
        return "hit", ""
    if located.needs_verification:
        return "flagged", why
    return "wrong", why


def test_corpus_is_broad() -> None:
    rows = _rows()
    kinds = Counter(r["kind"] for r in rows)
    assert len(rows) >= 200
    assert {k for k in kinds if k.startswith("dms_")} >= {
        "dms_symbols",
        "dms_chinese",
        "dms_hyphen",
        "dms_ascii",
        "dms_colon",
        "dms_fullwidth",
    }
    leagues = {r["expect"]["code"][:4] for r in rows if r["kind"] == "address"}
    assert len(leagues) == 12
    zones = {r["expect"]["crs"] for r in rows if r["kind"] == "survey_prefix"}
    assert len(zones) >= 3
    for kind in (
        "amap_link",
        "tencent_link",
        "baidu_link",
        "polygon_survey",
        "ambiguous_zone",
        "hopeless",
        "short_name",
        "old_name",
    ):
        assert kinds[kind] >= 1, kind


def test_corpus_hit_rate(units: UnitLayers) -> None:
    rows = _rows()
    results = [(row, *judge(row, units)) for row in rows]
    hits = sum(1 for _, verdict, _ in results if verdict == "hit")
    wrong = [(r["id"], r["text"][:40], why) for r, verdict, why in results if verdict == "wrong"]
    rate = hits / len(rows)
    misses = [(r["id"], why) for r, verdict, why in results if verdict != "hit"]
    # Never a silent wrong place: a miss must at least be flagged or refused.
    assert not wrong, wrong
    assert rate >= REQUIRED_HIT_RATE, f"hit rate {rate:.1%} ({hits}/{len(rows)}); misses: {misses}"


def test_the_dictionary_is_read_as_data() -> None:
    """jionlp's dictionary without importing jionlp: that would load the GPL-3.0 segmenter
    jiojio and print banners to stdout, where `geo-screen screen` may write its CSV."""
    code = (
        "import sys; from layers.textloc.address import find_address; "
        "assert find_address('准旗薛家湾镇').matches[0].county_code == '150622'; "
        "assert 'jionlp' not in sys.modules and 'jiojio' not in sys.modules"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=Path(__file__).parents[2],
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""


def test_the_dictionary_covers_every_county() -> None:
    divisions = read_divisions()
    missing = [name for code, name in COUNTIES if code not in divisions.counties]
    assert missing == []
    assert all(divisions.counties[code].towns for code, _ in COUNTIES)
    assert "薛家湾镇" in divisions.counties["150622"].towns
    assert divisions.elsewhere["承德市"] == "河北省承德市"
    assert "内蒙古" not in divisions.elsewhere and "鄂尔多斯" not in divisions.elsewhere
