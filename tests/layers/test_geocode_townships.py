"""Township and village layers: loaded with nested-code validation, they refine text addresses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from layer_files import builtin_features
from shapely.geometry import Point, box, mapping, shape

from layers import LAYER_KINDS
from layers.importer import ImportOptions, read_layer
from layers.textloc import UnitLayers, locate_text

DATA = Path(__file__).parents[1] / "data"
TOWNSHIPS = DATA / "geocode_corpus_townships.geojson"
VILLAGES = DATA / "geocode_corpus_villages.geojson"


@pytest.fixture(scope="module")
def counties():
    return builtin_features("county")


def _load(path: Path, kind: str, workdir: Path):
    features, report = read_layer(path, workdir, ImportOptions(kind=kind))
    return features, report


def test_kinds_are_accepted() -> None:
    assert {"township", "village"} <= set(LAYER_KINDS)


def test_codes_must_nest_in_a_county(tmp_path: Path, workdir: Path) -> None:
    square = mapping(box(111.15, 39.80, 111.2, 39.85))
    items = [
        ("150622100", "薛家湾镇"),  # fine
        ("150622", "准格尔旗"),  # a county code is not a township
        ("440103001", "某街道"),  # not in the region
        ("150699100", "某镇"),  # 1506 but no county 150699
        (None, "无代码"),
    ]
    upload = tmp_path / "t.geojson"
    upload.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "geometry": square, "properties": {"code": c, "name": n}}
                    for c, n in items
                ],
            }
        ),
        encoding="utf-8",
    )
    features, report = _load(upload, "township", workdir)
    assert [f.code for f in features] == ["150622100"]
    reasons = {r["index"]: r["reason"] for r in report.rejected}
    assert reasons == {
        1: "code_not_nested",
        2: "code_not_nested",
        3: "code_not_nested",
        4: "missing_code",
    }
    villages, vreport = _load(VILLAGES, "village", workdir)
    assert [f.code for f in villages] == ["150622100201"]  # a point is fine for a village
    assert not vreport.rejected


def test_township_layer_refines_the_address(counties, workdir: Path) -> None:
    townships, _ = _load(TOWNSHIPS, "township", workdir)
    with_layer = UnitLayers({"county": counties, "township": townships})
    best = locate_text("准格尔旗薛家湾镇", units=with_layer).best
    assert best.unit is not None
    assert (best.unit.level, best.unit.code, best.unit.name) == (
        "township",
        "150622100",
        "薛家湾镇",
    )
    expected = shape(json.loads(TOWNSHIPS.read_text(encoding="utf-8"))["features"][0]["geometry"])
    assert best.geometry.equals(expected)
    assert best.unresolved_parts == ()
    assert best.county is not None and best.county.code == "150622"
    assert best.precision_m < 10_000  # a township, not the whole banner

    without = UnitLayers({"county": counties})
    coarse = locate_text("准格尔旗薛家湾镇", units=without).best
    assert coarse.unit is not None and coarse.unit.code == "150622"
    assert coarse.unresolved_parts == ("薛家湾镇",)
    assert any(w.code == "unresolved_parts" for w in coarse.warnings)


def test_village_layer_refines_further_and_coordinates_name_the_township(
    counties, workdir: Path
) -> None:
    townships, _ = _load(TOWNSHIPS, "township", workdir)
    villages, _ = _load(VILLAGES, "village", workdir)
    units = UnitLayers({"county": counties, "township": townships, "village": villages})
    best = locate_text("准旗薛家湾镇不连沟村东侧", units=units).best
    assert best.unit is not None and best.unit.code == "150622100201"
    assert best.geometry.equals(Point(111.22, 39.86))
    only_towns = UnitLayers({"county": counties, "township": townships})
    partial = locate_text("准旗薛家湾镇不连沟村东侧", units=only_towns).best
    assert partial.unit is not None and partial.unit.code == "150622100"
    assert partial.unresolved_parts == ("不连沟村",)
    point = locate_text("东经111°12′36″，北纬39°50′12″", units=only_towns).best
    assert point.unit is not None and point.unit.level == "township"
    assert point.county is not None and point.county.code == "150622"


def test_a_name_only_the_layer_knows_is_found(counties, workdir: Path, tmp_path: Path) -> None:
    upload = tmp_path / "new.geojson"
    upload.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": mapping(box(111.0, 39.5, 111.1, 39.6)),
                        "properties": {"code": "150622199", "name": "新设示范镇"},
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    townships, _ = _load(upload, "township", workdir)
    units = UnitLayers({"county": counties, "township": townships})
    best = locate_text("准格尔旗新设示范镇北", units=units).best
    assert best.unit is not None and best.unit.code == "150622199"
