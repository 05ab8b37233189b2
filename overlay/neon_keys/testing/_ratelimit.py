"""Neon's documented rate limits, enforced with token buckets.

Neon documents a limit of requests per minute per account, bursts of requests per second on
one route, and organization-key creations per second (the figures are in
``neon_keys._constants``, which the client's pacing reads too); beyond them it answers 429.
The emulator keeps one token bucket per limit:

- per account (the user of a personal key, the organization of an organization key):
  ``per_minute`` tokens, refilled at ``per_minute / 60`` a second;
- per account and operation: ``burst_per_route`` tokens, refilled at that many a second;
- per organization, for ``createOrgApiKey``: ``org_create_per_second`` tokens, likewise.

A request takes one token from each bucket that applies, or none when any of them is empty;
then it is refused with the number of whole seconds until every bucket has a token again
(the ``Retry-After`` the client sees). Time comes from the world's ``Clock``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .._constants import (
    NEON_BURST_PER_ROUTE,
    NEON_ORG_CREATE_PER_SECOND,
    NEON_REQUESTS_PER_MINUTE,
    ORG_KEY_CREATE_OPERATION,
)
from .._rate_limits import check_rate_limits

__all__ = ["RateLimiter", "ServerRateLimits"]


@dataclass(frozen=True, slots=True)
class ServerRateLimits:
    """The limits the emulated server enforces (Neon's documented ones by default).

    Args:
        per_minute: requests per minute for one account.
        burst_per_route: requests per second for one account on one operation; also the
            largest burst.
        org_create_per_second: organization-key creations per second in one organization.
    """

    per_minute: float = NEON_REQUESTS_PER_MINUTE
    burst_per_route: float = NEON_BURST_PER_ROUTE
    org_create_per_second: float = NEON_ORG_CREATE_PER_SECOND

    def __post_init__(self) -> None:
        check_rate_limits(self)

    def scaled(self, factor: float) -> ServerRateLimits:
        """The same limits multiplied by ``factor`` (0.1: ten times stricter)."""
        if isinstance(factor, bool) or not 0 < factor < math.inf:
            raise ValueError(f"the scale factor must be a positive, finite number, not {factor!r}")
        return ServerRateLimits(
            per_minute=self.per_minute * factor,
            burst_per_route=self.burst_per_route * factor,
            org_create_per_second=self.org_create_per_second * factor,
        )


class _Bucket:
    """A token bucket holding at most ``capacity`` tokens. Strictly private."""

    __slots__ = ("capacity", "rate", "tokens", "updated")

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self.capacity = max(1.0, capacity)
        self.rate = rate
        self.tokens = self.capacity
        self.updated = now

    def refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now

    def wait(self) -> float:
        """Seconds until one token is available (after ``refill``)."""
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate


class RateLimiter:
    """Decides whether a request fits the limits. Not thread-safe: the world's lock guards it.

    Args:
        limits: the limits to enforce.
    """

    def __init__(self, limits: ServerRateLimits) -> None:
        self.limits = limits
        self._buckets: dict[tuple[str, ...], _Bucket] = {}

    def _bucket(
        self, key: tuple[str, ...], per_second: float, capacity: float, now: float
    ) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(capacity, per_second, now)
        return bucket

    def acquire(
        self, account: str, operation_id: str, org_id: str | None, now: float
    ) -> int | None:
        """Take a token for this request: None if it may proceed, else seconds to wait (>= 1).

        Args:
            account: who is calling (a user id or an organization id).
            operation_id: the operation called.
            org_id: the organization in the path, if any.
            now: the clock's monotonic seconds.
        """
        limits = self.limits
        buckets = [
            self._bucket(("account", account), limits.per_minute / 60.0, limits.per_minute, now),
            self._bucket(
                ("route", account, operation_id),
                limits.burst_per_route,
                limits.burst_per_route,
                now,
            ),
        ]
        if operation_id == ORG_KEY_CREATE_OPERATION and org_id is not None:
            buckets.append(
                self._bucket(
                    ("org-create", org_id),
                    limits.org_create_per_second,
                    limits.org_create_per_second,
                    now,
                )
            )
        for bucket in buckets:
            bucket.refill(now)
        wait = max(bucket.wait() for bucket in buckets)
        if wait > 0:
            return max(1, math.ceil(wait))
        for bucket in buckets:
            bucket.tokens -= 1.0
        return None
