"""Survey coordinates in a lead's text: X/Y in the Chinese order (X northing, Y easting), and the
Gauss-Krüger frame they are in — from the zone number in front of the easting, a stated central
meridian or zone, the datum named (CGCS2000, 西安80, 北京54), or the request's `crs`; when nothing
says which zone, every 3° zone over the region is a reading (the caller keeps those in it)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from pyproj import CRS

from layers.crs import CRSSpec, parse_crs
from layers.location import LocationWarning
from layers.textloc.normalize import decimals

_XIAN80 = re.compile(r"西安\s?80|1980西安|西安1980|80坐标系")
_BEIJING54 = re.compile(r"北京\s?54|1954北京|北京1954|54坐标系")

_SURVEY_LABELED = re.compile(
    r"(?<![A-Za-z])(?P<axis>[XxYy]|北坐标|东坐标|纵坐标|横坐标)\s*(?:坐标)?\s*[=:]?\s*"
    r"(?<![\d.])(?P<v>\d{6,8}(?:\.\d+)?)(?![\d])"
)
_SURVEY_PAIR = re.compile(
    r"(?<![\d.])(?P<a>\d{6,8}(?:\.\d+)?)\s*[,，、;；/\s]\s*(?P<b>\d{6,8}(?:\.\d+)?)(?![\d.])"
)
_CENTRAL_MERIDIAN = re.compile(
    r"(?:中央子午线|中央经线|中央经度|CM)\s*[:=为]?\s*(?P<cm>\d{2,3})\s*°?", re.I
)
_ZONE = re.compile(r"(?:第\s*)?(?P<zone>\d{2})\s*(?:号)?带|带号\s*[:=为]?\s*(?P<zone2>\d{2})")
_SIX_DEGREE = re.compile(r"6\s*°\s*带|六度带")

_NORTHING = (3_500_000.0, 6_200_000.0)  # Inner Mongolia and a margin, metres from the equator
_EASTING = (150_000.0, 850_000.0)  # within one zone, false easting 500 km


@dataclass(frozen=True, slots=True)
class SurveyPoint:
    northing: float
    easting: float  # as written (may carry the zone prefix)
    start: int
    end: int
    resolution_m: float


def survey_points(text: str) -> tuple[list[SurveyPoint], list[LocationWarning]]:
    warnings: list[LocationWarning] = []
    labeled = list(_SURVEY_LABELED.finditer(text))
    out: list[SurveyPoint] = []
    used: list[tuple[int, int]] = []
    i = 0
    while i + 1 < len(labeled):
        a, b = labeled[i], labeled[i + 1]
        axes = {_axis(a.group("axis")), _axis(b.group("axis"))}
        if axes != {"x", "y"} or len(text[a.end() : b.start()].strip(" ,，、;；")) > 4:
            i += 1
            continue
        x_m, y_m = (a, b) if _axis(a.group("axis")) == "x" else (b, a)
        x, y = float(x_m.group("v")), float(y_m.group("v"))
        northing, easting, swapped = _order_survey(x, y)
        if northing is None:
            i += 1
            continue
        if swapped:
            warnings.append(
                LocationWarning(
                    "survey_axes_swapped",
                    f"测量坐标 X={x_m.group('v')}、Y={y_m.group('v')}：按我国测量习惯 X 为北坐标、"
                    "Y 为东坐标（含带号），文字中的 X/Y 似乎按 GeoJSON 的 x/y 书写，已交换。",
                )
            )
        res = 10 ** -min(decimals(x_m.group("v")), decimals(y_m.group("v")))
        out.append(SurveyPoint(northing, easting, a.start(), b.end(), res))
        used.append((a.start(), b.end()))
        i += 2
    for m in _SURVEY_PAIR.finditer(text):
        if any(s <= m.start() < e for s, e in used):
            continue
        northing, easting, swapped = _order_survey(float(m.group("a")), float(m.group("b")))
        if northing is None:
            continue
        if swapped:
            warnings.append(
                LocationWarning(
                    "survey_order_inferred",
                    f"未标注 X/Y 的测量坐标 {m.group('a')}、{m.group('b')}：按数值判断"
                    f"北坐标为 {northing:.2f}，东坐标为 {easting:.2f}。",
                )
            )
        res = 10 ** -min(decimals(m.group("a")), decimals(m.group("b")))
        out.append(SurveyPoint(northing, easting, m.start(), m.end(), res))
    out.sort(key=lambda p: p.start)
    return out, warnings


def _axis(label: str) -> str:
    return "x" if label in ("X", "x", "北坐标", "纵坐标") else "y"


def _is_northing(v: float) -> bool:
    return _NORTHING[0] <= v <= _NORTHING[1]


def _is_easting(v: float) -> bool:
    zone, local = divmod(v, 1_000_000)
    if zone == 0:
        return _EASTING[0] <= v <= _EASTING[1]
    return (13 <= zone <= 23 or 25 <= zone <= 45) and _EASTING[0] <= local <= _EASTING[1]


def _order_survey(x: float, y: float) -> tuple[float | None, float, bool]:
    """(northing, easting, swapped) from the values labelled X and Y (Chinese order)."""
    if _is_northing(x) and _is_easting(y):
        return x, y, False
    if _is_northing(y) and _is_easting(x):
        return y, x, True
    return None, 0.0, False


def survey_frames(
    text: str, eastings: Sequence[float], request_crs: CRSSpec | None
) -> tuple[list[tuple[CRSSpec, str]], list[LocationWarning]]:
    """The projected frame(s) the survey coordinates can be in, each with a label (Chinese)."""
    warnings: list[LocationWarning] = []
    datum = "CGCS2000"
    if _XIAN80.search(text):
        datum = "Xian80"
    elif _BEIJING54.search(text):
        datum = "Beijing54"
    if datum != "CGCS2000":
        warnings.append(
            LocationWarning(
                "old_datum",
                f"文字注明为{'西安80' if datum == 'Xian80' else '北京54'}坐标：其与 CGCS2000 之间"
                "没有可用的官方转换参数，PROJ 按近似转换，误差可达数十米。"
                "请尽量提供 CGCS2000 坐标。",
            )
        )
    prefixed = {int(e // 1_000_000) for e in eastings if e >= 1_000_000}
    cm_match = _CENTRAL_MERIDIAN.search(text)
    zone_match = _ZONE.search(text)
    six = bool(_SIX_DEGREE.search(text))
    if len(prefixed) > 1:
        warnings.append(
            LocationWarning(
                "mixed_zones", f"各点的带号不一致（{sorted(prefixed)}），按第一个点的带号处理。"
            )
        )
    if prefixed:
        zone = int(eastings[0] // 1_000_000)
        if cm_match and int(cm_match.group("cm")) != zone * 3 and 25 <= zone <= 45:
            warnings.append(
                LocationWarning(
                    "central_meridian_conflict",
                    f"文字中的中央经线 {cm_match.group('cm')}° 与东坐标的带号 {zone}"
                    f"（中央经线 {zone * 3}°）不符，按带号处理。",
                )
            )
        return [(_gk_spec(datum, zone=zone), f"{zone} 带（带号取自东坐标）")], warnings
    if cm_match:
        cm = int(cm_match.group("cm"))
        spec = _gk_spec(datum, cm=cm, six=six)
        if spec is not None:
            return [(spec, f"中央经线 {cm}°")], warnings
    if zone_match:
        zone = int(zone_match.group("zone") or zone_match.group("zone2"))
        spec = _gk_spec(datum, cm=zone * 6 - 3 if six else zone * 3, six=six)
        if spec is not None:
            return [(spec, f"{zone} 带")], warnings
    if request_crs is not None and request_crs.kind == "projected":
        return [(request_crs, f"请求中的 crs（{request_crs.name}）")], [
            LocationWarning(
                "frame_from_request",
                f"测量坐标未注明带号或中央经线，按请求中的 crs（{request_crs.name}）处理。",
            )
        ]
    # Nothing says which zone: every 3° zone over Inner Mongolia is a reading.
    return [
        (_gk_spec(datum, cm=cm), f"中央经线 {cm}°（文字未注明，推测）") for cm in range(99, 127, 3)
    ], warnings


def _gk_spec(datum: str, *, zone: int | None = None, cm: int | None = None, six: bool = False):
    """The EPSG code of a Gauss-Krüger zone: with the zone prefix, or by central meridian."""
    if zone is not None:
        if 25 <= zone <= 45:
            base = {"CGCS2000": 4513, "Xian80": 2349, "Beijing54": 2401}[datum]
            return parse_crs(f"EPSG:{base + zone - 25}")
        if 13 <= zone <= 23:
            base = {"CGCS2000": 4491, "Xian80": 2327, "Beijing54": 21413}[datum]
            return parse_crs(f"EPSG:{base + zone - 13}")
        return None
    assert cm is not None
    if six:
        if (cm + 3) % 6 or not 75 <= cm <= 135:
            return None
        base = {"CGCS2000": 4502, "Xian80": 2338, "Beijing54": 21453}[datum]
        return parse_crs(f"EPSG:{base + (cm - 75) // 6}")
    if cm % 3 or not 75 <= cm <= 135:
        return None
    base = {"CGCS2000": 4534, "Xian80": 2370, "Beijing54": 2422}[datum]
    return parse_crs(f"EPSG:{base + (cm - 75) // 3}")


def meridian_spans(text: str) -> list[tuple[int, int]]:
    """Where the text states a central meridian (its number is not a longitude)."""
    return [m.span() for m in _CENTRAL_MERIDIAN.finditer(text)]


@lru_cache(maxsize=64)
def expects_zone_prefix(spec: CRSSpec) -> bool:
    """Whether the CRS's eastings carry the zone number (false easting of millions of metres)."""
    if spec.epsg is None:
        return False
    operation = CRS.from_epsg(spec.epsg).coordinate_operation
    params = operation.params if operation is not None else []
    false_easting = next((p.value for p in params if p.name.lower() == "false easting"), 0.0)
    return float(false_easting) >= 1_000_000
