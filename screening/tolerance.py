"""Absolute tolerances (docs/rules.md §R2.6): what counts as boundary noise, in metres.

A share of the footprint says nothing about error: 1 % of a 1,000 km² area is 10 km². The noise
floor is derived from the location's precision and the layers' stated accuracy instead:
`t = max(precision_m, layer_accuracy_m)`; for a polygon, a band `t` wide along a boundary that
crosses the area (`t · √area`, m²); for a line, `t` metres; points are counted, never slivers.
Without a measured footprint (pure callers), the relative shares of RulebookConfig apply.
"""

from __future__ import annotations

import math

from screening.config import RulebookConfig
from screening.facts import SpatialFacts

UNITS = {"polygon": "平方米", "line": "米", "point": "个点"}


def tolerance_m(spatial: SpatialFacts, config: RulebookConfig) -> float:
    """The positional uncertainty: the location's precision or the layers' accuracy."""
    return max(config.layer_accuracy_m, spatial.precision_m or 0.0)


def noise_floor(spatial: SpatialFacts, config: RulebookConfig) -> float | None:
    """The measure (m² / m / points) at or below which an overlap is boundary noise."""
    m = spatial.footprint_measure
    if m is None or spatial.footprint_type is None:
        return None
    t = tolerance_m(spatial, config)
    if spatial.footprint_type == "polygon":
        return t * math.sqrt(max(m, 0.0))
    if spatial.footprint_type == "line":
        return t
    return 0.0


def measure_of(share: float | None, spatial: SpatialFacts) -> float | None:
    """The absolute measure of a share of the footprint (m², m or points)."""
    return share_measure(share, spatial.footprint_measure)


def share_measure(share: float | None, footprint_measure: float | None) -> float | None:
    """`share` of a footprint that measures `footprint_measure`; None when either is unknown."""
    if share is None or footprint_measure is None:
        return None
    return share * footprint_measure


def above_noise(
    share: float | None,
    footprint_measure: float | None,
    floor: float | None,
    relative_floor: float,
) -> bool:
    """Above the footprint's absolute noise floor `floor` (from `noise_floor`), or, without a
    measured footprint (`floor` None), at least `relative_floor`."""
    s = share or 0.0
    if floor is None:
        return s >= relative_floor
    measure = share_measure(s, footprint_measure) or 0.0
    return s > 0 and measure > floor


def measure_text(measure: float | None, footprint_type: str | None) -> str:
    if measure is None:
        return "面积未测"
    unit = UNITS.get(footprint_type or "", "")
    return f"{measure:,.0f} {unit}".strip()
