"""Issue 10 through the service on both backends: absolute tolerances, ties, special-status
areas, 自然保护地 sub-kinds and the act location — on real boundaries and previewed test layers
(the shared services never see the test layers)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest
from api_helpers import unique_ref
from shapely.geometry import Point, box, mapping
from shapely.geometry.base import BaseGeometry

from geo_service.auth import Principal
from geo_service.layer_store import get_or_create_series, store_version, version_data
from geo_service.pipeline import ScreenOutcome, screen
from geo_service.schemas import ScreenRequest
from geo_service.services import Services
from layers.model import LayerFeature

PRINCIPAL = Principal("test", "admin", 0)
HAILAR = (119.76, 49.21)  # 海拉尔区


def preview(services: Services, *layers: tuple[str, str, str, BaseGeometry]) -> Services:
    """The services with draft versions previewed: (kind, series title, feature name, geom)."""
    overlay = services.overlay
    with services.sessions() as session:
        for i, (kind, title, name, geom) in enumerate(layers):
            series = get_or_create_series(session, f"test_{kind}_{unique_ref()[:10]}", kind, title)
            version = store_version(
                session,
                series=series,
                uploaded_by="test",
                features=[LayerFeature(feature_id=i, code=f"T{i}", name=name, geometry=geom)],
            )
            session.commit()
            session.refresh(version)
            overlay = overlay.preview(version_data(session, version))
    no_sync = services.settings.model_copy(update={"layer_sync_interval_s": 0})
    return dataclasses.replace(services, settings=no_sync, overlay=overlay)


def run(services: Services, geometry: BaseGeometry, **extra: Any) -> ScreenOutcome:
    body = {"location": {"geometry": mapping(geometry)}, "received_on": "2026-09-05", **extra}
    return screen(services, ScreenRequest.model_validate(body), PRINCIPAL)


def square_km(x: float, y: float, side_km: float) -> BaseGeometry:
    """A square of about `side_km` around (x, y), in degrees."""
    dy = side_km / 111.32 / 2
    dx = dy / math.cos(math.radians(y))
    return box(x - dx, y - dy, x + dx, y + dy)


def test_red_line_overlap_below_the_floor_makes_the_override_unknown(services: Services) -> None:
    """0.009 % of a 10 km² damage area (900 m²) lies in a red line: unknown, not "no"."""
    damage = square_km(*HAILAR, math.sqrt(10))
    x1, y1 = damage.bounds[2], damage.bounds[3]
    corner = square_km(x1, y1, 0.06)  # a 60 m square on the corner: a quarter inside
    svc = preview(
        services,
        ("red_line", "生态保护红线（测试数据）", "测试红线", corner),
        ("nature_reserve", "自然保护地（测试数据）", "远处的保护区", square_km(121.0, 50.0, 1)),
    )
    d = run(svc, damage, damage_amount_yuan=2000).decision
    share = d["sensitive_areas"]["ignored_slivers"][0]["share"]
    assert 0.00005 < share < 0.00015  # about 900 m² of 10 km²
    assert d["sensitive_areas"]["red_line"] == []
    assert d["minor"]["override"] is None and "red_line" in d["minor"]["override_unknown"]
    assert d["needs_verification"] is True
    assert "sensitive_sliver" in {w["code"] for w in d["warnings"]}
    # A real overlap (well above the floor) counts.
    inside = preview(services, ("red_line", "生态保护红线（测试数据）", "测试红线", damage))
    assert run(inside, damage, damage_amount_yuan=2000).decision["minor"]["override_reasons"] == [
        "red_line"
    ]


def test_a_national_park_layer_triggers_the_override_and_forestry(services: Services) -> None:
    park = square_km(*HAILAR, 4)
    svc = preview(services, ("nature_reserve", "国家公园（测试数据）", "测试国家公园", park))
    d = run(
        svc, Point(*HAILAR), damage_amount_yuan=2000, case_type="pollution_discharge"
    ).decision
    assert d["minor"]["override_reasons"] == ["nature_reserve"]
    assert d["sensitive_areas"]["nature_reserve"][0]["sub_kind"] == "国家公园"
    assert "forestry_grassland" in {r["code"] for r in d["departments"]["responsible"]}


def test_an_act_inside_a_reserve_with_damage_downstream_goes_to_forestry(
    services: Services,
) -> None:
    reserve = square_km(*HAILAR, 2)
    svc = preview(services, ("nature_reserve", "自然保护区（测试数据）", "测试保护区", reserve))
    outside = Point(HAILAR[0] + 0.1, HAILAR[1])  # ~7 km east, outside the reserve
    d = run(
        svc,
        outside,
        act_location={"geometry": mapping(Point(*HAILAR))},
        case_type="pollution_discharge",
        damage_amount_yuan=2000,
    ).decision
    assert d["sensitive_areas"]["nature_reserve"] == []
    assert d["sensitive_areas"]["act_location"]["nature_reserve"][0]["name"] == "测试保护区"
    codes = {r["code"] for r in d["departments"]["responsible"]}
    assert codes == {"ecology_environment", "forestry_grassland"}
    assert "行为发生地位于自然保护地内" in d["departments"]["explanation"]


def test_a_point_in_jiagedaqi_needs_verification(services: Services) -> None:
    """加格达奇区 lies in 鄂伦春自治旗's territory but is administered by 黑龙江 (大兴安岭地区)."""
    d = run(services, Point(124.12, 50.42)).decision
    assert d["needs_verification"] is True
    message = next(w["message"] for w in d["warnings"] if w["code"] == "special_status_area")
    assert "加格达奇区" in message and "黑龙江省大兴安岭地区" in message


def _provinces() -> dict[str, BaseGeometry]:
    from layers.builtin import builtin_layers

    (provinces,) = builtin_layers(only=["province"])
    return {f.code: f.geometry for f in provinces.features}


def _seam_vertex(a: str, b: str) -> tuple[float, float]:
    geom = _provinces()
    seam = geom[a].boundary.intersection(geom[b].boundary)
    parts = getattr(seam, "geoms", [seam])
    line = max(parts, key=lambda g: g.length)
    coords = list(line.coords)
    return coords[len(coords) // 2]


def _square_with_share(inside: str, outside: str, share: float, side_km: float) -> BaseGeometry:
    """A square across the `inside`/`outside` border with about `share` of it in `inside`."""
    geom = _provinces()
    x, y = _seam_vertex(inside, outside)
    into = geom[outside].representative_point()
    dx, dy = into.x - x, into.y - y
    norm = math.hypot(dx, dy)
    dx, dy = dx / norm, dy / norm
    lo, hi = 0.0, 3.0  # degrees moved towards `outside`
    for _ in range(40):
        mid = (lo + hi) / 2
        sq = square_km(x + dx * mid, y + dy * mid, side_km)
        if sq.intersection(geom[inside]).area / sq.area > share:
            lo = mid
        else:
            hi = mid
    found = square_km(x + dx * lo, y + dy * lo, side_km)
    assert found.intersection(geom[inside]).area / found.area == pytest.approx(share, rel=0.2)
    return found


@pytest.mark.parametrize("other", ["130000", "230000"], ids=["内蒙古–河北", "内蒙古–黑龙江"])
def test_a_point_on_the_provincial_border_is_a_tie(services: Services, other: str) -> None:
    x, y = _seam_vertex("150000", other)
    d = run(services, Point(x, y)).decision
    j = d["jurisdiction"]
    assert j["status"] == "decided" and j["reason"] in ("single_league", "cross_league")
    assert d["needs_verification"] is True
    assert {"150000", other} <= {u["code"] for u in j["boundary_candidates"]}


@pytest.mark.parametrize(
    ("inside", "outside", "share"),
    [("150000", "640000", 0.005), ("640000", "150000", 0.008)],
    ids=["0.5%在内蒙古、99.5%在宁夏", "0.8%在宁夏"],
)
def test_a_small_share_across_the_province_border_is_counted_and_flagged(
    services: Services, inside: str, outside: str, share: float
) -> None:
    """About 900 km²: 0.5 % is 4.5 km², far above a 50 m band — counted as 跨省（区、市）
    (第五条第二款), never silently "out of region" or "single league"; flagged for a check."""
    area = _square_with_share(inside, outside, share, 30)
    d = run(services, area).decision
    j = d["jurisdiction"]
    assert (j["status"], j["reason"]) == ("decided", "cross_province"), j
    assert [u["code"] for u in j["other_provinces"]] == ["640000"]
    assert d["needs_verification"] is True
    assert "small_share_counted" in {w["code"] for w in d["warnings"]}


def _upload_reserves(client, auth, tmp_path, names: list[str]) -> dict:  # type: ignore[no-untyped-def]
    import json

    features = [
        {"type": "Feature", "properties": {"code": f"NR{i}", "name": n},
         "geometry": mapping(square_km(121.0 + i * 0.2, 50.0, 2))}
        for i, n in enumerate(names)
    ]  # fmt: skip
    path = tmp_path / f"reserves-{unique_ref()[:6]}.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    with path.open("rb") as fh:
        r = client.post(
            "/api/v1/layers",
            headers=auth("analyst"),
            files={"file": (path.name, fh, "application/geo+json")},
            data={"kind": "nature_reserve", "name": f"test_reserves_{unique_ref()[:8]}",
                  "code_field": "code", "name_field": "name"},
        )
    assert r.status_code == 201, r.text
    return r.json()


def test_a_reserves_only_layer_tells_the_analyst_what_it_misses(  # type: ignore[no-untyped-def]
    client, auth, tmp_path
) -> None:
    """自然保护地 is more than 自然保护区 (§R5.3): the analyst is told what a layer lacks."""
    only = _upload_reserves(client, auth, tmp_path, ["某某自然保护区", "某某保护区"])
    warning = next(w for w in only["warnings"] if w["code"] == "protected_area_sub_kinds")
    assert "国家公园" in warning["message"] and "自然公园" in warning["message"]
    full = _upload_reserves(client, auth, tmp_path, ["某某自然保护区", "某某国家公园"])
    assert "protected_area_sub_kinds" not in {w["code"] for w in full["warnings"]}
