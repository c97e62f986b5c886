"""Where every router is mounted. One place, so the URL map is read at a glance."""

from __future__ import annotations

from fastapi import FastAPI


def include_routes(app: FastAPI) -> None:
    from geo_service.api import (
        docs,
        documents,
        events,
        geocode,
        health,
        layers,
        leads,
        ogc,
        reports,
        screen,
    )
    from geo_service.web import pages

    app.include_router(health.router, prefix="/api/v1", tags=["服务状态"])
    app.add_route("/api/v1/screen", screen.screen_one, methods=["POST"], include_in_schema=False)
    app.include_router(screen.router, prefix="/api/v1", tags=["筛查"])
    screen.document_screen(app)
    app.include_router(geocode.router, prefix="/api/v1", tags=["筛查"])
    app.include_router(geocode.web_router)
    app.include_router(leads.router, prefix="/api/v1", tags=["案件线索"])
    app.include_router(events.router, prefix="/api/v1", tags=["案件线索"])
    app.include_router(reports.router, prefix="/api/v1", tags=["汇总"])
    app.include_router(reports.web_router)
    app.include_router(documents.router, prefix="/api/v1", tags=["案件线索"])
    app.include_router(layers.router, prefix="/api/v1", tags=["图层"])
    app.include_router(ogc.router, prefix="/ogc", tags=["OGC API – Features"])
    app.include_router(docs.router)
    pages.mount(app)
