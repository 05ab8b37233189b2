"""Client-side pacing that keeps a client under Neon's documented rate limits.

Neon allows 700 requests per minute per account, bursts of up to 40 requests per second per
route, and 10 organization-key creations per second; beyond that it answers 429. A client
paces itself with one generic cell rate algorithm (GCRA) bucket per limit, run at 95% of
the limit's rate (``PACING_HEADROOM``): a client that sends exactly at the limit meets 429
as soon as the network delays one request more than the next. Each request *reserves* the
earliest moment every bucket allows and waits until then, so concurrent callers (threads
or tasks) queue up without ever exceeding the rate. Single calls never wait: buckets start
full. When Neon answers 429 anyway (other clients share the account),
``backoff`` pauses every bucket and slows the account rate, which recovers as requests
succeed again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ._constants import (
    NEON_BURST_PER_ROUTE,
    NEON_ORG_CREATE_PER_SECOND,
    NEON_REQUESTS_PER_MINUTE,
    PACING_HEADROOM,
)

ORG_CREATE_OPERATION = "createOrgApiKey"


@dataclass(frozen=True, slots=True)
class RateLimits:
    """The limits a client paces itself by.

    Args:
        per_minute: requests per minute for the whole account.
        burst_per_route: requests per second on one route, and the size of a burst.
        org_create_per_second: organization-key creations per second.
    """

    per_minute: float = NEON_REQUESTS_PER_MINUTE
    burst_per_route: float = NEON_BURST_PER_ROUTE
    org_create_per_second: float = NEON_ORG_CREATE_PER_SECOND

    def __post_init__(self) -> None:
        for name in ("per_minute", "burst_per_route", "org_create_per_second"):
            if not getattr(self, name) > 0:
                raise ValueError(f"RateLimits.{name} must be positive")


class _Bucket:
    """One GCRA bucket: ``rate`` per second, bursts of ``burst``. Strictly private."""

    __slots__ = ("burst", "interval", "ready_at")

    def __init__(self, rate: float, burst: float) -> None:
        self.interval = 1.0 / rate
        self.burst = max(1.0, burst)
        self.ready_at = 0.0  # the "theoretical arrival time" of the next request

    def earliest(self, now: float) -> float:
        tolerance = (self.burst - 1.0) * self.interval
        return max(now, self.ready_at - tolerance)

    def take(self, at: float) -> None:
        self.ready_at = max(self.ready_at, at) + self.interval


class Pacer:
    """Reserves send times under ``RateLimits``; shared by every call of one client.

    ``clock`` returns monotonic seconds (``time.monotonic`` unless a test supplies one).
    """

    def __init__(self, limits: RateLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        self._share = 1.0 - PACING_HEADROOM
        self._account = _Bucket(limits.per_minute / 60.0 * self._share, limits.burst_per_route)
        self._routes: dict[str, _Bucket] = {}
        self._slowdown = 1.0

    def _route(self, route: str) -> _Bucket:
        bucket = self._routes.get(route)
        if bucket is None:
            if route.endswith(ORG_CREATE_OPERATION):
                rate = min(self.limits.org_create_per_second, self.limits.burst_per_route)
            else:
                rate = self.limits.burst_per_route
            bucket = self._routes[route] = _Bucket(rate * self._share, rate)
        return bucket

    def reserve(self, route: str) -> float:
        """Claim the next slot for ``route``; return the seconds to wait before sending."""
        with self._lock:
            now = self._clock()
            buckets = (self._account, self._route(route))
            send_at = max(bucket.earliest(now) for bucket in buckets)
            for bucket in buckets:
                bucket.take(send_at)
            return send_at - now

    def backoff(self, pause: float) -> None:
        """Neon answered 429: hold every request for ``pause`` seconds and slow down."""
        with self._lock:
            resume = self._clock() + pause
            self._slowdown = min(self._slowdown * 1.5, 8.0)
            self._account.interval = self._account_interval()
            for bucket in (self._account, *self._routes.values()):
                bucket.ready_at = max(
                    bucket.ready_at, resume + bucket.interval * (bucket.burst - 1)
                )

    def recovered(self) -> None:
        """A request succeeded: let the account rate creep back towards the limit."""
        if self._slowdown == 1.0:
            return
        with self._lock:
            self._slowdown = max(1.0, self._slowdown * 0.98)
            self._account.interval = self._account_interval()

    def _account_interval(self) -> float:
        return 60.0 / (self.limits.per_minute * self._share) * self._slowdown
