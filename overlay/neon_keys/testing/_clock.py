"""Clocks for the emulator: the system's, the system's moved forward, and a fake one.

The emulator reads time in two ways: wall-clock time for the timestamps it reports
(``created_at``, ``last_used_at``, the ``Date`` header), and monotonic seconds for its rate
limits. A ``Clock`` supplies both, so a test can make a minute (or 120 days) pass without
waiting for it:

- ``SystemClock``: the real time;
- ``OffsetClock``: the real time plus whatever ``advance`` added: time flows, and jumps
  forward when asked (``neon-keys sandbox`` runs on one: ``neon-keys sandbox advance 120d``);
- ``FakeClock``: a time that stands still until ``advance`` moves it.
"""

from __future__ import annotations

import datetime
import math
import threading
import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "FakeClock", "MovableClock", "OffsetClock", "SystemClock"]

_DEFAULT_START = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)


@runtime_checkable
class Clock(Protocol):
    """What the emulator needs to know about time."""

    def now(self) -> datetime.datetime:
        """The current wall-clock time, timezone-aware."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back; only differences matter."""
        ...


@runtime_checkable
class MovableClock(Clock, Protocol):
    """A clock that ``advance`` moves forward (``FakeClock``, ``OffsetClock``)."""

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` (not negative)."""
        ...


class SystemClock:
    """The real time: ``datetime.now(UTC)`` and ``time.monotonic()``."""

    def now(self) -> datetime.datetime:
        """The current UTC time."""
        return datetime.datetime.now(datetime.UTC)

    def monotonic(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()

    def __repr__(self) -> str:
        return "SystemClock()"


class OffsetClock:
    """The real time, moved forward by every ``advance`` so far; safe to share between threads.

    Time flows as on the system clock; ``advance(seconds)`` makes that many seconds pass at
    once, for ``now`` (timestamps) and ``monotonic`` (rate limits) alike.
    """

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    @property
    def offset(self) -> float:
        """Seconds added by ``advance`` so far."""
        with self._lock:
            return self._offset

    def now(self) -> datetime.datetime:
        """The current UTC time plus the offset."""
        return datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=self.offset)

    def monotonic(self) -> float:
        """``time.monotonic()`` plus the offset."""
        return time.monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` (a finite number, not negative)."""
        _check_step(seconds)
        with self._lock:
            _check_reachable(datetime.datetime.now(datetime.UTC), self._offset + seconds)
            self._offset += seconds

    def __repr__(self) -> str:
        return f"OffsetClock(offset={self.offset:g}s)"


class FakeClock:
    """A clock that stands still until ``advance`` moves it; safe to share between threads.

    Args:
        start: the wall-clock time it shows first (timezone-aware); default
            2025-01-01T00:00:00Z.
    """

    def __init__(self, start: datetime.datetime | None = None) -> None:
        start = _DEFAULT_START if start is None else start
        if start.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware start time")
        self._start = start
        self._elapsed = 0.0
        self._lock = threading.Lock()

    def now(self) -> datetime.datetime:
        """The start time plus every ``advance`` so far."""
        with self._lock:
            return self._start + datetime.timedelta(seconds=self._elapsed)

    def monotonic(self) -> float:
        """Seconds advanced since the clock was made."""
        with self._lock:
            return self._elapsed

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` (a finite number, not negative)."""
        _check_step(seconds)
        with self._lock:
            _check_reachable(self._start, self._elapsed + seconds)
            self._elapsed += seconds

    def __repr__(self) -> str:
        return f"FakeClock(now={self.now().isoformat()!r})"


def _check_step(seconds: float) -> None:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise TypeError(f"a clock advances by a number of seconds, not {seconds!r}")
    if seconds < 0:
        raise ValueError("a clock cannot go back")
    if not math.isfinite(seconds):
        raise ValueError(f"a clock advances by a finite number of seconds, not {seconds!r}")


def _check_reachable(start: datetime.datetime, seconds: float) -> None:
    try:
        start + datetime.timedelta(seconds=seconds)
    except OverflowError:
        raise ValueError(f"a clock cannot go {seconds:g} s past {start:%Y-%m-%d}") from None
