"""The `geo-screen` command line (API.md)."""

from __future__ import annotations

import time

import typer

from geo_service.settings import Settings

app = typer.Typer(
    help="geo-screen：生态环境损害赔偿案件线索空间筛查服务",
    no_args_is_help=True,
    add_completion=False,
)
tokens_app = typer.Typer(help="访问令牌", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")


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

    settings = Settings()
    host, port = host or settings.host, port or settings.port
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
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
    )


@tokens_app.command("create")
def tokens_create(
    role: str = typer.Option(..., help="viewer | screener | analyst | system | admin"),
    name: str = typer.Option(..., help="who or what holds the token"),
) -> None:
    """Print a new bearer token on stdout (one line, nothing else)."""
    from geo_service.auth import ROLES, create_token
    from geo_service.db.engine import make_engine, make_sessionmaker
    from geo_service.db.migrate import upgrade

    if role not in ROLES:
        typer.echo(f"未知角色 {role!r}，可用：{', '.join(ROLES)}", err=True)
        raise typer.Exit(2)
    engine = make_engine(Settings().database_url)
    try:
        upgrade(engine)
        with make_sessionmaker(engine)() as session:
            typer.echo(create_token(session, role, name, actor="cli"))
    finally:
        engine.dispose()


def main() -> None:
    _register_subcommands()
    app()


if __name__ == "__main__":
    main()
