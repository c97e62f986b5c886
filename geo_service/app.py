"""The application factory: `create_app(settings)`; nothing is built at import time."""

from __future__ import annotations

import gc
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from geo_service.auth import install_auth
from geo_service.cache_headers import NoStore
from geo_service.csrf import install_csrf
from geo_service.errors import install_error_handlers
from geo_service.limits import BodySizeLimit
from geo_service.services import SERVER_GC_THRESHOLDS, Services, settle_heap
from geo_service.settings import Settings
from layers.textloc.address import address_index


def _preload_addresses() -> None:
    address_index()
    settle_heap()  # the dictionary's objects live as long as the process


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """Build the app. Pass `services` to share an already-open database and index (tests, CLI)."""
    settings = settings or (services.settings if services else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = services is None
        app.state.services = services or Services.open(settings)
        thresholds = gc.get_threshold()
        if owned:
            # A server of its own: collector thresholds for its allocations, and long-lived
            # objects out of the collector's sight, now and after every layer swap (both in
            # geo_service.services); put back when it stops.
            app.state.services.keeps_heap_settled = True
            gc.set_threshold(*SERVER_GC_THRESHOLDS)
            settle_heap()
            # The address dictionary (~1.3 s, ~50 MB) is read in the background now rather
            # than by the first lead that arrives as text; that lead waits for the same build.
            threading.Thread(target=_preload_addresses, name="address-index", daemon=True).start()
        try:
            yield
        finally:
            if owned:
                app.state.services.close()
                gc.set_threshold(*thresholds)
                gc.unfreeze()

    app = FastAPI(
        title="geo-screen 生态环境损害赔偿案件线索空间筛查",
        version="0.1.0",
        description=(
            "依据《内蒙古自治区生态环境损害赔偿工作规定》（内政办发〔2025〕16号）对案件线索进行空间筛查："
            "确定赔偿权利人、显著轻微情形的例外、责任部门、重大案件与期限，每项结论均注明条款。"
        ),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served by geo_service.api.docs, behind login
    )
    app.state.settings = settings
    install_error_handlers(app)
    install_auth(app, settings)  # refuses a missing or weak key off loopback
    install_csrf(app)
    app.add_middleware(NoStore)

    from geo_service.routes import include_routes

    include_routes(app)
    # Added last, so it is the outermost of the application's middleware: a body over the cap
    # is refused before any other middleware, authentication or parsing sees it.
    app.add_middleware(
        BodySizeLimit,
        max_json_bytes=settings.max_json_bytes,
        max_upload_bytes=settings.max_upload_bytes,
    )
    return app
