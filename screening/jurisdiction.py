"""Who the rights holder is (docs/rules.md §R2, 第五条第二款), with absolute tolerances (§R2.6),
boundary ties and disagreeing layers (§R2.6), and the special-status areas table (§R2.7)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from screening.config import RulebookConfig
from screening.facts import AreaHit, SpatialFacts
from screening.notices import Notice
from screening.special_areas import special_areas_touched
from screening.tolerance import above_noise, measure_text, noise_floor, share_measure
from screening.units import CHINA_CODE, COUNTRY_NAMES, LEAGUES_BY_CODE, REGION, REGION_CODE, Unit

CITATION = "第五条第二款"
SCOPE_CITATION = "第二条"

Status = Literal["decided", "out_of_region", "unresolved"]
Level = Literal["league", "region"]
_MEASURE = {"point": "按点数计", "line": "按长度计", "polygon": "按面积计"}


@dataclass(frozen=True, slots=True)
class UnitShare:
    kind: str
    code: str
    name: str
    share: float | None  # None: not measured (coarse location)
    measure: float | None = None  # m² (polygon) or m (line) of the footprint in this unit
    footprint_type: str | None = None

    def to_dict(self, with_kind: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "name": self.name}
        if with_kind:
            out = {"kind": self.kind, **out}
        out["share"] = None if self.share is None else round(self.share, 6)
        if with_kind and self.measure is not None:
            key = {"polygon": "area_m2", "line": "length_m"}.get(self.footprint_type or "")
            if key:
                out[key] = round(self.measure, 1)
        return out


@dataclass(frozen=True, slots=True)
class Allocation:
    """Units of one kind with shares that sum to at most 1, in a fixed order."""

    units: tuple[UnitShare, ...]
    overlapping: bool  # raw shares summed to more than 1: overlapping units or a shared boundary
    absorbed: tuple[UnitShare, ...] = ()  # units left with nothing once the overlap was resolved


def allocate(hits: Sequence[AreaHit], kind: str, epsilon: float = 1e-6) -> Allocation:
    """Deduplicate by code and resolve overlaps so the shares sum to at most 1 + epsilon.

    A point on a shared boundary is "in" both units (share 1.0 each); overlapping layer polygons
    do the same for areas. Largest share first, then lowest code, takes what is left: the result
    is deterministic and independent of the order of `hits`.
    """
    if not hits:
        return _NOTHING
    return _allocate(tuple(hits), kind, epsilon)


@lru_cache(maxsize=4096)
def _allocate(hits: tuple[AreaHit, ...], kind: str, epsilon: float) -> Allocation:
    best: dict[str, UnitShare] = {}
    for h in hits:
        code = h.code or f"{h.layer}:{h.feature_id}"
        name = h.name or code
        share = min(max(float(h.share), 0.0), 1.0)
        prev = best.get(code)
        if prev is None or ((prev.share or 0.0), prev.name) < (share, name):
            best[code] = UnitShare(kind, code, name, share)
    ordered = list(best.values())
    if len(ordered) > 1:
        ordered.sort(key=_largest_first)
    total = sum(u.share or 0.0 for u in ordered)
    if total <= 1.0 + epsilon:
        return Allocation(tuple(u for u in ordered if (u.share or 0.0) > 0), False)
    left, kept, absorbed = 1.0, [], []
    for u in ordered:
        s = min(u.share or 0.0, left)
        left -= s
        if s > epsilon:
            kept.append(UnitShare(kind, u.code, u.name, s))
        else:
            absorbed.append(u)
    return Allocation(tuple(kept), True, tuple(absorbed))


_NOTHING = Allocation((), False)


def _largest_first(u: UnitShare) -> tuple[float, str]:
    return (-(u.share or 0.0), u.code)


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    status: Status
    level: Level | None
    reason: str | None
    rights_holder: Unit | None
    leagues: tuple[UnitShare, ...] = ()
    counties: tuple[UnitShare, ...] = ()
    other_provinces: tuple[UnitShare, ...] = ()
    countries: tuple[UnitShare, ...] = ()
    ignored_slivers: tuple[UnitShare, ...] = ()
    near_boundary: bool = False
    needs_verification: bool = False
    notices: tuple[Notice, ...] = ()
    explanation: str = ""
    basis: str = "regulation"
    citations: tuple[str, ...] = (CITATION,)
    defaults_applied: tuple[str, ...] = ()
    boundary_candidates: tuple[UnitShare, ...] = ()

    @property
    def league(self) -> Unit | None:
        """The league when a league is the rights holder."""
        return self.rights_holder if self.level == "league" else None

    def to_dict(self) -> dict[str, Any]:
        rh = self.rights_holder
        return {
            "status": self.status,
            "level": self.level,
            "reason": self.reason,
            "rights_holder": {"code": rh.code, "name": rh.government} if rh else None,
            "leagues": [u.to_dict() for u in self.leagues],
            "counties": [u.to_dict() for u in self.counties],
            "other_provinces": [u.to_dict() for u in self.other_provinces],
            "countries": [u.to_dict() for u in self.countries],
            "ignored_slivers": [u.to_dict(with_kind=True) for u in self.ignored_slivers],
            "near_boundary": self.near_boundary,
            "boundary_candidates": [u.to_dict(with_kind=True) for u in self.boundary_candidates],
            "citations": list(self.citations),
            "basis": self.basis,
            "defaults_applied": list(self.defaults_applied),
            "explanation": self.explanation,
        }


def _pct(u: UnitShare) -> str:
    return "份额未测" if u.share is None else f"{u.share * 100:.1f}%"


def _listing(units: Sequence[UnitShare]) -> str:
    return "、".join(f"{u.name}（{_pct(u)}）" for u in units)


def league_unit(code: str, name: str) -> Unit:
    """The league/city for a code, from the 12 known units or, failing that, the layer's name."""
    known = LEAGUES_BY_CODE.get(code)
    if known:
        return known
    return Unit(code, name, "盟" if name.endswith("盟") else "市")


@lru_cache(maxsize=4096)
def _split(
    alloc: Allocation,
    footprint_type: str | None,
    footprint_measure: float | None,
    floor: float | None,
    min_share: float,
) -> tuple[tuple[UnitShare, ...], tuple[UnitShare, ...]]:
    """Material units and slivers (at or below the absolute noise floor, §R2.6)."""
    material: list[UnitShare] = []
    slivers: list[UnitShare] = []
    for u in alloc.units:
        measure = share_measure(u.share, footprint_measure)
        measured = UnitShare(u.kind, u.code, u.name, u.share, measure, footprint_type)
        if above_noise(u.share, footprint_measure, floor, min_share):
            material.append(measured)
        else:
            slivers.append(measured)
    return tuple(material), tuple(slivers)


def _sliver_listing(units: Sequence[UnitShare]) -> str:
    return "、".join(
        f"{u.name}（{_pct(u)}，约 {measure_text(u.measure, u.footprint_type)}）" for u in units
    )


def decide_jurisdiction(
    spatial: SpatialFacts, config: RulebookConfig, national_impact: bool
) -> Jurisdiction:
    """docs/rules.md §R2 in order: out of region (§R2.1), cross-province/border (§R2.2),
    cross-league (§R2.3), national impact (§R2.4), league (§R2.5); tolerances §R2.6, §R2.7."""
    if spatial.coarse is not None:
        return _coarse(spatial, national_impact)

    eps, ms = config.share_epsilon, config.min_share
    notices: list[Notice] = []
    verify = False
    floor = noise_floor(spatial, config)
    defaults = [f"min_share={ms}", f"layer_accuracy_m={config.layer_accuracy_m}"]
    point = spatial.footprint_type == "point"

    province_hits = list(spatial.hits.get("province", ()))
    candidates: list[UnitShare] = []
    if point and len({h.code for h in province_hits}) > 1:
        # A point on a shared provincial boundary lies in both (§R2.6): never pick by code.
        candidates = [
            UnitShare("province", h.code or "", h.name or "", h.share) for h in province_hits
        ]
        if any(h.code == REGION_CODE for h in province_hits):
            province_hits = [h for h in province_hits if h.code == REGION_CODE]
        verify = True
        notices.append(
            Notice(
                "boundary_tie",
                "损害发生点位于省级行政区的共同边界上，同时落入："
                + "、".join(u.name for u in candidates)
                + "。已按位于内蒙古自治区行政区域内判定，是否跨省须现场核实。",
            )
        )
    leagues_a = allocate(spatial.hits.get("league", ()), "league", eps)
    provinces_a = allocate(province_hits, "province", eps)
    countries_a = allocate(
        [h for h in spatial.hits.get("country", ()) if h.code != CHINA_CODE], "country", eps
    )
    counties_a = allocate(spatial.hits.get("county", ()), "county", eps)

    footprint = (spatial.footprint_type, spatial.footprint_measure, floor, ms)
    leagues, league_slivers = _split(leagues_a, *footprint)
    provinces, province_slivers = _split(provinces_a, *footprint)
    countries, country_slivers = _split(countries_a, *footprint)
    counties, county_slivers = _split(counties_a, *footprint)
    countries = tuple(
        UnitShare(u.kind, u.code, COUNTRY_NAMES.get(u.code, u.name), u.share) for u in countries
    )
    slivers = tuple(league_slivers + province_slivers + country_slivers + county_slivers)
    if slivers:
        verify = True
        limit = (
            f"不超过噪声下限约 {measure_text(floor, spatial.footprint_type)}"
            f"（图层精度 {config.layer_accuracy_m:g} 米或定位精度取大者）"
            if floor is not None
            else f"不足 {ms * 100:g}%"
        )
        notices.append(
            Notice(
                "ignored_slivers",
                f"以下单元与损害区域的重叠{limit}，视为边界误差未计入管辖判定，但可能影响赔偿权利人，"
                f"请人工核实：{_sliver_listing(slivers)}。",
            )
        )
    small = [
        u
        for u in (*leagues, *provinces, *countries)
        if u.share is not None and u.share < ms and not point
    ]
    if small and floor is not None:
        verify = True
        notices.append(
            Notice(
                "small_share_counted",
                f"以下单元占损害区域不足 {ms * 100:g}%，但超过边界误差，已计入管辖判定，请核实："
                f"{_sliver_listing(small)}。",
            )
        )
    disagree = _layers_disagree(spatial, leagues)
    if disagree is not None:
        verify = True
        notices.append(disagree)
    specials = special_areas_touched(spatial.bbox)
    for area in specials:
        verify = True
        notices.append(Notice("special_status_area", area.notice()))

    near = bool(candidates)
    for kind, alloc in (("league", leagues_a), ("province", provinces_a)):
        if alloc.overlapping:
            verify, near = True, near or point
            notices.append(_overlap_notice(kind, alloc))
            if point:  # a point on a shared boundary: every unit it lies in is a candidate
                known = {(u.kind, u.code) for u in candidates}
                candidates += [
                    UnitShare(kind, u.code, u.name, u.share)
                    for u in (*alloc.units, *alloc.absorbed)
                    if (kind, u.code) not in known
                ]

    in_region_province = any(u.code == REGION_CODE for u in provinces)
    other_provinces = [u for u in provinces if u.code != REGION_CODE]
    in_region = in_region_province or bool(leagues)

    boundary = _near_boundary_notice(spatial, config) if point else None
    if boundary is not None:
        near, verify = True, True
        notices.append(boundary)
        defaults.append(f"boundary_buffer_m={config.boundary_buffer_m}")

    counties_t, provinces_t = tuple(counties), tuple(other_provinces)

    def finish(
        status: Status,
        level: Level | None,
        reason: str | None,
        holder: Unit | None,
        explanation: str,
        *,
        basis: str = "regulation",
        citations: tuple[str, ...] = (CITATION,),
    ) -> Jurisdiction:
        return Jurisdiction(
            status,
            level,
            reason,
            holder,
            leagues=tuple(leagues) if status == "decided" else (),
            counties=counties_t,
            other_provinces=provinces_t,
            countries=tuple(countries),
            ignored_slivers=slivers,
            near_boundary=near,
            needs_verification=verify or status == "unresolved",
            notices=tuple(notices),
            explanation=explanation,
            basis=basis,
            citations=citations,
            defaults_applied=tuple(defaults),
            boundary_candidates=tuple(candidates),
        )

    if not in_region and (other_provinces or countries):
        where = _listing([*other_provinces, *countries])
        notices.append(
            Notice("out_of_region", f"损害区域不在内蒙古自治区行政区域内，位于{where}。")
        )
        return finish(
            "out_of_region",
            None,
            None,
            None,
            f"损害区域位于{where}，不在内蒙古自治区行政区域内，不适用本规定"
            f"（{SCOPE_CITATION}），不作其他判定。",
            citations=(SCOPE_CITATION, CITATION),
        )
    measure = _MEASURE.get(spatial.footprint_type or "", "")
    if countries:
        notices.append(
            Notice(
                "cross_border",
                f"损害区域跨越国界（{_listing(countries)}）。本规定未规定跨国界的生态环境损害，"
                "暂按自治区层级处理，须报请国家层面处理。",
            )
        )
        return finish(
            "decided",
            "region",
            "cross_border",
            REGION,
            f"损害区域同时位于内蒙古自治区和{_listing(countries)}（{measure}），跨越国界。"
            "本规定对此未作规定；参照第五条第二款跨省（区、市）情形由内蒙古自治区人民政府负责，"
            "并须报请国家层面处理。",
            basis="default",
        )
    if other_provinces:
        return finish(
            "decided",
            "region",
            "cross_province",
            REGION,
            f"损害区域同时位于内蒙古自治区和{_listing(other_provinces)}（{measure}），"
            "属跨省（区、市）的生态环境损害，依第五条第二款由自治区人民政府商相关省级人民政府"
            "开展生态环境损害赔偿工作。",
        )
    if not leagues:
        # A gap between unit polygons: the nearest league within gap_tolerance_m, else manual.
        # Only cross-league and below need a league (R2 order: cross-province comes first).
        defaults.append(f"gap_tolerance_m={config.gap_tolerance_m}")
        gap = _gap_league(spatial, config)
        if gap is None and national_impact and in_region:
            return finish(
                "decided",
                "region",
                "national_impact",
                REGION,
                "提交人标明该损害在全国有重大影响，依第五条第二款由内蒙古自治区人民政府管辖"
                "（损害发生地未落入任何盟市图斑，但不影响本项判定）。",
            )
        if gap is None:
            why = _unresolved_why(spatial, config)
            notices.append(Notice("unresolved", f"无法确定管辖：{why}。请人工指定赔偿权利人。"))
            return finish(
                "unresolved",
                None,
                None,
                None,
                f"{why}，无法依第五条第二款确定赔偿权利人，需人工指定。",
            )
        unit, dist = gap
        where = "在自治区内但" if in_region else "（图层缝隙）"
        notices.append(
            Notice(
                "gap_assigned",
                f"损害发生地{where}未落入任何盟市图斑，距最近的{unit.name}约 {dist:.0f} 米，"
                f"在缝隙容差 {config.gap_tolerance_m:g} 米内，暂归{unit.name}，请人工核实。",
            )
        )
        leagues = (UnitShare("league", unit.code, unit.name, None),)
        verify = True

    if len(leagues) >= 2:
        return finish(
            "decided",
            "region",
            "cross_league",
            REGION,
            f"损害区域跨{_listing(leagues)}共 {len(leagues)} 个盟市（{measure}），"
            "属自治区内跨盟市的生态环境损害，依第五条第二款由内蒙古自治区人民政府管辖。",
        )
    if national_impact:
        return finish(
            "decided",
            "region",
            "national_impact",
            REGION,
            "提交人标明该损害在全国有重大影响，依第五条第二款由内蒙古自治区人民政府管辖。",
        )
    league = league_unit(leagues[0].code, leagues[0].name)
    return finish(
        "decided",
        "league",
        "single_league",
        league,
        f"损害后果发生地位于{league.name}（{_pct(leagues[0])}，{measure}），不跨省、"
        f"不跨盟市，依第五条第二款由损害后果发生地的{league.government}管辖。",
    )


def _layers_disagree(spatial: SpatialFacts, leagues: Sequence[UnitShare]) -> Notice | None:
    """A league hit outside the region's province polygon: the layers disagree (§R2.6)."""
    provinces = spatial.hits.get("province", ())
    if not leagues or not provinces or any(h.code == REGION_CODE for h in provinces):
        return None
    league_layer = next((h.layer for h in spatial.hits.get("league", ())), "league")
    province_layer = provinces[0].layer
    others = "、".join(dict.fromkeys(h.name or h.code or "" for h in provinces))
    return Notice(
        "layers_disagree",
        f"图层不一致：盟市图层（{league_layer}）显示损害发生地位于"
        f"{'、'.join(u.name for u in leagues)}，省级行政区图层（{province_layer}）显示位于"
        f"{others}，不在内蒙古自治区内。请 GIS 人员核对两个图层，并人工确定管辖。",
    )


def _overlap_notice(kind: str, alloc: Allocation) -> Notice:
    lost = "、".join(u.name for u in alloc.absorbed) or "无"
    return Notice(
        "overlapping_units",
        f"损害区域在{_KIND_ZH[kind]}图层中同时落入多个单元（重叠或位于共同边界上）；"
        f"已按份额最大、代码最小者确定归属，未计入：{lost}。请人工核实。",
    )


def _near_boundary_notice(spatial: SpatialFacts, config: RulebookConfig) -> Notice | None:
    """R2: a point within boundary_buffer_m (or its precision_m if larger) of a unit boundary."""
    threshold = max(config.boundary_buffer_m, spatial.precision_m or 0.0)
    close = {
        k: d
        for k, d in spatial.boundary_distance_m.items()
        if k in ("league", "province") and d <= threshold  # 以内 includes the limit
    }
    if not close:
        return None
    kind = min(close, key=lambda k: close[k])
    return Notice(
        "near_boundary",
        f"损害发生点距{_KIND_ZH[kind]}边界约 {close[kind]:.0f} 米，在容差 {threshold:.0f} 米内"
        f"（边界缓冲 {config.boundary_buffer_m:g} 米或定位精度取大者），管辖按点所在单元判定，"
        "请现场核实。",
    )


_KIND_ZH = {"league": "盟市", "province": "省级行政区", "county": "旗县", "country": "国家"}


def _gap_league(spatial: SpatialFacts, config: RulebookConfig) -> tuple[Unit, float] | None:
    near = spatial.nearest_unit.get("league")
    if near is None or near.code is None or near.distance_m > config.gap_tolerance_m:
        return None
    return league_unit(near.code, near.name or near.code), near.distance_m


def _unresolved_why(spatial: SpatialFacts, config: RulebookConfig) -> str:
    nearest = spatial.nearest_unit.get("league")
    if "league" not in spatial.hits and "league" not in spatial.layer_versions:
        return "没有可用的盟市界线图层"
    if nearest is not None:
        return (
            f"损害发生地未落入任何盟市，最近的{nearest.name or nearest.code}约 "
            f"{nearest.distance_m:.0f} 米，超出缝隙容差 {config.gap_tolerance_m:g} 米"
        )
    return "损害发生地未落入任何盟市，附近也没有盟市图斑"


def _coarse(spatial: SpatialFacts, national_impact: bool) -> Jurisdiction:
    """R1: an administrative name decides the league, and nothing finer."""
    c = spatial.coarse
    assert c is not None
    league = league_unit(c.league_code, c.league_name)
    leagues = (UnitShare("league", league.code, league.name, None),)
    counties = (UnitShare("county", c.code, c.name, None),) if c.level == "county" else ()
    notice = Notice(
        "coarse_location",
        f"线索只定位到{c.name}（行政区名称），未给出具体位置：可确定所属盟市为{league.name}，"
        "但无法判断是否涉及生态保护红线、自然保护地、重点生态功能区或跨界情形，请补充具体位置。",
    )
    holder: Unit = league
    level: Level = "league"
    reason = "single_league"
    explanation = (
        f"线索只定位到{c.name}，属{league.name}；依第五条第二款暂由{league.government}管辖。"
        "因缺少具体位置，是否跨盟市、跨省无法判断，请补充位置后重新筛查。"
    )
    if national_impact:
        holder, level, reason = REGION, "region", "national_impact"
        explanation = (
            f"线索只定位到{c.name}；提交人标明该损害在全国有重大影响，依第五条第二款由"
            "内蒙古自治区人民政府管辖。"
        )
    return Jurisdiction(
        "decided",
        level,
        reason,
        holder,
        leagues=leagues,
        counties=counties,
        needs_verification=True,
        notices=(notice,),
        explanation=explanation,
        basis="default",
    )
