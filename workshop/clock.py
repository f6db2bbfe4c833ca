"""The one clock of the server (DESIGN.md §6: timers are server time).

Every reading of "now" in the domain goes through :func:`now`, so that tests
can set the time (:func:`set_now`, :func:`advance`) instead of sleeping, and
every screen counts down from the same instant whatever its own clock says.
"""

import time
from datetime import UTC, datetime, timedelta

_fixed: datetime | None = None
_offset = timedelta()
_ticks_offset = 0.0  # seconds added to the monotonic clock (tests)


def now() -> datetime:
    """The current instant, timezone-aware UTC."""
    if _fixed is not None:
        return _fixed
    return datetime.now(UTC) + _offset


def ticks() -> float:
    """Seconds on a clock that never steps back (limits and intervals): an
    adjustment of the wall clock neither locks anyone out nor lifts a limit."""
    return time.monotonic() + _ticks_offset


def epoch_ms(instant: datetime | None = None) -> int:
    """``instant`` (default: now) as milliseconds since the epoch, as sent to screens."""
    instant = instant or now()
    if instant.tzinfo is None:  # SQLite gives back naive datetimes (stored as UTC)
        instant = instant.replace(tzinfo=UTC)
    return int(instant.timestamp() * 1000)


def ms(instant: datetime | None) -> int | None:
    """A stored instant as sent to screens (epoch milliseconds), or None."""
    return None if instant is None else epoch_ms(instant)


def aware(instant: datetime | None) -> datetime | None:
    """``instant`` as an aware UTC datetime (SQLite returns naive ones)."""
    if instant is not None and instant.tzinfo is None:
        return instant.replace(tzinfo=UTC)
    return instant


def set_now(instant: datetime | None) -> None:
    """Freeze the clock at ``instant`` (tests); None lets it run again."""
    global _fixed
    _fixed = aware(instant)


def advance(seconds: float) -> None:
    """Move the clock forward (tests): frozen time moves, running time shifts."""
    global _fixed, _offset, _ticks_offset
    if _fixed is not None:
        _fixed += timedelta(seconds=seconds)
    else:
        _offset += timedelta(seconds=seconds)
    _ticks_offset += seconds


def reset() -> None:
    """Back to the real time."""
    global _fixed, _offset, _ticks_offset
    _fixed, _offset, _ticks_offset = None, timedelta(), 0.0
