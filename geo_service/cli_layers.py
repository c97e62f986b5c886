"""`geo-screen layers …`: load a layer file (with a progress bar and the validation report), list
layers and their versions, activate or roll back a version."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from geo_service.errors import DomainError
from geo_service.settings import Settings

app = typer.Typer(help="图层管理", no_args_is_help=True)

CLI_ACTOR = "cli"


def _open(*, index_layers: bool = True) -> Any:
    from geo_service.services import Services

    return Services.open(Settings(), index_layers=index_layers)


def _fail(exc: DomainError) -> None:
    typer.echo(f"错误：{exc.detail}", err=True)
    for e in exc.errors:
        typer.echo(f"  {e.field}: {e.message}", err=True)
    raise typer.Exit(2)


@app.command("load")
def load(
    file: Annotated[Path, typer.Argument(
        exists=True, dir_okay=False, readable=True,
        help="zip 打包的 Shapefile、GeoPackage、GeoJSON、KML 或 KMZ")],
    kind: str = typer.Option(..., help="图层类别，如 league、county、red_line、nature_reserve"),
    name: str | None = typer.Option(None, help="图层名（默认同 kind）"),
    crs: str | None = typer.Option(None, help="文件无坐标系时指定，如 EPSG:4527、GCJ02"),
    encoding: str | None = typer.Option(None, help="属性文字编码，如 GBK（默认自动识别）"),
    code_field: str | None = typer.Option(None, help="代码字段名"),
    name_field: str | None = typer.Option(None, help="名称字段名"),
    layer: str | None = typer.Option(None, help="多图层文件中要导入的图层"),
    effective_from: str | None = typer.Option(None, help="生效日期 YYYY-MM-DD"),
    activate: bool = typer.Option(False, "--activate", help="校验通过后立即启用"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出校验报告"),
) -> None:
    """Import a layer file as a draft version, print its validation report; --activate too."""
    from tqdm import tqdm

    from geo_service import layer_admin

    eff = None
    if effective_from:
        try:
            eff = date.fromisoformat(effective_from)
        except ValueError:
            typer.echo(f"错误：--effective-from 应为 YYYY-MM-DD，收到“{effective_from}”。",
                       err=True)
            raise typer.Exit(2) from None
    services = _open(index_layers=False)  # an import needs no overlay engine of other layers
    bar = tqdm(desc="读取并校验要素", unit="要素", dynamic_ncols=True)
    try:
        try:
            summary, report = layer_admin.upload_layer(
                services, file,
                layer_admin.UploadParams(kind=kind, name=name, crs=crs, encoding=encoding,
                                         code_field=code_field, name_field=name_field,
                                         layer=layer, effective_from=eff),
                CLI_ACTOR, filename=file.name, progress=bar.update,
                on_total=lambda total: setattr(bar, "total", total),
            )
        except DomainError as exc:
            bar.close()
            _fail(exc)
        bar.close()
        if activate:
            try:
                summary = layer_admin.activate_version(services, summary["id"], CLI_ACTOR)
            except DomainError as exc:
                _fail(exc)
        if as_json:
            typer.echo(json.dumps({**summary, "report": report}, ensure_ascii=False, indent=2))
        else:
            typer.echo(format_report(summary, report, activated=activate))
    finally:
        services.close()


def format_report(summary: dict[str, Any], report: dict[str, Any], *, activated: bool) -> str:
    """The validation report as a screening office's GIS analyst reads it."""
    lines = [
        f"图层“{summary['series']}”（{summary['kind']}）第 {summary['version_no']} 版，"
        f"版本 id {summary['id']}，状态：{'已启用' if activated else '待启用（draft）'}",
        f"  读取要素 {report['features_read']} 个，保存 {report['feature_count']} 个，"
        f"修复 {len(report['repaired'])} 个，拒绝 {len(report['rejected'])} 个，"
        f"重复 {len(report['duplicates'])} 个",
        f"  坐标系：{report['crs_used']}；{report.get('conversion') or ''}",
    ]
    if report.get("encoding"):
        lines.append(f"  编码：{report['encoding']}")
    lines.append(f"  代码字段：{report.get('code_field') or '无'}；"
                 f"名称字段：{report.get('name_field') or '无'}")
    if report.get("bbox"):
        lines.append("  范围：" + ", ".join(f"{v:.5f}" for v in report["bbox"]))
    for r in report["repaired"][:20]:
        lines.append(f"  修复 #{r['index']}：{r['reason']}")
    for r in report["rejected"][:20]:
        lines.append(f"  拒绝 #{r['index']}：{r['message']}")
    if len(report["rejected"]) > 20:
        lines.append(f"  ……另有 {len(report['rejected']) - 20} 个被拒绝（--json 查看全部）")
    tiling = report.get("tiling")
    if tiling:
        lines.append(f"  覆盖检查：缝隙 {tiling['gap_count']} 处 {tiling['gap_km2']:.2f} km²，"
                     f"重叠 {tiling['overlap_count']} 处 {tiling['overlap_km2']:.2f} km²")
    for w in report["warnings"]:
        lines.append(f"  警告：{w['message']}")
    if not activated:
        lines.append(f"  启用：geo-screen layers activate {summary['id']}")
    else:
        lines.append(
            "  提示：正在运行的服务会在数秒内（GEO_SCREEN_LAYER_SYNC_INTERVAL_S）自动改用新版本。"
        )
    return "\n".join(lines)


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="以 JSON 输出")) -> None:
    """List layer series, their active versions and history."""
    from geo_service import layer_admin

    services = _open()
    try:
        with services.sessions() as session:
            data = layer_admin.list_layers(session, services.overlay.layer_versions)
    finally:
        services.close()
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for series in data["series"]:
        active = series["active_version_no"]
        state = f"启用第 {active} 版" if active else "未启用"
        builtin = "（内置）" if series["builtin"] else ""
        typer.echo(f"{series['name']}（{series['kind']}）{builtin}：{state}")
        for v in series["history"]:
            typer.echo(f"  #{v['id']} 第 {v['version_no']} 版 {v['status']:8} "
                       f"{v['feature_count']:>7} 要素  {v['uploaded_at'][:19]}  "
                       f"{v['uploaded_by']}  {v['source_filename'] or ''}")


@app.command("activate")
def activate_cmd(version_id: int = typer.Argument(..., help="版本 id")) -> None:
    """Activate a draft (or re-activate a retired) version."""
    from geo_service import layer_admin

    services = _open()
    try:
        with services.sessions() as session:
            status = layer_admin.get_version(session, version_id).status
        result = layer_admin.activate_version(services, version_id, CLI_ACTOR,
                                              rollback=status == "retired")
    except DomainError as exc:
        _fail(exc)
    finally:
        services.close()
    typer.echo(f"已启用：图层“{result['series']}”第 {result['version_no']} 版"
               f"（版本 id {result['id']}）。")
