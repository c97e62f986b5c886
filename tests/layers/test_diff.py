"""Diff between two versions of a series."""

from __future__ import annotations

import pytest
import shapely
from equal_area import albers_area_m2
from shapely.geometry import box

from layers.diff import diff_versions
from layers.model import LayerFeature, LayerVersionData


def _version(vid, features):
    return LayerVersionData(version_id=vid, series="league", kind="league",
                            features=tuple(features))


def _km2(g) -> float:
    """By an equal-area projection (tests/layers/equal_area.py), not layers.measure."""
    return albers_area_m2(g) / 1e6


def test_added_removed_changed_and_area(leagues):
    by = {f.code: f for f in leagues}
    hohhot = by["150100"]
    # Move a box of Hohhot into Baotou; drop Wuhai; rename Alxa; add a made-up unit.
    piece = shapely.intersection(hohhot.geometry, box(*hohhot.geometry.centroid.buffer(0.2).bounds))
    new_features = []
    for f in leagues:
        if f.code == "150300":
            continue
        geom, name = f.geometry, f.name
        if f.code == "150100":
            geom = shapely.difference(geom, piece)
        elif f.code == "150200":
            geom = shapely.union(geom, piece)
        elif f.code == "152900":
            name = "阿拉善盟（测试）"
        new_features.append(LayerFeature(f.feature_id, f.code, name, geom, f.attributes))
    extra = box(130, 50, 130.1, 50.1)
    new_features.append(LayerFeature("x", "159900", "测试盟", extra))

    d = diff_versions(_version(1, leagues), _version(2, new_features), with_geometry=True)

    assert d["matched_by"] == "code"
    assert [a["code"] for a in d["added"]] == ["159900"]
    assert [r["code"] for r in d["removed"]] == ["150300"]
    changed = {c["code"]: c for c in d["changed"]}
    assert set(changed) == {"150100", "150200", "152900"}
    assert changed["152900"]["geometry_changed"] is False
    assert changed["152900"]["attributes_changed"] == {"name": ["阿拉善盟", "阿拉善盟（测试）"]}
    moved = _km2(piece)
    assert changed["150100"]["area_lost_km2"] == pytest.approx(moved, rel=1e-3)
    assert changed["150100"]["area_gained_km2"] == pytest.approx(0, abs=1e-3)
    assert changed["150200"]["area_gained_km2"] == pytest.approx(moved, rel=1e-3)
    wuhai = _km2(by["150300"].geometry)
    assert d["area_lost_km2"] == pytest.approx(moved + wuhai, rel=1e-3)
    assert d["area_gained_km2"] == pytest.approx(moved + _km2(extra), rel=1e-3)
    assert d["unchanged_count"] == 12 - 1 - 3
    kinds = sorted(f["properties"]["change"] for f in d["geojson"]["features"])
    assert kinds == ["added", "gained", "lost", "removed"]


def test_identical_versions_have_no_changes(leagues):
    d = diff_versions(_version(1, leagues), _version(2, leagues))
    assert d["added"] == d["removed"] == d["changed"] == []
    assert d["area_gained_km2"] == d["area_lost_km2"] == 0
    assert d["unchanged_count"] == 12


def test_without_codes_features_match_by_name_or_geometry():
    a = [LayerFeature(0, None, "甲", box(0, 0, 1, 1)), LayerFeature(1, None, "乙", box(1, 0, 2, 1))]
    b = [LayerFeature(0, None, "甲", box(0, 0, 1, 1)), LayerFeature(1, None, "乙", box(1, 0, 2, 2))]
    d = diff_versions(_version(1, a), _version(2, b))
    assert d["matched_by"] == "name" and [c["name"] for c in d["changed"]] == ["乙"]
    nameless_a = [LayerFeature(i, None, None, f.geometry) for i, f in enumerate(a)]
    nameless_b = [LayerFeature(i, None, None, f.geometry) for i, f in enumerate(b)]
    d = diff_versions(_version(1, nameless_a), _version(2, nameless_b))
    assert d["matched_by"] == "geometry"
    assert len(d["added"]) == 1 and len(d["removed"]) == 1 and d["changed"] == []
