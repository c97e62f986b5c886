"""Coordinates written in a lead's text → readings (a geometry in a stated or implied frame).

What is read, after `normalize` (full-width folded, 度分秒 marks unified to °′″):
- longitude/latitude in decimal degrees or degrees-minutes(-seconds): 111.21, 111.21°,
  111°12.6′, 111°12′36″, 111度12分36秒, 111-12-36, 111:12:36; labelled 东经/北纬/经度/纬度/E/N/
  lon/lat (before or after the number) in either order; unlabelled pairs are told apart by value
  (in China every latitude is below 54° and every longitude above 73°);
- survey X/Y in the Chinese order (X northing, Y easting), the easting with its Gauss-Krüger zone
  number in front (3° zones 25–45, 6° zones 13–23) or with a stated central meridian or zone;
  written as GeoJSON x/y (easting first) they are recognised by their size and swapped back;
- links from map apps (Amap/高德, Tencent/腾讯, Baidu/百度) with the frame each app uses;
- three or more points with a word for a boundary (拐点, 界址点, 范围 …) form a polygon.

Frames: the text's own words (GCJ-02, 百度坐标, WGS84, 西安80 …) win over the request's `crs`,
which wins over the CGCS2000 default; whatever was assumed is said in a warning.
Survey X/Y are read in `survey.py`, map-app links in `links.py`; this module reads degrees and
assembles the readings.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from shapely.geometry import MultiPoint, Point, Polygon
from shapely.geometry.base import BaseGeometry

from layers.crs import BD09, CGCS2000, GCJ02, WGS84, CRSSpec
from layers.location import LocationWarning
from layers.textloc.links import MAP_LINK, link_point
from layers.textloc.normalize import decimals
from layers.textloc.survey import (
    expects_zone_prefix,
    meridian_spans,
    survey_frames,
    survey_points,
)

# --- frames named in the text -----------------------------------------------------------------

_GEO_FRAME_WORDS: tuple[tuple[re.Pattern[str], CRSSpec], ...] = (
    (
        re.compile(
            r"GCJ[-_ ]?02|火星坐标|国测局坐标|高德坐标|腾讯坐标|高德地图|腾讯地图|微信位置", re.I
        ),
        GCJ02,
    ),
    (re.compile(r"BD[-_ ]?09|百度坐标|百度地图|百度经纬度", re.I), BD09),
    (re.compile(r"WGS[-_ ]?84|GPS坐标|GPS定位|奥维", re.I), WGS84),
    (re.compile(r"CGCS\s?2000|2000国家大地坐标系|国家2000|2000坐标系", re.I), CGCS2000),
)
_POLYGON_WORDS = re.compile(r"拐点|界址点|界址|范围|多边形|四至|围成|闭合|边界点|矢量范围|图斑")

# Inner Mongolia spans 97.2–126.1°E, 37.4–53.4°N; China 73–136°E, 3–54°N.
_LON_RANGE = (72.0, 137.0)
_LAT_RANGE = (3.0, 56.0)
M_PER_DEG = 111_320.0

# --- longitude/latitude -----------------------------------------------------------------------

_NUM = r"\d{1,3}(?:\.\d+)?"
_ANGLE = re.compile(
    r"(?P<label>东经|北纬|西经|南纬|经度|纬度|longitude|latitude|lon|lng|lat|[EeNn](?![a-zA-Z]))?"
    r"\s*[:=]?\s*(?<![\d.])"
    r"(?:"
    r"(?P<d>\d{1,3})\s*°\s*(?P<m>\d{1,2}(?:\.\d+)?)\s*′\s*(?:(?P<s>\d{1,2}(?:\.\d+)?)\s*″?)?"
    r"|(?P<hd>\d{1,3})[-:](?P<hm>\d{1,2})[-:](?P<hs>\d{1,2}(?:\.\d+)?)(?![\d-])"
    r"|(?P<dd>" + _NUM + r")\s*°"
    r"|(?P<bare>\d{1,3}\.\d{2,})(?![\d.])"
    r")"
    r"(?:\s*(?P<hemi>[EeNn])(?![a-zA-Z]))?",
    re.I,
)
_LON_LABELS = {"东经", "经度", "longitude", "lon", "lng", "e"}
_LAT_LABELS = {"北纬", "纬度", "latitude", "lat", "n"}


@dataclass(frozen=True, slots=True)
class Point2:
    x: float  # longitude or easting, in `frame`
    y: float  # latitude or northing
    start: int
    end: int
    precision_m: float


@dataclass(frozen=True, slots=True)
class Reading:
    """One way to read the coordinates in the text: a geometry in `frame`, with its evidence."""

    geometry: BaseGeometry
    frame: CRSSpec
    start: int  # offsets in the normalised text
    end: int
    precision_m: float
    kind: str  # "geographic" | "survey" | "link"
    warnings: tuple[LocationWarning, ...] = ()
    label: str = ""  # what distinguishes this reading from its alternatives (Chinese)


@dataclass
class Findings:
    readings: list[Reading] = field(default_factory=list)
    understood: list[str] = field(default_factory=list)  # for a 422 that says what was read
    warnings: list[LocationWarning] = field(default_factory=list)


# --- frames -----------------------------------------------------------------------------------


def _text_geo_frame(text: str) -> CRSSpec | None:
    for pattern, spec in _GEO_FRAME_WORDS:
        if pattern.search(text):
            return spec
    return None


def _frame_for_degrees(text: str, request_crs: CRSSpec | None) -> tuple[CRSSpec, LocationWarning]:
    stated = _text_geo_frame(text)
    if stated is not None:
        if request_crs is not None and request_crs.is_geographic and request_crs != stated:
            note = f"；请求中的 crs（{request_crs.name}）与文字不符，已按文字处理"
        else:
            note = ""
        return stated, LocationWarning(
            "frame_from_text", f"文字注明了坐标系，按 {stated.title} 处理{note}。"
        )
    if request_crs is not None and request_crs.is_geographic:
        return request_crs, LocationWarning(
            "frame_from_request", f"文字未注明坐标系，按请求中的 crs（{request_crs.name}）处理。"
        )
    return CGCS2000, LocationWarning(
        "frame_assumed",
        "文字未注明坐标系，按 CGCS2000（EPSG:4490）处理；若坐标来自高德、腾讯或微信位置请注明"
        "GCJ02，来自百度地图请注明 BD09（两者与真实位置相差 300–700 米）。",
    )


# --- degrees ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Angle:
    value: float
    axis: str | None  # "lon" | "lat" | None
    start: int
    end: int
    resolution_m: float
    negative: bool = False


def _angle(match: re.Match[str]) -> _Angle | None:
    g = match.groupdict()
    if g["d"] is not None:
        d, m = float(g["d"]), float(g["m"])
        if m >= 60:
            return None
        if g["s"] is not None:
            s = float(g["s"])
            if s >= 60:
                return None
            value = d + m / 60 + s / 3600
            resolution = 30.0 * 10 ** -decimals(g["s"])
        else:
            value = d + m / 60
            resolution = 1852.0 * 10 ** -decimals(g["m"])
    elif g["hd"] is not None:
        d, m, s = float(g["hd"]), float(g["hm"]), float(g["hs"])
        if m >= 60 or s >= 60:
            return None
        value = d + m / 60 + s / 3600
        resolution = 30.0 * 10 ** -decimals(g["hs"])
    else:
        number = g["dd"] or g["bare"]
        value = float(number)
        resolution = M_PER_DEG * 10 ** -decimals(number)
    axis = None
    negative = False
    for word in (g["label"], g["hemi"]):
        if not word:
            continue
        w = word.lower()
        if w in _LON_LABELS:
            axis = "lon"
        elif w in _LAT_LABELS:
            axis = "lat"
        elif w in ("西经", "南纬"):
            axis, negative = ("lon" if w == "西经" else "lat"), True
    start = (
        match.start("label")
        if g["label"]
        else match.start() + (len(match.group()) - len(match.group().lstrip()))
    )
    return _Angle(value, axis, start, match.end(), max(resolution, 0.01), negative)


def _angles(text: str) -> list[_Angle]:
    out = []
    for match in _ANGLE.finditer(text):
        a = _angle(match)
        if a is None:
            continue
        if a.value > 180:
            continue
        out.append(a)
    return out


def _pair_angles(text: str, angles: Sequence[_Angle]) -> tuple[list[Point2], list[LocationWarning]]:
    """Consecutive angles that make a (lon, lat) pair, by label or, unlabelled, by value."""
    points: list[Point2] = []
    warnings: list[LocationWarning] = []
    i = 0
    while i + 1 < len(angles):
        a, b = angles[i], angles[i + 1]
        gap = text[a.end : b.start]
        if len(gap.strip(" ,，、;；/和与及")) > 6:
            i += 1
            continue
        pair = _as_lonlat(a, b, warnings)
        if pair is None:
            i += 1
            continue
        lon, lat = pair
        if a.negative or b.negative:
            warnings.append(
                LocationWarning("western_or_southern", "文字写的是西经或南纬，不在我国境内。")
            )
        points.append(Point2(lon, lat, a.start, b.end, max(a.resolution_m, b.resolution_m)))
        i += 2
    return points, warnings


def _as_lonlat(a: _Angle, b: _Angle, warnings: list[LocationWarning]) -> tuple[float, float] | None:
    if a.axis and b.axis and a.axis == b.axis:
        return None
    if a.axis == "lat" or b.axis == "lon":
        lon, lat = b.value, a.value
    elif a.axis == "lon" or b.axis == "lat":
        lon, lat = a.value, b.value
    else:  # unlabelled: in China a latitude is always the smaller number
        lon, lat = (a.value, b.value) if a.value >= b.value else (b.value, a.value)
        if a.value < b.value:
            warnings.append(
                LocationWarning(
                    "axis_order_inferred",
                    f"坐标未标注经纬度，按数值判断 {b.value:g} 为经度、{a.value:g} 为纬度"
                    "（书写顺序为纬度在前）。",
                )
            )
        if not (_LON_RANGE[0] <= lon <= _LON_RANGE[1] and _LAT_RANGE[0] <= lat <= _LAT_RANGE[1]):
            return None
        return lon, lat
    if not (_LON_RANGE[0] <= lon <= _LON_RANGE[1]) and _LON_RANGE[0] <= lat <= _LON_RANGE[1]:
        warnings.append(
            LocationWarning(
                "axis_labels_swapped",
                f"文字中的经度、纬度标注似乎写反了（经度 {lon:g}、纬度 {lat:g}），已按数值交换。",
            )
        )
        lon, lat = lat, lon
    if not (_LON_RANGE[0] <= lon <= _LON_RANGE[1] and _LAT_RANGE[0] <= lat <= _LAT_RANGE[1]):
        return None
    return lon, lat


def _links(text: str, findings: Findings) -> list[tuple[int, int]]:
    spans = []
    for m in MAP_LINK.finditer(text):
        spans.append((m.start(), m.end()))
        got = link_point(m.group())
        if isinstance(got, str):
            findings.understood.append(f"地图链接 {m.group()}")
            findings.warnings.append(LocationWarning("short_link", got))
            continue
        if got is None:
            findings.understood.append(f"链接 {m.group()}（其中没有可读的坐标）")
            continue
        lon, lat, frame, app = got
        if not (_LON_RANGE[0] <= lon <= _LON_RANGE[1] and _LAT_RANGE[0] <= lat <= _LAT_RANGE[1]):
            findings.understood.append(f"{app}链接中的坐标 {lon:g}, {lat:g}（不在我国境内）")
            continue
        places = min(decimals(repr(lon)), decimals(repr(lat)))
        findings.readings.append(
            Reading(
                Point(lon, lat),
                frame,
                m.start(),
                m.end(),
                max(10.0, M_PER_DEG * 10**-places),
                "link",
                (
                    LocationWarning(
                        "frame_from_link",
                        f"坐标取自{app}链接，按该应用的 {frame.title} 换算为 CGCS2000。",
                    ),
                ),
            )
        )
    return spans


# --- assembling -------------------------------------------------------------------------------


def _shape(points: Sequence[tuple[float, float]], text: str) -> BaseGeometry:
    distinct = list(dict.fromkeys(points))
    if len(distinct) >= 3 and _POLYGON_WORDS.search(text):
        return Polygon(distinct)
    if len(distinct) == 1:
        return Point(distinct[0])
    return MultiPoint(distinct)


def _mask(text: str, spans: Sequence[tuple[int, int]]) -> str:
    chars = list(text)
    for s, e in spans:
        for i in range(s, e):
            chars[i] = " "
    return "".join(chars)


def find_coordinates(text: str, request_crs: CRSSpec | None) -> Findings:
    """Every reading of the coordinates in the (normalised) text; alternatives for one set of
    coordinates (e.g. an unknown survey zone) are separate readings with a `label`."""
    findings = Findings()
    link_spans = _links(text, findings)
    rest = _mask(text, link_spans)
    survey, survey_warnings = survey_points(rest)
    if survey:
        frames, frame_warnings = survey_frames(rest, [p.easting for p in survey], request_crs)
        start, end = survey[0].start, survey[-1].end
        precision = max(1.0, max(p.resolution_m for p in survey))
        findings.understood.append(f"{len(survey)} 个测量坐标（X 北坐标、Y 东坐标）")
        for spec, label in frames:
            prefixed = expects_zone_prefix(spec)
            pts = [(p.easting if prefixed else p.easting % 1_000_000, p.northing) for p in survey]
            findings.readings.append(
                Reading(
                    _shape(pts, rest),
                    spec,
                    start,
                    end,
                    precision,
                    "survey",
                    (
                        *survey_warnings,
                        *frame_warnings,
                        LocationWarning(
                            "survey_frame",
                            f"测量坐标按 {spec.name}（{spec.title}，{label}）换算为 CGCS2000。",
                        ),
                    ),
                    label,
                )
            )
        rest = _mask(rest, [(p.start, p.end) for p in survey])
    rest = _mask(rest, meridian_spans(rest))
    angles = _angles(rest)
    points, pair_warnings = _pair_angles(rest, angles)
    if points:
        frame, frame_warning = _frame_for_degrees(text, request_crs)
        findings.understood.append(f"{len(points)} 个经纬度坐标")
        findings.readings.append(
            Reading(
                _shape([(p.x, p.y) for p in points], rest),
                frame,
                points[0].start,
                points[-1].end,
                max(1.0, max(p.precision_m for p in points)),
                "geographic",
                (*pair_warnings, frame_warning),
            )
        )
    elif angles:
        findings.understood.append(
            "、".join(f"{a.value:g}°" for a in angles[:4]) + "（未能配成经纬度对）"
        )
    return findings


def nice_precision(value: float) -> float:
    """Round a precision to 1–2 significant figures (30.0, 1.1, 0.01)."""
    if value <= 0:
        return value
    digits = max(0, 1 - math.floor(math.log10(value)))
    return round(value, digits)
