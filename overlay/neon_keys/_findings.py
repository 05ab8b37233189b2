"""Findings: what makes a key deserve attention, judged on Neon's clock.

One function per rule, each judging one key (or, for duplicate names, a scope's keys) at
a given time. ``neon-keys audit`` (without a file) and policy files (``neon_keys.policy``:
``plan`` and ``check``) are both built from them, so a rule reads the same everywhere.
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

__all__ = [
    "Finding",
    "FindingCode",
    "IPNetwork",
    "duplicate_names",
    "expired_lease",
    "never_used",
    "outside_networks",
    "personal_key",
    "too_old",
    "unused",
]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
"""A network a key may be used from (``outside_networks``)."""

_EPOCH = datetime.datetime.min.replace(tzinfo=datetime.UTC)
_MINUTE = datetime.timedelta(minutes=1)


class FindingCode(enum.StrEnum):
    """Why a key was flagged (the ``code`` of a finding in JSON)."""

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


def never_used(key: APIKey, now: datetime.datetime, min_age: datetime.timedelta) -> Finding | None:
    """Never used, and at least ``min_age`` old (a key whose age Neon did not give is young)."""
    if key.last_used_at is not None or key.created_at is None:
        return None
    if now - key.created_at < min_age:
        return None
    return Finding(FindingCode.NEVER_USED, f"never used (created {days(now - key.created_at)} ago)")


def unused(key: APIKey, now: datetime.datetime, limit: datetime.timedelta) -> Finding | None:
    """Used, but last more than ``limit`` ago."""
    if key.last_used_at is None or key.last_used_at >= now - limit:
        return None
    return Finding(FindingCode.UNUSED, f"last used {days(now - key.last_used_at)} ago")


def too_old(key: APIKey, now: datetime.datetime, limit: datetime.timedelta) -> Finding | None:
    """Created more than ``limit`` ago."""
    if key.created_at is None or now - key.created_at <= limit:
        return None
    return Finding(
        FindingCode.TOO_OLD,
        f"created {days(now - key.created_at)} ago, longer than {format_duration(limit)}",
    )


def expired_lease(key: APIKey, now: datetime.datetime) -> Finding | None:
    """A lease whose expiry has passed (``neon-keys sweep`` revokes it)."""
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
    flagged. Young keys still count when the group is weighed.
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
