"""Login throttling: at most N failed logins a minute per key (client address, token prefix).

Per process: with several workers the limit applies per worker (docs/security.md).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field

WINDOW_S = 60.0
MAX_KEYS = 100_000  # bounded memory under a spray of addresses


@dataclass
class LoginThrottle:
    failures_per_window: int
    window_s: float = WINDOW_S
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _reported: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def retry_after(self, keys: list[str], at: float | None = None) -> int:
        """Seconds until every key may try again; 0 when none is throttled."""
        at = time.monotonic() if at is None else at
        wait = 0.0
        with self._lock:
            for key in keys:
                times = self._recent(key, at)
                if len(times) >= self.failures_per_window:
                    wait = max(wait, times[0] + self.window_s - at)
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, keys: list[str], at: float | None = None) -> None:
        at = time.monotonic() if at is None else at
        with self._lock:
            if len(self._failures) >= MAX_KEYS:
                self._failures.clear()
            for key in keys:
                self._failures.setdefault(key, deque(maxlen=self.failures_per_window)).append(at)

    def first_refusal(self, key: str, at: float | None = None) -> bool:
        """True once per window per key: so a flood is audited once, not once per request."""
        at = time.monotonic() if at is None else at
        with self._lock:
            last = self._reported.get(key)
            if last is not None and at - last < self.window_s:
                return False
            if len(self._reported) >= MAX_KEYS:
                self._reported.clear()
            self._reported[key] = at
            return True

    def _recent(self, key: str, at: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and times[0] <= at - self.window_s:
            times.popleft()
        return times
