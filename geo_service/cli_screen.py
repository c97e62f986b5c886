"""`geo-screen screen FILE` and `geo-screen demo` (to be written by the service work)."""

import typer


def register(app: typer.Typer) -> None:
    return None
