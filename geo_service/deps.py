"""Typed dependencies: the services, a session per request, the current user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from geo_service.services import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    services.sync_layers()  # cheap: at most one small query every few seconds
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_session(services: ServicesDep) -> Iterator[Session]:
    with services.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
