"""Typed dependencies: the services, a session per request, the current user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from geo_service.services import Services


async def get_services(request: Request) -> Services:
    """Async, so it runs inline on the event loop (no threadpool hop per request). Layer sync
    is at most one small query every `layer_sync_interval_s`, run inline when it is due."""
    services: Services = request.app.state.services
    services.sync_layers()
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_session(services: ServicesDep) -> Iterator[Session]:
    with services.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
