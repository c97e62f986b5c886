"""What changed between two versions of a layer series: features added, removed, changed, and
the area gained and lost (km², equal-area)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from layers.model import LayerFeature, LayerVersionData
from layers.validation import area_km2

# Geometric differences below this are noise from re-digitising or conversion, not change.
DEFAULT_MIN_KM2 = 1e-4


def _keys(features: Sequence[LayerFeature], by: str) -> list[str] | None:
    """Keys to match features on: code or name when every feature has a unique one."""
    if by == "geometry":
        return [shapely.to_wkb(shapely.normalize(f.geometry)).hex() for f in features]
    values = [getattr(f, by) for f in features]
    if values and all(values) and len(set(values)) == len(values):
        return [str(v) for v in values]
    return None


def diff_versions(
    old: LayerVersionData,
    new: LayerVersionData,
    *,
    min_km2: float = DEFAULT_MIN_KM2,
    with_geometry: bool = False,
) -> dict[str, Any]:
    """A JSON-ready diff. `with_geometry` adds the gained/lost parts as GeoJSON for the map."""
    # Match by code when both versions have unique codes, else by name, else by geometry.
    for by in ("code", "name", "geometry"):
        old_keys, new_keys = _keys(old.features, by), _keys(new.features, by)
        if old_keys is not None and new_keys is not None:
            break
    assert old_keys is not None and new_keys is not None
    old_map = dict(zip(old_keys, old.features, strict=True))
    new_map = dict(zip(new_keys, new.features, strict=True))

    added = [_summary(new_map[k], area=True) for k in new_keys if k not in old_map]
    removed = [_summary(old_map[k], area=True) for k in old_keys if k not in new_map]
    changed: list[dict[str, Any]] = []
    pieces: list[dict[str, Any]] = []
    gained_total = sum(a["area_km2"] for a in added)
    lost_total = sum(r["area_km2"] for r in removed)
    if with_geometry:
        pieces += [_piece(new_map[k].geometry, "added", new_map[k]) for k in new_keys
                   if k not in old_map]
        pieces += [_piece(old_map[k].geometry, "removed", old_map[k]) for k in old_keys
                   if k not in new_map]
    for k in new_keys:
        if k not in old_map:
            continue
        a, b = old_map[k], new_map[k]
        gained_geom = shapely.difference(b.geometry, a.geometry)
        lost_geom = shapely.difference(a.geometry, b.geometry)
        gained = float(area_km2(gained_geom)) if not gained_geom.is_empty else 0.0
        lost = float(area_km2(lost_geom)) if not lost_geom.is_empty else 0.0
        geometry_changed = gained >= min_km2 or lost >= min_km2
        if not geometry_changed and b.geometry.geom_type in ("LineString", "MultiLineString"):
            geometry_changed = not shapely.equals_exact(a.geometry, b.geometry, tolerance=1e-7)
        attrs = _attribute_changes(a, b)
        if not geometry_changed and not attrs:
            continue
        entry = _summary(b)
        entry.update({
            "geometry_changed": geometry_changed,
            "area_gained_km2": round(gained, 4),
            "area_lost_km2": round(lost, 4),
            "attributes_changed": attrs,
        })
        changed.append(entry)
        gained_total += gained
        lost_total += lost
        if with_geometry and geometry_changed:
            if gained >= min_km2:
                pieces.append(_piece(gained_geom, "gained", b))
            if lost >= min_km2:
                pieces.append(_piece(lost_geom, "lost", b))
    result: dict[str, Any] = {
        "series": new.series,
        "from_version": old.version_id,
        "to_version": new.version_id,
        "matched_by": by,
        "added": added,
        "removed": removed,
        "changed": changed,
        "unchanged_count": len(new_keys) - len(added) - len(changed),
        "fields_added": sorted(_fields(new) - _fields(old)),
        "fields_removed": sorted(_fields(old) - _fields(new)),
        "area_gained_km2": round(gained_total, 4),
        "area_lost_km2": round(lost_total, 4),
    }
    if with_geometry:
        result["geojson"] = {"type": "FeatureCollection", "features": pieces}
    return result


def _summary(f: LayerFeature, *, area: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"feature_id": f.feature_id, "code": f.code, "name": f.name}
    if area:
        out["area_km2"] = round(float(area_km2(f.geometry)), 4)
    return out


def _attribute_changes(a: LayerFeature, b: LayerFeature) -> dict[str, list[Any]]:
    changes: dict[str, list[Any]] = {}
    if a.code != b.code:
        changes["code"] = [a.code, b.code]
    if a.name != b.name:
        changes["name"] = [a.name, b.name]
    # Only attributes both versions have: a new file's different schema is reported once, as
    # fields_added / fields_removed, not as a change of every feature.
    for key in sorted(set(a.attributes) & set(b.attributes)):
        va, vb = a.attributes.get(key), b.attributes.get(key)
        if va != vb:
            changes[key] = [va, vb]
    return changes


def _fields(version: LayerVersionData) -> set[str]:
    return {k for f in version.features for k in f.attributes}


def _piece(geom: BaseGeometry, change: str, f: LayerFeature) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": mapping(geom),
        "properties": {"change": change, "code": f.code, "name": f.name,
                       "area_km2": round(float(area_km2(geom)), 4)},
    }
