"""Client-side pacing that keeps a client under Neon's documented rate limits.

Neon allows 700 requests per minute per account, bursts of up to 40 requests per second per
route, and 10 organization-key creations per second; beyond that it answers 429. Whether
Neon counts requests with token buckets or in windows, a client stays under a limit of N
requests per T seconds if no window of T seconds, wherever it starts, holds more than N of
its requests: that is what the pacer guarantees, for every limit at once (``plan`` derives
how). A client paces itself with one generic cell rate algorithm (GCRA) bucket per limit:
each request *reserves* the earliest moment every bucket allows and waits until then, so
concurrent callers (threads or tasks) queue up without ever exceeding a limit. A lone call
never waits. When Neon answers 429 anyway (other clients share the account), ``backoff``
pauses every bucket and slows the account rate, which recovers as requests succeed again.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

from . import _test_mode
from ._constants import (
    NEON_BURST_PER_ROUTE,
    NEON_ORG_CREATE_PER_SECOND,
    NEON_REQUESTS_PER_MINUTE,
    ORG_KEY_CREATE_OPERATION,
    PACING_ACCOUNT_BURST,
)
from ._rate_limits import check_rate_limits

MAX_SLOWDOWN = 8.0
"""The slowest the account rate gets after repeated 429s: an eighth of its pace."""

SLOWDOWN_PER_429 = 1.5
"""How much each 429 slows the account rate (until ``MAX_SLOWDOWN``)."""

RECOVERY_PER_SUCCESS = 0.98
"""How much each successful request takes back of the slowdown (down to none)."""


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
        check_rate_limits(self)


@dataclass(frozen=True, slots=True)
class Pace:
    """How one bucket paces: ``burst`` requests at once, then ``rate`` a second."""

    rate: float
    burst: int

    def most_in(self, seconds: float) -> float:
        """The most requests any window of ``seconds`` can hold, closed at both ends."""
        return self.burst + self.rate * seconds


@dataclass(frozen=True, slots=True)
class Plan:
    """The pace of each of a client's buckets."""

    account: Pace
    route: Pace
    org_create: Pace


def _fit(limit: float, seconds: float, burst: int) -> Pace:
    """A pace whose ``most_in(seconds)`` stays within ``limit``, bursting at most ``burst``."""
    whole = math.floor(limit)  # a window holds whole requests: 2.5 a second allows 2
    if whole < 2:
        return Pace(min(limit, 1.0) / (2.0 * seconds), 1)
    burst = max(1, min(burst, whole // 10))
    return Pace((whole - burst) / seconds, burst)


def plan(limits: RateLimits) -> Plan:
    """The paces that keep every window of each limit's length within that limit.

    A GCRA bucket pacing at ``rate`` a second after a burst of ``burst`` lets through at
    most ``burst + rate * L`` requests in any window of L seconds, even one closed at both
    ends (``Pace.most_in``): each request moves the bucket's theoretical arrival time on by
    at least ``1 / rate``, and none goes more than ``(burst - 1) / rate`` ahead of it, so
    the n-th request of a window comes at least ``(n - burst) / rate`` seconds after the
    first. A limit of N requests per T seconds (N taken whole: a window holds whole
    requests) therefore holds when ``burst + rate * T <= N``; the request after the N-th
    then falls a whole ``1 / rate`` outside the window, far beyond any rounding:

    - per route (N = ``burst_per_route``, T = 1 s): a burst of 1, the least that lets a
      lone call go at once, and N - 1 a second: 39 of Neon's 40;
    - organization-key creation (N = ``org_create_per_second``, or the route's limit if
      lower; T = 1 s): likewise, 9 a second of 10;
    - per account (N = ``per_minute``, T = 60 s): a burst of ``PACING_ACCOUNT_BURST``, at
      most a tenth of N, and (N - burst) / 60 a second: 690 of 700 a minute.

    Pacing a request under the route's limit also keeps spare capacity against latency
    jitter: at 39 a second in bursts of 1, a server's token bucket holding 40 and refilled
    at 40 a second is never drained, so a request that reaches Neon early (its latency
    shorter, by up to a second, than that of the requests before it) still finds a token.

    A limit under 2 a window leaves no room for both a burst and a rate: it gets a burst
    of 1 and half of one request a window, so no window of T holds two requests (nor, for
    N under 1, a window of T / N, the way a token bucket reads such a limit).
    """
    route_limit = limits.burst_per_route
    return Plan(
        account=_fit(limits.per_minute, 60.0, PACING_ACCOUNT_BURST),
        route=_fit(route_limit, 1.0, 1),
        org_create=_fit(min(limits.org_create_per_second, route_limit), 1.0, 1),
    )


class _Bucket:
    """One GCRA bucket, pacing at ``pace`` unless slowed down. Strictly private."""

    __slots__ = ("base_interval", "interval", "ready_at", "tolerance")

    def __init__(self, pace: Pace) -> None:
        self.base_interval = 1.0 / pace.rate
        self.interval = self.base_interval
        # How far ahead of its theoretical arrival time a request may go: the burst. Fixed
        # at the base pace, so that a slowed-down interval never widens it.
        self.tolerance = (pace.burst - 1) * self.base_interval
        self.ready_at = -math.inf  # the "theoretical arrival time" of the next request

    def earliest(self, now: float) -> float:
        return max(now, self.ready_at - self.tolerance)

    def take(self, at: float) -> None:
        self.ready_at = max(self.ready_at, at) + self.interval


class NoPacing:
    """The pacer of a client made with ``rate_limits=None``: it never waits."""

    def reserve(self, operation_id: str) -> float:
        """No wait, ever."""
        return 0.0

    def backoff(self, pause: float) -> bool:
        """Nothing to pause: False, the caller waits ``pause`` itself."""
        return False

    def recovered(self) -> None:
        """Nothing to recover."""


class Pacer:
    """Reserves send times under ``RateLimits``; shared by every call of one client.

    Neon limits each route, and each route is one operation, so a route's bucket is kept
    per ``operationId``. ``clock`` returns monotonic seconds: by default the library's
    pacing clock, which the test mode (``set_testing``) holds still.
    """

    def __init__(
        self, limits: RateLimits, clock: Callable[[], float] = _test_mode.monotonic
    ) -> None:
        self.limits = limits
        self.plan = plan(limits)
        self._clock = clock
        self._lock = threading.Lock()
        self._account = _Bucket(self.plan.account)
        self._operations: dict[str, _Bucket] = {}
        self._slowdown = 1.0

    def _bucket_of(self, operation_id: str) -> _Bucket:
        bucket = self._operations.get(operation_id)
        if bucket is None:
            org_create = operation_id == ORG_KEY_CREATE_OPERATION
            pace = self.plan.org_create if org_create else self.plan.route
            bucket = self._operations[operation_id] = _Bucket(pace)
        return bucket

    def reserve(self, operation_id: str) -> float:
        """Claim the next slot for the operation; return the seconds to wait before sending."""
        with self._lock:
            now = self._clock()
            buckets = (self._account, self._bucket_of(operation_id))
            send_at = max(bucket.earliest(now) for bucket in buckets)
            for bucket in buckets:
                bucket.take(send_at)
            return send_at - now

    def backoff(self, pause: float) -> bool:
        """Neon answered 429: hold every request for ``pause`` seconds and slow down.

        Every bucket starts again empty when the pause ends (one request, then its pace),
        and slots already reserved are kept: the pause only ever delays requests. Returns
        True: the next reservation waits out the pause, so the caller need not.
        """
        with self._lock:
            resume = self._clock() + max(0.0, pause)
            self._slowdown = min(self._slowdown * SLOWDOWN_PER_429, MAX_SLOWDOWN)
            self._account.interval = self._account.base_interval * self._slowdown
            for bucket in (self._account, *self._operations.values()):
                bucket.ready_at = max(bucket.ready_at, resume + bucket.tolerance)
        return True

    def recovered(self) -> None:
        """A request succeeded: let the account rate creep back towards its pace."""
        if self._slowdown == 1.0:  # pragma: no mutate (a shortcut: max() below agrees)
            return
        with self._lock:
            self._slowdown = max(1.0, self._slowdown * RECOVERY_PER_SUCCESS)
            self._account.interval = self._account.base_interval * self._slowdown
