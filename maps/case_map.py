"""The case map: one self-contained HTML document per case, small whatever the layers' size.

Drawn with folium, but every script and style comes from the service (`asset_base_url`), never a
CDN. User text reaches the browser only as JSON data (folium's `tojson`) set with `textContent`, or
as HTML built here with `esc()`: titles and layer names can hold `<script>`, backticks or `${…}`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import folium
import shapely
from branca.element import Element, Figure, MacroElement
from jinja2 import Template
from shapely.geometry.base import BaseGeometry

from maps.display import View, feature, for_display, make_view
from maps.edges import MeasuredLine, measured_lines
from maps.escape import esc
from maps.frames import to_display_frame
from maps.labels import ADMIN_KINDS, format_distance, kind_name
from maps.model import BasemapConfig, LocatedArea, MapFeature
from maps.summary import summary_html
from screening.record import DecisionRecord

# The inline scripts folium writes into every page: its map header's and the figure's own.
TEMPLATE_INLINE_SCRIPTS = 2
MAX_BYTES = 290_000  # the page must stay under 300 KB, whatever the layers' size
LEAFLET_JS = "vendor/leaflet-1.9.4/leaflet.js"
LEAFLET_CSS = "vendor/leaflet-1.9.4/leaflet.css"

# Drawing order (bottom → top) and style of each kind; unknown kinds fall back to "other".
_STYLES: dict[str, dict[str, Any]] = {
    "country": {"color": "#3f3f3f", "weight": 3, "fill": False, "dashArray": "10 4 2 4"},
    "province": {"color": "#4d4d4d", "weight": 2.5, "fill": False, "dashArray": "8 4"},
    "league": {"color": "#6b6b6b", "weight": 2, "fill": False},
    "county": {"color": "#9a9a9a", "weight": 1, "fill": False, "dashArray": "4 3"},
    "key_function_zone": {"color": "#d98c00", "weight": 1.5, "fillColor": "#fdae61",
                          "fillOpacity": 0.22},
    "nature_reserve": {"color": "#1a7f3c", "weight": 1.5, "fillColor": "#41ab5d",
                       "fillOpacity": 0.25},
    "prohibited_zone": {"color": "#7a0177", "weight": 1.5, "fillColor": "#c51b8a",
                        "fillOpacity": 0.18},
    "red_line": {"color": "#c00000", "weight": 1.5, "fillColor": "#ff6b6b", "fillOpacity": 0.25},
    "township": {"color": "#b0b0b0", "weight": 0.8, "fill": False, "dashArray": "2 3"},
    "urban": {"color": "#8c6d31", "weight": 1, "fillColor": "#e7ba52", "fillOpacity": 0.15},
    "river_lake": {"color": "#2166ac", "weight": 1.2, "fillColor": "#92c5de",
                   "fillOpacity": 0.35},
    "other": {"color": "#2c7fb8", "weight": 1.2, "fillColor": "#7fcdbb", "fillOpacity": 0.15},
}
_HIGHLIGHT: dict[str, dict[str, Any]] = {
    "country": {"color": "#000000", "weight": 3.5, "fill": True, "fillColor": "#bdbdbd",
                "fillOpacity": 0.08},
    "province": {"color": "#5e3c99", "weight": 3, "fill": True, "fillColor": "#b2abd2",
                 "fillOpacity": 0.08},
    "league": {"color": "#1f5fa8", "weight": 3, "fill": True, "fillColor": "#6baed6",
               "fillOpacity": 0.10},
    "county": {"color": "#2b8c3e", "weight": 2, "fill": True, "fillColor": "#a1d99b",
               "fillOpacity": 0.10, "dashArray": "6 3"},
}
DAMAGE_STYLE = {"color": "#d7191c", "weight": 3, "fillColor": "#d7191c", "fillOpacity": 0.45}
ACT_STYLE = {"color": "#6a3d9a", "weight": 3, "fillColor": "#9e6fd0", "fillOpacity": 0.6,
             "dashArray": "6 4"}
# A lead located only to a unit: somewhere in it, so an outline and a light fill, never red.
LOCATED_STYLE = {"color": "#b35806", "weight": 3, "fillColor": "#fdb863", "fillOpacity": 0.18,
                 "dashArray": "10 5"}
LOCATED_NOTE = "线索只定位到该行政区，不是损害结果发生地的范围"
LABEL_STYLE = {"color": "#000000", "opacity": 0, "fillOpacity": 0, "weight": 0}
NEAR_STYLE = {"color": "#c00000", "weight": 2, "dashArray": "2 6", "fill": False}
EDGE_STYLE = {"color": "#7f0000", "weight": 2.5, "fill": False}
BOUNDARY_STYLE = {"color": "#1f5fa8", "weight": 2, "dashArray": "8 4", "fill": False}
LEGEND_LINE_CHARS = 14  # a longer name (a located area's) wraps under its swatch
_MEASURE_NOTE = "椭球面（CGCS2000）距离，量至最近边界点"
_ORDER = ("country", "province", "league", "county", "township", "urban", "river_lake",
          "key_function_zone", "nature_reserve", "prohibited_zone", "red_line")

_CSS = """
.folium-map, .leaflet-container { font-family: "Microsoft YaHei", "PingFang SC",
  "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Source Han Sans SC", SimHei, sans-serif; }
.gs-panel { position: absolute; z-index: 1000; background: rgba(255,255,255,.94);
  border: 1px solid #999; border-radius: 4px; padding: 6px 9px; font-size: 13px;
  line-height: 1.45; box-shadow: 0 1px 4px rgba(0,0,0,.3); }
.gs-summary { top: 10px; left: 52px; max-width: 360px; max-height: 70%; overflow: auto; }
.gs-summary summary { font-weight: bold; cursor: pointer; }
.gs-summary h1 { font-size: 14px; margin: 2px 0 4px; }
.gs-summary dl { margin: 4px 0; } .gs-summary dt { font-weight: bold; margin-top: 3px; }
.gs-summary dd { margin: 0 0 0 1em; } .gs-summary .cite { color: #555; font-size: 12px; }
.gs-summary .warn { color: #a15c00; } .gs-summary .must { color: #c00000; font-weight: bold; }
.gs-legend { bottom: 28px; right: 10px; max-width: 260px; }
.gs-legend h2 { font-size: 13px; margin: 0 0 4px; }
.gs-legend ul { list-style: none; margin: 0; padding: 0; }
.gs-legend li { margin: 2px 0; white-space: nowrap; }
.gs-legend li.long { white-space: normal; padding-left: 28px; text-indent: -28px; }
.gs-legend .sw { display: inline-block; width: 22px; height: 12px; margin-right: 6px;
  vertical-align: middle; box-sizing: border-box; }
.gs-legend .note { font-size: 11px; color: #555; margin-top: 4px; white-space: normal; }
.gs-label { background: rgba(255,255,255,.8); border: 0; box-shadow: none; font-weight: bold;
  color: #1f3b6e; padding: 1px 4px; }
.gs-dist { background: #fff5f5; border: 1px solid #c00000; color: #c00000; padding: 1px 4px; }
.gs-edge { border-color: #7f0000; color: #7f0000; font-weight: bold; }
.gs-boundary { background: #f0f6ff; border-color: #1f5fa8; color: #1f5fa8; }
@media print { .leaflet-control-layers, .leaflet-control-zoom { display: none; } }
"""

# Tooltips and popups from feature properties, as text nodes: nothing a layer attribute or a
# lead's title holds can become markup or script.
_BIND_TEXT = Template(
    """
{% macro script(this, kwargs) %}
(function (group) {
  group.eachLayer(function (layer) {
    var p = layer.feature && layer.feature.properties;
    if (!p) { return; }
    if (p.label) {
      var t = document.createElement('span');
      t.textContent = p.label;
      layer.bindTooltip(t, p.permanent
        ? {permanent: true, direction: p.direction || 'center',
           className: p.labelClass || 'gs-label'}
        : {sticky: true});
    }
    if (p.popup && p.popup.length) {
      var d = document.createElement('div');
      p.popup.forEach(function (line, i) {
        var el = document.createElement(i === 0 ? 'strong' : 'div');
        el.textContent = line;
        d.appendChild(el);
      });
      layer.bindPopup(d);
    }
  });
})({{ this._parent.get_name() }});
{% endmacro %}
"""
)

# No "Leaflet" link in the corner (no external link anywhere); a metric scale bar only.
_MAP_SETUP = Template(
    """
{% macro script(this, kwargs) %}
{{ this._parent.get_name() }}.attributionControl.setPrefix(false);
L.control.scale({metric: true, imperial: false, position: 'bottomleft'})
  .addTo({{ this._parent.get_name() }});
{% endmacro %}
"""
)


class _Script(MacroElement):
    def __init__(self, template: Template) -> None:
        super().__init__()
        self._template = template


@dataclass(frozen=True, slots=True)
class _Layer:
    """One GeoJSON overlay: a name for the layer control, features, one style."""

    group: str
    features: list[dict[str, Any]]
    style: dict[str, Any]
    point_radius: float | None = None
    in_legend: bool = True

    @property
    def is_point(self) -> bool:
        return self.point_radius is not None and all(
            f["geometry"]["type"] in ("Point", "MultiPoint") for f in self.features
        )


def render_case_map(
    *,
    damage: BaseGeometry | None,
    act: BaseGeometry | None,
    decision: DecisionRecord | Mapping[str, Any],
    context_features: Sequence[MapFeature],
    title: str,
    located: LocatedArea | None = None,
    basemap: BasemapConfig | None = None,
    asset_base_url: str = "/static",
    max_bytes: int = MAX_BYTES,
    summary_open: bool = True,
) -> str:
    """The case map as a full HTML document (UTF-8 text), under `max_bytes` when encoded.

    Geometries are EPSG:4490. Context features may be at full resolution: they are clipped to the
    area around the case and simplified for display, coarser and coarser until the page fits.
    `summary_open=False` starts the decision panel folded (a map embedded beside the decision).
    `located`: a lead with no damage geometry is drawn as the unit it was located to (simplified
    like the context, in its own style and name), with no distance lines.
    """
    if damage is None and located is None:
        raise ValueError("case map needs a damage area or a located area")
    basemap = basemap or BasemapConfig()
    record = DecisionRecord.load(decision)
    measured = measured_lines(damage, context_features,
                              near_boundary=record.jurisdiction.near_boundary)
    # The view holds the case and its context: the edge of what it lies in, what is near.
    view = make_view([damage, act, located.geometry if located else None,
                      *(m.line for m in measured)])
    tolerance = view.base_tolerance()
    html = ""
    for _ in range(10):
        html = _render(damage, act, located, decision, context_features, measured, title,
                       basemap, asset_base_url, view, tolerance, summary_open)
        size = len(html.encode("utf-8"))
        if size <= max_bytes:
            return html
        # Vertex count falls roughly as 1/tolerance: jump most of the way at once.
        tolerance *= max(2.0, size / max_bytes * 1.5)
    return html  # pathological input (a huge damage area itself): still the coarsest drawing


def add_script_nonce(html: str, nonce: str) -> str:
    """Mark the template's inline scripts with a CSP nonce, so the page needs no
    'unsafe-inline'. User text never yields a bare `<script>` (it is escaped); should one
    appear anyway, no script gets the nonce: a broken map, never a script that runs."""
    if html.count("<script>") != TEMPLATE_INLINE_SCRIPTS:
        return html
    return html.replace("<script>", f'<script nonce="{nonce}">')


def _render(
    damage: BaseGeometry | None,
    act: BaseGeometry | None,
    located: LocatedArea | None,
    decision: DecisionRecord | Mapping[str, Any],
    context_features: Sequence[MapFeature],
    measured: Sequence[MeasuredLine],
    title: str,
    basemap: BasemapConfig,
    asset_base_url: str,
    view: View,
    tolerance: float,
    summary_open: bool,
) -> str:
    frame = basemap.frame

    def shown(g: BaseGeometry, tol: float, clip: bool) -> BaseGeometry | None:
        d = for_display(g, tol, view.context if clip else None)
        return None if d is None else to_display_frame(d, frame)

    minx, miny, maxx, maxy = to_display_frame(_box(view.bounds), frame).bounds
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=8,
        tiles=None,
        control_scale=False,
        prefer_canvas=False,
    )
    base = asset_base_url.rstrip("/")
    m.default_js = [("leaflet", f"{base}/{LEAFLET_JS}")]
    m.default_css = [("leaflet_css", f"{base}/{LEAFLET_CSS}")]
    m.add_child(_Script(_MAP_SETUP))

    root = m.get_root()
    assert isinstance(root, Figure)
    root.header.add_child(Element(f"<title>{esc(title)} — 案件地图</title>"), name="title")
    root.header.add_child(Element('<link rel="icon" href="data:,">'), name="favicon")
    root.header.add_child(Element(f"<style>{_CSS}</style>"), name="gs_css")

    if basemap.tile_url:
        folium.TileLayer(
            tiles=basemap.tile_url, attr=esc(basemap.attribution) or "底图", name="底图",
            subdomains="01234567", max_zoom=18, overlay=False, control=False,
        ).add_to(m)
        if basemap.label_url:
            folium.TileLayer(
                tiles=basemap.label_url, attr=esc(basemap.attribution), name="注记",
                subdomains="01234567", max_zoom=18, overlay=True, control=True,
            ).add_to(m)

    layers: list[_Layer] = []
    by_kind: dict[tuple[str, bool], list[dict[str, Any]]] = {}
    names: list[dict[str, Any]] = []
    # Unit names keep off the damage area and the measured lines' labels.
    minx0, miny0, maxx0, maxy0 = view.bounds
    px_x, px_y = (maxx0 - minx0) / 1000, (maxy0 - miny0) / 700  # about a screen pixel
    label_boxes = [
        _box((c.x - len(m.label) * 12 * px_x, c.y - 20 * px_y,
              c.x + len(m.label) * 12 * px_x, c.y + 20 * px_y))
        for m in measured for c in (m.line.interpolate(0.5, normalized=True),)
    ]
    anchors = _LabelSlots(view, shapely.union_all(
        [g for g in (damage, *label_boxes) if g is not None]))
    for f in sorted(context_features, key=lambda f: kind_rank(f.kind)):
        g = shown(f.geometry, tolerance, clip=True)
        if g is None:
            continue
        label = f.name or f.code or kind_name(f.kind)
        props: dict[str, Any] = {"label": label,
                                 "popup": _popup_lines(f, with_distance=damage is not None)}
        by_kind.setdefault((f.kind, f.highlight), []).append(feature(g, props))
        if f.highlight and f.kind in ADMIN_KINDS:
            # The affected unit is named where it is seen: a point inside its part of the view.
            anchor = anchors.take(f.geometry)
            if anchor is not None:
                names.append(feature(to_display_frame(anchor, frame),
                                     {"label": label, "permanent": True}))
    kinds = sorted({k for k, _ in by_kind}, key=lambda k: (kind_rank(k), k))
    for k in kinds:
        for hl in (False, True):
            feats = by_kind.get((k, hl))
            if not feats:
                continue
            style = kind_style(k, hl)
            group = ("涉及的" if hl else "") + kind_name(k)
            layers.append(_Layer(group, feats, style))

    for role, group, style in (("edge", "到所在敏感区域边界的距离", EDGE_STYLE),
                               ("boundary", "到盟市边界的距离", BOUNDARY_STYLE),
                               ("nearby", "最近敏感区域距离", NEAR_STYLE)):
        feats = []
        for line in measured:
            g = shown(line.line, 0.0, clip=False) if line.role == role else None
            if g is not None:
                feats.append(feature(g, {"label": line.label, "permanent": True, "direction": "top",
                                         "labelClass": f"gs-dist gs-{role}",
                                         "popup": [line.label, _MEASURE_NOTE]}))
        if feats:
            layers.append(_Layer(group, feats, style))

    if located is not None:
        g = shown(located.geometry, tolerance, clip=True)  # a county: simplified like context
        if g is not None:
            layers.append(_Layer(located.label, [feature(g, {
                "label": located.label, "popup": [located.label, title, LOCATED_NOTE]})],
                LOCATED_STYLE))
    if act is not None and not act.is_empty:
        g = shown(act, tolerance / 10, clip=False)
        if g is not None:
            layers.append(_Layer("行为发生地", [feature(g, {
                "label": "行为发生地", "popup": ["行为发生地", "仅供参考，不决定管辖"]})],
                ACT_STYLE, point_radius=7))
    g = None if damage is None else shown(damage, tolerance / 10, clip=False)
    if g is not None:
        layers.append(_Layer("损害结果发生地", [feature(g, {
            "label": f"损害结果发生地：{title}", "popup": ["损害结果发生地", title]})],
            DAMAGE_STYLE, point_radius=8))

    if names:
        layers.append(_Layer("涉及的行政区名称", names, LABEL_STYLE, point_radius=0,
                             in_legend=False))
    for layer in layers:
        _add_geojson(m, layer)

    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]])

    summary = summary_html(decision, title, open_=summary_open)
    root.html.add_child(Element(summary), name="gs_summary")
    root.html.add_child(Element(_legend_html(layers, basemap)), name="gs_legend")
    return str(root.render())


def kind_style(kind: str, highlight: bool) -> dict[str, Any]:
    """The Leaflet path style of a kind of feature, emphasised when the case touches it."""
    plain = _STYLES.get(kind, _STYLES["other"])
    if not highlight:
        return dict(plain)
    return dict(_HIGHLIGHT.get(kind) or _emphasised(plain))


def _add_geojson(m: folium.Map, layer: _Layer) -> None:
    style = dict(layer.style)
    marker = None
    if layer.point_radius is not None:
        marker = folium.CircleMarker(radius=layer.point_radius, **_marker_style(style))
    gj = folium.GeoJson(
        {"type": "FeatureCollection", "features": layer.features},
        name=esc(layer.group),  # Leaflet's layer control sets names with innerHTML
        style_function=lambda _f, s=style: s,
        marker=marker,
        smooth_factor=1.0,
        embed=True,
        control=True,
        overlay=True,
    )
    gj.add_child(_Script(_BIND_TEXT))
    gj.add_to(m)


def _marker_style(style: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "color": style.get("color"),
        "weight": style.get("weight", 2),
        "fill": True,
        "fill_color": style.get("fillColor", style.get("color")),
        "fill_opacity": max(float(style.get("fillOpacity", 0.5)), 0.6),
    }


def _emphasised(style: Mapping[str, Any]) -> dict[str, Any]:
    s = dict(style)
    s["weight"] = float(s.get("weight", 1.5)) + 1.5
    s["fillOpacity"] = min(float(s.get("fillOpacity", 0.2)) + 0.2, 0.6)
    return s


def kind_rank(kind: str) -> int:
    return _ORDER.index(kind) if kind in _ORDER else len(_ORDER)


def _popup_lines(f: MapFeature, *, with_distance: bool = True) -> list[str]:
    lines = [f.name or f.code or kind_name(f.kind), f"类型：{kind_name(f.kind)}"]
    if f.code:
        lines.append(f"代码：{f.code}")
    if f.highlight:
        lines.append("本案涉及")
    if f.distance_m is not None and with_distance:
        lines.append(f"距损害结果发生地：{format_distance(f.distance_m)}")
    return lines


class _LabelSlots:
    """Places for unit names inside the view: a grid, off the damage area, one name a place."""

    def __init__(self, view: View, damage: BaseGeometry) -> None:
        minx, miny, maxx, maxy = view.bounds
        keep_off = damage.buffer(max(maxx - minx, maxy - miny) * 0.05)
        fractions = (0.5, 0.7, 0.85, 0.3, 0.6, 0.4, 0.15, 0.92, 0.08)
        xs = [minx + (maxx - minx) * f for f in fractions]
        ys = [miny + (maxy - miny) * f for f in fractions]
        grid = [shapely.Point(round(x, 6), round(y, 6)) for y in ys for x in xs]
        self._free = [p for p in grid if not keep_off.contains(p)]
        self._clear_x, self._clear_y = (maxx - minx) * 0.3, (maxy - miny) * 0.12

    def take(self, geometry: BaseGeometry) -> BaseGeometry | None:
        for p in self._free:
            if geometry.contains(p):
                # Names need room: no other name within a label's width and height.
                self._free = [q for q in self._free if abs(q.x - p.x) >= self._clear_x
                              or abs(q.y - p.y) >= self._clear_y]
                return p
        return None


def _box(bounds: tuple[float, float, float, float]) -> BaseGeometry:
    from shapely.geometry import box

    return box(*bounds)


def _swatch(style: Mapping[str, Any], point: bool = False) -> str:
    color = style.get("color", "#333")
    fill = style.get("fillColor", "transparent") if style.get("fill", True) else "transparent"
    opacity = style.get("fillOpacity", 0.2)
    dash = "dashed" if style.get("dashArray") else "solid"
    radius = "border-radius: 50%; width: 12px; margin: 0 11px 0 5px;" if point else ""
    bg = f"background: {fill}; opacity: 1;" if fill == "transparent" else (
        f"background: {_rgba(str(fill), float(opacity))};")
    width = max(1, min(3, round(float(style.get("weight", 1)))))
    return (f'<span class="sw" style="border: {width}px {dash} {color}; {bg} {radius}">'
            "</span>")


def _rgba(color: str, opacity: float) -> str:
    c = color.lstrip("#")
    if len(c) != 6:
        return color
    r, g, b = int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)
    return f"rgba({r},{g},{b},{max(opacity, 0.25):.2f})"


def _legend_html(layers: Sequence[_Layer], basemap: BasemapConfig) -> str:
    items = []
    for layer in reversed(layers):  # topmost first, the damage area leads
        if not layer.in_legend:
            continue
        wide = ' class="long"' if len(layer.group) > LEGEND_LINE_CHARS else ""
        items.append(f"<li{wide}>{_swatch(layer.style, layer.is_point)}"
                     f"{esc(layer.group)}</li>")
    notes = ["坐标系：CGCS2000（EPSG:4490）。边界已按显示比例简化，仅供示意。"]
    if basemap.kind == "none":
        notes.append("未加载底图，以行政边界示意方位。")
    elif basemap.frame == "GCJ02":
        notes.append("底图为 GCJ-02 坐标系：图上矢量已转换为 GCJ-02 显示，与底图一致；"
                     "判定仍以 CGCS2000 坐标为准。")
    else:
        notes.append(f"底图：{esc(basemap.attribution)}（{esc(basemap.frame)}），与矢量同一坐标系。")
    note_html = "".join(f'<div class="note">{n}</div>' for n in notes)
    return (
        '<div class="gs-panel gs-legend" id="gs-legend"><h2>图例</h2><ul>'
        + "".join(items) + "</ul>" + note_html + "</div>"
    )


def embedded_geojson(html: str) -> list[dict[str, Any]]:
    """The GeoJSON payloads embedded in a rendered map (to check or debug what is drawn)."""
    out = []
    marker = "_add("
    start = 0
    while True:
        i = html.find(marker, start)
        if i < 0:
            break
        j = html.find("{", i)
        if j < 0 or html[i + len(marker)] != "{":
            start = i + 1
            continue
        depth, k = 0, j
        while k < len(html):
            ch = html[k]
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    break
            elif ch == '"':
                k += 1
                while html[k] != '"':
                    k += 2 if html[k] == "\\" else 1
            k += 1
        out.append(json.loads(html[j : k + 1]))
        start = k
    return out
