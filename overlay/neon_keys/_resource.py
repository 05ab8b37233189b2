"""What every resource (``personal_keys``, ``org(id).keys``) gets from its client.

A resource builds ``Operation`` values and has them performed; performing is the client's
job (retries, pacing, the orphan search, interruptions). So a resource is handed what it
needs, a function that performs an operation and one that tells Neon's time as the client
last saw it (``server_now``, which leases are stamped and swept by), and knows nothing else
of the client.
"""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from ._operations import Operation

T = TypeVar("T")

__all__ = ["AsyncAPIResource", "AsyncPerform", "NeonNow", "Perform", "SyncAPIResource"]

NeonNow = Callable[[], "datetime.datetime | None"]
"""Neon's current time as the client last saw it, or None (``NeonKeys.server_now``)."""


class Perform(Protocol):
    """Performs an operation for ``NeonKeys`` and returns its result (or raises)."""

    def __call__(self, operation: Operation[T], /) -> T: ...


class AsyncPerform(Protocol):
    """Performs an operation for ``AsyncNeonKeys``; awaited, it returns the result."""

    def __call__(self, operation: Operation[T], /) -> Awaitable[T]: ...


class SyncAPIResource:
    """Base of the resources of ``NeonKeys``. Strictly private."""

    def __init__(self, perform: Perform, neon_now: NeonNow) -> None:
        self._perform = perform
        self._neon_now = neon_now


class AsyncAPIResource:
    """Base of the resources of ``AsyncNeonKeys``. Strictly private."""

    def __init__(self, perform: AsyncPerform, neon_now: NeonNow) -> None:
        self._perform = perform
        self._neon_now = neon_now
