"""``neon-keys sweep``: revoke the leases that have expired, by Neon's clock.

What a cron job or a CI step runs to clean up after ``exec`` runs that were killed. It lists
the keys of your personal keys, an organization's with ``--org``, or with ``--all-orgs``
every scope your key reaches (personal keys, then each organization), picks the leases
whose expiry plus ``--grace`` has passed on Neon's clock, and revokes them, one outcome
each.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from neon_keys._bulk import RevokeStatus
from neon_keys._exceptions import NeonError

from ._errors import CliError, ExitCode, describe, exit_code_for, one_line, partial
from ._options import global_options, pass_session
from ._output import NONE, emit, emit_json, fmt_time, iso_time, plural, render_table
from ._params import DURATION, ORG_ID
from ._session import Session

if TYPE_CHECKING:
    from neon_keys._bulk import RevokeOutcome


_RESULTS = {
    RevokeStatus.REVOKED: "revoked",
    RevokeStatus.ALREADY_GONE: "already gone",
    RevokeStatus.DRY_RUN: "would be revoked (dry run)",
}


@click.command(
    "sweep",
)
@click.option("--org", type=ORG_ID, metavar="ORG", help="Sweep this organization's keys.")
@click.option(
    "--all-orgs",
    is_flag=True,
    help="Sweep your personal keys and every organization you belong to.",
)
@click.option("--dry-run", is_flag=True, help="Say what would be revoked; revoke nothing.")
@click.option(
    "--grace",
    type=DURATION,
    default="5m",
    show_default=True,
    metavar="DURATION",
    help="Leave leases alone until this long after they expire (clock skew).",
)
@global_options()
@pass_session
def sweep_command(
    session: Session, /, *, org: str | None, all_orgs: bool, dry_run: bool, grace: Any
) -> None:
    """Revoke expired leases: your personal keys, or an organization's (--org, --all-orgs).

    A lease is a key made by `neon-keys exec`, `create --ttl` or the library's lease(),
    whose name carries its expiry. Expiry is judged by Neon's clock. Exits 1 if a revoke
    failed.
    """
    if org is not None and all_orgs:
        raise click.UsageError("--org and --all-orgs cannot be used together")
    scopes = session.every_scope() if all_orgs else [(org, session.scope(org))]

    swept: list[tuple[str | None, RevokeOutcome[Any]]] = []
    code = ExitCode.OK
    problems = []  # said once at the end, as one error (a JSON object with -o json)
    for org_id, scope in scopes:
        try:
            outcomes = scope.sweep(dry_run=dry_run, grace=grace)
        except NeonError as err:
            if not all_orgs:
                raise
            problems.append(f"organization {org_id}: {describe(err)}")
            code = max(code, exit_code_for(err))
            continue
        swept.extend((org_id, outcome) for outcome in outcomes)

    if session.json:
        emit_json([_record(org_id, outcome) for org_id, outcome in swept])
    elif swept:
        emit(_table(swept, with_org=all_orgs))
    outcomes = [outcome for _, outcome in swept]
    emit(
        _summary(
            outcomes, dry_run=dry_run, scopes=[org_id for org_id, _ in scopes] if all_orgs else None
        ),
        err=True,
    )
    failed = [o for o in outcomes if o.status is RevokeStatus.FAILED]
    if failed:
        refused = any(
            o.error is not None and exit_code_for(o.error) is ExitCode.AUTH for o in failed
        )
        code = max(code, ExitCode.AUTH if refused else ExitCode.FAILURE)
        problems.append(f"{plural(len(failed), 'expired lease')} not revoked")
    if code:
        raise CliError("; ".join(problems), code, partial(code))


def _record(org_id: str | None, outcome: RevokeOutcome[Any]) -> dict[str, Any]:
    """One outcome as JSON (docs/cli.md)."""
    key = outcome.key
    return {
        "org_id": org_id,
        "id": outcome.key_id,
        "name": key.name if key else None,
        "base_name": key.base_name if key else None,
        "expires_at": iso_time(key.expires_at) if key else None,
        "outcome": outcome.status.value,
        "ok": outcome.ok,
        "error": None if outcome.error is None or outcome.ok else one_line(outcome.error),
    }


def _table(swept: Sequence[tuple[str | None, RevokeOutcome[Any]]], *, with_org: bool) -> str:
    headers = [*(["org"] if with_org else []), "id", "name", "expired", "result"]
    rows = []
    for org_id, outcome in swept:
        key = outcome.key
        result = _RESULTS.get(outcome.status) or f"failed: {one_line(outcome.error)}"
        rows.append(
            [
                *([org_id or NONE] if with_org else []),
                str(outcome.key_id),
                key.name if key else NONE,
                fmt_time(key.expires_at if key else None),
                result,
            ]
        )
    return render_table(headers, rows)


def _summary(
    outcomes: Sequence[RevokeOutcome[Any]], *, dry_run: bool, scopes: Sequence[str | None] | None
) -> str:
    """One line for stderr; ``scopes`` (the org ids swept, None for personal keys) only
    with ``--all-orgs``: ``in your personal keys and 2 organizations``."""
    where = ""
    if scopes is not None:
        orgs = sum(org_id is not None for org_id in scopes)
        parts = [*(["your personal keys"] if None in scopes else []), plural(orgs, "organization")]
        where = " in " + " and ".join(parts)
    if not outcomes:
        return f"No expired leases{where}."
    if dry_run:
        return f"{plural(len(outcomes), 'expired lease')}{where} would be revoked (dry run)."
    revoked = sum(o.status is not RevokeStatus.FAILED for o in outcomes)
    return f"Swept {revoked} of {plural(len(outcomes), 'expired lease')}{where}."
