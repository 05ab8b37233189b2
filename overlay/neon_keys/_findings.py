"""Findings: what makes a key deserve attention, judged on Neon's clock.

``judge`` is the one judging path. ``neon-keys audit`` (without a file) builds a
``RuleSet`` from its options, ``neon_keys.policy`` (``plan`` and ``check``) from the
``[rules]`` of a file; both get the same ``Finding`` values for the same keys, so a rule
reads the same everywhere. One function per rule judges one key (or, for duplicate names,
a scope's keys) at a given time; ``judge`` applies those a ``RuleSet`` asks for.

Two things hold for every rule set:

- **Retiring keys are not findings of age or use.** A key that a newer key of its
  generation has replaced (the newer one is in service: used; the rule of
  ``neon_keys._retire``) is retiring: ``retire`` revokes it when it is due. It is never
  ``never_used``, ``unused``, ``too_old`` or a ``duplicate_name``. A key whose newer
  generations were never used is still the one in service, and is judged as any other.
  The other rules hold for retiring keys too: an expired lease is a finding whether it
  is retiring or not, its expiry being a promise of its own.
- **Young keys are not findings of use.** A key younger than ``min_age`` is neither
  ``never_used`` nor a ``duplicate_name``: a pipeline may have minted it a minute ago, or
  a rotation may be putting it in place. A key whose ``created_at`` Neon did not give
  counts as young. Young keys still count when the duplicates of a name are weighed.
"""

from __future__ import annotations

import datetime
import enum
import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ._durations import format_duration
from ._models import APIKey, IPAddress, KeyKind, ProjectKey
from ._retire import DEFAULT_RETIRE_GRACE, RetireOutcome, plan_retirement

__all__ = [
    "DEFAULT_MIN_AGE",
    "Finding",
    "FindingCode",
    "Flagged",
    "IPNetwork",
    "RuleSet",
    "days",
    "duplicate_names",
    "expired_lease",
    "is_unused",
    "judge",
    "never_used",
    "outside_networks",
    "personal_key",
    "retiring",
    "too_old",
    "unused",
]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
"""A network a key may be used from (``outside_networks``)."""

DEFAULT_MIN_AGE = datetime.timedelta(days=1)
"""How old a never-used key must be to be a finding when nothing else is said: a day
(``neon-keys audit --min-age``, ``min_age`` of a policy file)."""

_EPOCH = datetime.datetime.min.replace(tzinfo=datetime.UTC)
_MINUTE = datetime.timedelta(minutes=1)


class FindingCode(enum.StrEnum):
    """Why a key was flagged (the ``code`` of a finding in JSON).

    The order of the members is the order of a key's findings from ``judge``.
    """

    NEVER_USED = "never_used"
    """Never used, and old enough to have been."""
    UNUSED = "unused"
    """Not used for longer than allowed."""
    DUPLICATE_NAME = "duplicate_name"
    """Shares its name with a key of the same scope that is the one kept."""
    EXPIRED_LEASE = "expired_lease"
    """A lease past its expiry, still live."""
    TOO_OLD = "too_old"
    """Created longer ago than allowed."""
    OUTSIDE_NETWORKS = "outside_networks"
    """Last used from an address outside the allowed networks."""
    PERSONAL_KEY = "personal_key"
    """A personal key where personal keys are forbidden."""
    UNDECLARED = "undeclared"
    """In a scope a policy file manages, but declared by none of its entries."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One reason to look at a key: its ``code`` and a sentence with the figures."""

    code: FindingCode
    message: str


@dataclass(frozen=True, slots=True)
class Flagged:
    """A key and every finding ``judge`` made about it (at least one), in ``FindingCode`` order."""

    key: APIKey
    findings: tuple[Finding, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleSet:
    """Which findings ``judge`` looks for, and their bounds (durations on Neon's clock).

    ``never_used`` and ``expired_lease`` are always judged; the others only when asked.

    Attributes:
        min_age: a never-used key is a finding once it is this old (the bound counts), and
            a key is a ``duplicate_name`` only once it is this old.
        max_unused: a key last used longer ago than this is ``unused`` (None: not judged).
        max_age: a key created longer ago than this is ``too_old`` (None: not judged).
        allowed_networks: a key last used from an address outside all of these is
            ``outside_networks`` (None: any address; an empty tuple allows none).
        forbid_personal: every personal key is a ``personal_key`` finding.
        duplicate_names: judge ``duplicate_name`` (see ``duplicate_names``).
    """

    min_age: datetime.timedelta = DEFAULT_MIN_AGE
    max_unused: datetime.timedelta | None = None
    max_age: datetime.timedelta | None = None
    allowed_networks: tuple[IPNetwork, ...] | None = None
    forbid_personal: bool = False
    duplicate_names: bool = False


def judge(keys: Sequence[APIKey], now: datetime.datetime, rules: RuleSet) -> list[Flagged]:
    """The keys of one scope that break ``rules`` at ``now`` (Neon's time), in the order given.

    Revoked keys are skipped; retiring keys (``retiring``) are not findings of age or use
    (see the module docstring).

    Args:
        keys: one scope's keys, as listed (a personal scope, or an organization's keys with
            its project-scoped ones): duplicates and generations are found among them.
        now: Neon's time as of the listing.
        rules: which findings to look for.
    """
    replaced = retiring(keys, now)
    duplicates = (
        duplicate_names([key for key in keys if key.id not in replaced], now, rules.min_age)
        if rules.duplicate_names
        else {}
    )
    flagged = []
    for key in keys:
        if key.revoked:
            continue
        found: list[Finding | None] = []
        if key.id not in replaced:
            found.append(never_used(key, now, rules.min_age))
            if rules.max_unused is not None:
                found.append(unused(key, now, rules.max_unused))
            found.append(duplicates.get(key.id))
        found.append(expired_lease(key, now))
        if key.id not in replaced and rules.max_age is not None:
            found.append(too_old(key, now, rules.max_age))
        if rules.allowed_networks is not None:
            found.append(outside_networks(key, rules.allowed_networks))
        if rules.forbid_personal:
            found.append(personal_key(key))
        findings = tuple(finding for finding in found if finding is not None)
        if findings:
            flagged.append(Flagged(key, findings))
    return flagged


def retiring(keys: Sequence[APIKey], now: datetime.datetime) -> dict[int, RetireOutcome]:
    """The retiring keys among one scope's ``keys``, by id: those a newer key of their
    generation in service has replaced (``RetireOutcome.replacement`` is set).

    Whether a key is retiring does not depend on a grace period; the outcome's status and
    message are those of ``retire`` with its default grace.
    """
    plan = plan_retirement(keys, now=now, grace=DEFAULT_RETIRE_GRACE)
    return {item.key.id: item for item in plan if item.replacement is not None}


# -- one rule, one key -------------------------------------------------------------------------


def is_unused(key: APIKey, now: datetime.datetime, limit: datetime.timedelta) -> bool:
    """Whether ``key`` was not used within ``limit`` before ``now`` (never used counts)."""
    return key.last_used_at is None or key.last_used_at < now - limit


def never_used(key: APIKey, now: datetime.datetime, min_age: datetime.timedelta) -> Finding | None:
    """Never used, and at least ``min_age`` old (a key whose age Neon did not give is young)."""
    if key.last_used_at is not None or key.created_at is None:
        return None
    if now - key.created_at < min_age:
        return None
    return Finding(FindingCode.NEVER_USED, f"never used (created {days(now - key.created_at)} ago)")


def unused(key: APIKey, now: datetime.datetime, limit: datetime.timedelta) -> Finding | None:
    """Used, but last more than ``limit`` ago (a key never used is ``never_used`` instead)."""
    if key.last_used_at is None or not is_unused(key, now, limit):
        return None
    return Finding(FindingCode.UNUSED, f"last used {days(now - key.last_used_at)} ago")


def too_old(key: APIKey, now: datetime.datetime, limit: datetime.timedelta) -> Finding | None:
    """Created more than ``limit`` ago (a key whose age Neon did not give is not)."""
    if key.created_at is None or now - key.created_at <= limit:
        return None
    return Finding(
        FindingCode.TOO_OLD,
        f"created {days(now - key.created_at)} ago, longer than {format_duration(limit)}",
    )


def expired_lease(key: APIKey, now: datetime.datetime) -> Finding | None:
    """A lease whose expiry has passed (``neon-keys sweep`` revokes it); late to the minute."""
    expiry = key.expires_at
    if expiry is None or expiry > now:
        return None
    minutes = (now - expiry) // _MINUTE
    late = format_duration(minutes * _MINUTE) if minutes else "less than a minute"
    return Finding(FindingCode.EXPIRED_LEASE, f"lease expired {late} ago")


def outside_networks(key: APIKey, networks: Iterable[IPNetwork]) -> Finding | None:
    """Last used from an address that none of ``networks`` (``ipaddress`` networks) holds."""
    allowed = tuple(networks)
    outside = [address for address in key.last_used_from if not _within(address, allowed)]
    if not outside:
        return None
    shown = ", ".join(str(address) for address in outside)
    return Finding(
        FindingCode.OUTSIDE_NETWORKS, f"last used from {shown}, outside the allowed networks"
    )


def personal_key(key: APIKey) -> Finding | None:
    """A personal key (where they are forbidden)."""
    if key.kind is not KeyKind.PERSONAL:
        return None
    return Finding(FindingCode.PERSONAL_KEY, "a personal key, and personal keys are forbidden")


def duplicate_names(
    keys: Sequence[APIKey], now: datetime.datetime, min_age: datetime.timedelta
) -> dict[int, Finding]:
    """The keys to flag for sharing a name, by id.

    Of each group of live keys sharing kind, project and name, the key used most recently
    (created last if none was used) is kept; each other one at least ``min_age`` old is
    flagged. Young keys still count when the group is weighed. ``judge`` leaves retiring
    keys out of ``keys``: a rotation's old half is not a duplicate to clean up.
    """
    groups: dict[tuple[str, str | None, str], list[APIKey]] = defaultdict(list)
    for key in keys:
        if not key.revoked:
            project = key.project_id if isinstance(key, ProjectKey) else None
            groups[(key.kind.value, project, key.name)].append(key)
    found = {}
    for group in groups.values():
        if len(group) < 2:
            continue
        keeper = max(group, key=_liveliness)
        for key in group:
            settled = key.created_at is not None and now - key.created_at >= min_age
            if key is not keeper and settled:
                found[key.id] = Finding(
                    FindingCode.DUPLICATE_NAME,
                    f"{len(group)} keys share this name; key {keeper.id} is the one kept "
                    "(used or created last)",
                )
    return found


def days(delta: datetime.timedelta) -> str:
    """``3 days``, ``1 day``, ``less than a day``: an age in whole days."""
    count = max(delta.days, 0)
    if count == 0:
        return "less than a day"
    return "1 day" if count == 1 else f"{count} days"


def _liveliness(key: APIKey) -> tuple[datetime.datetime, datetime.datetime, int]:
    return (key.last_used_at or _EPOCH, key.created_at or _EPOCH, key.id)


def _within(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(network.version == address.version and address in network for network in networks)
