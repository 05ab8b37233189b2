"""Client-side pacing that keeps a client under Neon's documented rate limits.

Neon allows 700 requests per minute per account, bursts of up to 40 requests per second per
route, and 10 organization-key creations per second; beyond that it answers 429. Neon does
not say how it counts, so the pacer keeps to every reading at once (``plan`` derives how):

- counted in windows (fixed or sliding), a limit of N per T seconds holds if no window of T
  seconds, wherever it starts, holds more than N requests: each bucket keeps the send times
  of its last N - 1 requests and sends the next no earlier than T after the oldest of them;
- counted with token buckets, the server's bucket must never run dry even when requests
  arrive closer together than they were sent (latency varies): each bucket is also a
  generic cell rate algorithm (GCRA) bucket sending at most half of N at once, then
  (N - 1) / T a second, which leaves half a window of spare tokens for jitter.

Each request *reserves* the earliest moment every bucket allows and waits until then, so
concurrent callers (threads or tasks) queue up without ever exceeding a limit, and a burst
of independent calls (a plan's listings, one per organization) goes out at once. A lone call
never waits. When Neon answers 429 anyway (other clients share the account), ``backoff``
pauses every bucket and slows the account rate, which recovers as requests succeed again.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from . import _test_mode
from ._constants import (
    NEON_BURST_PER_ROUTE,
    NEON_ORG_CREATE_PER_SECOND,
    NEON_REQUESTS_PER_MINUTE,
    ORG_KEY_CREATE_OPERATION,
)
from ._rate_limits import check_rate_limits

MAX_SLOWDOWN = 8.0
"""The slowest the account rate gets after repeated 429s: an eighth of its pace."""

SLOWDOWN_PER_429 = 1.5
"""How much each 429 slows the account rate (until ``MAX_SLOWDOWN``)."""

RECOVERY_PER_SUCCESS = 0.98
"""How much each successful request takes back of the slowdown (down to none)."""

SECOND_BURST_SHARE = 0.5
"""The share of a per-second limit (a route, organization-key creation) sent at once: 20 of
Neon's 40 a route, enough for a plan's listings of 20 organizations to go out together,
and half a second of spare tokens should Neon count with a token bucket."""

MINUTE_BURST_SHARE = 0.1
"""The share of the per-minute account limit sent at once: 70 of Neon's 700, more than any
command's calls at once, a small part of the minute's budget."""


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
    """How one bucket paces: ``burst`` requests at once, then ``rate`` a second, and never
    more than ``most`` requests in a window of ``seconds`` (0: the rate alone bounds it)."""

    rate: float
    burst: int
    most: int
    seconds: float


@dataclass(frozen=True, slots=True)
class Plan:
    """The pace of each of a client's buckets."""

    account: Pace
    route: Pace
    org_create: Pace


def _fit(limit: float, seconds: float, share: float) -> Pace:
    """The pace for a limit of ``limit`` requests per ``seconds``, bursting ``share`` of it."""
    whole = math.floor(limit)  # a window holds whole requests: 2.5 a second allows 2
    if whole < 2:
        return Pace(min(limit, 1.0) / (2.0 * seconds), 1, 0, seconds)
    most = whole - 1
    return Pace(most / seconds, max(1, math.floor(whole * share)), most, seconds)


def plan(limits: RateLimits) -> Plan:
    """The paces that keep every window of each limit's length within that limit.

    A limit of N requests per T seconds (N taken whole: a window holds whole requests) gets
    a bucket that sends each request later than T after the one N - 1 requests before it,
    so no window of T, even one closed at both ends, holds more than N - 1 requests (one
    request of margin against rounding). The same bucket is a GCRA bucket too: at most
    ``burst`` requests at once, then (N - 1) / T a second. Saturated, it sends its burst
    at the start of each T seconds and the rest of the N - 1 at that rate.

    Counted with a token bucket holding N and refilled at N / T a second instead, these
    requests never drain it, even when latency brings them closer together than they were
    sent. Any d seconds of sending hold at most ``burst + rate * d`` requests, so when
    latencies differ by up to j seconds, any d seconds at the server receive at most
    ``burst + rate * (d + j)``: within the bucket's ``N + N / T * d`` for every d as long
    as j is at most ``(N - burst) / rate``, half a second for a route.

    - per route (N = ``burst_per_route``, T = 1 s): bursts of 20, 39 a second of Neon's 40;
    - organization-key creation (N = ``org_create_per_second``, or the route's limit if
      lower; T = 1 s): bursts of 5, 9 a second of 10;
    - per account (N = ``per_minute``, T = 60 s): bursts of 70, 699 a minute of 700.

    A limit under 2 a window leaves no room for both a burst and a rate: it gets a burst
    of 1 and half of one request a window, so no window of T holds two requests (nor, for
    N under 1, a window of T / N, the way a token bucket reads such a limit).
    """
    route_limit = limits.burst_per_route
    return Plan(
        account=_fit(limits.per_minute, 60.0, MINUTE_BURST_SHARE),
        route=_fit(route_limit, 1.0, SECOND_BURST_SHARE),
        org_create=_fit(min(limits.org_create_per_second, route_limit), 1.0, SECOND_BURST_SHARE),
    )


class _Bucket:
    """One bucket pacing at ``pace`` unless slowed down. Strictly private.

    Send times are reserved in order: a reservation is never earlier than the one before
    it, so the times kept for the window are sorted.
    """

    __slots__ = ("base_interval", "interval", "most", "ready_at", "seconds", "sent", "tolerance")

    def __init__(self, pace: Pace) -> None:
        self.base_interval = 1.0 / pace.rate
        self.interval = self.base_interval
        # How far ahead of its theoretical arrival time a request may go: the burst. Fixed
        # at the base pace, so that a slowed-down interval never widens it.
        # (A trillionth more, so that the sum of the burst's intervals, rounded, never makes
        # its last request wait a few attoseconds.)
        self.tolerance = (pace.burst - 1) * self.base_interval * (1 + 1e-12)
        self.ready_at = -math.inf  # the "theoretical arrival time" of the next request
        self.most = pace.most
        self.seconds = pace.seconds
        # The send times of the last ``most`` requests still inside a window to come.
        self.sent: deque[float] = deque()

    def earliest(self, now: float) -> float:
        at = max(now, self.ready_at - self.tolerance)
        sent = self.sent
        while sent and sent[0] < now - self.seconds:  # out of every window still to come
            sent.popleft()
        if sent:
            at = max(at, sent[-1])
            if len(sent) == self.most:  # strictly later: a window closed at both ends too
                at = max(at, math.nextafter(sent[0] + self.seconds, math.inf))
        return at

    def take(self, at: float) -> None:
        self.ready_at = max(self.ready_at, at) + self.interval
        if self.most:
            self.sent.append(at)
            if len(self.sent) > self.most:
                self.sent.popleft()


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
    per ``operationId``. Reservations are served in order: no request is sent before one
    reserved earlier. ``clock`` returns monotonic seconds: by default the library's
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
