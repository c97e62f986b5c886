"""The validation report: repairs, rejections, duplicates, bbox warnings, codes, tiling."""

from __future__ import annotations

import json

import pytest
import shapely
from equal_area import albers_area_m2
from shapely.geometry import box, mapping

from layers.importer import ImportOptions, read_layer
from layers.validation import LEAGUE_CODES, tiling_report

BOWTIE = {"type": "Polygon",
          "coordinates": [[[111.0, 40.0], [111.2, 40.2], [111.2, 40.0], [111.0, 40.2],
                           [111.0, 40.0]]]}


def _geojson(path, items):
    """items: (geometry dict or None, properties)."""
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": g, "properties": p} for g, p in items]}),
        encoding="utf-8")
    return path


def _square(x, y, d=0.1):
    return mapping(box(x, y, x + d, y + d))


def test_report_lists_repaired_rejected_and_duplicates(tmp_path, workdir):
    upload = _geojson(tmp_path / "reserves.geojson", [
        (_square(111, 40), {"name": "甲"}),                      # 0 fine
        (BOWTIE, {"name": "乙"}),                                # 1 self-intersection → repaired
        (None, {"name": "丙"}),                                  # 2 null
        ({"type": "Point", "coordinates": [111, 40]}, {"name": "丁"}),  # 3 wrong type
        ({"type": "Polygon", "coordinates": []}, {"name": "戊"}),  # 4 empty
        (_square(111, 40), {"name": "甲复"}),                    # 5 duplicate of 0
        ({"type": "LineString", "coordinates": [[111, 40], [111.1, 40.1]]}, {"name": "己"}),
    ])
    features, report = read_layer(upload, workdir, ImportOptions(kind="nature_reserve"))
    assert [f.name for f in features] == ["甲", "乙", "甲复"]
    assert report.features_read == 7 and report.features_kept == 3
    assert [r["index"] for r in report.repaired] == [1]
    assert "Self-intersection" in report.repaired[0]["reason"]
    assert features[1].geometry.is_valid and features[1].geometry.geom_type == "MultiPolygon"
    assert {r["index"]: r["reason"] for r in report.rejected} == {
        2: "null_geometry", 3: "wrong_geometry_type", 4: "empty_geometry",
        6: "wrong_geometry_type"}
    assert report.duplicates == [{"index": 5, "duplicate_of": 0}]
    assert "面" in next(r for r in report.rejected if r["index"] == 3)["message"]


def test_lines_are_fine_for_rivers(tmp_path, workdir):
    upload = _geojson(tmp_path / "rivers.geojson", [
        ({"type": "LineString", "coordinates": [[111, 40], [111.1, 40.1]]}, {"name": "河"}),
        ({"type": "Point", "coordinates": [111, 40]}, {"name": "点"}),
    ])
    features, report = read_layer(upload, workdir, ImportOptions(kind="river_lake"))
    assert [f.name for f in features] == ["河"]
    assert [r["reason"] for r in report.rejected] == ["wrong_geometry_type"]


def test_bbox_outside_region_warns_wrong_crs(tmp_path, workdir):
    upload = _geojson(tmp_path / "gd.geojson", [(_square(113.2, 23.1), {"name": "广州某区"})])
    _, report = read_layer(upload, workdir, ImportOptions(kind="red_line"))
    assert report.bbox == [113.2, 23.1, 113.3, 23.2]
    warning = next(w for w in report.warnings if w["code"] == "bbox_outside_region")
    assert "坐标系" in warning["message"]
    # A province layer lying outside the region is normal.
    _, report = read_layer(upload, workdir, ImportOptions(kind="province"))
    assert not any(w["code"].startswith("bbox") for w in report.warnings)


def test_implausible_extent_warns(tmp_path, workdir):
    upload = _geojson(tmp_path / "wide.geojson", [(_square(100, 40), {}),
                                                  (_square(170, -40), {})])
    _, report = read_layer(upload, workdir, ImportOptions(kind="red_line"))
    assert any(w["code"] == "bbox_implausible" for w in report.warnings)


@pytest.mark.parametrize(("code", "reason"), [
    (None, "missing_code"), ("1501", "invalid_code"), ("440100", "invalid_code"),
    ("150102", "invalid_code"),  # a county code is not a league
])
def test_leagues_need_their_codes(code, reason, tmp_path, workdir, leagues):
    items = [(mapping(f.geometry), {"code": f.code, "name": f.name}) for f in leagues[1:]]
    items.insert(0, (mapping(leagues[0].geometry), {"code": code, "name": leagues[0].name}))
    upload = _geojson(tmp_path / "l.geojson", items)
    features, report = read_layer(upload, workdir, ImportOptions(kind="league"))
    assert len(features) == 11
    assert report.rejected[0]["index"] == 0 and report.rejected[0]["reason"] == reason
    missing = next(w for w in report.warnings if w["code"] == "leagues_missing")
    assert leagues[0].name in missing["message"]


def test_code_and_name_fields_are_mapped(tmp_path, workdir, leagues):
    items = [(mapping(f.geometry), {"QH": int(f.code), "MINGCHENG": f.name}) for f in leagues]
    upload = _geojson(tmp_path / "l.geojson", items)
    features, report = read_layer(upload, workdir, ImportOptions(
        kind="league", code_field="QH", name_field="MINGCHENG"))
    assert {f.code: f.name for f in features} == LEAGUE_CODES  # integer codes become text
    assert report.code_field == "QH" and report.name_field == "MINGCHENG"


def test_replacement_league_layer_must_tile_the_region(tmp_path, workdir, leagues):
    region = shapely.union_all([f.geometry for f in leagues])
    # Drop 乌海市 (a gap) and push 包头市 over a box of its neighbour (an overlap).
    wuhai = next(f for f in leagues if f.code == "150300")
    baotou = next(f for f in leagues if f.code == "150200")
    hohhot = next(f for f in leagues if f.code == "150100")
    grab = box(*hohhot.geometry.centroid.buffer(0.1).bounds)
    items = []
    for f in leagues:
        if f.code == "150300":
            continue
        geom = shapely.union(f.geometry, grab) if f.code == "150200" else f.geometry
        items.append((mapping(geom), {"code": f.code, "name": f.name}))
    upload = _geojson(tmp_path / "l.geojson", items)
    _, report = read_layer(upload, workdir, ImportOptions(kind="league"), outline=region)
    tiling = report.tiling
    assert tiling is not None
    assert tiling["gap_km2"] == pytest.approx(albers_area_m2(wuhai.geometry) / 1e6, rel=0.01)
    expected_overlap = albers_area_m2(shapely.intersection(grab, hohhot.geometry)) / 1e6
    assert tiling["overlap_km2"] == pytest.approx(expected_overlap, rel=0.01)
    assert tiling["overlap_count"] >= 1 and tiling["gap_count"] >= 1
    codes = {w["code"] for w in report.warnings}
    assert {"tiling_gaps", "tiling_overlaps"} <= codes
    assert tiling["overlaps"][0]["features"] == [hohhot.code, baotou.code]


def test_the_builtin_leagues_tile_their_own_union(leagues):
    region = shapely.union_all([f.geometry for f in leagues])
    tiling = tiling_report([f.geometry for f in leagues], region)
    assert tiling["gap_km2"] < 0.01 and tiling["outside_km2"] < 0.01
    assert tiling["overlap_km2"] < 1.0
