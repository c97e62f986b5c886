"""Callers recently verified against the database, so stateless screening keeps answering them
through a database outage (never longer than GEO_SCREEN_DB_OUTAGE_AUTH_GRACE_S after the last
successful check). Used only when the database is unavailable; otherwise every request is
checked against the token table as before."""

from __future__ import annotations

import threading
import time
from typing import Generic, TypeVar

P = TypeVar("P")


class RecentPrincipals(Generic[P]):
    def __init__(self, grace_s: float, max_entries: int = 10_000) -> None:
        self.grace_s = grace_s
        self.max_entries = max_entries
        self._seen: dict[str, tuple[float, P]] = {}
        self._lock = threading.Lock()

    def remember(self, token_hash: str, principal: P) -> None:
        with self._lock:
            if len(self._seen) >= self.max_entries and token_hash not in self._seen:
                oldest = min(self._seen, key=lambda k: self._seen[k][0])
                del self._seen[oldest]
            self._seen[token_hash] = (time.monotonic(), principal)

    def forget(self, token_hash: str) -> None:
        with self._lock:
            self._seen.pop(token_hash, None)

    def during_outage(self, token_hash: str) -> P | None:
        """The principal last verified for this hash, if within the grace period."""
        with self._lock:
            found = self._seen.get(token_hash)
        if found is None or time.monotonic() - found[0] > self.grace_s:
            return None
        return found[1]
