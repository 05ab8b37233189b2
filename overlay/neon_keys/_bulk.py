"""Bulk revocation: an outcome for every id, whatever happens to the others."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from . import _validation
from ._exceptions import NeonError, NotFoundError
from ._models import APIKey

K = TypeVar("K", bound=APIKey)

OnOutcome = Callable[["RevokeOutcome[APIKey]"], None]
"""Called with each outcome as it is settled (for progress reporting)."""


class RevokeStatus(enum.StrEnum):
    """How the revocation of one key ended."""

    REVOKED = "revoked"
    """Revoked by this call."""
    ALREADY_GONE = "already_gone"
    """Neon answered 404: no such key among this scope's keys. It was revoked before, or it
    was never one of them: an organization key asked of ``personal_keys``, a key of another
    organization, a mistyped id. Such a key, if it exists elsewhere, still works."""
    FAILED = "failed"
    """Not revoked; ``error`` says why."""
    DRY_RUN = "dry_run"
    """Not revoked because nothing was to be: ``sweep(dry_run=True)`` says what it would
    revoke. Counts as ``ok``."""


@dataclass(frozen=True, slots=True)
class RevokeOutcome(Generic[K]):
    """The outcome of revoking one key in ``revoke_many``."""

    key_id: int
    status: RevokeStatus
    key: K | None = None
    error: NeonError | None = None

    @property
    def ok(self) -> bool:
        """True unless the revoke failed: nothing is left to revoke under this id in this scope.

        ``ALREADY_GONE`` counts as ok, as it does for an idempotent clean-up; where the id
        may have belonged to another scope (see ``RevokeStatus.ALREADY_GONE``), check
        ``status`` rather than ``ok``.
        """
        return self.status is not RevokeStatus.FAILED


def checked_ids(key_ids: Iterable[object]) -> list[int]:
    """Validate every id before anything is sent, and drop repeats (keeping the order)."""
    return list(dict.fromkeys(_validation.key_id(key_id) for key_id in key_ids))


def settle(key_id: int, revoke: Callable[[int], K]) -> RevokeOutcome[K]:
    """Revoke one key, turning any library error into a failed outcome."""
    try:
        return RevokeOutcome(key_id, RevokeStatus.REVOKED, key=revoke(key_id))
    except NotFoundError as err:
        return RevokeOutcome(key_id, RevokeStatus.ALREADY_GONE, error=err)
    except NeonError as err:
        return RevokeOutcome(key_id, RevokeStatus.FAILED, error=err)


async def asettle(key_id: int, revoke: Callable[[int], Awaitable[K]]) -> RevokeOutcome[K]:
    """The awaiting twin of ``settle``."""
    try:
        return RevokeOutcome(key_id, RevokeStatus.REVOKED, key=await revoke(key_id))
    except NotFoundError as err:
        return RevokeOutcome(key_id, RevokeStatus.ALREADY_GONE, error=err)
    except NeonError as err:
        return RevokeOutcome(key_id, RevokeStatus.FAILED, error=err)


def revoke_all(
    key_ids: Iterable[object], revoke: Callable[[int], K], on_outcome: OnOutcome | None
) -> list[RevokeOutcome[K]]:
    """Revoke one key after another (the client paces them)."""
    outcomes = []
    for key_id in checked_ids(key_ids):
        outcome = settle(key_id, revoke)
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)  # type: ignore[arg-type]
    return outcomes


async def arevoke_all(
    key_ids: Iterable[object],
    revoke: Callable[[int], Awaitable[K]],
    on_outcome: OnOutcome | None,
    concurrency: int,
) -> list[RevokeOutcome[K]]:
    """Revoke with up to ``concurrency`` requests in flight; outcomes keep the ids' order."""
    import anyio  # noqa: PLC0415  (an httpx dependency, needed only for bulk async work)

    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a positive integer, got {concurrency!r}")
    ids = checked_ids(key_ids)
    outcomes: list[RevokeOutcome[K] | None] = [None] * len(ids)
    # ``concurrency`` workers share one iterator (taking the next id never awaits, so no
    # two workers get the same one): as many tasks as requests in flight, not one per id.
    todo = iter(enumerate(ids))

    async def worker() -> None:
        for index, key_id in todo:
            outcome = await asettle(key_id, revoke)
            outcomes[index] = outcome
            if on_outcome is not None:
                on_outcome(outcome)  # type: ignore[arg-type]

    async with anyio.create_task_group() as group:
        for _ in range(min(concurrency, len(ids))):
            group.start_soon(worker)
    return [outcome for outcome in outcomes if outcome is not None]
