"""What a running service holds: settings, database, the overlay engine, the rulebook config.

Built by the app factory's lifespan (or by the CLI) and kept on `app.state.services`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from geo_service.db.engine import make_engine, make_sessionmaker
from geo_service.settings import Settings
from layers.overlay import OverlayEngine


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    overlay: OverlayEngine

    @classmethod
    def open(cls, settings: Settings) -> Services:
        """Connect, migrate, load built-in layers if missing, and index the active layers."""
        from geo_service.layer_store import ensure_builtin_layers, load_active_versions
        from geo_service.db.migrate import upgrade

        engine = make_engine(settings.database_url)
        upgrade(engine)
        sessions = make_sessionmaker(engine)
        with sessions() as session:
            if settings.load_builtin_layers:
                ensure_builtin_layers(session)
            overlay = OverlayEngine(load_active_versions(session))
        return cls(settings=settings, engine=engine, sessions=sessions, overlay=overlay)

    def close(self) -> None:
        self.engine.dispose()
