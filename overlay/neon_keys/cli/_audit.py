"""``neon-keys audit``: which keys deserve attention, and why; optionally revoke them.

A key is flagged when it

- was never used (``never_used``);
- was last used more than N days ago (``unused``);
- shares its name with another key of the same scope (same kind and project) and is not the
  one of them used most recently, or created last if none was used (``duplicate_name``): of
  a group of duplicates one key, the likeliest to be the live one, is never flagged for it;
- is a lease past its expiry, still live (``expired_lease``): its holder never revoked it
  (``neon-keys sweep`` does).

A key that a newer key of the same name and scope has replaced (the newer one is in
service: used) is *retiring*: ``neon-keys retire`` revokes it when it is due. It is shown as
such, never flagged: not as a duplicate to clean up, nor as unused.

A key younger than ``--min-age`` (default a day) is flagged for neither of the first and
third: a pipeline may have minted it a minute ago and not used it yet, or a rotation may be
putting it in place of an older one. A key whose creation time Neon did not give counts as
young. Young keys still count when the duplicates of a name are weighed.
"""

from __future__ import annotations

import datetime
import enum
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from neon_keys._durations import format_duration
from neon_keys._retire import DEFAULT_RETIRE_GRACE, RetireOutcome, plan_retirement

from . import _color
from ._caller import find_calling_keys, refuse_self
from ._errors import CliError, ErrorKind, ExitCode, Interruption, partial
from ._options import global_options, pass_session
from ._output import (
    NEVER,
    NONE,
    emit,
    emit_json,
    emit_json_report,
    emit_report,
    fmt_time,
    iso_time,
    key_record,
    plural,
    project_of,
    render_table,
)
from ._params import DURATION, ORG_ID
from ._revoking import (
    Revocation,
    confirm,
    key_names,
    progress_wanted,
    require_confirmation_possible,
    revoke_all,
)
from ._session import Session
from ._signals import GUARD

if TYPE_CHECKING:
    from neon_keys._models import APIKey

_EPOCH = datetime.datetime.min.replace(tzinfo=datetime.UTC)
_MINUTE = datetime.timedelta(minutes=1)

DEFAULT_MIN_AGE = datetime.timedelta(days=1)
"""Keys younger than this are not findings (``--min-age``)."""


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


def audit(
    keys: Sequence[APIKey],
    *,
    unused_days: int,
    now: datetime.datetime,
    min_age: datetime.timedelta = DEFAULT_MIN_AGE,
) -> list[Flagged]:
    """The flagged keys among ``keys``, in the order given (see the module docstring)."""
    retiring = retiring_keys(keys, now)
    duplicates = _duplicates([key for key in keys if key.id not in retiring])
    flagged = []
    for key in keys:
        if key.revoked or key.id in retiring:
            continue
        findings = []
        # Unused and duplicate keys are judged only once they had time to be used.
        settled = key.created_at is not None and now - key.created_at >= min_age
        if key.last_used_at is None:
            if settled and key.created_at is not None:
                age = _days(now - key.created_at)
                findings.append(Finding(Rule.NEVER_USED, f"never used (created {age} ago)"))
        elif is_unused(key, unused_days, now):
            findings.append(Finding(Rule.UNUSED, f"last used {_days(now - key.last_used_at)} ago"))
        if settled and key.id in duplicates:
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


def retiring_keys(keys: Sequence[APIKey], now: datetime.datetime) -> dict[int, RetireOutcome]:
    """The retiring keys among ``keys`` (replaced by a newer key in service), by id."""
    plan = plan_retirement(keys, now=now, grace=DEFAULT_RETIRE_GRACE)
    return {item.key.id: item for item in plan if item.replacement is not None}


def retiring_record(item: RetireOutcome) -> dict[str, Any]:
    """A retiring key as JSON: ``id``, ``name``, ``replaced_by``, ``replaced_at``."""
    assert item.replacement is not None
    return {
        "id": item.key.id,
        "name": item.key.name,
        "replaced_by": item.replacement.id,
        "replaced_at": iso_time(item.replacement.created_at),
    }


def _duplicates(keys: Sequence[APIKey]) -> dict[int, str]:
    """The duplicate-name message of every key to flag, by key id."""
    groups: dict[tuple[str, str | None, str], list[APIKey]] = defaultdict(list)
    for key in keys:
        if not key.revoked:
            groups[(key.kind.value, project_of(key), key.name)].append(key)
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
    revocation: Revocation | None,
    *,
    org_id: str | None,
    unused_days: int,
    min_age: datetime.timedelta,
    checked: int,
    retiring: Sequence[RetireOutcome] = (),
) -> dict[str, Any]:
    """The audit as JSON; each finding has the outcome of its revocation (or None)."""
    outcomes = {item.key_id: item for item in revocation.settled} if revocation else {}
    findings = []
    for item in flagged:
        record = flagged_record(item)
        outcome = outcomes.get(item.key.id)
        record["revocation"] = (
            revocation.record(outcome, missing_ok=True) if revocation and outcome else None
        )
        findings.append(record)
    return {
        "org_id": org_id,
        "unused_days": unused_days,
        "min_age": format_duration(min_age),
        "checked": checked,
        "findings": findings,
        "retiring": [retiring_record(item) for item in retiring],
    }


def still_active(flagged: Sequence[Flagged], revocation: Revocation | None) -> list[Flagged]:
    """The flagged keys that were not revoked."""
    gone = {
        item.key_id
        for item in (revocation.settled if revocation else ())
        if item.ok(missing_ok=True)
    }
    return [item for item in flagged if item.key.id not in gone]


def flagged_table(items: Sequence[Flagged], *, org: bool, color: bool = False) -> str:
    """A table of flagged keys and the reasons; with ``color``, the reasons stand out."""
    headers = ["id", "name", "kind", *(["project"] if org else []), "last used", "findings"]
    rows = [
        [
            str(item.key.id),
            item.key.name,
            item.key.kind.value,
            *([project_of(item.key) or NONE] if org else []),
            fmt_time(item.key.last_used_at, NEVER),
            "; ".join(f.message for f in item.findings),
        ]
        for item in items
    ]
    colors = [[None] * (len(headers) - 1) + [_color.WARNING] for _ in items]
    return render_table(headers, rows, colors if color else None)


# -- the command -----------------------------------------------------------------------------


@click.command("audit")
@click.option(
    "--org", type=ORG_ID, metavar="ORG", help="Audit this organization's keys instead of yours."
)
@click.option(
    "--unused-days",
    type=click.IntRange(min=1),
    default=90,
    show_default=True,
    metavar="N",
    help="Flag keys last used more than N days ago.",
)
@click.option(
    "--min-age",
    type=DURATION,
    default="1d",
    show_default=True,
    metavar="DURATION",
    help="Never flag keys younger than this (90s, 12h, 7d): a new key may not be used yet.",
)
@click.option("--revoke", "do_revoke", is_flag=True, help="Revoke the flagged keys (asks first).")
@click.option("--yes", "-y", is_flag=True, help="With --revoke: do not ask for confirmation.")
@click.option(
    "--including-self",
    is_flag=True,
    help="With --revoke: allow revoking the key this command calls with.",
)
@click.option(
    "--fail-on-findings",
    is_flag=True,
    help="Exit 1 if a flagged key is still active (for CI).",
)
@global_options()
@pass_session
def audit_keys(
    session: Session,
    /,
    *,
    org: str | None,
    unused_days: int,
    min_age: datetime.timedelta,
    do_revoke: bool,
    yes: bool,
    including_self: bool,
    fail_on_findings: bool,
) -> None:
    """Flag never-used, stale and duplicate keys; optionally revoke them.

    Keys younger than --min-age are never flagged.
    """
    for flag, given in (("--yes", yes), ("--including-self", including_self)):
        if given and not do_revoke:
            raise click.UsageError(f"{flag} only applies with --revoke")
    if do_revoke:
        require_confirmation_possible(yes, "audit --revoke")
    keys = session.scope(org)
    listing = keys.list()
    now = session.now()  # after the listing: Neon's clock, from its answer
    flagged = audit(listing, unused_days=unused_days, now=now, min_age=min_age)
    retiring = list(retiring_keys(listing, now).values())
    if not session.json:
        if flagged:
            emit(flagged_table(flagged, org=org is not None, color=_color.enabled(sys.stdout)))
        summary = f"{len(flagged)} of {plural(len(listing), 'key')} flagged."
        color = _color.WARNING if flagged else None
        emit(_color.paint(summary, color, on=_color.enabled(sys.stderr)), err=True)
        for item in retiring:
            assert item.replacement is not None
            emit(
                f'Retiring: key {item.key.id} "{item.key.name}", replaced by key '
                f"{item.replacement.id} on {fmt_time(item.replacement.created_at)} "
                "(neon-keys retire revokes it when it is due).",
                err=True,
            )

    def report(revocation: Revocation) -> CliError | None:
        if session.json:
            return emit_json_report(record(revocation))
        color = _color.enabled(sys.stdout)
        return emit_report(revocation.table(missing_ok=True, color=color))

    def record(revocation: Revocation | None) -> dict[str, Any]:
        return report_record(
            flagged,
            revocation,
            org_id=org,
            unused_days=unused_days,
            min_age=min_age,
            checked=len(listing),
            retiring=retiring,
        )

    revocation = None
    if do_revoke and flagged:
        ids = [item.key.id for item in flagged]
        names = key_names(listing)
        calling = find_calling_keys(keys, listing, ids, whoami=session.client().whoami)
        if not including_self:
            refuse_self(ids, calling, names)
        scope = f"organization {org}'s keys" if org else "your personal keys"
        confirm(ids, names=names, scope=scope, calling=calling, yes=yes)
        with GUARD.hold():
            progress = progress_wanted(json=session.json)
            revocation = revoke_all(keys, ids, names=names, progress=progress)
            output_failure = report(revocation)
            signum = revocation.signum if revocation.signum is not None else GUARD.pending
            if signum is not None:
                raise Interruption(signum, revocation.interruption_report(org))
        if output_failure is not None:
            raise output_failure
    elif session.json:
        emit_json(record(None))
    if revocation is not None and (code := revocation.exit_code(missing_ok=True)):
        raise CliError("some flagged keys could not be revoked", code, partial(code))
    if fail_on_findings and (active := still_active(flagged, revocation)):
        raise CliError(
            f"{plural(len(active), 'flagged key')} still active",
            ExitCode.FAILURE,
            ErrorKind.FINDINGS,
        )
