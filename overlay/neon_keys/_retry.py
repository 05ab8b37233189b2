"""When to retry, and how long to wait: pure functions over one attempt's outcome.

Neon's rules (the spec's ``GeneralError`` text): GET may be retried after a network error
or a timeout; POST and DELETE may not, because the server may have acted; any request may
be retried after ``503`` or ``423``. ``429`` asks for a retry after a while. A failed
*connect* means nothing was sent, so any method may be retried.
"""

from __future__ import annotations

import email.utils
import enum
import math
import random
import time
from dataclasses import dataclass

import httpx

from ._constants import INITIAL_RETRY_DELAY, MAX_RETRY_AFTER, MAX_RETRY_DELAY

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_RETRY_ANY_STATUS = frozenset({423, 429, 503})
_NOTHING_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Reading the answer only starts once the whole request is written.
_CERTAINLY_SENT = (httpx.ReadError, httpx.ReadTimeout, httpx.RemoteProtocolError)


class Verdict(enum.Enum):
    """What an attempt's outcome means for the call."""

    RETRY = "retry"
    """Safe to send again."""
    FAIL = "fail"
    """A definite failure: report it."""
    AMBIGUOUS = "ambiguous"
    """The server may have acted and must not be asked again blindly."""


def judge(method: str, outcome: httpx.Response | httpx.RequestError) -> Verdict:
    """Classify a failed attempt (an error status or a transport error)."""
    safe = method.upper() in _SAFE_METHODS
    if isinstance(outcome, httpx.Response):
        status = outcome.status_code
        if status in _RETRY_ANY_STATUS:
            return Verdict.RETRY
        # Any other 5xx, Neon's own or a proxy's (520-524 "the origin did not answer"), says
        # nothing about whether a create or revoke happened.
        if status >= 500:
            return Verdict.RETRY if safe else Verdict.AMBIGUOUS
        return Verdict.FAIL
    if isinstance(outcome, _NOTHING_SENT):
        return Verdict.RETRY
    return Verdict.RETRY if safe else Verdict.AMBIGUOUS


def request_was_sent(error: httpx.RequestError) -> bool | None:
    """Whether the request left before a transport error: False, True, or None (unknown).

    False for a failed connect (nothing was sent); True once the answer was being read;
    None when writing failed part way.
    """
    if isinstance(error, _NOTHING_SENT):
        return False
    return True if isinstance(error, _CERTAINLY_SENT) else None


@dataclass(frozen=True, slots=True)
class Backoff:
    """How long to wait between attempts.

    The n-th retry waits ``initial * 2**(n-1)`` seconds, capped at ``maximum``, scaled by a
    random factor in [0.5, 1] when ``jitter`` is on, so that many clients do not retry in
    step. A ``Retry-After`` from the server replaces that wait when it is at most
    ``max_retry_after`` seconds; a longer one ends the retries, and the error's
    ``retry_after`` tells the caller how long Neon asked for.
    """

    initial: float = INITIAL_RETRY_DELAY
    maximum: float = MAX_RETRY_DELAY
    max_retry_after: float = MAX_RETRY_AFTER
    jitter: bool = True
    scale: float = 1.0
    """Multiplier applied to every wait between attempts (and to the pause after a 429);
    0 turns those waits off (``immediate``). Pacing is not a backoff: it still applies."""

    @classmethod
    def immediate(cls) -> Backoff:
        """The same decisions, without waiting between attempts.

        Pacing still spaces bulk work out; for tests, ``neon_keys.set_testing()`` skips
        every wait of every client.
        """
        return cls(scale=0.0)

    def delay(self, retry_number: int, retry_after: float | None = None) -> float | None:
        """Seconds to wait before retry ``retry_number`` (1-based); None means do not retry."""
        if retry_after is not None:
            if retry_after > self.max_retry_after:
                return None
            wait = retry_after
        else:
            wait = min(self.maximum, self.initial * 2 ** (retry_number - 1))
            if self.jitter:
                wait *= 0.5 + random.random() / 2
        return wait * self.scale


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or HTTP-date), or None.

    ``now`` is the POSIX time an HTTP date counts from (the answer's ``Date``; None: this
    machine's clock).
    """
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)
