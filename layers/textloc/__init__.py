"""Locate a lead from its text: coordinates written in it first, then an address.

`locate_text(text, crs, units)` → `TextLocation` (candidates best first, each a CGCS2000
geometry with the words it came from), or `TextNotLocated` saying what was understood and what
is missing. `units` supplies the boundary layers: the active county/league layers, and township
or village layers when an analyst has loaded them (`UnitLayers.from_engine`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from layers.crs import CRSSpec, parse_crs, to_cgcs2000
from layers.errors import LayerError
from layers.location import LocationWarning, repair
from layers.model import LayerFeature
from layers.textloc.address import (
    AddressMatch,
    Fine,
    address_index,
    find_address,
    following_finer_name,
    town_aliases,
)
from layers.textloc.coordinates import Reading, find_coordinates, nice_precision
from layers.textloc.normalize import NormalText, normalize
from layers.textloc.units import UnitLayers

__all__ = [
    "Candidate",
    "TextLocation",
    "TextNotLocated",
    "UnitLayers",
    "locate_text",
]

FIELD = "location.text"
MAX_TEXT_CHARS = 5000


class TextNotLocated(LayerError):
    """Text in which no place of the region could be read."""

    def __init__(self, message: str, field: str, understood: Sequence[str]) -> None:
        super().__init__(message, field)
        self.understood = tuple(understood)


@dataclass(frozen=True, slots=True)
class Unit:
    level: str  # league | county | township | village
    code: str
    name: str

    def to_dict(self) -> dict[str, str]:
        return {"level": self.level, "code": self.code, "name": self.name}


@dataclass(frozen=True, slots=True)
class Candidate:
    method: str  # "coordinates_in_text" | "address"
    matched: str  # the exact words of the text it came from
    span: tuple[int, int]  # offsets of `matched` in the original text
    geometry: BaseGeometry | None  # EPSG:4490 (a unit's polygon for an address)
    unit: Unit | None
    precision_m: float | None
    score: float
    coarse: bool  # an address: the lead is somewhere in `unit`, not the whole of it
    crs: str | None = None
    conversion: str | None = None
    league_code: str | None = None
    county: Unit | None = None  # the county the candidate lies in (for the rulebook)
    unresolved_parts: tuple[str, ...] = ()
    warnings: tuple[LocationWarning, ...] = ()
    label: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The API's candidate (POST /geocode)."""
        return {
            "method": self.method,
            "matched": self.matched,
            "span": list(self.span),
            "geometry": mapping(self.geometry) if self.geometry is not None else None,
            "unit": self.unit.to_dict() if self.unit else None,
            "precision_m": self.precision_m,
            "score": self.score,
            "unresolved_parts": list(self.unresolved_parts),
            "warnings": [w.to_dict() for w in self.warnings],
            **({"label": self.label} if self.label else {}),
        }

    def brief(self) -> dict[str, Any]:
        """An alternative inside `location_resolution.candidates` (no geometry body)."""
        out = self.to_dict()
        out.pop("geometry")
        out["point"] = (
            list(self.geometry.representative_point().coords[0])
            if self.geometry is not None
            else None
        )
        return out


@dataclass(frozen=True, slots=True)
class TextLocation:
    candidates: tuple[Candidate, ...]  # best first
    warnings: tuple[LocationWarning, ...] = ()
    understood: tuple[str, ...] = ()

    @property
    def best(self) -> Candidate:
        return self.candidates[0]

    @property
    def needs_verification(self) -> bool:
        """Two readings both inside the region: the officer must pick (never a guess)."""
        return len(self.candidates) > 1 and self.candidates[1].score >= self.candidates[0].score

    def resolution(self, method: str | None = None) -> dict[str, Any]:
        """`location_resolution` (API.md) for the best candidate."""
        best = self.best
        warnings = [*best.warnings, *self.warnings]
        if self.needs_verification:
            warnings.append(
                LocationWarning(
                    "needs_verification",
                    f"文字有 {len(self.candidates)} 种读法都位于自治区内，已按第一种筛查，"
                    "请核实后选定位置重新筛查。",
                )
            )
        return {
            "method": method or best.method,
            "matched": best.matched,
            "unit": best.unit.to_dict() if best.unit else None,
            "precision_m": best.precision_m,
            "unresolved_parts": list(best.unresolved_parts),
            "candidates": [c.brief() for c in self.candidates[1:]],
            "needs_verification": self.needs_verification,
            "warnings": _unique([w.to_dict() for w in warnings]),
        }


def _unique(items: list[dict[str, str]]) -> list[dict[str, str]]:
    seen: set[tuple[str, str]] = set()
    out = []
    for item in items:
        key = (item["code"], item["message"])
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


# --- coordinates → candidates -----------------------------------------------------------------


def _coordinate_candidates(
    norm: NormalText, readings: Sequence[Reading], units: UnitLayers
) -> tuple[list[Candidate], list[str]]:
    out: list[Candidate] = []
    dropped: list[str] = []
    for r in readings:
        try:
            geometry, note = to_cgcs2000(r.geometry, r.frame, field=FIELD)
            if not geometry.is_valid:
                geometry, _ = repair(geometry, FIELD)
        except LayerError as exc:
            dropped.append(f"{r.label or r.frame.name}：{exc.message}")
            continue
        county = units.containing("county", geometry)
        unit, county_unit, league = None, None, None
        if county is not None:
            code = str(county.code)
            county_unit = Unit("county", code, str(county.name))
            unit = county_unit
            league = code[:4] + "00"
            for kind in ("village", "township"):
                finer = units.containing(kind, geometry)
                if finer is not None and str(finer.code or "").startswith(code):
                    unit = Unit(kind, str(finer.code), str(finer.name))
                    break
        warnings = list(r.warnings)
        if county is None:
            warnings.append(
                LocationWarning(
                    "outside_region",
                    "文字中的坐标不在内蒙古自治区境内（按所注坐标系换算后），请核对坐标和坐标系。",
                )
            )
        if r.label and len(readings) > 1:
            warnings.append(LocationWarning("reading", f"这是文字坐标的一种读法：{r.label}。"))
        start, end = norm.span(r.start, r.end)
        out.append(
            Candidate(
                method="coordinates_in_text",
                matched=norm.raw[start:end],
                span=(start, end),
                geometry=geometry,
                unit=unit,
                precision_m=nice_precision(r.precision_m),
                score=1.0 if county is not None else 0.3,
                coarse=False,
                crs=r.frame.name,
                conversion=note,
                league_code=league,
                county=county_unit,
                warnings=tuple(warnings),
                label=r.label,
            )
        )
    inside = [c for c in out if c.county is not None]
    if len(inside) > 1:  # several readings land in the region: equally likely, verify
        inside = [_with_score(c, 0.5) for c in inside]
    return inside or out, dropped


def _with_score(c: Candidate, score: float) -> Candidate:
    return Candidate(**{**{f: getattr(c, f) for f in c.__dataclass_fields__}, "score": score})


# --- address → candidates ---------------------------------------------------------------------


def _layer_towns(units: UnitLayers, county: str) -> dict[str, str]:
    names: dict[str, str] = {}
    for feature in units.named_in("township", county):
        if feature.name:
            for alias in town_aliases(str(feature.name)):
                names.setdefault(alias, str(feature.name))
    return names


def _refine(units: UnitLayers, kind: str, county: str, fine: Fine) -> LayerFeature | None:
    wanted = {fine.name, *town_aliases(fine.name)} if kind == "township" else {fine.name}
    for feature in units.named_in(kind, county):
        if str(feature.name) in wanted:
            return feature
    return None


def _address_candidate(norm: NormalText, m: AddressMatch, units: UnitLayers) -> Candidate:
    index = address_index()
    words = list(m.mentions) + [f.mention for f in (m.township, m.village) if f is not None]
    start = min(w.start for w in words) if words else 0
    end = max(w.end for w in words) if words else 0
    unknown = following_finer_name(norm.plain, end) if words and m.county_code else None
    if unknown is not None:
        end = unknown.end
    raw_start, raw_end = norm.span(start, end) if words else (0, 0)
    warnings = [LocationWarning("address_read", n) for n in m.notes]
    unresolved: list[str] = []
    if m.county_code is None:
        feature = units.by_code("league", m.league_code)
        unit = Unit("league", m.league_code, index.name_of(m.league_code))
        county_unit = None
    else:
        feature = units.by_code("county", m.county_code)
        unit = county_unit = Unit("county", m.county_code, index.name_of(m.county_code))
        for kind, fine in (("township", m.township), ("village", m.village)):
            if fine is None:
                continue
            found = _refine(units, kind, m.county_code, fine)
            if found is not None and (kind == "village" or not unresolved):
                feature = found
                unit = Unit(kind, str(found.code), str(found.name))
            else:
                unresolved.append(fine.mention.text)  # as the text writes it
        if unknown is not None:
            unresolved.append(unknown.text)
            warnings.append(
                LocationWarning(
                    "name_not_in_dictionary",
                    f"“{unknown.text}”不在区划词典中，未能核对其所属，原样保留。",
                )
            )
        if unresolved:
            warnings.append(
                LocationWarning(
                    "unresolved_parts",
                    f"{'、'.join(unresolved)}：没有已加载的乡镇或村级界线图层，位置只确定到"
                    f"{unit.name}；加载 township/village 图层后可细化。",
                )
            )
    geometry = feature.geometry if feature is not None else None
    precision = nice_precision(units.radius_m(feature)) if feature is not None else None
    return Candidate(
        method="address",
        matched=norm.raw[raw_start:raw_end],
        span=(raw_start, raw_end),
        geometry=geometry,
        unit=unit,
        precision_m=precision,
        score=m.score + (0.1 if unit.level in ("township", "village") else 0.0),
        coarse=True,
        league_code=m.league_code,
        county=county_unit,
        unresolved_parts=tuple(unresolved),
        warnings=tuple(warnings),
    )


# --- the entry point --------------------------------------------------------------------------


def locate_text(
    text: str,
    crs: str | CRSSpec | None = None,
    *,
    units: UnitLayers | Callable[[], UnitLayers],
    field: str = FIELD,
) -> TextLocation:
    """Read a location from a lead's text; TextNotLocated (naming `field`) when there is none.

    `crs`: the frame of coordinates written in the text when the text does not say; None
    means the text (or the CGCS2000 default, said in a warning) decides.
    """
    if not isinstance(text, str) or not text.strip():
        raise TextNotLocated("线索文字为空：请粘贴线索原文（地址、坐标或地图链接）。", field, ())
    if len(text) > MAX_TEXT_CHARS:
        raise TextNotLocated(
            f"线索文字过长（{len(text)} 字），请只粘贴与位置有关的部分"
            f"（不超过 {MAX_TEXT_CHARS} 字）。",
            field,
            (),
        )
    prefix = field.rpartition(".")[0]
    spec = parse_crs(crs, field=f"{prefix}.crs" if prefix else "crs") if crs is not None else None
    layers = units() if callable(units) else units
    norm = normalize(text)
    coords = find_coordinates(norm.text, spec)
    understood = list(coords.understood)
    candidates, dropped = _coordinate_candidates(norm, coords.readings, layers)
    warnings = list(coords.warnings)
    extra = {c: _layer_towns(layers, c) for c in _counties_with_towns(layers)}
    address = find_address(norm.plain, extra)
    understood += [u for u in address.understood if u not in understood]
    addressed = [_address_candidate(norm, m, layers) for m in address.matches]
    if candidates:
        best = candidates[0]
        if addressed and best.county is not None:
            named = {a.county.code if a.county else a.league_code for a in addressed}
            if best.county.code not in named and best.league_code not in named:
                warnings.append(
                    LocationWarning(
                        "address_disagrees",
                        f"文字中的地址（{'、'.join(a.unit.name for a in addressed if a.unit)}）"
                        f"与坐标所在的{best.county.name}不一致，请核实。",
                    )
                )
        return TextLocation(
            tuple(sorted(candidates, key=lambda c: -c.score)), tuple(warnings), tuple(understood)
        )
    if addressed:
        addressed.sort(key=lambda c: -c.score)
        return TextLocation(tuple(addressed), tuple(warnings), tuple(understood))
    raise _hopeless(field, understood, dropped, address.outside_region, warnings)


def _counties_with_towns(units: UnitLayers) -> set[str]:
    return {str(f.code)[:6] for f in units.named_in("township", "") if f.code}


def _hopeless(
    field: str,
    understood: Sequence[str],
    dropped: Sequence[str],
    outside: str | None,
    warnings: Sequence[LocationWarning],
) -> TextNotLocated:
    said = "；".join(understood) if understood else "没有读到坐标、地图链接或内蒙古自治区的地名"
    if outside:
        missing = (
            f"文字中的地点是{outside}，不在内蒙古自治区。请核实线索，或提供自治区内的地址或坐标"
        )
    else:
        missing = (
            "缺少可定位的信息：请补充旗县（市、区）名称（可带苏木乡镇、嘎查村），"
            "或经纬度（如 东经111°12′36″，北纬39°50′12″）、测量坐标（X=北坐标，Y=带号+东坐标）、"
            "高德/百度/腾讯地图链接"
        )
    extra = "；".join([*dropped, *(w.message for w in warnings)])
    return TextNotLocated(
        f"无法从线索文字确定位置。已读到：{said}。{missing}。" + (f"（{extra}）" if extra else ""),
        field,
        understood,
    )
