"""`geo-screen layers …` (to be written by the layers work)."""

import typer

app = typer.Typer(help="图层管理", no_args_is_help=True)
