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
from collections.abc import Callable
from typing import TypeVar

from flask import current_app, request
from flask_babel import gettext as _
from flask_babel import ngettext

from . import clock

T = TypeVar("T")


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
        return self._check(key, limit, window, count=True)

    def wait(self, key: str, limit: int, window: float) -> int:
        """The seconds to wait before ``key`` may be hit (0: now), counting nothing."""
        return self._check(key, limit, window, count=False)

    def _check(self, key: str, limit: int, window: float, count: bool) -> int:
        now = clock.ticks()
        with self._lock:
            self._sweep(now)
            found = self._hits.get(key)
            if found is None:
                found = self._hits[key] = (window, deque())
            hits = found[1]
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return max(1, int(hits[0] + window - now + 0.999))
            if count:
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
    """The app's limiter (one per app, made at first use)."""
    found = app.extensions.get("limiter")
    if found is None:
        found = app.extensions.setdefault("limiter", Limiter())
    return found


# --- codes typed or given in a link --------------------------------------------------


def wait_words(seconds: int) -> str:
    """How long to wait, in words: seconds under two minutes, else minutes."""
    if seconds < 120:
        return ngettext("%(num)d second", "%(num)d seconds", seconds)
    return ngettext("%(num)d minute", "%(num)d minutes", (seconds + 59) // 60)


class TooManyTries(Exception):
    """An address gave too many wrong codes lately: refused ``retry_after`` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after

    @property
    def message(self) -> str:
        """What the caller is told, in their language."""
        return _(
            "Too many wrong codes were tried from here. Please wait %(wait)s, then try again.",
            wait=wait_words(self.retry_after),
        )


WRONG_CODES_WINDOW = 60  # seconds


def by_code(find: Callable[[], T | None]) -> T | None:
    """``find()``: what a code or a secret link names (None: nothing).

    Codes are short enough to guess (DESIGN.md §7): a wrong one counts
    against the caller's address, and an address that gave too many lately
    is refused (:class:`TooManyTries`) before anything is looked up, right
    codes included, so that guessing stops. Other addresses go on as usual.
    """
    limit = current_app.config["WRONG_CODES_PER_MINUTE"]
    if not limit:
        return find()
    key = f"wrong-code:{request.remote_addr or ''}"
    if retry_after := limiter(current_app).wait(key, limit, WRONG_CODES_WINDOW):
        raise TooManyTries(retry_after)
    found = find()
    if found is None:
        limiter(current_app).hit(key, limit, WRONG_CODES_WINDOW)
    return found
