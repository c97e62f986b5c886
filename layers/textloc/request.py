"""A request's `location.text` → what the screening pipeline needs, and `location_resolution`.

- Coordinates in the text: the geometry (EPSG:4490) is screened like a submitted geometry.
- An address: a coarse location (the county, or the league) — the rulebook decides what it can
  and sends the rest to verification (R1), whatever finer unit the text named.
- Several readings inside the region: never a guess. The lead is screened as the smallest unit
  holding every reading (county or league) with `needs_verification`; when the readings are in
  different leagues the request is refused, listing them, so the officer picks one.
- Text with a geometry: the geometry is the location; the text's reading is reported beside
  it, with a warning when the two disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shapely.geometry.base import BaseGeometry

from layers.admin_names import resolve_admin_name
from layers.crs import CRSSpec
from layers.location import LocationWarning
from layers.measure import geodesic_distance_m
from layers.textloc import FIELD, Candidate, TextLocation, TextNotLocated, UnitLayers, locate_text
from screening.facts import CoarseLocation

# How far a point read from the text may lie from the submitted geometry before it is said.
DISAGREE_M = 1000.0


@dataclass(frozen=True, slots=True)
class TextResolved:
    geometry: BaseGeometry | None  # EPSG:4490, when the text held coordinates
    coarse: CoarseLocation | None  # when it held an address (or ambiguous readings)
    precision_m: float | None
    crs: str | None
    conversion: str | None
    warnings: tuple[LocationWarning, ...]
    resolution: dict[str, Any]  # `location_resolution` (API.md)


def _coarse(code: str) -> CoarseLocation:
    """A county or league code → the rulebook's coarse location (the gazetteer's own)."""
    return resolve_admin_name(code, FIELD)


def _common_unit(candidates: tuple[Candidate, ...]) -> CoarseLocation | None:
    counties = {c.county.code for c in candidates if c.county is not None}
    leagues = {c.league_code for c in candidates if c.league_code}
    if len(counties) == 1 and all(c.county is not None for c in candidates):
        return _coarse(next(iter(counties)))
    if len(leagues) == 1:
        return _coarse(next(iter(leagues)))
    return None


def _ambiguous_error(located: TextLocation, field: str) -> TextNotLocated:
    listed = "；".join(
        f"{c.label or c.matched} → {c.unit.name if c.unit else '区外'}" for c in located.candidates
    )
    coordinates = located.best.method == "coordinates_in_text"
    hint = (
        "请注明带号或中央经线（测量坐标）、坐标系"
        if coordinates
        else "请在地名前写明盟市或旗县（如“呼和浩特市清水河县城关镇”）"
    )
    return TextNotLocated(
        f"线索文字有 {len(located.candidates)} 种读法，分属不同盟市，无法确定管辖：{listed}。"
        f"{hint}，或在 /screen 页面选定一种读法后再筛查。",
        field,
        located.understood,
    )


def resolve_text(
    text: str,
    crs: str | CRSSpec | None,
    units: UnitLayers,
    *,
    field: str = FIELD,
) -> TextResolved:
    """The location a lead's text gives (no geometry submitted). Raises TextNotLocated."""
    located = locate_text(text, crs, units=units, field=field)
    best = located.best
    resolution = located.resolution()
    warnings = [LocationWarning(w["code"], w["message"]) for w in resolution["warnings"]]
    if located.needs_verification:
        common = _common_unit(located.candidates)
        if common is None:
            raise _ambiguous_error(located, field)
        resolution["unit"] = {"level": common.level, "code": common.code, "name": common.name}
        resolution["candidates"] = [c.brief() for c in located.candidates]
        return TextResolved(None, common, None, None, None, tuple(warnings), resolution)
    if best.method == "coordinates_in_text":
        return TextResolved(
            best.geometry,
            None,
            best.precision_m,
            best.crs,
            best.conversion,
            tuple(warnings),
            resolution,
        )
    unit = best.county or best.unit
    assert unit is not None
    coarse = _coarse(unit.code)
    return TextResolved(None, coarse, best.precision_m, None, None, tuple(warnings), resolution)


def beside_geometry(
    text: str, crs: str | CRSSpec | None, units: UnitLayers, geometry: BaseGeometry
) -> dict[str, Any]:
    """`location_resolution` when a geometry was submitted with the text: the geometry decides;
    the text's reading is listed, and a disagreement said."""
    out: dict[str, Any] = geometry_resolution()
    try:
        located = locate_text(text, crs, units=units)
    except TextNotLocated as exc:
        out["warnings"].append({"code": "text_not_located", "message": exc.message})
        return out
    out["candidates"] = [c.brief() for c in located.candidates]
    best = located.best
    if best.geometry is None:
        return out
    if best.coarse:
        agrees = best.geometry.intersects(geometry)
    else:
        agrees = geodesic_distance_m(best.geometry, geometry) <= DISAGREE_M
    if not agrees:
        where = best.unit.name if best.unit else best.matched
        out["warnings"].append(
            {
                "code": "text_disagrees_with_geometry",
                "message": f"线索文字中的位置（“{best.matched}”，{where}）与提交的图形不一致，"
                "已按图形筛查，请核实。",
            }
        )
    return out


def geometry_resolution(precision_m: float | None = None) -> dict[str, Any]:
    return {
        "method": "geometry",
        "matched": None,
        "unit": None,
        "precision_m": precision_m,
        "unresolved_parts": [],
        "candidates": [],
        "warnings": [],
    }


def admin_resolution(coarse: CoarseLocation, admin_name: str) -> dict[str, Any]:
    return {
        "method": "admin_name",
        "matched": admin_name,
        "unit": {"level": coarse.level, "code": coarse.code, "name": coarse.name},
        "precision_m": None,
        "unresolved_parts": [],
        "candidates": [],
        "warnings": [],
    }
