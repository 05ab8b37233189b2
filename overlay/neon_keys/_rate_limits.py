"""The check both rate-limit settings share: the client's ``RateLimits`` and the emulator's.

Both describe Neon's three documented limits with the same three fields; a limit is a
number of requests per unit of time, so it must be a positive, finite number.
"""

from __future__ import annotations

import math

__all__ = ["RATE_LIMIT_FIELDS", "check_rate_limits"]

RATE_LIMIT_FIELDS = ("per_minute", "burst_per_route", "org_create_per_second")
"""The fields of a rate-limit setting, one per limit Neon documents."""


def check_rate_limits(limits: object) -> None:
    """Raise ``ValueError`` naming the first field of ``limits`` that is not a usable limit.

    A usable limit is an int or a float (not a bool), greater than zero and finite.
    """
    for name in RATE_LIMIT_FIELDS:
        value = getattr(limits, name)
        usable = isinstance(value, int | float) and not isinstance(value, bool)
        if not usable or not 0 < value < math.inf:
            raise ValueError(
                f"{type(limits).__name__}.{name} must be a positive, finite number, not {value!r}"
            )
