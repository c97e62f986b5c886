"""Liveness and what the service has loaded."""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter

from geo_service.deps import ServicesDep

router = APIRouter()


@router.get("/health", summary="服务状态与已加载图层")
def health(services: ServicesDep) -> dict[str, Any]:
    return {
        "status": "ok",
        "backend": "postgis" if services.settings.is_postgres else "sqlite",
        "layer_versions": dict(services.overlay.layer_versions),
        "process": os.getpid(),  # which worker answered (serve --workers N)
    }
