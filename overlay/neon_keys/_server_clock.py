"""Neon's clock, as its answers show it: the ``Date`` header of every response.

A lease expires by Neon's clock, whatever the clock of the machine that made it or sweeps
it says. Each client keeps a ``ServerClock``: every response's ``Date`` (whole seconds)
anchors it to a reading of ``time.monotonic()``, and ``now()`` adds the time elapsed here
since. The estimate errs early by up to a second plus the answer's travel time, never late,
so code that revokes what has expired by it never acts too soon.
"""

from __future__ import annotations

import datetime
import email.utils
import time

__all__ = ["ServerClock"]

EARLIEST = datetime.datetime(2015, 1, 1, tzinfo=datetime.UTC)
"""No ``Date`` before this is Neon's (its API is younger): a proxy or a clock reset to 1970."""

LATEST = datetime.datetime(9000, 1, 1, tzinfo=datetime.UTC)
"""No ``Date`` from this on is read: nobody's clock, and near the end of what ``datetime``
can count on to (a clock anchored at year 9999 would fail within a second)."""


class ServerClock:
    """Neon's time, as last observed from its answers. Strictly private; see ``server_now``.

    Shared by a client and its ``with_options`` copies. Reading and writing it needs no
    lock: the anchor is one tuple, replaced whole.
    """

    __slots__ = ("_anchor", "_last_date")

    def __init__(self) -> None:
        self._last_date: str | None = None
        self._anchor: tuple[float, float] | None = None
        """(POSIX seconds of Neon's ``Date``, ``time.monotonic()`` when it was read)."""

    def observe(self, date: str | None) -> None:
        """Note a response's ``Date`` header (None, one that cannot be read, and an absurd
        one, before ``EARLIEST`` or from ``LATEST`` on, are ignored).

        The same text again (every answer within one second) keeps the first anchor: the
        earliest reading of a second is the closest to its start.
        """
        if date is None or date == self._last_date:
            return
        seconds = _posix_time(date)
        if seconds is None:
            return
        self._anchor = (seconds, time.monotonic())
        self._last_date = date

    def now(self) -> datetime.datetime | None:
        """Neon's current time (UTC), or None before any answer carried a readable ``Date``."""
        anchor = self._anchor
        if anchor is None:
            return None
        seconds, read_at = anchor
        return datetime.datetime.fromtimestamp(seconds + (time.monotonic() - read_at), datetime.UTC)


def _posix_time(date: str) -> float | None:
    """The POSIX time an HTTP ``Date`` header names, or None if it names none."""
    try:
        moment = email.utils.parsedate_to_datetime(date)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # "-0000": RFC 5322's "no zone information"
        return None
    if not EARLIEST <= moment < LATEST:  # absurd: see EARLIEST and LATEST
        return None
    return moment.timestamp()
