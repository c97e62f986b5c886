"""Service settings (environment prefix GEO_SCREEN_). Built explicitly; nothing at import time."""

from __future__ import annotations

import ipaddress
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_SECRET_CHARS = 32


class InsecureConfiguration(ValueError):
    """The service refuses to start: the message says what to set."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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
    # --- Sessions, tokens and CSRF (docs/security.md) ------------------------------------
    secret_key: str | None = Field(
        default=None,
        description="Signs session cookies and CSRF tokens; at least 32 characters. Required "
        "unless the service listens on loopback only (then a random per-process key is used).",
    )
    public_url: str | None = Field(
        default=None,
        description="The service's public base URL (https://screen.example.gov.cn): the base of "
        "every absolute link, and the origin browsers' writes must come from. Never the Host "
        "header. Default: http://<host>:<port>.",
    )
    public_docs: bool = Field(
        default=False, description="Serve /docs and /openapi.json without login."
    )
    session_max_age_s: int = Field(
        default=12 * 3600, ge=60, description="A browser session ends this long after login."
    )
    session_idle_s: int = Field(
        default=2 * 3600, ge=60, description="…or after this long without a request."
    )
    login_failures_per_minute: int = Field(
        default=5, ge=1, description="Failed logins allowed per client address and per "
        "token prefix per minute; then 429 with Retry-After."
    )

    @field_validator("secret_key")
    @classmethod
    def _strong_secret(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        if len(v) < MIN_SECRET_CHARS or len(set(v)) < 10:
            raise ValueError(
                f"GEO_SCREEN_SECRET_KEY 过短或过于简单（至少 {MIN_SECRET_CHARS} 个字符、10 种以上"
                "不同字符）。请设置随机密钥，例如："
                "GEO_SCREEN_SECRET_KEY=$(python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')"
            )
        return v

    @field_validator("public_url")
    @classmethod
    def _absolute_base(cls, v: str | None) -> str | None:
        if not v:
            return None
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
            raise ValueError(
                "GEO_SCREEN_PUBLIC_URL 应为服务的完整地址，如 https://screen.example.gov.cn"
            )
        return v.rstrip("/")

    @property
    def public_base_url(self) -> str:
        """The base of absolute links: the configured public URL, else this listener."""
        if self.public_url:
            return self.public_url
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def session_secret(self, bind_host: str | None = None) -> str:
        """The key for cookies and CSRF tokens. Without a configured key only a loopback-only
        listener may run (dev mode): it gets a random key that ends with the process."""
        if self.secret_key:
            return self.secret_key
        host = bind_host or self.host
        if not is_loopback(host):
            raise InsecureConfiguration(
                f"服务监听 {host}（非本机回环地址）时必须设置 GEO_SCREEN_SECRET_KEY"
                f"（至少 {MIN_SECRET_CHARS} 个随机字符），例如："
                "export GEO_SCREEN_SECRET_KEY=$(python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')。只在 127.0.0.1 上试用时可不设。"
            )
        return secrets.token_urlsafe(48)
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
