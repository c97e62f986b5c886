"""The static case map figure (PNG) for the Word opinion, the dossier and the printed opinion.

Drawn with matplotlib (Agg, no network, no pyplot state) from the same features, view and
measured lines as the interactive case map (maps/case_map.py): the same framing, the same
styles, the same distances. Longitude/latitude in CGCS2000 with the aspect of the case's
latitude, a scale bar measured on the ellipsoid, a north arrow, a legend and the datum note.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrow, PathPatch, Rectangle
from matplotlib.path import Path
from matplotlib.ticker import MaxNLocator
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from maps.case_map import ACT_STYLE, DAMAGE_STYLE, LOCATED_STYLE, kind_rank, kind_style
from maps.display import for_display, make_view
from maps.edges import measured_lines
from maps.fonts import cjk_font
from maps.labels import kind_name
from maps.model import LocatedArea, MapFeature
from screening.record import DecisionRecord

WIDTH_IN, HEIGHT_IN, DPI = 8.0, 6.4, 150  # 1200 × 960 pixels: sharp in an A4 document
DATUM_NOTE = "坐标系：CGCS2000（EPSG:4490）；距离为椭球面距离。边界已按比例简化，仅供示意。"
_LINE_COLORS = {"edge": "#7f0000", "boundary": "#1f5fa8", "nearby": "#c00000"}
_LINE_NAMES = {"edge": "到所在敏感区域边界的距离", "boundary": "到盟市边界的距离",
               "nearby": "到附近敏感区域的距离"}
LOCATED_HATCH = "///"  # on paper the located area is hatched as well as outlined


def render_case_figure(
    *,
    damage: BaseGeometry | None,
    act: BaseGeometry | None,
    decision: DecisionRecord | Mapping[str, Any],
    context_features: Sequence[MapFeature],
    title: str,
    located: LocatedArea | None = None,
) -> bytes:
    """The case map as a PNG (bytes). `located`: as for the case map, the unit a lead with no
    damage geometry was located to, hatched under its own name, with no distance lines."""
    if damage is None and located is None:
        raise ValueError("case figure needs a damage area or a located area")
    record = DecisionRecord.load(decision)
    measured = measured_lines(damage, context_features,
                              near_boundary=record.jurisdiction.near_boundary)
    view = make_view([damage, act, located.geometry if located else None,
                      *(m.line for m in measured)])
    minx, miny, maxx, maxy = view.bounds
    aspect = 1 / math.cos(math.radians((miny + maxy) / 2))

    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.09, 0.1, 0.88, 0.8))
    ax.set_aspect(aspect, adjustable="box")
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_facecolor("#fbfbf8")
    ax.tick_params(labelsize=7)
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.yaxis.set_major_locator(MaxNLocator(6))
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.2f}°E")
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.2f}°N")

    tolerance = view.base_tolerance()
    legend: dict[str, Any] = {}
    for f in sorted(context_features, key=lambda f: kind_rank(f.kind)):
        g = for_display(f.geometry, tolerance, view.context)
        if g is None:
            continue
        style = kind_style(f.kind, f.highlight)
        _draw(ax, g, style, zorder=1 + kind_rank(f.kind) / 20)
        name = ("涉及的" if f.highlight else "") + kind_name(f.kind)
        legend.setdefault(name, _handle(style))
        if f.highlight and f.kind in ("league", "county") and (f.name or f.code):
            inside = shapely.clip_by_rect(g, minx, miny, maxx, maxy)
            if not inside.is_empty:
                at = inside.representative_point()
                ax.text(at.x, at.y, f.name or f.code or "", ha="center", va="center", zorder=5,
                        fontproperties=cjk_font(9 if f.kind == "league" else 8),
                        color=style.get("color", "#333333"), alpha=0.85)
    for m in measured:
        xs, ys = m.line.xy
        color = _LINE_COLORS[m.role]
        ax.plot(xs, ys, color=color, linewidth=1.6,
                linestyle="-" if m.role == "edge" else "--", zorder=6)
        ax.annotate(m.label, xy=((xs[0] + xs[-1]) / 2, (ys[0] + ys[-1]) / 2),
                    fontproperties=cjk_font(8), color=color, ha="center", va="bottom",
                    zorder=9, bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": color,
                                    "alpha": 0.9})
        legend.setdefault(_LINE_NAMES[m.role], Line2D([], [], color=color, linewidth=1.6))
    if located is not None:
        g = for_display(located.geometry, tolerance, view.context)
        if g is not None:
            _draw(ax, g, LOCATED_STYLE, zorder=6.5, hatch=LOCATED_HATCH)
            legend[located.label] = _handle(LOCATED_STYLE, hatch=LOCATED_HATCH)
    if act is not None and not act.is_empty:
        _draw(ax, act, ACT_STYLE, zorder=7, marker_size=7)
        legend["行为发生地"] = _handle(ACT_STYLE, point=act.geom_type.endswith("Point"))
    if damage is not None:
        _draw(ax, damage, DAMAGE_STYLE, zorder=8, marker_size=9)
        legend["损害结果发生地"] = (
            Line2D([], [], color=str(DAMAGE_STYLE["color"]), linewidth=2.5)
            if damage.geom_type.endswith("LineString")
            else _handle(DAMAGE_STYLE, point=damage.geom_type.endswith("Point")))
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)

    _scale_bar(ax)
    _north_arrow(ax)
    ax.legend(list(reversed(legend.values())), list(reversed(legend.keys())),
              prop=cjk_font(7.5), loc="lower right", framealpha=0.92, title="图例",
              title_fontproperties=cjk_font(8))
    fig.suptitle(f"案件位置示意图：{title}", fontproperties=cjk_font(11), y=0.965)
    fig.text(0.04, 0.035, DATUM_NOTE, fontproperties=cjk_font(7.5), color="#444444")

    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, facecolor="white")
    return out.getvalue()


def _mpl(style: Mapping[str, Any]) -> dict[str, Any]:
    """A Leaflet path style as matplotlib patch keywords."""
    fill = style.get("fill", True)
    face = style.get("fillColor", style.get("color")) if fill else "none"
    dash = style.get("dashArray")
    return {
        "edgecolor": style.get("color", "#333333"),
        "facecolor": face,
        "linewidth": float(style.get("weight", 1)) * 0.7,
        "linestyle": (0, tuple(float(x) for x in str(dash).split())) if dash else "-",
        "alpha": None,
        "fill_alpha": float(style.get("fillOpacity", 0.2)) if fill else 0.0,
    }


def _draw(ax: Any, g: BaseGeometry, style: Mapping[str, Any], *, zorder: float,
          marker_size: float = 6, hatch: str | None = None) -> None:
    kw = _mpl(style)
    for part in shapely.get_parts(g):
        t = part.geom_type
        if t == "Polygon":
            face = kw["facecolor"]
            if face != "none":
                ax.add_patch(PathPatch(_path(part), facecolor=face, edgecolor="none",
                                       alpha=kw["fill_alpha"], zorder=zorder))
            ax.add_patch(PathPatch(_path(part), facecolor="none", edgecolor=kw["edgecolor"],
                                   linewidth=kw["linewidth"], linestyle=kw["linestyle"],
                                   hatch=hatch, zorder=zorder + 0.01))
        elif t in ("LineString", "LinearRing"):
            xs, ys = part.xy
            ax.plot(xs, ys, color=kw["edgecolor"], linewidth=max(kw["linewidth"], 1.5),
                    zorder=zorder)
        elif t == "Point":
            ax.plot([part.x], [part.y], marker="o", markersize=marker_size,
                    markerfacecolor=style.get("fillColor", kw["edgecolor"]),
                    markeredgecolor=kw["edgecolor"], zorder=zorder)
        elif t == "GeometryCollection" or t.startswith("Multi"):
            _draw(ax, part, style, zorder=zorder, marker_size=marker_size, hatch=hatch)


def _path(polygon: shapely.Polygon) -> Path:
    verts: list[tuple[float, float]] = []
    codes: list[int] = []
    for ring in (polygon.exterior, *polygon.interiors):
        coords = list(ring.coords)
        verts.extend(coords)
        codes.extend([int(Path.MOVETO), *[int(Path.LINETO)] * (len(coords) - 2),
                      int(Path.CLOSEPOLY)])
    return Path(verts, codes)


def _handle(style: Mapping[str, Any], point: bool = False, hatch: str | None = None) -> Any:
    kw = _mpl(style)
    if point:
        return Line2D([], [], marker="o", linestyle="none", markersize=7,
                      markerfacecolor=style.get("fillColor", kw["edgecolor"]),
                      markeredgecolor=kw["edgecolor"])
    face = kw["facecolor"]
    return Rectangle((0, 0), 1, 1, facecolor=face if face != "none" else "none",
                     alpha=None, edgecolor=kw["edgecolor"], linewidth=kw["linewidth"],
                     linestyle=kw["linestyle"], hatch=hatch)


_NICE = (1, 2, 5)


def _scale_bar(ax: Any) -> None:
    """A bar of a round length (1, 2 or 5 × 10ⁿ metres), measured on the ellipsoid at the
    map's centre latitude, at the lower left."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    y = y0 + (y1 - y0) * 0.06
    x = x0 + (x1 - x0) * 0.04
    geod = Geod(ellps="GRS80")
    metres_per_degree = geod.line_length([x, x + 1], [y, y])
    target = (x1 - x0) * metres_per_degree / 4
    exp = 10 ** math.floor(math.log10(target))
    length = max(n * exp for n in _NICE if n * exp <= target)
    span = length / metres_per_degree
    ax.add_patch(Rectangle((x, y), span, (y1 - y0) * 0.008, facecolor="black", zorder=10))
    ax.add_patch(Rectangle((x, y), span / 2, (y1 - y0) * 0.008, facecolor="white",
                           edgecolor="black", linewidth=0.6, zorder=11))
    text = f"{length / 1000:g} 千米" if length >= 1000 else f"{length:g} 米"
    ax.text(x + span / 2, y + (y1 - y0) * 0.015, text, ha="center", va="bottom",
            fontproperties=cjk_font(8), zorder=11)
    ax.text(x, y - (y1 - y0) * 0.01, "0", ha="center", va="top", fontsize=7, zorder=11)


def _north_arrow(ax: Any) -> None:
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    x, y = x0 + (x1 - x0) * 0.95, y0 + (y1 - y0) * 0.82
    h = (y1 - y0) * 0.1
    ax.add_patch(FancyArrow(x, y, 0, h, width=(x1 - x0) * 0.006, head_width=(x1 - x0) * 0.03,
                            head_length=h * 0.4, length_includes_head=True, color="black",
                            zorder=10))
    ax.text(x, y + h * 1.05, "北", ha="center", va="bottom", fontproperties=cjk_font(10),
            zorder=10)
