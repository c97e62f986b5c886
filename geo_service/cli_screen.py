"""`geo-screen screen FILE [-o OUT]` (batch screening) and `geo-screen demo` (the tour)."""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from shapely import wkt as shapely_wkt
from shapely.errors import ShapelyError
from shapely.geometry import mapping

from geo_service.errors import DomainError, FieldError, InvalidInput
from geo_service.settings import Settings

CLI_PRINCIPAL_NAME = "cli"
BOOL_TRUE = {"true", "1", "yes", "y", "是", "t"}
BOOL_FALSE = {"false", "0", "no", "n", "否", "f", ""}
LON_NAMES = ("lon", "lng", "longitude", "x", "经度")
LAT_NAMES = ("lat", "latitude", "y", "纬度")
BOOL_FIELDS = (
    "no_obvious_impact",
    "region_decides_start",
    "national_impact",
    "central_inspection_important",
    "nationally_supervised",
    "major_impact",
    "already_remediated",
)
TEXT_FIELDS = (
    "case_type",
    "source_channel",
    "penalty_department",
    "received_on",
    "occurred_on",
    "incident_grade",
    "eco_destruction_grade",
)
OUT_COLUMNS = (
    "row",
    "ok",
    "jurisdiction_status",
    "level",
    "reason",
    "rights_holder",
    "league",
    "leagues",
    "counties",
    "other_provinces",
    "countries",
    "sensitive_area_lead",
    "red_line",
    "nature_reserve",
    "key_function_zone",
    "is_minor",
    "override",
    "override_reasons",
    "claim_required",
    "is_major",
    "responsible",
    "preliminary_check_due",
    "needs_verification",
    "located_by",
    "located_matched",
    "located_unit",
    "warnings",
    "error",
)


class InputFileError(ValueError):
    """The input file as a whole cannot be read."""


# --- Reading -------------------------------------------------------------------------------


def _bool(value: str, name: str) -> bool | str:
    v = value.strip().lower()
    if v in BOOL_TRUE:
        return True
    if v in BOOL_FALSE:
        return False
    return value  # left for validation to name


def _number(value: str) -> float | str:
    try:
        return float(value.replace(",", ""))
    except ValueError:
        return value


def row_to_request(row: dict[str, str]) -> dict[str, Any] | DomainError:
    """A CSV row → a screen request dict (columns: lon/lat, wkt, geometry or admin_name, text, crs,
    precision_m, obligor_id, obligor_name, prior_damage_dates and the request's own fields)."""
    row = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k}
    lower = {k.lower(): v for k, v in row.items()}
    location: dict[str, Any] = {}
    lon = next((lower[n] for n in LON_NAMES if lower.get(n)), None)
    lat = next((lower[n] for n in LAT_NAMES if lower.get(n)), None)
    try:
        if lower.get("geometry"):
            location["geometry"] = json.loads(lower["geometry"])
        elif lower.get("wkt"):
            location["geometry"] = mapping(shapely_wkt.loads(lower["wkt"]))
        elif lon is not None or lat is not None:
            location["geometry"] = {
                "type": "Point",
                "coordinates": [_number(lon or ""), _number(lat or "")],
            }
        elif lower.get("admin_name"):
            location["admin_name"] = lower["admin_name"]
        if lower.get("text"):  # the lead's own words: an address, coordinates or a map link
            location["text"] = lower["text"]
    except (json.JSONDecodeError, ShapelyError) as exc:
        field = "geometry" if lower.get("geometry") else "wkt"
        return InvalidInput("位置无法解析。", [FieldError(field, f"无法解析：{exc}")])
    if lower.get("crs"):
        location["crs"] = lower["crs"]
    if lower.get("precision_m"):
        location["precision_m"] = _number(lower["precision_m"])
    request: dict[str, Any] = {"location": location}
    for name in TEXT_FIELDS:
        if lower.get(name):
            request[name] = lower[name]
    for name in BOOL_FIELDS:
        if name in lower:
            request[name] = _bool(lower[name], name)
    if lower.get("damage_amount_yuan"):
        request["damage_amount_yuan"] = _number(lower["damage_amount_yuan"])
    if lower.get("obligor_id") or lower.get("obligor_name"):
        request["obligor"] = {
            "id": lower.get("obligor_id") or None,
            "name": lower.get("obligor_name") or None,
        }
    if lower.get("prior_damage_dates"):
        request["prior_damage_dates"] = [
            d.strip()
            for d in lower["prior_damage_dates"].replace("；", ";").split(";")
            if d.strip()
        ]
    return request


def read_requests(path: Path) -> list[dict[str, Any] | DomainError]:
    """Screen requests from a CSV (UTF-8 or GB18030) or a GeoJSON FeatureCollection."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"无法读取 {path}：{exc.strerror}") from None
    text = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        raise InputFileError(f"{path.name}：编码无法识别，请保存为 UTF-8。")
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        return _geojson_requests(text, path.name)
    if suffix in (".csv", ".txt"):
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames:
            raise InputFileError(f"{path.name}：CSV 没有表头。")
        return [row_to_request(row) for row in reader]
    raise InputFileError(f"{path.name}：只支持 .csv 或 .geojson/.json 文件。")


def _geojson_requests(text: str, name: str) -> list[dict[str, Any] | DomainError]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(f"{name}：不是有效的 JSON（{exc}）。") from None
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = {"type": "FeatureCollection", "features": [data]}
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise InputFileError(f"{name}：应为 GeoJSON FeatureCollection。")
    file_crs = _geojson_crs(data)
    out: list[dict[str, Any] | DomainError] = []
    for feature in data.get("features") or []:
        if not isinstance(feature, dict):
            out.append(
                InvalidInput("要素无效。", [FieldError("feature", "应为 GeoJSON Feature。")])
            )
            continue
        props = dict(feature.get("properties") or {})
        request: dict[str, Any] = {
            k: v
            for k, v in props.items()
            if k not in ("crs", "precision_m", "admin_name", "obligor_id", "obligor_name")
        }
        location: dict[str, Any] = {}
        if feature.get("geometry") is not None:
            location["geometry"] = feature["geometry"]
        elif props.get("admin_name"):
            location["admin_name"] = props["admin_name"]
        crs = props.get("crs") or file_crs
        if crs:
            location["crs"] = crs
        if props.get("precision_m") is not None:
            location["precision_m"] = props["precision_m"]
        if props.get("obligor_id") or props.get("obligor_name"):
            request["obligor"] = {"id": props.get("obligor_id"), "name": props.get("obligor_name")}
        request["location"] = location
        out.append(request)
    return out


def _geojson_crs(data: dict[str, Any]) -> str | None:
    crs = data.get("crs")
    if isinstance(crs, dict):
        name = (crs.get("properties") or {}).get("name")
        return str(name) if name else None
    return None


# --- Screening and writing -----------------------------------------------------------------


def screen_file(services: Any, path: Path) -> list[dict[str, Any]]:
    """Each input row's result: the decision (plus `location`) or a problem object."""
    from geo_service.auth import Principal
    from geo_service.errors import problem_dict
    from geo_service.pipeline import screen_many
    from geo_service.schemas import ScreenRequest, field_errors

    items = read_requests(path)
    requests: list[Any] = []
    for item in items:
        if isinstance(item, DomainError):
            requests.append(item)
            continue
        try:
            requests.append(ScreenRequest.model_validate(item))
        except ValidationError as exc:
            requests.append(
                InvalidInput("该行有字段不符合要求。", field_errors(exc.errors(), ScreenRequest))
            )
    principal = Principal(name=CLI_PRINCIPAL_NAME, role="admin", token_id=0)
    results = []
    for outcome in screen_many(services, requests, principal):
        results.append(
            problem_dict(outcome) if isinstance(outcome, DomainError) else outcome.response()
        )
    return results


def _names(items: Iterable[Any]) -> str:
    return "；".join(str(i.name or i.code or "") for i in items)


def flat_row(index: int, result: dict[str, Any]) -> dict[str, Any]:
    """One CSV row: a problem's errors, or the decision's conclusions (read typed)."""
    if "jurisdiction" not in result:
        errors = "；".join(f"{e['field']}：{e['message']}" for e in result.get("errors", []))
        return {"row": index, "ok": False, "error": errors or result.get("detail", "")}
    from maps.labels import league_display
    from screening.record import DecisionRecord

    d = DecisionRecord.load(result)
    j, s, m = d.jurisdiction, d.sensitive_areas, d.minor
    due = next((x.due for x in d.deadlines if x.name == "preliminary_check"), None)
    return {
        "row": index,
        "ok": True,
        "jurisdiction_status": j.status,
        "level": j.level,
        "reason": j.reason,
        "rights_holder": j.rights_holder.name if j.rights_holder else None,
        "league": league_display(d.rights_holder_code) if d.rights_holder_code else None,
        "leagues": _names(j.leagues),
        "counties": _names(j.counties),
        "other_provinces": _names(j.other_provinces),
        "countries": _names(j.countries),
        "sensitive_area_lead": d.sensitive_area_lead,
        "red_line": _names(s.red_line),
        "nature_reserve": _names(s.nature_reserve),
        "key_function_zone": _names(s.key_function_zone),
        "is_minor": m.is_minor,
        "override": m.override,
        "override_reasons": "；".join(m.override_reasons),
        "claim_required": m.claim_required,
        "is_major": d.major_case.is_major,
        "responsible": _names(d.departments.responsible),
        "preliminary_check_due": due,
        "needs_verification": d.needs_verification,
        **_located(result.get("location_resolution") or {}),
        "warnings": "；".join(w.message or "" for w in d.warnings),
        "error": "",
    }


def _located(resolution: dict[str, Any]) -> dict[str, Any]:
    """How the row was located (location_resolution): method, the words used, the unit."""
    unit = resolution.get("unit") or {}
    return {
        "located_by": resolution.get("method"),
        "located_matched": resolution.get("matched"),
        "located_unit": f"{unit['name']}（{unit['code']}）" if unit else None,
    }


def write_results(results: Sequence[dict[str, Any]], out: Path | None) -> None:
    if out is not None and out.suffix.lower() in (".json", ".geojson"):
        features = []
        for i, r in enumerate(results, start=1):
            geometry = (r.get("location") or {}).get("geometry")
            features.append(
                {"type": "Feature", "geometry": geometry, "properties": {"row": i, "result": r}}
            )
        out.write_text(
            json.dumps(
                {"type": "FeatureCollection", "features": features}, ensure_ascii=False, indent=1
            ),
            encoding="utf-8",
        )
        return
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=OUT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for i, r in enumerate(results, start=1):
        writer.writerow(flat_row(i, r))
    if out is None:
        sys.stdout.write(buffer.getvalue())
    else:
        out.write_text(buffer.getvalue(), encoding="utf-8-sig")  # BOM: Excel opens it as UTF-8


# --- Demo ----------------------------------------------------------------------------------

DEMO_TAG = "演示数据"
DEMO_LAYERS = (
    (
        "demo_red_line",
        "red_line",
        f"生态保护红线（{DEMO_TAG}）",
        [
            (
                "DEMO-RL-1",
                f"{DEMO_TAG}：呼伦湖周边生态保护红线（虚构，非真实红线）",
                [(117.0, 48.6), (117.7, 48.6), (117.7, 49.2), (117.0, 49.2), (117.0, 48.6)],
            ),
        ],
    ),
    (
        "demo_nature_reserve",
        "nature_reserve",
        f"自然保护地（{DEMO_TAG}）",
        [
            (
                "DEMO-NR-1",
                f"{DEMO_TAG}：锡林郭勒草原自然保护区（虚构范围）",
                [(116.0, 43.7), (116.8, 43.7), (116.8, 44.2), (116.0, 44.2), (116.0, 43.7)],
            ),
        ],
    ),
    (
        "demo_key_function_zone",
        "key_function_zone",
        f"重点生态功能区（{DEMO_TAG}）",
        [
            (
                "DEMO-KF-1",
                f"{DEMO_TAG}：阿拉善沙漠重点生态功能区（虚构范围）",
                [(104.0, 38.5), (106.0, 38.5), (106.0, 40.0), (104.0, 40.0), (104.0, 38.5)],
            ),
        ],
    ),
)


def _demo_leads() -> list[dict[str, Any]]:
    point = lambda x, y: {"type": "Point", "coordinates": [x, y]}  # noqa: E731
    from datetime import timedelta

    from geo_service.schemas import today_in_china

    today = today_in_china()  # recent dates, so the tour shows deadlines still running
    base = {
        "source_system": "demo",
        "received_on": (today - timedelta(days=5)).isoformat(),
        "occurred_on": (today - timedelta(days=12)).isoformat(),
    }
    return [
        {
            **base,
            "external_ref": "demo-1",
            "title": f"【{DEMO_TAG}】呼伦湖西岸排污投诉（红线内，数额 2000 元）",
            "location": {"geometry": point(117.4, 48.9), "precision_m": 30},
            "case_type": "pollution_discharge",
            "source_channel": "petition_media",
            "damage_amount_yuan": 2000,
        },
        {
            **base,
            "external_ref": "demo-2",
            "title": f"【{DEMO_TAG}】微信位置举报：城郊倾倒建筑垃圾（GCJ-02）",
            "location": {"geometry": point(111.75, 40.84), "crs": "GCJ02"},
            "case_type": "waste_dumping",
            "source_channel": "petition_media",
            "damage_amount_yuan": 80000,
        },
        {
            **base,
            "external_ref": "demo-3",
            "title": f"【{DEMO_TAG}】跨盟市河道非法采砂",
            "location": {
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[110.6, 40.55], [111.0, 40.6], [111.4, 40.62]],
                }
            },
            "case_type": "illegal_sand_mining",
            "source_channel": "routine_enforcement",
        },
        {
            **base,
            "external_ref": "demo-4",
            "title": f"【{DEMO_TAG}】只知道旗县：阿左旗草原破坏",
            "location": {"admin_name": "阿左旗"},
            "case_type": "forest_grass_wetland_damage",
            "source_channel": "superior_assigned",
        },
        {
            **base,
            "external_ref": "demo-5",
            "title": f"【{DEMO_TAG}】区外线索（宁夏银川）",
            "location": {"geometry": point(106.27, 38.47)},
            "case_type": "illegal_mining",
        },
        {
            **base,
            "external_ref": "demo-6",
            "title": f"【{DEMO_TAG}】已由行政执法完成修复的线索",
            "location": {"geometry": point(109.8, 39.6)},
            "case_type": "land_destruction",
            "already_remediated": True,
        },
        {
            **base,
            "external_ref": "demo-7",
            "title": f"【{DEMO_TAG}】较大突发环境事件（重大案件）",
            "location": {"geometry": point(109.95, 39.82)},
            "case_type": "environmental_emergency",
            "source_channel": "emergency",
            "incident_grade": "larger",
        },
    ]


def install_demo(services: Any) -> dict[str, Any]:
    """Demo sensitive layers (names say 演示数据) and sample leads; idempotent."""
    from shapely.geometry import Polygon
    from sqlalchemy import select

    from geo_service.auth import Principal
    from geo_service.db.models import LayerSeries, LayerVersion
    from geo_service.layer_store import (
        get_or_create_series,
        mark_active,
        store_version,
        version_data,
    )
    from geo_service.leads import create_lead
    from geo_service.schemas import LeadCreate
    from layers.model import LayerFeature

    actor = "system:demo"
    layers_added = []
    with services.sessions() as session:
        for series_name, kind, title, features in DEMO_LAYERS:
            series = session.scalars(
                select(LayerSeries).where(LayerSeries.name == series_name)
            ).first()
            active = (
                series is not None
                and session.scalars(
                    select(LayerVersion).where(
                        LayerVersion.series_id == series.id, LayerVersion.status == "active"
                    )
                ).first()
            )
            if active:
                continue
            series = get_or_create_series(session, series_name, kind, title)
            version = store_version(
                session,
                series=series,
                uploaded_by=actor,
                source_filename=f"{series_name}（{DEMO_TAG}）",
                source_crs="EPSG:4490",
                meta={"demo": True},
                features=[
                    LayerFeature(
                        feature_id=i,
                        code=code,
                        name=name,
                        geometry=Polygon(ring),
                        attributes={"demo": True, "说明": DEMO_TAG},
                    )
                    for i, (code, name, ring) in enumerate(features)
                ],
            )
            session.flush()
            session.refresh(version)
            mark_active(session, version, actor)
            session.commit()
            services.overlay.activate(version_data(session, version))
            layers_added.append(series_name)
    principal = Principal(name="demo", role="admin", token_id=0)
    created = 0
    for body in _demo_leads():
        _, was_created = create_lead(services, LeadCreate.model_validate(body), principal)
        created += int(was_created)
    return {"layers_added": layers_added, "leads_created": created}


def register(app: typer.Typer) -> None:
    history_app = typer.Typer(help="历史案件（两年内再次发生的判断依据）", no_args_is_help=True)
    app.add_typer(history_app, name="history")

    @history_app.command("import")
    def history_import(
        file: Annotated[Path, typer.Argument(help="CSV：obligor_id, damage_date, case_ref, note")],
    ) -> None:
        """Import historical cases (established earlier damage) from a CSV; reports bad rows."""
        from geo_service.history import import_history_csv
        from geo_service.services import Services

        try:
            raw = file.read_bytes()
        except OSError as exc:
            typer.echo(f"无法读取 {file}：{exc.strerror}", err=True)
            raise typer.Exit(2) from None
        settings = Settings()
        services = Services.open(settings)
        try:
            with services.sessions() as session:
                report = import_history_csv(session, raw, actor="cli")
        except DomainError as exc:
            typer.echo(exc.detail, err=True)
            raise typer.Exit(2) from None
        finally:
            services.close()
        for row in report.rejected:
            typer.echo(f"第 {row['line']} 行被拒绝：{'；'.join(row['reasons'])}", err=True)
        typer.echo(
            f"共 {report.rows} 行：导入 {report.imported} 行，重复 {len(report.duplicates)} 行，"
            f"拒绝 {len(report.rejected)} 行。"
        )
        if report.rejected:
            raise typer.Exit(1)

    @app.command("screen")
    def screen_command(
        file: Annotated[
            Path,
            typer.Argument(help="CSV（lon,lat / wkt / geometry / admin_name / text 列）或 GeoJSON"),
        ],
        out: Annotated[
            Path | None,
            typer.Option("-o", "--out", help="输出：.csv 或 .geojson/.json；缺省输出 CSV 到屏幕"),
        ] = None,
    ) -> None:
        """Batch-screen leads from CSV or GeoJSON and write the decisions."""
        from geo_service.services import Services

        started = time.perf_counter()
        services = Services.open(Settings())
        try:
            results = screen_file(services, file)
        except InputFileError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        finally:
            services.close()
        write_results(results, out)
        bad = sum(1 for r in results if "jurisdiction" not in r)
        typer.echo(
            f"共 {len(results)} 条：筛查 {len(results) - bad} 条，输入有误 {bad} 条"
            f"（用时 {time.perf_counter() - started:.1f} 秒）"
            + (f"；结果已写入 {out}" if out else ""),
            err=True,
        )

    @app.command("demo")
    def demo_command(
        port: Annotated[int | None, typer.Option(help="端口（默认取设置，8000）")] = None,
        host: Annotated[str | None, typer.Option(help="监听地址（默认 127.0.0.1）")] = None,
    ) -> None:
        """Init + clearly labelled demo sensitive layers + sample leads, then serve."""
        import uvicorn

        from geo_service.app import create_app
        from geo_service.auth import create_token
        from geo_service.services import Services

        settings = Settings()
        services = Services.open(settings)
        try:
            report = install_demo(services)
            with services.sessions() as session:
                token = create_token(session, "admin", "demo", actor="system:demo")
            host = host or settings.host
            port = port or settings.port
            typer.echo(
                f"演示环境已就绪（{DEMO_TAG}：红线、自然保护地、重点生态功能区均为虚构范围）。\n"
                f"新增演示图层：{'、'.join(report['layers_added']) or '无（已存在）'}；"
                f"新增示例线索 {report['leads_created']} 条。\n"
                f"管理员令牌（演示用）：{token}\n"
                f"打开 http://{host}:{port}/ 浏览，接口文档 http://{host}:{port}/docs",
                err=True,
            )
            uvicorn.run(
                create_app(settings, services=services), host=host, port=port, log_level="info"
            )
        finally:
            services.close()
