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
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import parse_qs, urlsplit

from pyproj import CRS
from shapely.geometry import MultiPoint, Point, Polygon
from shapely.geometry.base import BaseGeometry

from layers.crs import BD09, CGCS2000, GCJ02, WGS84, CRSSpec, parse_crs
from layers.location import LocationWarning

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
_XIAN80 = re.compile(r"西安\s?80|1980西安|西安1980|80坐标系")
_BEIJING54 = re.compile(r"北京\s?54|1954北京|北京1954|54坐标系")
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

# --- survey X/Y -------------------------------------------------------------------------------

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

# --- map-app links ----------------------------------------------------------------------------

_URL = re.compile(
    r"(?:https?|androidamap|iosamap|amapuri|baidumap|qqmap)://[^\s，。；、<>\"'）)]+", re.I
)
_SHORT_LINK_HOSTS = (
    "surl.amap.com",
    "url.cn",
    "j.map.baidu.com",
    "dpurl.cn",
    "t.cn",
    "m.amap.com/s",
)


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


def _decimals(number: str) -> int:
    return len(number.split(".", 1)[1]) if "." in number else 0


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
            resolution = 30.0 * 10 ** -_decimals(g["s"])
        else:
            value = d + m / 60
            resolution = 1852.0 * 10 ** -_decimals(g["m"])
    elif g["hd"] is not None:
        d, m, s = float(g["hd"]), float(g["hm"]), float(g["hs"])
        if m >= 60 or s >= 60:
            return None
        value = d + m / 60 + s / 3600
        resolution = 30.0 * 10 ** -_decimals(g["hs"])
    else:
        number = g["dd"] or g["bare"]
        value = float(number)
        resolution = M_PER_DEG * 10 ** -_decimals(number)
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


# --- survey -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _XY:
    northing: float
    easting: float  # as written (may carry the zone prefix)
    start: int
    end: int
    resolution_m: float


def _survey_points(text: str) -> tuple[list[_XY], list[LocationWarning]]:
    warnings: list[LocationWarning] = []
    labeled = list(_SURVEY_LABELED.finditer(text))
    out: list[_XY] = []
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
        res = 10 ** -min(_decimals(x_m.group("v")), _decimals(y_m.group("v")))
        out.append(_XY(northing, easting, a.start(), b.end(), res))
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
        res = 10 ** -min(_decimals(m.group("a")), _decimals(m.group("b")))
        out.append(_XY(northing, easting, m.start(), m.end(), res))
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


def _survey_frames(
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


@lru_cache(maxsize=64)
def _expects_zone_prefix(spec: CRSSpec) -> bool:
    """Whether the CRS's eastings carry the zone number (false easting of millions of metres)."""
    if spec.epsg is None:
        return False
    operation = CRS.from_epsg(spec.epsg).coordinate_operation
    params = operation.params if operation is not None else []
    false_easting = next((p.value for p in params if p.name.lower() == "false easting"), 0.0)
    return float(false_easting) >= 1_000_000


# --- links ------------------------------------------------------------------------------------


def _floats(value: str) -> list[float] | None:
    try:
        out = [float(v) for v in re.split(r"[,，]", value.strip()) if v != ""]
    except ValueError:
        return None
    return out if all(math.isfinite(v) for v in out) else None


def _pair(x: str | None, y: str | None) -> tuple[float, float] | None:
    """Two query values as numbers, or None when either is missing or not a number."""
    values = _floats(f"{x},{y}") if x and y else None
    return (values[0], values[1]) if values and len(values) == 2 else None


def _first(query: dict[str, list[str]], *names: str) -> str | None:
    for name in names:
        if query.get(name):
            return query[name][0]
    return None


def _link_point(url: str) -> tuple[float, float, CRSSpec, str] | str | None:
    """(lon, lat, frame, app) from a map-app link; a str says why it cannot be read offline."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    scheme = parts.scheme.lower()
    query = {k.lower(): v for k, v in parse_qs(parts.query).items()}
    if any(host == h or (host + parts.path).startswith(h) for h in _SHORT_LINK_HOSTS):
        return "短链接需联网展开，无法离线读取：请在浏览器中打开后复制完整链接或坐标。"
    if host.endswith("amap.com") or scheme in ("androidamap", "iosamap", "amapuri"):
        app = "高德地图"
        lonlat = _first(query, "position", "lnglat", "location", "center")
        if lonlat and (v := _floats(lonlat)) and len(v) >= 2:
            return v[0], v[1], GCJ02, app
        pair = _pair(_first(query, "lon", "lng", "dlon"), _first(query, "lat", "dlat"))
        if pair:
            return pair[0], pair[1], _app_frame(query, GCJ02), app
        q = _first(query, "q")
        if q and (v := _floats(q)) and len(v) >= 2:  # q=lat,lon
            return v[1], v[0], GCJ02, app
        return None
    if host.endswith("qq.com") or scheme == "qqmap":
        app = "腾讯地图"
        frame = WGS84 if _first(query, "coord_type") == "1" else GCJ02
        marker = _first(query, "marker")
        if marker:
            for item in marker.split(";"):
                if item.startswith("coord:") and (v := _floats(item[6:])) and len(v) >= 2:
                    return v[1], v[0], frame, app
        pair = _pair(_first(query, "pointx"), _first(query, "pointy"))
        if pair:
            return pair[0], pair[1], frame, app
        latlng = _first(query, "coord", "center", "tocoord", "location")
        if latlng and (v := _floats(latlng)) and len(v) >= 2:
            return v[1], v[0], frame, app
        return None
    if host.endswith("baidu.com") or scheme == "baidumap":
        app = "百度地图"
        frame = _app_frame(query, BD09)
        latlng = _first(query, "location", "latlng", "destination", "origin")
        if latlng and (v := _floats(latlng.replace("latlng:", "").split("|")[0])) and len(v) >= 2:
            return v[1], v[0], frame, app
        return None
    return None


def _app_frame(query: dict[str, list[str]], default: CRSSpec) -> CRSSpec:
    coord_type = (_first(query, "coord_type", "coordtype", "coordinate") or "").lower()
    if coord_type in ("wgs84", "gps", "wgs84ll"):
        return WGS84
    if coord_type in ("gcj02", "gaode", "autonavi", "gcj02ll"):
        return GCJ02
    if coord_type in ("bd09ll", "bd09", "baidu"):
        return BD09
    return default


def _links(text: str, findings: Findings) -> list[tuple[int, int]]:
    spans = []
    for m in _URL.finditer(text):
        spans.append((m.start(), m.end()))
        got = _link_point(m.group())
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
        decimals = min(_decimals(repr(lon)), _decimals(repr(lat)))
        findings.readings.append(
            Reading(
                Point(lon, lat),
                frame,
                m.start(),
                m.end(),
                max(10.0, M_PER_DEG * 10**-decimals),
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
    survey, survey_warnings = _survey_points(rest)
    if survey:
        frames, frame_warnings = _survey_frames(rest, [p.easting for p in survey], request_crs)
        start, end = survey[0].start, survey[-1].end
        precision = max(1.0, max(p.resolution_m for p in survey))
        findings.understood.append(f"{len(survey)} 个测量坐标（X 北坐标、Y 东坐标）")
        for spec, label in frames:
            prefixed = _expects_zone_prefix(spec)
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
    rest = _mask(rest, [m.span() for m in _CENTRAL_MERIDIAN.finditer(rest)])
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
