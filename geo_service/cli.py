"""The `geo-screen` command line (API.md)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import typer
from sqlalchemy.orm import Session

from geo_service.settings import Settings

app = typer.Typer(
    help="geo-screen：生态环境损害赔偿案件线索空间筛查服务",
    no_args_is_help=True,
    add_completion=False,
)
tokens_app = typer.Typer(help="访问令牌", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")
audit_app = typer.Typer(help="审计日志", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


def _register_subcommands() -> None:
    from geo_service import cli_layers, cli_screen

    app.add_typer(cli_layers.app, name="layers")
    cli_screen.register(app)


@app.command()
def init() -> None:
    """Create or migrate the schema and load the built-in boundaries (once)."""
    from geo_service.services import Services

    settings = Settings()
    started = time.perf_counter()
    services = Services.open(settings)
    try:
        versions = services.overlay.layer_versions
        typer.echo(
            f"数据库已就绪：{settings.database_url}\n"
            f"已启用图层 {len(versions)} 个：{', '.join(sorted(versions))}"
            f"（用时 {time.perf_counter() - started:.1f} 秒）"
        )
    finally:
        services.close()


@app.command()
def serve(
    host: str = typer.Option(None, help="listen address (default from settings: 127.0.0.1)"),
    port: int = typer.Option(None, help="port (default from settings: 8000)"),
    workers: int = typer.Option(
        1,
        min=1,
        help="worker processes (each holds its own overlay index and follows layer "
        "activations through the database within layer_sync_interval_s)",
    ),
) -> None:
    """Run the web service (API + browser pages)."""
    import uvicorn

    from geo_service.app import create_app

    settings = _serving_settings(host)
    host, port = host or settings.host, port or settings.port
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info",
                    access_log=settings.access_log)
        return
    # Several processes: uvicorn imports the app factory in each worker (settings from the
    # environment, as here), so every worker opens its own pool and index.
    uvicorn.run(
        "geo_service.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=settings.access_log,
    )


def _serving_settings(host: str | None) -> Settings:
    """Settings for `serve`, after the startup checks: refuse a weak key, and a listener off
    loopback without a key; on loopback without one, a random key for this run (exported, so
    every worker process shares it) and a warning."""
    import os
    import secrets

    from pydantic import ValidationError

    from geo_service.settings import InsecureConfiguration

    try:
        settings = Settings()
        settings.session_secret(host or settings.host)
    except ValidationError as exc:
        messages = "；".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        typer.echo(f"拒绝启动：{messages}", err=True)
        raise typer.Exit(2) from None
    except InsecureConfiguration as exc:
        typer.echo(f"拒绝启动：{exc}", err=True)
        raise typer.Exit(2) from None
    if not settings.secret_key:
        key = secrets.token_urlsafe(48)
        os.environ["GEO_SCREEN_SECRET_KEY"] = key
        settings.secret_key = key
        typer.echo(
            "提示：未设置 GEO_SCREEN_SECRET_KEY，仅在本机回环地址试用，本次使用随机密钥"
            "（重启后需重新登录）。对外服务前请设置至少 32 个字符的随机密钥。",
            err=True,
        )
    return settings


@contextmanager
def _token_db() -> Iterator[Session]:
    from geo_service.db.engine import make_engine, make_sessionmaker
    from geo_service.db.migrate import upgrade

    engine = make_engine(Settings().database_url)
    try:
        upgrade(engine)
        with make_sessionmaker(engine)() as session:
            yield session
    finally:
        engine.dispose()


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain: exit 0 when intact, 1 naming the first broken row."""
    from geo_service.audit_chain import verify_chain
    from geo_service.db.engine import DatabaseLimits, make_engine, make_sessionmaker

    settings = Settings()
    # Reads the whole log: no statement time limit.
    limits = DatabaseLimits.from_settings(settings)
    engine = make_engine(
        settings.database_url,
        DatabaseLimits(
            statement_timeout_ms=0,
            lock_timeout_ms=limits.lock_timeout_ms,
            connect_timeout_s=limits.connect_timeout_s,
        ),
    )
    try:
        with make_sessionmaker(engine)() as session:
            report = verify_chain(session)
    finally:
        engine.dispose()
    if report.intact:
        typer.echo(f"审计日志完整：共 {report.rows} 条，链尾哈希 {report.head}")
        return
    typer.echo(
        f"审计日志链在 id={report.broken_id} 的记录处断开：{report.problem}",
        err=True,
    )
    raise typer.Exit(1)


@tokens_app.command("create")
def tokens_create(
    role: str = typer.Option(..., help="viewer | screener | analyst | system | admin"),
    name: str = typer.Option(..., help="who or what holds the token"),
    expires_in_days: int = typer.Option(
        None, "--expires-in-days", min=1, help="the token stops working after N days"
    ),
) -> None:
    """Print a new bearer token on stdout (one line, nothing else)."""
    from geo_service.credentials import ROLES, create_token

    if role not in ROLES:
        typer.echo(f"未知角色 {role!r}，可用：{', '.join(ROLES)}", err=True)
        raise typer.Exit(2)
    with _token_db() as session:
        typer.echo(create_token(session, role, name, actor=_cli_actor(),
                                expires_in_days=expires_in_days))


@tokens_app.command("list")
def tokens_list() -> None:
    """One line per token: id, name, role, created, expires, revoked (never the token)."""
    from geo_service.credentials import list_tokens
    from geo_service.layer_store import audit

    def when(value: datetime | None) -> str:
        return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else "-"

    with _token_db() as session:
        rows = list_tokens(session)
        typer.echo("id\tname\trole\tcreated\texpires\trevoked")
        for t in rows:
            typer.echo(f"{t.id}\t{t.name}\t{t.role}\t{when(t.created_at)}\t"
                       f"{when(t.expires_at)}\t{when(t.revoked_at)}")
        audit(session, _cli_actor(), "tokens_listed", "api_token", None, {"count": len(rows)})
        session.commit()


@tokens_app.command("revoke")
def tokens_revoke(
    id_or_name: str = typer.Argument(..., metavar="ID_OR_NAME", help="token id or holder name"),
) -> None:
    """Revoke a token and end its browser sessions; every worker refuses it within the
    layer-sync interval."""
    from geo_service.credentials import find_tokens, revoke_token

    with _token_db() as session:
        rows = find_tokens(session, id_or_name)
        if not rows:
            typer.echo(f"没有 id 或名称为 {id_or_name!r} 的令牌（geo-screen tokens list 可查看）。",
                       err=True)
            raise typer.Exit(1)
        if len(rows) > 1:
            ids = ", ".join(str(r.id) for r in rows)
            typer.echo(f"名称 {id_or_name!r} 对应多个令牌（id {ids}），请按 id 吊销。", err=True)
            raise typer.Exit(2)
        row = rows[0]
        if row.revoked_at is not None:
            typer.echo(f"令牌 {row.id}（{row.name}）此前已吊销。")
            return
        ended = revoke_token(session, row, actor=_cli_actor())
        typer.echo(f"已吊销令牌 {row.id}（{row.name}，{row.role}），结束浏览器会话 {ended} 个。")


def _cli_actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def main() -> None:
    _register_subcommands()
    app()


if __name__ == "__main__":
    main()
