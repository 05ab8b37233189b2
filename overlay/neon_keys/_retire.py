"""Retiring: revoke the keys a staged rotation replaced, once nothing needs them.

The state is the keys themselves (names, ``created_at``, ``last_used_at``), so a retire
works from any machine, any number of times. The rule, for the live keys of one scope:

- **Generations.** Keys of the same name and scope are generations of one credential:
  same kind, same project (for a project-scoped key), same name. A lease belongs with the
  leases of its base name (its name less its expiry), never with an ordinary key.
- **Newer.** Of two keys of one group, the newer has the later ``created_at`` (to the
  second, as Neon records it), or, in the same second, the higher id. A key whose
  ``created_at`` Neon did not give takes no part.
- **In service.** A key is in service once it has been used (``last_used_at``): a rotation
  verifies its replacement with ``GET /auth`` only after every delivery succeeded, so a
  replacement never used is one whose rotation did not finish.
- **Retiring.** A key is retiring when a newer key of its group exists. Its replacement is
  the next newer key in service. While no newer key is in service, it is kept (``no
  replacement in service``): nothing has taken over from it.
- **Revoked** when the grace period has passed since its replacement was created
  (``now - replacement.created_at >= grace``), or sooner once it has gone quiet: not used
  for the quiet period since the replacement appeared
  (``now - max(replacement.created_at, last_used_at) >= quiet``).
- **Spared**: a key that may be the one making the call (``_calling``) is never revoked.

"Now" is Neon's clock as of the listing (``server_now``, from its answers' ``Date``), never
this machine's: with no ``Date`` to read, or one that runs implausibly far ahead of what the
listing records (``_clock_guard``), retire raises ``ServerTimeUnknownError`` and revokes
nothing.
"""

from __future__ import annotations

import datetime
import enum
import fnmatch
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import _operations as ops
from ._bulk import RevokeStatus
from ._calling import calling_keys
from ._clock_guard import check_neon_now
from ._durations import MAX_DURATION, format_duration
from ._exceptions import InvalidInputError, NeonError, ServerTimeUnknownError
from ._lease_names import LeaseName
from ._models import ProjectKey
from ._resource import NeonNow
from ._steps import Call, Flow

if TYPE_CHECKING:
    from ._models import APIKey
    from ._operations import Operation

__all__ = [
    "DEFAULT_RETIRE_GRACE",
    "RetireOutcome",
    "RetireReason",
    "RetireStatus",
    "generation_of",
    "plan_retirement",
    "retire_flow",
]

DEFAULT_RETIRE_GRACE = datetime.timedelta(days=7)
"""How long a replaced key is kept when no grace period is given: a week."""

_EPOCH = datetime.datetime.min.replace(tzinfo=datetime.UTC)


class RetireReason(enum.StrEnum):
    """Why a retiring key was, or was not, revoked."""

    GRACE_OVER = "grace_over"
    """Revoked: the grace period has passed since its replacement was created."""
    QUIET = "quiet"
    """Revoked: not used for the quiet period since its replacement appeared."""
    IN_GRACE = "in_grace"
    """Kept: within the grace period, and used too recently to be quiet."""
    NO_REPLACEMENT_IN_SERVICE = "no_replacement_in_service"
    """Kept: no newer key of its group has been used (a rotation that did not finish)."""
    CALLING = "calling"
    """Kept: it may be the key making this call."""

    @property
    def revokes(self) -> bool:
        """Whether the reason is one to revoke the key."""
        return self in (RetireReason.GRACE_OVER, RetireReason.QUIET)


class RetireStatus(enum.StrEnum):
    """What became of a retiring key."""

    REVOKED = "revoked"
    """Revoked by this call."""
    ALREADY_GONE = "already_gone"
    """Due, and Neon answered 404: revoked meanwhile."""
    FAILED = "failed"
    """Due, but the revoke failed; ``error`` says why."""
    DUE = "due"
    """Due, not revoked: a dry run."""
    KEPT = "kept"
    """Not due; ``reason`` says why."""


@dataclass(frozen=True, slots=True)
class RetireOutcome:
    """What ``retire`` decided for one retiring key, and what became of it.

    Attributes:
        key: the retiring key, as listed.
        replacement: the key that took over from it (None: no newer key is in service).
        newer: the next newer key of its group, in service or not.
        reason: why it was, or was not, revoked.
        status: what became of it.
        grace_ends: when its grace period ends (None without a replacement in service).
        message: the reason in words, with the times.
        error: why the revoke failed (``FAILED``), else None.
    """

    key: APIKey
    replacement: APIKey | None
    newer: APIKey
    reason: RetireReason
    status: RetireStatus
    grace_ends: datetime.datetime | None
    message: str
    error: NeonError | None = None

    @property
    def ok(self) -> bool:
        """False only when a due key could not be revoked."""
        return self.status is not RetireStatus.FAILED


def check_duration(value: object, field: str, *, optional: bool) -> datetime.timedelta | None:
    """``value`` if it is a duration from zero to ``MAX_DURATION`` (or None when optional)."""
    if value is None and optional:
        return None
    if not isinstance(value, datetime.timedelta):
        raise InvalidInputError(field, f"must be a timedelta, not {type(value).__name__}")
    if value < datetime.timedelta(0) or value > MAX_DURATION:
        raise InvalidInputError(field, f"must be between 0 and {MAX_DURATION.days} days", value)
    return value


def generation_of(key: APIKey) -> tuple[str, str | None, bool, str]:
    """The group a key's generations share: kind, project, lease or not, (base) name.

    A lease's group is the leases of its base name; an ordinary key's, the ordinary keys of
    its name: a key named like a lease's base name is never grouped with the lease.
    """
    lease = LeaseName.parse(key.name)
    project = key.project_id if isinstance(key, ProjectKey) else None
    if lease is None:
        return (key.kind.value, project, False, key.name)
    return (key.kind.value, project, True, lease.base_name)


def age_order(key: APIKey) -> tuple[datetime.datetime, int]:
    """Oldest first: by creation to the second (the precision Neon lists), then by id."""
    created = key.created_at or _EPOCH
    return (created.replace(microsecond=0), key.id)


def plan_retirement(
    keys: Sequence[APIKey],
    *,
    now: datetime.datetime,
    grace: datetime.timedelta,
    quiet: datetime.timedelta | None = None,
    name: str | None = None,
    calling: Collection[int] = (),
) -> list[RetireOutcome]:
    """The decision for every retiring key of ``keys`` (see the module docstring), oldest first.

    Args:
        keys: one scope's keys, as listed.
        now: Neon's current time.
        grace: how long a key is kept after its replacement was created.
        quiet: revoke sooner a key not used for this long since its replacement appeared
            (None: only the grace period counts).
        name: a glob (``fnmatch``, case-sensitive) the (base) name must match; None: all.
        calling: ids of keys that may be making the call: never revoked.

    Every outcome's status is ``DUE`` or ``KEPT``.
    """
    groups: dict[tuple[str, str | None, bool, str], list[APIKey]] = defaultdict(list)
    for key in keys:
        if key.revoked or key.created_at is None:
            continue
        group = generation_of(key)
        if name is not None and not fnmatch.fnmatchcase(group[3], name):
            continue
        groups[group].append(key)
    outcomes = []
    for members in groups.values():
        members.sort(key=age_order)
        for index, key in enumerate(members[:-1]):
            later = members[index + 1 :]
            replacement = next((k for k in later if k.last_used_at is not None), None)
            outcomes.append(
                _decide(
                    key,
                    newer=later[0],
                    replacement=replacement,
                    now=now,
                    grace=grace,
                    quiet=quiet,
                    calling=calling,
                )
            )
    outcomes.sort(key=lambda outcome: age_order(outcome.key))
    return outcomes


def _decide(
    key: APIKey,
    *,
    newer: APIKey,
    replacement: APIKey | None,
    now: datetime.datetime,
    grace: datetime.timedelta,
    quiet: datetime.timedelta | None,
    calling: Collection[int],
) -> RetireOutcome:
    def outcome(
        reason: RetireReason, message: str, ends: datetime.datetime | None
    ) -> RetireOutcome:
        status = RetireStatus.DUE if reason.revokes else RetireStatus.KEPT
        return RetireOutcome(key, replacement, newer, reason, status, ends, message)

    if replacement is None:
        return outcome(
            RetireReason.NO_REPLACEMENT_IN_SERVICE,
            f"newer key {newer.id} has never been used: its rotation may not have finished",
            None,
        )
    assert replacement.created_at is not None
    since = replacement.created_at
    ends = since + grace
    replaced = f"replaced by key {replacement.id} on {when(since)}"
    if key.id in calling:
        return outcome(RetireReason.CALLING, f"{replaced}; may be the key making this call", ends)
    if now >= ends:
        return outcome(
            RetireReason.GRACE_OVER,
            f"{replaced}: its grace period ({_fmt(grace)}) ended {when(ends)}",
            ends,
        )
    last_use = max(since, key.last_used_at or since)
    used = f"last used {when(key.last_used_at)}" if key.last_used_at else "never used"
    if quiet is not None and now - last_use >= quiet:
        return outcome(
            RetireReason.QUIET, f"{replaced}; {used}: quiet for {_fmt(quiet)} or more", ends
        )
    return outcome(
        RetireReason.IN_GRACE, f"{replaced}; {used}; the grace period ends {when(ends)}", ends
    )


def when(moment: datetime.datetime | None) -> str:
    """A time in messages: UTC, to the minute (``2025-06-01 12:00 UTC``)."""
    if moment is None:
        return "an unknown time"
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _fmt(delta: datetime.timedelta) -> str:
    return format_duration(max(delta, datetime.timedelta(0)))


# -- the flow --------------------------------------------------------------------------------

Perform = Callable[["Operation[Any]"], Any]

_STATUS = {
    RevokeStatus.REVOKED: RetireStatus.REVOKED,
    RevokeStatus.ALREADY_GONE: RetireStatus.ALREADY_GONE,
    RevokeStatus.FAILED: RetireStatus.FAILED,
}


def retire_flow(
    scope: Any,
    perform: Perform,
    neon_now: NeonNow,
    *,
    grace: object,
    quiet: object,
    name: str | None,
    dry_run: bool,
) -> Flow[list[RetireOutcome]]:
    """List, decide, and (unless ``dry_run``) revoke the due keys of ``scope``."""
    checked_grace = check_duration(grace, "grace", optional=False)
    assert checked_grace is not None
    checked_quiet = check_duration(quiet, "quiet", optional=True)
    if name is not None and (not isinstance(name, str) or not name):
        raise InvalidInputError("name", "must be a non-empty glob such as 'deploy-*'", name)
    listing = yield Call(scope.list)
    now = neon_now()  # Neon's clock as of the listing just read
    if now is None:
        raise ServerTimeUnknownError(
            "retire judges grace and quiet periods by Neon's clock, but Neon's answers carried "
            "no readable Date header (a proxy that strips it?); nothing was revoked"
        )
    plan = plan_retirement(listing, now=now, grace=checked_grace, quiet=checked_quiet, name=name)
    if any(item.status is RetireStatus.DUE for item in plan):
        # Never revoke the key making this call: ask whose key it is.
        auth = yield Call(perform, (ops.get_auth_details(),))
        calling = calling_keys(auth, scope.org_id, listing)
        check_neon_now(now, listing, calling=calling, acting="retire")
        plan = plan_retirement(
            listing, now=now, grace=checked_grace, quiet=checked_quiet, name=name, calling=calling
        )
    due = [item for item in plan if item.status is RetireStatus.DUE]
    if dry_run or not due:
        return plan
    revoked = yield Call(scope.revoke_many, ([item.key.id for item in due],))
    by_id = {outcome.key_id: outcome for outcome in revoked}
    result = []
    for item in plan:
        done = by_id.get(item.key.id)
        if done is None:
            result.append(item)
            continue
        result.append(
            RetireOutcome(
                item.key,
                item.replacement,
                item.newer,
                item.reason,
                _STATUS.get(done.status, RetireStatus.FAILED),
                item.grace_ends,
                item.message,
                done.error if done.status is RevokeStatus.FAILED else None,
            )
        )
    return result
