"""What a lead's case map and figure draw as the case: its damage footprint or, for a lead
located only to an administrative unit (an address in its text, an administrative name, issue
12), the polygon of that unit as the located area.

One lookup for the case page, the map page, map.png, the Word opinion and the dossier. The unit's
polygon comes from the active layers the locator itself reads (the built-in county and league
boundaries standing in for a kind with no active layer), matched by the unit's code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from geo_service.db.models import Lead
from geo_service.errors import FieldError, NotFound
from geo_service.services import Services
from geo_service.web.features import DisplayIndex, case_features
from layers.overlay import OverlayEngine
from layers.textloc import UnitLayers
from layers.textloc.units import UNIT_KINDS
from maps import LocatedArea
from maps.labels import kind_name
from screening.record import DecisionRecord

POLYGONAL = ("Polygon", "MultiPolygon")


class NoDrawableArea(NotFound):
    title = "没有可绘制的位置"


@dataclass(frozen=True, slots=True)
class CaseArea:
    """The damage footprint, else the located unit; `missing` says why neither can be drawn."""

    damage: BaseGeometry | None
    located: LocatedArea | None
    missing: str | None

    @property
    def drawable(self) -> bool:
        return self.missing is None

    @property
    def footprint(self) -> BaseGeometry | None:
        """What the map is framed on and its context gathered around."""
        if self.damage is not None:
            return self.damage
        return self.located.geometry if self.located is not None else None


def case_area(engine: OverlayEngine, lead: Lead, record: DecisionRecord | None) -> CaseArea:
    """The lead's drawable area, or the reason (in Chinese) why there is none."""
    if lead.damage_geom is not None:
        return CaseArea(lead.damage_geom, None, None)
    resolution = record.location_resolution if record is not None else None
    unit = resolution.unit if resolution is not None else None
    if resolution is None or unit is None or not unit.code or not unit.level:
        return CaseArea(None, None, (
            f"案件线索 {lead.id} 没有损害结果发生地的几何位置，也未定位到行政区，故无地图。"
            "请补充坐标或图形后重新筛查。"))
    found = (UnitLayers.from_engine(engine).by_code(unit.level, unit.code)
             if unit.level in UNIT_KINDS else None)
    level = kind_name(unit.level)
    name = unit.name or (found.name if found is not None else None) or unit.code
    if found is None or found.geometry.geom_type not in POLYGONAL or found.geometry.is_empty:
        return CaseArea(None, None, (
            f"案件线索 {lead.id} 只定位到{name}（{level}，代码 {unit.code}），当前启用的图层中"
            f"没有该{level}的范围（面），故无地图。可在图层管理中启用含该{level}范围的图层，"
            "或补充损害结果发生地的坐标后重新筛查。"))
    located = LocatedArea(found.geometry, name, tuple(resolution.unresolved_parts),
                          from_text=resolution.method != "admin_name")
    return CaseArea(None, located, None)


def case_drawing(
    services: Services, session: Session, index: DisplayIndex | None, lead: Lead,
    record: DecisionRecord | None,
) -> dict[str, Any]:
    """The keyword arguments of render_case_map and render_case_figure for a lead: the area,
    the act location, the decision and the features around. Raises NoDrawableArea (404)."""
    area = case_area(services.overlay, lead, record)
    if area.missing is not None:
        raise NoDrawableArea(area.missing, [FieldError(
            "lead_id", "该线索没有可绘制的位置（损害结果发生地，或定位到的行政区范围）。")])
    decision = record or DecisionRecord()
    footprint = area.footprint
    assert footprint is not None
    return {
        "damage": area.damage,
        "act": lead.act_geom,
        "located": area.located,
        "decision": decision,
        "context_features": case_features(index or DisplayIndex(), session, footprint,
                                          lead.act_geom, decision),
        "title": lead.title or f"案件线索 {lead.id}",
    }


def analysis_subject(lead: Lead, record: DecisionRecord | None) -> str:
    """What the opinion says was overlaid (经对…进行空间叠加分析): the damage location when the
    lead has one; else the place its text or administrative name was located to, by name, so
    a county-wide reading is never presented as the damage location itself."""
    if lead.damage_geom is not None:
        return "损害结果发生地"
    resolution = record.location_resolution if record is not None else None
    unit = resolution.unit if resolution is not None else None
    if resolution is None or unit is None or not (unit.name or unit.code):
        return "线索所述位置"
    source = "线索文字所述位置" if resolution.method != "admin_name" else "线索所列行政区"
    return f"{source}（定位至{unit.name or unit.code}，未确定具体地点）"
