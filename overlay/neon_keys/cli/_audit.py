"""The audit rules: which keys deserve attention, and why.

A key is flagged when it

- was never used (``never_used``);
- was last used more than N days ago (``unused``);
- shares its name with another key of the same scope (same kind and project) and is not the
  one of them used most recently, or created last if none was used (``duplicate_name``): of
  a group of duplicates one key, the likeliest to be the live one, is never flagged for it;
- is a lease past its expiry, still live (``expired_lease``): its holder never revoked it.
"""

from __future__ import annotations

import datetime
import enum
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from neon_keys._durations import format_duration

from ._output import NEVER, NONE, fmt_time, key_record, render_table
from ._revoking import outcome_record, succeeded

if TYPE_CHECKING:
    from neon_keys._bulk import RevokeOutcome
    from neon_keys._models import APIKey

_EPOCH = datetime.datetime.min.replace(tzinfo=datetime.UTC)
_MINUTE = datetime.timedelta(minutes=1)


class Rule(enum.StrEnum):
    """Why a key was flagged (the ``code`` of a finding in JSON)."""

    NEVER_USED = "never_used"
    UNUSED = "unused"
    DUPLICATE_NAME = "duplicate_name"
    EXPIRED_LEASE = "expired_lease"


@dataclass(frozen=True, slots=True)
class Finding:
    """One reason to look at a key."""

    rule: Rule
    message: str


@dataclass(frozen=True, slots=True)
class Flagged:
    """A key with the reasons it was flagged."""

    key: APIKey
    findings: tuple[Finding, ...]


def is_unused(key: APIKey, days: int, now: datetime.datetime) -> bool:
    """Whether ``key`` has not been used in the last ``days`` days (never used counts)."""
    return key.last_used_at is None or key.last_used_at < now - datetime.timedelta(days=days)


def audit(keys: Sequence[APIKey], *, unused_days: int, now: datetime.datetime) -> list[Flagged]:
    """The flagged keys among ``keys``, in the order given."""
    duplicates = _duplicates(keys)
    flagged = []
    for key in keys:
        if key.revoked:
            continue
        findings = []
        if key.last_used_at is None:
            age = f" (created {_days(now - key.created_at)} ago)" if key.created_at else ""
            findings.append(Finding(Rule.NEVER_USED, f"never used{age}"))
        elif is_unused(key, unused_days, now):
            findings.append(Finding(Rule.UNUSED, f"last used {_days(now - key.last_used_at)} ago"))
        if key.id in duplicates:
            findings.append(Finding(Rule.DUPLICATE_NAME, duplicates[key.id]))
        if (expiry := key.expires_at) is not None and expiry <= now:
            minutes = (now - expiry) // _MINUTE
            late = format_duration(minutes * _MINUTE) if minutes else "less than a minute"
            findings.append(
                Finding(Rule.EXPIRED_LEASE, f"lease expired {late} ago; neon-keys sweep revokes it")
            )
        if findings:
            flagged.append(Flagged(key, tuple(findings)))
    return flagged


def _duplicates(keys: Sequence[APIKey]) -> dict[int, str]:
    """The duplicate-name message of every key to flag, by key id."""
    groups: dict[tuple[str, str | None, str], list[APIKey]] = defaultdict(list)
    for key in keys:
        if not key.revoked:
            groups[(key.kind.value, getattr(key, "project_id", None), key.name)].append(key)
    messages = {}
    for group in groups.values():
        if len(group) < 2:
            continue
        keeper = max(group, key=_liveliness)
        for key in group:
            if key is not keeper:
                messages[key.id] = (
                    f"{len(group)} keys share this name; key {keeper.id} is the one kept "
                    "(used or created last)"
                )
    return messages


def _liveliness(key: APIKey) -> tuple[datetime.datetime, datetime.datetime, int]:
    return (key.last_used_at or _EPOCH, key.created_at or _EPOCH, key.id)


def _days(delta: datetime.timedelta) -> str:
    days = max(delta.days, 0)
    if days == 0:
        return "less than a day"
    return "1 day" if days == 1 else f"{days} days"


# -- output ----------------------------------------------------------------------------------


def flagged_record(item: Flagged) -> dict[str, Any]:
    """A flagged key as JSON: the key's fields plus ``findings`` (``code``, ``message``)."""
    record = key_record(item.key)
    record["findings"] = [{"code": f.rule.value, "message": f.message} for f in item.findings]
    return record


def report_record(
    flagged: Sequence[Flagged],
    outcomes: dict[int, RevokeOutcome[Any]],
    *,
    org_id: str | None,
    unused_days: int,
    checked: int,
) -> dict[str, Any]:
    """The audit as JSON; each finding has the outcome of its revocation (or None)."""
    findings = []
    for item in flagged:
        record = flagged_record(item)
        outcome = outcomes.get(item.key.id)
        record["revocation"] = outcome_record(outcome, missing_ok=True) if outcome else None
        findings.append(record)
    return {
        "org_id": org_id,
        "unused_days": unused_days,
        "checked": checked,
        "findings": findings,
    }


def still_active(
    flagged: Sequence[Flagged], outcomes: dict[int, RevokeOutcome[Any]]
) -> list[Flagged]:
    """The flagged keys that were not revoked (``outcomes`` by key id)."""
    return [
        item
        for item in flagged
        if (outcome := outcomes.get(item.key.id)) is None or not succeeded(outcome, missing_ok=True)
    ]


def flagged_table(items: Sequence[Flagged], *, org: bool) -> str:
    """A table of flagged keys and the reasons."""
    headers = ["id", "name", "kind", *(["project"] if org else []), "last used", "findings"]
    rows = [
        [
            str(item.key.id),
            item.key.name,
            item.key.kind.value,
            *([getattr(item.key, "project_id", None) or NONE] if org else []),
            fmt_time(item.key.last_used_at, NEVER),
            "; ".join(f.message for f in item.findings),
        ]
        for item in items
    ]
    return render_table(headers, rows)
