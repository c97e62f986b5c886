"""Liveness (`/health`, never touches the database) and readiness (`/health/ready`)."""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import text

from geo_service.deps import ServicesDep
from geo_service.errors import ServiceUnavailable
from geo_service.services import Services

router = APIRouter()


@router.get("/health", summary="存活检查：服务进程在运行，及已加载的图层（不访问数据库）")
def health(request: Request) -> dict[str, Any]:
    # Not ServicesDep: that follows layer activations through the database, and liveness must
    # answer at once whatever the database does.
    services: Services = request.app.state.services
    return {
        "status": "ok",
        "backend": "postgis" if services.settings.is_postgres else "sqlite",
        "layer_versions": dict(services.overlay.layer_versions),
        "process": os.getpid(),  # which worker answered (serve --workers N)
    }


@router.get(
    "/health/ready",
    summary="就绪检查：数据库可读写时为 200，否则 503（附 Retry-After）",
)
def ready(services: ServicesDep) -> dict[str, Any]:
    try:
        with services.engine.connect() as conn:
            conn.execute(text("SELECT 1 FROM lead WHERE 1 = 0")).all()
    except Exception as exc:  # any failure here means "not ready", never a 500
        raise ServiceUnavailable(
            "数据库暂时无法访问，服务只能进行无状态筛查，不能保存线索。请稍后重试。"
        ) from exc
    return {"status": "ready", "database": "ok"}
