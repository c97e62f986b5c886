"""What a case map is drawn from: features around the case and the base map choice."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shapely.geometry.base import BaseGeometry

Frame = Literal["CGCS2000", "WGS84", "GCJ02"]
FRAMES: tuple[Frame, ...] = ("CGCS2000", "WGS84", "GCJ02")


@dataclass(frozen=True, slots=True)
class MapFeature:
    """A feature shown around the case, geometry in EPSG:4490 (full resolution is fine).

    `highlight`: the case touches it (an affected league or county, a red line it lies in).
    `distance_m`: for a nearby sensitive feature the case does not touch, the geodesic distance;
    the map draws a line from the damage area to the feature's nearest point, labelled with it.
    """

    kind: str
    name: str | None
    code: str | None
    geometry: BaseGeometry
    highlight: bool = False
    distance_m: float | None = None


@dataclass(frozen=True, slots=True)
class LocatedArea:
    """Where a lead with no damage geometry was located: the unit an address in its text (or its
    administrative name) resolved to, geometry in EPSG:4490 (full resolution is fine).

    The lead lies somewhere in it — it is not the damage area: a map draws it in its own style,
    under its own name, and measures no distances from it (from a whole county they mean
    nothing). `unresolved`: the finer place names the text held that no loaded layer refines.
    """

    geometry: BaseGeometry
    name: str
    unresolved: tuple[str, ...] = ()
    from_text: bool = True  # False: located by an administrative name given as such

    @property
    def label(self) -> str:
        """线索文字定位范围（准格尔旗，未细化：薛家湾镇）"""
        what = "线索文字定位范围" if self.from_text else "行政区名称定位范围"
        rest = f"，未细化：{'、'.join(self.unresolved)}" if self.unresolved else ""
        return f"{what}（{self.name}{rest}）"


@dataclass(frozen=True, slots=True)
class BasemapConfig:
    """The base map: none (the default: the boundaries give orientation), 天地图, or intranet XYZ.

    `frame` is the datum of the tiles. Vectors are drawn in the same frame: for GCJ-02 tiles the
    map converts its vectors to GCJ-02 for display and says so in the legend.
    """

    kind: Literal["none", "tianditu", "xyz"] = "none"
    url_template: str | None = None  # for "xyz": http://tiles.intranet/{z}/{x}/{y}.png
    token: str | None = None  # for "tianditu"
    frame: Frame = "CGCS2000"
    attribution: str = ""

    def __post_init__(self) -> None:
        if self.kind == "tianditu" and not self.token:
            raise ValueError("天地图底图需要 token（设置 GEO_SCREEN_TIANDITU_TOKEN）")
        if self.kind == "xyz" and not (self.url_template and "{z}" in self.url_template):
            raise ValueError("XYZ 底图需要包含 {z}/{x}/{y} 的瓦片地址模板")
        if self.frame not in FRAMES:
            raise ValueError(f"未知的底图坐标框架 {self.frame!r}；可选：{'、'.join(FRAMES)}")

    @classmethod
    def from_setting(
        cls, basemap: str, *, token: str | None = None, frame: str = "CGCS2000"
    ) -> BasemapConfig:
        """Parse the service setting: "none", "tianditu", or an XYZ URL template."""
        value = (basemap or "none").strip()
        if value.lower() == "none":
            return cls()
        if value.lower() == "tianditu":
            # 天地图 serves CGCS2000 tiles whatever the setting says.
            return cls(kind="tianditu", token=token, frame="CGCS2000", attribution="天地图")
        return cls(kind="xyz", url_template=value, frame=frame.upper(), attribution="内网底图")  # type: ignore[arg-type]

    @property
    def tile_url(self) -> str | None:
        if self.kind == "tianditu":
            return (
                "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                "&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
                f"&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={self.token}"
            )
        if self.kind == "xyz":
            return self.url_template
        return None

    @property
    def label_url(self) -> str | None:
        """天地图's annotation overlay (place names), drawn over the vector tiles."""
        if self.kind == "tianditu":
            return (
                "https://t{s}.tianditu.gov.cn/cva_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                "&LAYER=cva&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
                f"&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={self.token}"
            )
        return None
