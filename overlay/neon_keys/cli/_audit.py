"""``neon-keys audit``: which keys deserve attention, and why; optionally revoke them.

The rules are the library's (``neon_keys._findings``, which ``neon-keys check`` judges a
policy file's rules with): the options become a ``RuleSet`` and the findings are shown as
they come. ``audit`` asks for

- ``never_used``: never used, and at least ``--min-age`` old;
- ``unused``: last used more than ``--unused-days`` days ago;
- ``duplicate_name``: shares its name with another key of the same scope (same kind and
  project), is at least ``--min-age`` old, and is not the one of them used most recently,
  or created last if none was used: of a group of duplicates one key, the likeliest to be
  the live one, is never flagged for it;
- ``expired_lease``: a lease past its expiry, still live: its holder never revoked it
  (``neon-keys sweep`` does).

Keys that a newer key in service replaced are *retiring* (``neon-keys retire`` revokes them
when due): shown as such, and no finding of age or use. The rules' details, young keys
included, are those of ``neon_keys._findings``.

Ages are judged on Neon's clock (the ``Date`` of the listing's answer); ``--revoke`` first
checks that clock against Neon's own records (``neon_keys._clock_guard``), as ``retire``
does, and revokes nothing if it runs implausibly far ahead of them.
"""

from __future__ import annotations

import datetime
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from neon_keys import _findings
from neon_keys._clock_guard import check_neon_now
from neon_keys._durations import format_duration
from neon_keys._findings import DEFAULT_MIN_AGE, Finding, FindingCode, Flagged, RuleSet

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
    from neon_keys._retire import RetireOutcome

_HINTS = {FindingCode.EXPIRED_LEASE: "neon-keys sweep revokes it"}
"""What audit adds to a finding's message: the command that deals with it."""


def rule_set(*, unused_days: int, min_age: datetime.timedelta) -> RuleSet:
    """The rules ``audit`` judges with, from its options."""
    return RuleSet(
        min_age=min_age,
        max_unused=datetime.timedelta(days=unused_days),
        duplicate_names=True,
    )


def message(finding: Finding) -> str:
    """A finding in audit's words: the library's sentence, and what deals with it."""
    hint = _HINTS.get(finding.code)
    return f"{finding.message}; {hint}" if hint else finding.message


def retiring_record(item: RetireOutcome) -> dict[str, Any]:
    """A retiring key as JSON: ``id``, ``name``, ``replaced_by``, ``replaced_at``."""
    assert item.replacement is not None
    return {
        "id": item.key.id,
        "name": item.key.name,
        "replaced_by": item.replacement.id,
        "replaced_at": iso_time(item.replacement.created_at),
    }


# -- output ----------------------------------------------------------------------------------


def flagged_record(item: Flagged) -> dict[str, Any]:
    """A flagged key as JSON: the key's fields plus ``findings`` (``code``, ``message``)."""
    record = key_record(item.key)
    record["findings"] = [{"code": f.code.value, "message": message(f)} for f in item.findings]
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
            "; ".join(message(f) for f in item.findings),
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
    default=format_duration(DEFAULT_MIN_AGE),
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
    flagged = _findings.judge(listing, now, rule_set(unused_days=unused_days, min_age=min_age))
    replaced = list(_findings.retiring(listing, now).values())
    if not session.json:
        if flagged:
            emit(flagged_table(flagged, org=org is not None, color=_color.enabled(sys.stdout)))
        summary = f"{len(flagged)} of {plural(len(listing), 'key')} flagged."
        color = _color.WARNING if flagged else None
        emit(_color.paint(summary, color, on=_color.enabled(sys.stderr)), err=True)
        for item in replaced:
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
            retiring=replaced,
        )

    revocation = None
    if do_revoke and flagged:
        ids = [item.key.id for item in flagged]
        names = key_names(listing)
        calling = find_calling_keys(keys, listing, ids, whoami=session.client().whoami)
        # Ages were judged by Neon's Date: one running implausibly far ahead of what the
        # listing records (a proxy's clock) would make every key look unused.
        check_neon_now(now, listing, calling=calling, acting="audit --revoke")
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
