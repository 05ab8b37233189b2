"""``neon-keys retire``: revoke the keys staged rotations replaced, once nothing needs them.

The rule is the library's (``neon_keys._retire``): a key is retiring when a newer key of the
same name and scope exists; it is revoked once the grace period has passed since the key
that replaced it was created, or sooner once it has gone quiet. This module asks the library
for the decisions (a dry run), confirms, revokes the due keys with the CLI's revocation
machinery (every id reported, whatever signal comes) and prints, per key, why it was or was
not revoked.

``--all-orgs`` covers every key the caller may retire: with a personal API key, its user's
personal keys and then each organization the user belongs to; with an organization's key,
that organization. A scope that cannot be retired (a plain member may not list an
organization's keys) does not stop the others: the run ends with an error naming it.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

import click

from neon_keys._durations import format_duration
from neon_keys._exceptions import NeonError
from neon_keys._retire import DEFAULT_RETIRE_GRACE, RetireOutcome, RetireStatus
from neon_keys._scope import KeyScope

from ._errors import CliError, ExitCode, Interruption, describe, exit_code_for, partial
from ._options import global_options, pass_session
from ._output import NONE, emit_json_report, emit_report, iso_time, plural, render_table
from ._params import DURATION, ORG_ID
from ._revoking import (
    Result,
    Revocation,
    confirm,
    key_names,
    progress_wanted,
    require_confirmation_possible,
    revoke_all,
)
from ._session import Session
from ._signals import GUARD

_OUTCOMES = {
    Result.REVOKED: "revoked",
    Result.ALREADY_GONE: "already_gone",
    Result.FAILED: "failed",
    Result.INTERRUPTED: "interrupted",
    Result.NOT_ATTEMPTED: "not_attempted",
}


class Row:
    """One retiring key and what became of it. Strictly private."""

    def __init__(self, org_id: str | None, decision: RetireOutcome, dry_run: bool) -> None:
        self.org_id = org_id
        self.decision = decision
        if decision.status is RetireStatus.KEPT:
            self.outcome = "kept"
        else:
            self.outcome = "due" if dry_run else "not_attempted"
        self.error: str | None = None

    @property
    def failed(self) -> bool:
        return self.outcome in ("failed", "interrupted")

    def settle(self, result: Result, error: str | None) -> None:
        self.outcome = _OUTCOMES[result]
        self.error = error

    def cells(self, *, orgs: bool) -> list[str]:
        key = self.decision.key
        replaced = self.decision.replacement or self.decision.newer
        why = self.decision.message + (f" ({self.error})" if self.error else "")
        scope = [self.org_id or NONE] if orgs else []
        return [
            *scope,
            str(key.id),
            key.name,
            str(replaced.id),
            self.outcome.replace("_", " "),
            why,
        ]

    def record(self) -> dict[str, Any]:
        decision = self.decision
        replacement = decision.replacement
        return {
            "id": decision.key.id,
            "name": decision.key.name,
            "org_id": self.org_id,
            "replaced_by": replacement.id if replacement is not None else None,
            "newer": decision.newer.id,
            "reason": decision.reason.value,
            "message": decision.message,
            "grace_ends": iso_time(decision.grace_ends),
            "last_used_at": iso_time(decision.key.last_used_at),
            "outcome": self.outcome,
            "error": self.error,
        }


def _scopes(session: Session, org: str | None, all_orgs: bool) -> list[tuple[str | None, KeyScope]]:
    """The scopes to retire: ``--org``'s or the personal keys; with ``--all-orgs``, every
    scope the caller's key reaches."""
    return session.every_scope() if all_orgs else [(org, session.scope(org))]


def _scope_name(org_id: str | None) -> str:
    return f"organization {org_id}" if org_id else "your personal keys"


def _revoke(
    session: Session, org_id: str | None, keys: KeyScope, rows: Sequence[Row], *, yes: bool
) -> Revocation | None:
    due = [row for row in rows if row.outcome == "not_attempted"]
    if not due:
        return None
    ids = [row.decision.key.id for row in due]
    names = key_names([row.decision.key for row in due])
    scope = f"organization {org_id}'s keys" if org_id else "your personal keys"
    confirm(ids, names=names, scope=scope, calling=set(), yes=yes)
    revocation = revoke_all(keys, ids, names=names, progress=progress_wanted(json=session.json))
    by_id = {item.key_id: item for item in revocation.settled}
    for row in due:
        item = by_id[row.decision.key.id]
        ok = item.ok(missing_ok=True)
        row.settle(item.result, None if ok else revocation.record(item, missing_ok=True)["error"])
    return revocation


@click.command("retire")
@click.option("--org", type=ORG_ID, metavar="ORG", help="Retire this organization's keys.")
@click.option(
    "--all-orgs",
    is_flag=True,
    help="Retire your personal keys and those of every organization you belong to.",
)
@click.option(
    "--name",
    "glob",
    metavar="GLOB",
    help="Only keys whose name (a lease's base name) matches GLOB ('deploy', 'ci-*').",
)
@click.option(
    "--grace",
    type=DURATION,
    default=format_duration(DEFAULT_RETIRE_GRACE),
    show_default=True,
    metavar="DURATION",
    help="Revoke a replaced key once this long has passed since its replacement was created.",
)
@click.option(
    "--quiet",
    type=DURATION,
    metavar="DURATION",
    help="Revoke it sooner once it has not been used for this long since it was replaced.",
)
@click.option("--dry-run", is_flag=True, help="Say what would be revoked; revoke nothing.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@global_options()
@pass_session
def retire(
    session: Session,
    /,
    *,
    org: str | None,
    all_orgs: bool,
    glob: str | None,
    grace: datetime.timedelta,
    quiet: datetime.timedelta | None,
    dry_run: bool,
    yes: bool,
) -> None:
    """Revoke keys that newer keys of the same name replaced, once they are due.

    A replaced key is revoked once --grace has passed since the key that replaced it was
    created, or with --quiet once it has not been used for that long since. Times are read
    on Neon's clock. The key making this call is never revoked.
    """
    if org is not None and all_orgs:
        raise click.UsageError("choose --org ORG or --all-orgs, not both")
    if glob is not None and not glob:
        raise click.UsageError("--name needs a pattern")
    if not dry_run:
        require_confirmation_possible(yes, "retire")
    rows: list[Row] = []
    left_out: list[tuple[str | None, NeonError]] = []
    for org_id, keys in _scopes(session, org, all_orgs):
        try:
            plan = keys.retire(grace=grace, quiet=quiet, name=glob, dry_run=True)
        except NeonError as err:
            if not all_orgs:
                raise
            left_out.append((org_id, err))  # the other scopes are still retired
            continue
        scope_rows = [Row(org_id, decision, dry_run) for decision in plan]
        rows += scope_rows
        if dry_run:
            continue
        with GUARD.hold():
            revocation = _revoke(session, org_id, keys, scope_rows, yes=yes)
            if revocation is not None and revocation.signum is not None:
                _report(session, rows, all_orgs=all_orgs, grace=grace, quiet=quiet)
                raise Interruption(revocation.signum, revocation.interruption_report(org_id))
    output_failure = _report(session, rows, all_orgs=all_orgs, grace=grace, quiet=quiet)
    failures = [row for row in rows if row.failed]
    problems = [f"{plural(len(failures), 'key')} could not be revoked"] if failures else []
    problems += [
        f"{_scope_name(org_id)} could not be retired: {session.redact(describe(err))}"
        for org_id, err in left_out
    ]
    if problems:
        code = max([ExitCode.FAILURE, *(exit_code_for(err) for _, err in left_out)])
        raise CliError("; ".join(problems), code, partial(code))
    if output_failure is not None:
        raise output_failure
    if GUARD.pending is not None:
        raise Interruption(GUARD.pending, "retire finished; every key above is as reported")


def _report(
    session: Session,
    rows: Sequence[Row],
    *,
    all_orgs: bool,
    grace: datetime.timedelta,
    quiet: datetime.timedelta | None,
) -> CliError | None:
    if session.json:
        return emit_json_report(
            {
                "grace": format_duration(grace),
                "quiet": format_duration(quiet) if quiet is not None else None,
                "keys": [row.record() for row in rows],
            }
        )
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.outcome] = counts.get(row.outcome, 0) + 1
    summary = ", ".join(f"{count} {outcome.replace('_', ' ')}" for outcome, count in counts.items())
    if not rows:
        emit_report("No replaced keys found.", err=True)
        return None
    headers = [*(["org"] if all_orgs else []), "id", "name", "replaced by", "outcome", "why"]
    table = render_table(headers, [row.cells(orgs=all_orgs) for row in rows])
    failure = emit_report(table)
    emit_report(f"{plural(len(rows), 'replaced key')}: {summary or NONE}.", err=True)
    return failure
