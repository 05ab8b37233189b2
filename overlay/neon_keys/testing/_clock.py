"""Clocks for the emulator: the system's, and a fake one that tests move by hand.

The emulator reads time in two ways: wall-clock time for the timestamps it reports
(``created_at``, ``last_used_at``), and monotonic seconds for its rate limits. A ``Clock``
supplies both, so a test can make a minute pass without waiting for it.
"""

from __future__ import annotations

import datetime
import threading
import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "FakeClock", "SystemClock"]

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
        """Move time forward by ``seconds`` (which must not be negative)."""
        if seconds < 0:
            raise ValueError("a clock cannot go back")
        with self._lock:
            self._elapsed += seconds

    def __repr__(self) -> str:
        return f"FakeClock(now={self.now().isoformat()!r})"
