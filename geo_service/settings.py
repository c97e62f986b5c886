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
    access_log: bool = Field(
        default=True,
        description="`serve` writes one line per request (uvicorn's access log). Behind a "
        "reverse proxy that logs requests itself, false saves ~0.2 ms of CPU per request "
        "(docs/deploy.md); the audit log of decisions and layer changes is not affected.",
    )
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
    # Layer file imports (docs/security.md, "图层文件导入"): every upload is unpacked and read in
    # a child process under these limits; zips are checked before anything is unpacked.
    import_cpu_seconds: int = Field(default=300, ge=1, description="CPU seconds per import.")
    import_memory_mb: int = Field(
        default=3072, ge=512, description="Address space of the reading process (MB)."
    )
    import_disk_mb: int = Field(
        default=4096, ge=1, description="Largest file the reading process may write (MB)."
    )
    import_timeout_s: float = Field(default=900, gt=0, description="Wall clock per import (s).")
    import_zip_max_mb: int = Field(
        default=2048, ge=1, description="Total uncompressed size of an uploaded zip/KMZ (MB)."
    )
    import_zip_max_members: int = Field(default=1000, ge=1)
    import_zip_max_ratio: int = Field(
        default=200, ge=2, description="Largest compression ratio of a zip member over 1 MB."
    )
    import_commit_rows: int = Field(
        default=1000, ge=1,
        description="Features stored per transaction: short write locks on SQLite.",
    )
    import_tmp_dir: Path | None = Field(
        default=None,
        description="Where uploads are unpacked (private folder per upload); default: "
        "<system temp>/geo-screen-imports.",
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

    # --- Size, cost and database-fault limits (docs/security.md) ---------------------------
    max_json_bytes: int = Field(
        default=20_000_000,
        ge=1024,
        description="Largest request body that is not a file upload (bytes). Enforced while the "
        "body streams in, before authentication: a 10,000-item batch of points is ~1.3 MB.",
    )
    max_upload_bytes: int = Field(
        default=200_000_000,
        ge=1024,
        description="Largest multipart/form-data body (layer file uploads), in bytes.",
    )
    batch_max_vertices: int = Field(
        default=2_000_000,
        ge=1,
        description="Batch screening cost budget: total vertices over all items of one request.",
    )
    batch_max_item_vertices: int = Field(
        default=50_000,
        ge=4,
        description="Batch screening: most vertices one item may have.",
    )
    batch_max_item_extent_deg2: float = Field(
        default=100.0,
        gt=0,
        description="Batch screening: largest bounding box of one item's damage area, in square "
        "degrees (Inner Mongolia's is ~460); wider items are refused in their slot.",
    )
    batch_time_budget_s: float = Field(
        default=60.0,
        gt=0,
        description="Batch screening: wall-clock budget for one request; items left when it "
        "runs out are answered as 503 problems in their slots.",
    )
    db_statement_timeout_ms: int = Field(
        default=60_000,
        ge=0,
        description="PostgreSQL statement_timeout (0 = none); long enough to load a 500k-feature "
        "layer version, short enough that a runaway query ends.",
    )
    db_lock_timeout_ms: int = Field(
        default=5_000, ge=0, description="PostgreSQL lock_timeout (0 = none)."
    )
    db_pool_timeout_s: float = Field(
        default=10.0, gt=0, description="Seconds to wait for a free pooled connection."
    )
    db_connect_timeout_s: int = Field(
        default=5, ge=1, description="Seconds to wait when connecting to PostgreSQL."
    )
    sqlite_busy_timeout_ms: int = Field(
        default=10_000, ge=0, description="SQLite busy_timeout (waiting for the write lock)."
    )
    retry_after_s: int = Field(
        default=5, ge=1, description="Retry-After sent with 503 when the database is unavailable."
    )
    db_outage_auth_grace_s: float = Field(
        default=300.0,
        ge=0,
        description="While the database is unreachable, a token verified within this many "
        "seconds may still screen (stateless); 0 = none.",
    )
    database_owner_url: str | None = Field(
        default=None,
        description="PostgreSQL: URL of the role that owns the tables (runs migrations in "
        "`geo-screen init`); the service's own database_url role then gets only the rights it "
        "needs, and INSERT/SELECT only on audit_log. Unset: database_url is used for both.",
    )

    @field_validator("database_owner_url")
    @classmethod
    def _owner_is_postgres(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith("postgresql"):
            raise ValueError("database_owner_url is for PostgreSQL: postgresql+psycopg://owner@…")
        return v

    # --- end of size, cost and database-fault limits -----------------------------------------

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, v: str) -> str:
        if not (v.startswith("sqlite") or v.startswith("postgresql")):
            raise ValueError("database_url must be a sqlite:/// or postgresql+psycopg:// URL")
        return v

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")
