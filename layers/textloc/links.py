"""Links from map apps in a lead's text, read with urllib.parse: Amap/高德 and Tencent/腾讯 in
GCJ-02, Baidu/百度 in BD-09, each honouring a `coord_type` parameter. Short links need the
internet to expand and are reported, not guessed."""

from __future__ import annotations

import math
import re
from urllib.parse import parse_qs, urlsplit

from layers.crs import BD09, GCJ02, WGS84, CRSSpec

MAP_LINK = re.compile(
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


def link_point(url: str) -> tuple[float, float, CRSSpec, str] | str | None:
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
