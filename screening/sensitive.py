"""What sensitive areas the damage area lies in (docs/rules.md §R3.2, §R5.3).

Feeds 第十二条第一款第（五）项 (R3) and 第十五条第五款第（一）项 (R5).

Missing layers, coarse locations and overlaps at or below the absolute noise floor (§R2.6) make a
kind's status unknown, never "no overlap". 自然保护地 covers every sub-kind (自然保护区, 国家公园,
自然公园: §R5.3), named on each hit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from screening.config import RulebookConfig
from screening.enums import (
    KEY_FUNCTION_ZONE,
    NATURE_RESERVE,
    RED_LINE,
    SENSITIVE_KIND_TEXT,
    SENSITIVE_KINDS,
)
from screening.facts import AreaHit, NearbyHit, SpatialFacts
from screening.notices import Notice
from screening.tolerance import above_noise, measure_of, measure_text, noise_floor

# 自然保护地 sub-kinds (《关于建立以国家公园为主体的自然保护地体系的指导意见》): read from the
# feature's (or its layer's) name; the kind `nature_reserve` stands for the whole system.
PROTECTED_AREA_SUB_KINDS = (
    ("国家公园", "国家公园"),
    ("自然保护区", "自然保护区"),
    ("保护区", "自然保护区"),
    ("公园", "自然公园"),  # 森林、湿地、地质、沙漠、草原、海洋公园, 风景名胜区 aside
    ("风景名胜区", "自然公园"),
)


def protected_area_coverage(names: Iterable[str | None], layer: str | None) -> Notice | None:
    """A 自然保护地 layer holding only 自然保护区 under-applies 第十五条第五款第（一）项 and 第六条
    (docs/rules.md §R5.3): say so to the analyst loading it."""
    found = {protected_area_sub_kind(n, None) for n in names} | {
        protected_area_sub_kind(None, layer)
    }
    if found & {"国家公园", "自然公园"}:
        return None
    return Notice(
        "protected_area_sub_kinds",
        "该自然保护地图层只含自然保护区（或无法识别类型）。第十五条第五款第（一）项和第六条所称"
        "自然保护地还包括国家公园和自然公园（森林、湿地、地质、沙漠、草原公园等）：请另行加载"
        "这些图层（类型同为 nature_reserve），否则位于其内的线索会被漏判。",
    )


@lru_cache(maxsize=4096)
def protected_area_sub_kind(name: str | None, layer: str | None) -> str | None:
    """自然保护区 / 国家公园 / 自然公园 from the feature's or layer's name; None if unnamed."""
    for text in (name or "", layer or ""):
        for marker, sub_kind in PROTECTED_AREA_SUB_KINDS:
            if marker in text:
                return sub_kind
    return None


# Kinds whose absence must be known before saying "not a sensitive-area lead".
ESSENTIAL_KINDS = (RED_LINE, NATURE_RESERVE, KEY_FUNCTION_ZONE)
OVERRIDE_KINDS = (RED_LINE, NATURE_RESERVE)  # 第十五条第五款第（一）项


def _hit_dict(h: AreaHit) -> dict[str, Any]:
    out: dict[str, Any] = {
        "layer": h.layer,
        "layer_version": h.layer_version,
        "feature_id": h.feature_id,
        "code": h.code,
        "name": h.name,
        "share": round(h.share, 6),
    }
    if h.kind == NATURE_RESERVE:
        out["sub_kind"] = protected_area_sub_kind(h.name, h.layer)
    return out


def _order(h: AreaHit) -> tuple[float, str, str]:
    return (-h.share, h.layer, str(h.feature_id))


def _ordered(hits: Sequence[AreaHit]) -> Sequence[AreaHit]:
    """Largest share first, then by layer and feature."""
    return sorted(hits, key=_order) if len(hits) > 1 else hits


@dataclass(frozen=True, slots=True)
class SensitiveAreas:
    touched: dict[str, tuple[AreaHit, ...]]  # kind -> features overlapped beyond the noise floor
    ignored: tuple[AreaHit, ...]  # overlaps at or below the noise floor: status unknown
    nearby: tuple[NearbyHit, ...]
    unknown_kinds: tuple[str, ...]
    notices: tuple[Notice, ...]
    needs_verification: bool
    act_touched: dict[str, tuple[AreaHit, ...]] = field(default_factory=dict)  # 行为发生地

    def status(self, kind: str) -> bool | None:
        """True: overlaps; False: the layer was checked and it does not; None: unknown."""
        if self.touched.get(kind):
            return True
        return None if kind in self.unknown_kinds else False

    def ignored_of(self, kind: str) -> list[AreaHit]:
        return [h for h in self.ignored if h.kind == kind]

    def act_in(self, kind: str) -> bool:
        """The act location (行为发生地) lies in a feature of `kind` (第六条's 行为 clause)."""
        return bool(self.act_touched.get(kind))

    def to_dict(self) -> dict[str, Any]:
        status = self.statuses()
        out: dict[str, Any] = {
            kind: [_hit_dict(h) for h in self.touched.get(kind, ())] for kind in SENSITIVE_KINDS
        }
        out["nearby"] = [
            {
                "kind": n.kind,
                "layer": n.layer,
                "layer_version": n.layer_version,
                "feature_id": n.feature_id,
                "name": n.name,
                "distance_m": round(n.distance_m, 1),
            }
            for n in self.nearby
        ]
        out["ignored_slivers"] = [{"kind": h.kind, **_hit_dict(h)} for h in self.ignored]
        out["act_location"] = {
            kind: [_hit_dict(h) for h in hits] for kind, hits in self.act_touched.items() if hits
        }
        out["status"] = status
        out["unknown_kinds"] = list(self.unknown_kinds)
        out["citations"] = (["第十二条第一款第（五）项"] if any(self.touched.values()) else []) + (
            ["第十五条第五款第（一）项"] if any(self.touched.get(k) for k in OVERRIDE_KINDS) else []
        )
        out["explanation"] = self._explain(status)
        return out

    def statuses(self) -> dict[str, bool | None]:
        """`status` of every sensitive kind, in order."""
        return {kind: self.status(kind) for kind in SENSITIVE_KINDS}

    @property
    def explanation(self) -> str:
        return self._explain(self.statuses())

    def _explain(self, status: dict[str, bool | None]) -> str:
        parts = []
        for kind, st in status.items():
            text = SENSITIVE_KIND_TEXT[kind]
            if st:
                names = "、".join(
                    f"{h.name or h.feature_id}（占{h.share * 100:.1f}%）"
                    for h in self.touched[kind]
                )
                parts.append(f"位于{text}：{names}")
            elif st is None:
                parts.append(f"是否位于{text}无法判断（无可用图层或位置不具体）")
            else:
                parts.append(f"不涉及{text}")
        if self.nearby:
            n = self.nearby[0]
            parts.append(
                f"最近的未触及敏感区为{SENSITIVE_KIND_TEXT.get(n.kind, n.kind)}"
                f"{n.name or n.feature_id}，约 {n.distance_m:.0f} 米"
            )
        return "；".join(parts) + "。"


@lru_cache(maxsize=64)
def _layer_missing(kinds: tuple[str, ...]) -> Notice:
    names = "、".join(SENSITIVE_KIND_TEXT[k] for k in kinds)
    return Notice(
        "sensitive_layer_missing",
        f"没有启用的{names}图层：是否位于{names}无法判断（不是“未涉及”）。"
        "请 GIS 人员加载并启用该图层后重新筛查。",
    )


def find_sensitive(spatial: SpatialFacts, config: RulebookConfig) -> SensitiveAreas:
    """Overlaps per sensitive kind (every active series), nearby features nearest first
    (docs/rules.md §R3.2, §R5.3; the floor of §R2.6)."""
    notices: list[Notice] = []
    verify = False
    if spatial.coarse is not None:
        unknown: tuple[str, ...] = SENSITIVE_KINDS
        notices.append(
            Notice(
                "sensitive_status_unknown",
                "线索只定位到行政区名称，无法判断是否位于生态保护红线、自然保护地或重点生态功能区；"
                "第十五条第五款第（一）项能否适用亦无法判断。请补充具体位置。",
            )
        )
        return SensitiveAreas({}, (), (), unknown, tuple(notices), True)

    touched: dict[str, tuple[AreaHit, ...]] = {}
    ignored: list[AreaHit] = []
    floor = noise_floor(spatial, config)
    noise = (spatial.footprint_measure, floor, config.sensitive_min_share)
    for kind in SENSITIVE_KINDS:
        hits = _ordered(spatial.hits.get(kind, ()))
        touched[kind] = tuple(h for h in hits if above_noise(h.share, *noise))
        ignored.extend(h for h in hits if not above_noise(h.share, *noise))
    uncertain = {h.kind for h in ignored}
    unknown = tuple(
        k
        for k in SENSITIVE_KINDS
        if (k in spatial.missing_kinds or k in uncertain) and not touched[k]
    )
    missing_essential = tuple(k for k in unknown if k in ESSENTIAL_KINDS)
    if missing_essential:
        verify = True
        notices.append(_layer_missing(missing_essential))
    if ignored:
        verify = True
        limit = (
            f"不超过测量精度下限约 {measure_text(floor, spatial.footprint_type)}"
            if floor is not None
            else f"小于 {config.sensitive_min_share * 100:g}%"
        )
        notices.append(
            Notice(
                "sensitive_sliver",
                f"与以下敏感区的重叠{limit}，无法确定是否真实位于其内（不是“未涉及”）："
                + "、".join(
                    f"{h.name or h.feature_id}（{h.share * 100:.3f}%，约 "
                    f"{measure_text(measure_of(h.share, spatial), spatial.footprint_type)}）"
                    for h in ignored
                )
                + "。第十五条第五款第（一）项能否适用须现场核实。",
            )
        )

    nearby = tuple(
        sorted(
            (n for n in spatial.nearby if n.kind in SENSITIVE_KINDS),
            key=lambda n: (n.distance_m, n.layer, str(n.feature_id)),
        )
    )
    threshold = max(config.boundary_buffer_m, spatial.precision_m or 0.0)
    close = [n for n in nearby if n.distance_m <= threshold and n.kind in OVERRIDE_KINDS]
    if close:
        verify = True
        n = close[0]
        notices.append(
            Notice(
                "near_sensitive_area",
                f"损害区域距{SENSITIVE_KIND_TEXT[n.kind]}{n.name or n.feature_id}仅约 "
                f"{n.distance_m:.0f} 米，在容差 {threshold:.0f} 米内：是否位于其内影响"
                "第十五条第五款第（一）项的适用，请现场核实。",
            )
        )
    act_touched = {
        kind: tuple(h for h in _ordered(spatial.act_hits.get(kind, ())) if h.share > 0)
        for kind in OVERRIDE_KINDS
    }
    return SensitiveAreas(
        touched, tuple(ignored), nearby, unknown, tuple(notices), verify, act_touched
    )
