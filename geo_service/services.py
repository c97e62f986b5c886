"""What a running service holds: settings, database, the overlay engine, the rulebook config.

Built by the app factory's lifespan (or by the CLI) and kept on `app.state.services`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from geo_service.db.engine import make_engine, make_sessionmaker
from geo_service.settings import Settings
from layers.overlay import OverlayEngine
from screening.calendar import WorkCalendar
from screening.config import RulebookConfig, RulebookConfigError


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    overlay: OverlayEngine
    # The rulebook's configuration and the working-day calendar, built once per process.
    rules: RulebookConfig = field(default_factory=RulebookConfig)
    calendar: WorkCalendar = field(default_factory=WorkCalendar)

    @classmethod
    def open(cls, settings: Settings) -> Services:
        """Connect, migrate, load built-in layers if missing, and index the active layers."""
        from geo_service.db.migrate import upgrade
        from geo_service.layer_store import ensure_builtin_layers, load_active_versions

        engine = make_engine(settings.database_url)
        upgrade(engine)
        sessions = make_sessionmaker(engine)
        with sessions() as session:
            if settings.load_builtin_layers:
                ensure_builtin_layers(session)
            overlay = OverlayEngine(load_active_versions(session))
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            overlay=overlay,
            rules=load_rulebook(settings.rules_file),
            calendar=WorkCalendar.load(settings.calendar_dir),
        )

    def close(self) -> None:
        self.engine.dispose()


def load_rulebook(path: Path | None) -> RulebookConfig:
    """The rulebook defaults, overridden by the administrator's JSON file if one is set."""
    if path is None:
        return RulebookConfig()
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RulebookConfigError(f"规则配置文件 {path} 无法读取为 JSON（{exc}）。") from None
    return RulebookConfig.from_mapping(data)
