"""What every resource (``personal_keys``, ``org(id).keys``) gets from its client.

A resource builds ``Operation`` values and has them performed; performing is the client's
job (retries, pacing, the orphan search, interruptions). So a resource is handed the one
thing it needs, a function that performs an operation, and knows nothing else of the client.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Protocol, TypeVar

from ._operations import Operation

T = TypeVar("T")

__all__ = ["AsyncAPIResource", "AsyncPerform", "Perform", "SyncAPIResource"]


class Perform(Protocol):
    """Performs an operation for ``NeonKeys`` and returns its result (or raises)."""

    def __call__(self, operation: Operation[T], /) -> T: ...


class AsyncPerform(Protocol):
    """Performs an operation for ``AsyncNeonKeys``; awaited, it returns the result."""

    def __call__(self, operation: Operation[T], /) -> Awaitable[T]: ...


class SyncAPIResource:
    """Base of the resources of ``NeonKeys``. Strictly private."""

    def __init__(self, perform: Perform) -> None:
        self._perform = perform


class AsyncAPIResource:
    """Base of the resources of ``AsyncNeonKeys``. Strictly private."""

    def __init__(self, perform: AsyncPerform) -> None:
        self._perform = perform
