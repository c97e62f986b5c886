"""What a running service holds: settings, database, the overlay engine, the rulebook config.

Built by the app factory's lifespan (or by the CLI) and kept on `app.state.services`.
"""

from __future__ import annotations

import gc
import json
import logging
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from geo_service.db.engine import DatabaseLimits, make_engine, make_sessionmaker
from geo_service.errors import database_unavailable
from geo_service.settings import Settings
from layers.overlay import OverlayEngine
from screening.calendar import WorkCalendar
from screening.config import RulebookConfig, RulebookConfigError

log = logging.getLogger("geo_service")


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    overlay: OverlayEngine
    # The rulebook's configuration and the working-day calendar, built once per process.
    rules: RulebookConfig = field(default_factory=RulebookConfig)
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    _synced_at: float = field(default=0.0, repr=False)
    _sync_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # A server process sets this (app lifespan): see settle_heap.
    keeps_heap_settled: bool = field(default=False, repr=False)
    _sync_thread: threading.Thread | None = field(default=None, repr=False)

    @classmethod
    def open(cls, settings: Settings, *, index_layers: bool = True) -> Services:
        """Connect, migrate, load built-in layers if missing, and index the active layers.

        `index_layers=False` (a CLI command that only writes layers) starts with an empty
        engine: activating a version then indexes only that version, nothing else is read."""
        from geo_service.layer_store import ensure_builtin_layers, load_active_versions

        limits = DatabaseLimits.from_settings(settings)
        migrate_schema(settings, limits)
        engine = make_engine(settings.database_url, limits)
        sessions = make_sessionmaker(engine)
        with sessions() as session:
            if settings.load_builtin_layers:
                ensure_builtin_layers(session)
            overlay = OverlayEngine(load_active_versions(session) if index_layers else ())
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            overlay=overlay,
            rules=load_rulebook(settings.rules_file),
            calendar=WorkCalendar.load(settings.calendar_dir),
            _synced_at=time.monotonic(),  # the engine was just loaded from the database
        )

    def sync_layers_in_background(self) -> None:
        """sync_layers when it is due, in a thread of its own. Called by every request (on the
        event loop): the request never waits for the check, and the loop never stops for a
        layer version's load and index build (seconds for a 2.5 M-vertex red line), which
        would stall every request of the worker. Requests meanwhile screen on the snapshot
        they have; the new one is swapped in whole."""
        interval = self.settings.layer_sync_interval_s
        if interval <= 0 or time.monotonic() - self._synced_at < interval:
            return
        running = self._sync_thread
        if running is not None and running.is_alive():  # alive from start() on: no second one
            return
        self._sync_thread = threading.Thread(
            target=self._sync_logged, name="layer-sync", daemon=True
        )
        self._sync_thread.start()

    def _sync_logged(self) -> None:
        try:
            self.sync_layers()
        except Exception:  # a thread's error reaches no request: the log must say it
            log.exception("layer sync failed; retried after the next interval")
            self._synced_at = time.monotonic()

    def sync_layers(self, *, force: bool = False) -> bool:
        """Follow activations made by other processes (another server worker, the CLI).

        At most every `layer_sync_interval_s`: one small query for the active version ids; any
        series whose active version differs is loaded and swapped in (the same atomic swap as a
        local activation). Returns whether the snapshot changed.
        """
        from geo_service.layer_store import active_version_ids, load_versions

        interval = self.settings.layer_sync_interval_s
        if not force and (interval <= 0 or time.monotonic() - self._synced_at < interval):
            return False
        if not self._sync_lock.acquire(blocking=force):
            return False  # another request is syncing right now
        try:
            self._synced_at = time.monotonic()
            with self.sessions() as session:
                active = active_version_ids(session)
                current = dict(self.overlay.layer_versions)
                changed = [vid for name, vid in active.items() if current.get(name) != vid]
                for data in load_versions(session, changed):
                    self.overlay.activate(data)
            for name in set(current) - set(active):
                self.overlay.deactivate(name)
            swapped = bool(changed) or bool(set(current) - set(active))
            if swapped:
                self.layers_swapped()
            return swapped
        except SQLAlchemyError as exc:
            if not database_unavailable(exc):
                raise
            # Database down: keep screening on the layers already loaded; retry next interval.
            log.warning("layer sync skipped: database unavailable (%s)", exc.__class__.__name__)
            return False
        finally:
            self._sync_lock.release()

    def swapping_layers(self) -> threading.Lock:
        """Held while a version is swapped in from outside sync_layers (a local activation),
        so a sync loading another version meanwhile cannot swap a stale one over it."""
        return self._sync_lock

    def layers_swapped(self) -> None:
        """After the engine's snapshot changed: a server settles its heap again."""
        if self.keeps_heap_settled:
            settle_heap()

    def close(self) -> None:
        thread = self._sync_thread
        if thread is not None:  # a sync under way finishes on the database it started on
            thread.join(timeout=60)
        self.engine.dispose()


_SETTLE_LOCK = threading.Lock()

# A server's collector thresholds: a screen allocates a few thousand containers, a 10,000-item
# batch millions that live until its response is sent. At CPython's default (700, 10, 10) the
# collector ran ~1,900 times during such a batch, 1.1 s of its 4 s (benchmarks/speed.py's
# layers); at these, ~25 times and 0.3–0.45 s. Cyclic garbage waits a little longer; plain
# garbage is freed by reference counting as before.
SERVER_GC_THRESHOLDS = (50_000, 10, 10)


def settle_heap() -> None:
    """Take what is alive now — layers, their indexes, the address dictionary: hundreds of
    thousands of long-lived objects — out of the garbage collector's sight (gc.freeze). Else
    every full collection walks them all again, and a batch's short-lived objects trigger
    many. Called when that set changes (startup, a layer swap); unfreezes first, so what a
    swap let go (a replaced snapshot) is collected, not kept."""
    with _SETTLE_LOCK:
        gc.unfreeze()
        gc.collect()
        gc.freeze()


def migrate_schema(settings: Settings, limits: DatabaseLimits | None = None) -> None:
    """Bring the schema to head. With GEO_SCREEN_DATABASE_OWNER_URL (PostgreSQL), the owner role
    migrates and then grants the serving role its rights (geo_service.db.migrate.grant_app_role);
    otherwise the serving role's own URL is used."""
    from sqlalchemy.engine import make_url

    from geo_service.db.migrate import grant_app_role, upgrade

    owner_url = settings.database_owner_url
    # A migration may rewrite big tables: no statement time limit for it.
    limits = replace(limits or DatabaseLimits(), statement_timeout_ms=0)
    engine = make_engine(owner_url or settings.database_url, limits)
    try:
        upgrade(engine)
        if owner_url and settings.is_postgres:
            app_role = make_url(settings.database_url).username
            owner_role = make_url(owner_url).username
            if app_role and app_role != owner_role:
                grant_app_role(engine, app_role)
    finally:
        engine.dispose()


def load_rulebook(path: Path | None) -> RulebookConfig:
    """The rulebook defaults, overridden by the administrator's JSON file if one is set."""
    if path is None:
        return RulebookConfig()
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RulebookConfigError(f"规则配置文件 {path} 无法读取为 JSON（{exc}）。") from None
    return RulebookConfig.from_mapping(data)
