"""The features a case map shows: boundaries and sensitive areas around the case.

Layer versions are immutable, so their features are read from the database once per version id
and kept in a small cache with a spatial index. A case map uses the versions its decision was
made with (`layer_versions`), falling back to the active ones: the map shows what was decided.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shapely import STRtree
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from geo_service.db.models import LayerVersion
from geo_service.layer_store import active_version_ids, version_data
from layers.model import LayerVersionData
from maps import MapFeature
from maps.display import make_view
from screening.record import DecisionRecord

ADMIN_CODE_KEYS = {
    "league": ("jurisdiction", "leagues"),
    "county": ("jurisdiction", "counties"),
    "province": ("jurisdiction", "other_provinces"),
    "country": ("jurisdiction", "countries"),
}
SENSITIVE = ("red_line", "nature_reserve", "key_function_zone", "prohibited_zone")
NEAR_MARGIN_DEG = 0.1  # nearby features (5 km by default) must fall inside the query box


@dataclass(frozen=True)
class _Indexed:
    data: LayerVersionData
    tree: STRtree


class DisplayIndex:
    """Per-process cache: version id → features + STRtree (LRU, `capacity` versions)."""

    def __init__(self, capacity: int = 24) -> None:
        self.capacity = capacity
        self._cache: OrderedDict[int, _Indexed] = OrderedDict()
        self._lock = threading.Lock()

    def version(self, session: Session, version_id: int) -> _Indexed | None:
        with self._lock:
            hit = self._cache.get(version_id)
            if hit is not None:
                self._cache.move_to_end(version_id)
                return hit
        row = session.get(LayerVersion, version_id)
        if row is None or row.status == "importing":  # an unfinished upload is no version yet
            return None
        data = version_data(session, row)
        indexed = _Indexed(data, STRtree([f.geometry for f in data.features]))
        with self._lock:
            self._cache[version_id] = indexed
            while len(self._cache) > self.capacity:
                self._cache.popitem(last=False)
        return indexed

    def query(
        self, session: Session, version_ids: Iterable[int], bounds: tuple[float, ...]
    ) -> list[tuple[LayerVersionData, Any]]:
        """(version, feature) pairs whose geometry meets the box."""
        out = []
        q = box(*bounds)
        for vid in version_ids:
            indexed = self.version(session, vid)
            if indexed is None:
                continue
            for i in indexed.tree.query(q, predicate="intersects"):
                out.append((indexed.data, indexed.data.features[int(i)]))
        return out


def _codes(decision: DecisionRecord, kind: str) -> set[str]:
    section, key = ADMIN_CODE_KEYS[kind]
    units = getattr(getattr(decision, section), key)
    return {str(u.code) for u in units if u.code is not None}


def _sensitive_hits(decision: DecisionRecord) -> tuple[set[str], set[tuple[str, str]]]:
    ids, names = set(), set()
    for kind in SENSITIVE:
        for h in decision.sensitive_areas.touched(kind):
            if h.feature_id is not None:
                ids.add(str(h.feature_id))
            if h.name:
                names.add((kind, str(h.name)))
    return ids, names


def _nearby(decision: DecisionRecord) -> tuple[dict[str, float], dict[tuple[str, str], float]]:
    by_id, by_name = {}, {}
    for n in decision.sensitive_areas.nearby:
        if n.distance_m is None:
            continue
        if n.feature_id is not None:
            by_id[str(n.feature_id)] = float(n.distance_m)
        if n.name:
            by_name[(str(n.kind), str(n.name))] = float(n.distance_m)
    return by_id, by_name


def case_features(
    index: DisplayIndex,
    session: Session,
    damage: BaseGeometry,
    act: BaseGeometry | None,
    decision: DecisionRecord | Mapping[str, Any],
) -> list[MapFeature]:
    """Boundaries and sensitive areas around the case, marked as the decision found them."""
    decision = DecisionRecord.load(decision)
    used = dict(decision.layer_versions)
    versions = {**active_version_ids(session), **used}
    minx, miny, maxx, maxy = make_view([g for g in (damage, act) if g is not None]).context
    bounds = (minx - NEAR_MARGIN_DEG, miny - NEAR_MARGIN_DEG,
              maxx + NEAR_MARGIN_DEG, maxy + NEAR_MARGIN_DEG)
    codes = {kind: _codes(decision, kind) for kind in ADMIN_CODE_KEYS}
    hit_ids, hit_names = _sensitive_hits(decision)
    near_ids, near_names = _nearby(decision)
    out: list[MapFeature] = []
    for data, f in index.query(session, sorted(set(versions.values())), bounds):
        kind = data.kind
        fid, name = str(f.feature_id), f.name or ""
        if kind in ADMIN_CODE_KEYS:
            highlight = f.code is not None and str(f.code) in codes[kind]
            if kind == "province" and not highlight:
                # The region itself is highlighted when the case lies in it.
                highlight = str(f.code) == "150000" and bool(codes["league"])
            distance = None
        else:
            highlight = fid in hit_ids or (kind, name) in hit_names
            # Features in view but beyond the nearby radius get no distance: context only.
            distance = near_ids.get(fid, near_names.get((kind, name)))
        out.append(MapFeature(kind=kind, name=f.name, code=f.code, geometry=f.geometry,
                              highlight=highlight, distance_m=distance))
    return out

