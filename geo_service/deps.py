"""Typed dependencies: the services, a session per request, the current user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from geo_service.services import Services


async def get_services(request: Request) -> Services:
    """Async, so it runs inline on the event loop (no threadpool hop per request). Layer sync
    (one small query every `layer_sync_interval_s`, and a load when another process activated
    a version) runs in a thread of its own when it is due, never on the loop."""
    services: Services = request.app.state.services
    services.sync_layers_in_background()
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_session(services: ServicesDep) -> Iterator[Session]:
    with services.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
