"""Limits on how often one caller may do something (DESIGN.md §7, hostile input).

Counted in this process's memory, on the monotonic clock: checking a limit
costs no database query (a post is checked a hundred times a second at a big
evening), and a step of the wall clock neither locks anyone out nor lifts a
limit. A participant's connection stays with one process (sticky sessions
when scaled out), so a per-process count is the count that matters.

Hand-written rather than the ``limits`` library because that one reads the
wall clock, which tests cannot set and which steps.
"""

from __future__ import annotations

import threading
from collections import deque

from . import clock


class Limiter:
    """Sliding-window limits: at most ``limit`` hits per ``window`` seconds per key."""

    SWEEP_EVERY = 1000  # hits between two sweeps of keys whose window has passed

    def __init__(self):
        self._hits: dict[str, tuple[float, deque[float]]] = {}  # key: (window, hit times)
        self._lock = threading.Lock()
        self._since_sweep = 0

    def hit(self, key: str, limit: int, window: float) -> int:
        """Count one hit of ``key``; 0 if allowed, else the seconds to wait
        (the refused hit is not counted)."""
        now = clock.ticks()
        with self._lock:
            self._sweep(now)
            hits = self._hits.setdefault(key, (window, deque()))[1]
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return max(1, int(hits[0] + window - now + 0.999))
            hits.append(now)
            return 0

    def _sweep(self, now: float) -> None:
        # Bounded memory whatever the number of keys seen in an evening.
        self._since_sweep += 1
        if self._since_sweep < self.SWEEP_EVERY:
            return
        self._since_sweep = 0
        for key in [k for k, (w, hits) in self._hits.items() if not hits or hits[-1] <= now - w]:
            del self._hits[key]


def limiter(app) -> Limiter:
    """The app's limiter (one per app)."""
    return app.extensions.setdefault("limiter", Limiter())
