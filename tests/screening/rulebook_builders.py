"""Small builders for rulebook tests: facts that read like the situation they describe."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from screening.facts import AreaHit, CoarseLocation, NearbyHit, SpatialFacts
from screening.units import UNITS_BY_CODE

PROVINCE_NAMES = {
    "150000": "内蒙古自治区",
    "640000": "宁夏回族自治区",
    "620000": "甘肃省",
    "230000": "黑龙江省",
    "210000": "辽宁省",
}
COUNTRY_NAMES_EN = {"MNG": "Mongolia", "RUS": "Russia", "CHN": "China"}


def hit(
    kind: str,
    code: str | None,
    share: float = 1.0,
    *,
    name: str | None = None,
    layer: str | None = None,
    version: int = 1,
    fid: int | str | None = None,
) -> AreaHit:
    if name is None and code is not None:
        unit = UNITS_BY_CODE.get(code)
        name = unit.name if unit else PROVINCE_NAMES.get(code) or COUNTRY_NAMES_EN.get(code, code)
    return AreaHit(kind, layer or kind, version, fid if fid is not None else code or name or "f",
                   code, name, share)  # fmt: skip


def league(code: str, share: float = 1.0) -> AreaHit:
    return hit("league", code, share)


def province(code: str = "150000", share: float = 1.0) -> AreaHit:
    return hit("province", code, share)


def country(code: str, share: float) -> AreaHit:
    return hit("country", code, share)


def sensitive(
    kind: str, name: str, share: float = 1.0, fid: str = "f1", version: int = 7
) -> AreaHit:
    return hit(kind, None, share, name=name, fid=fid, version=version)


def spatial(*hits: AreaHit, footprint: str = "polygon", **kw: Any) -> SpatialFacts:
    grouped: dict[str, list[AreaHit]] = defaultdict(list)
    for h in hits:
        grouped[h.kind].append(h)
    versions = {k: 1 for k in grouped} | {"league": 3}
    return SpatialFacts(footprint, hits=dict(grouped), layer_versions=versions, **kw)  # type: ignore[arg-type]


def in_league(code: str = "150700", *extra: AreaHit, footprint: str = "polygon", **kw: Any
              ) -> SpatialFacts:  # fmt: skip
    """An area wholly inside one league (and so inside the region)."""
    return spatial(league(code), province(), *extra, footprint=footprint, **kw)


def near(kind: str, code: str | None, distance_m: float, name: str | None = None) -> NearbyHit:
    if name is None and code is not None:
        unit = UNITS_BY_CODE.get(code)
        name = unit.name if unit else code
    return NearbyHit(kind, kind, 1, code or name or "n", code, name, distance_m)


def coarse(code: str, name: str, level: str, league_code: str) -> SpatialFacts:
    unit = UNITS_BY_CODE[league_code]
    loc = CoarseLocation(code, name, level, league_code, unit.name)  # type: ignore[arg-type]
    return SpatialFacts(None, coarse=loc)
