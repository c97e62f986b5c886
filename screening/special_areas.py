"""Special-status areas (docs/rules.md §R2.7): land inside the region's territory administered
by another province, where the boundary layers and the administration part ways.

加格达奇区 and 松岭区 lie inside 鄂伦春自治旗 (呼伦贝尔市) but are administered by 黑龙江省大兴安岭
地区. Who is the rights holder for damage there (第五条第二款) is a matter for the two provinces'
arrangement, not for a layer to decide: a lead touching one is `needs_verification` with a warning
naming the arrangement. The extents are approximate bounding boxes (generous on purpose: a false
alarm costs a check, a miss costs a wrong rights holder); load an exact layer to narrow them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SpecialArea:
    code: str  # administrative division code of the administering side
    name: str
    lies_within: str  # the Inner Mongolia unit whose territory holds it
    administered_by: str
    extent: tuple[float, float, float, float]  # approximate: min lon, min lat, max lon, max lat

    def notice(self) -> str:
        return (
            f"损害发生地可能位于{self.name}：该区位于{self.lies_within}境内，但由{self.administered_by}"
            "管理（特殊管理区域）。赔偿权利人须按两省区的管理约定人工确定（第五条第二款），"
            "请核实具体位置与管理归属。"
        )


SPECIAL_AREAS: tuple[SpecialArea, ...] = (
    SpecialArea(
        "232701",
        "加格达奇区",
        "内蒙古自治区呼伦贝尔市鄂伦春自治旗",
        "黑龙江省大兴安岭地区",
        (123.70, 50.15, 124.60, 50.75),
    ),
    SpecialArea(
        "232702",
        "松岭区",
        "内蒙古自治区呼伦贝尔市鄂伦春自治旗",
        "黑龙江省大兴安岭地区",
        (123.60, 50.60, 125.20, 51.60),
    ),
)


def special_areas_touched(
    bbox: tuple[float, float, float, float] | None,
) -> list[SpecialArea]:
    """The special-status areas whose extent the footprint's bounding box meets."""
    if bbox is None:
        return []
    x0, y0, x1, y1 = bbox
    return [
        a
        for a in SPECIAL_AREAS
        if x0 <= a.extent[2] and a.extent[0] <= x1 and y0 <= a.extent[3] and a.extent[1] <= y1
    ]
