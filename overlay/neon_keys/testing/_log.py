"""The request log: what the emulated server saw, one record per request.

Tests read it to count the attempts a client made (``world.log.count("createApiKey")``)
and to check that a retried or lost create changed state once and only once. Over a socket,
call ``world.log.settle()`` first when the client may have abandoned a request (a timeout).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ._faults import Fault

__all__ = ["RequestLog", "RequestRecord"]


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request as the server saw it.

    Attributes:
        method: the HTTP method.
        path: the URL path, base path included (``/api/v2/api_keys``).
        operation_id: the spec's operationId, or None for a path or method it lacks.
        status: the status the server sent; None when no complete response left it (a
            dropped connection, or a client that gave up during a delay).
        changed: whether the request created or revoked a key (using a key, which updates
            its ``last_used_at``, does not count).
        request_id: the id echoed in ``x-neon-ret-request-id``.
        fault: the injected fault that struck it, if any.
        rate_limited: whether it was refused with 429 by the rate limits.
    """

    method: str
    path: str
    operation_id: str | None
    status: int | None = None
    changed: bool = False
    request_id: str = ""
    fault: Fault | None = None
    rate_limited: bool = False


class RequestLog:
    """Every request the world has served, oldest first; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._records: list[RequestRecord] = []
        self._open = 0

    def append(self, record: RequestRecord) -> None:
        """Add a record (the app does this once per request)."""
        with self._lock:
            self._records.append(record)

    @contextmanager
    def serving(self) -> Iterator[None]:
        """Count a request as in flight while the block runs (the app serves each in one).

        ``in_flight`` and ``settle`` see it until the block ends, however it ends.
        """
        with self._lock:
            self._open += 1
        try:
            yield
        finally:
            with self._lock:
                self._open -= 1
                self._lock.notify_all()

    @property
    def in_flight(self) -> int:
        """Requests of the eight operations being served right now (not yet finished)."""
        with self._lock:
            return self._open

    def settle(self, timeout: float = 5.0) -> bool:
        """Wait until no request is being served; False if some still are after ``timeout`` s.

        A client that gives up (a timeout) does not wait for the server: over a socket the
        request it abandoned is logged only once the server notices the client has gone.
        Call this before counting the requests of such a client.
        """
        with self._lock:
            return self._lock.wait_for(lambda: self._open == 0, timeout)

    @property
    def records(self) -> list[RequestRecord]:
        """A copy of the records so far."""
        with self._lock:
            return list(self._records)

    @property
    def last(self) -> RequestRecord:
        """The latest record; IndexError when there is none."""
        with self._lock:
            return self._records[-1]

    def count(self, operation_id: str | None = None, *, status: int | None = None) -> int:
        """How many requests of ``operation_id`` (any, if None) got ``status`` (any, if None)."""
        with self._lock:
            return sum(
                1
                for record in self._records
                if (operation_id is None or record.operation_id == operation_id)
                and (status is None or record.status == status)
            )

    def of(self, operation_id: str) -> list[RequestRecord]:
        """The records of one operation, oldest first."""
        with self._lock:
            return [record for record in self._records if record.operation_id == operation_id]

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._records.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self.records)

    def __repr__(self) -> str:
        return f"<RequestLog of {len(self)} requests>"
