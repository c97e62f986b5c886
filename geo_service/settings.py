"""Service settings (environment prefix GEO_SCREEN_). Built explicitly; nothing at import time."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GEO_SCREEN_", env_file=".env", env_nested_delimiter="__", extra="ignore"
    )

    database_url: str = Field(
        default="sqlite:///geo-screen.db",
        description="SQLAlchemy URL: sqlite:///path.db (embedded default) or postgresql+psycopg://…",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    load_builtin_layers: bool = Field(
        default=True, description="Load the built-in boundaries on init when missing."
    )
    # Input limits (R1): large enough for real survey polygons, small enough to stay responsive.
    max_vertices: int = Field(default=200_000, ge=4)
    batch_limit: int = Field(default=10_000, ge=1)
    layer_sync_interval_s: float = Field(
        default=2.0,
        description="How often a server checks the database for layer versions activated by "
        "another process (another worker, `geo-screen layers activate`); 0 turns it off.",
    )
    # The rulebook's configurable defaults (RULES.md) live in screening.config; these files
    # override them without a release.
    calendar_dir: Path | None = Field(
        default=None, description="Folder of <year>.json official holiday schedules (R8)."
    )
    rules_file: Path | None = Field(
        default=None, description="JSON overriding rulebook defaults (tolerances, departments)."
    )
    secret_key: str = Field(
        default="change-me-in-production", description="Signs browser session cookies."
    )
    # Base map for case maps: "none" (default, offline), "tianditu" (needs token), or an
    # intranet XYZ template such as http://tiles.intranet/{z}/{x}/{y}.png
    basemap: str = "none"
    tianditu_token: str | None = None
    basemap_frame: str = Field(
        default="CGCS2000", description="Frame of the base map tiles: CGCS2000, WGS84 or GCJ02."
    )

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, v: str) -> str:
        if not (v.startswith("sqlite") or v.startswith("postgresql")):
            raise ValueError("database_url must be a sqlite:/// or postgresql+psycopg:// URL")
        return v

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")
