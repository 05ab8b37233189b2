"""``neon-keys apply``: make the keys what the policy file says.

It computes the plan (refusing, before it asks, when Neon's answers do not give Neon's
time), shows it, asks (or takes ``--yes``), and carries it out through
``neon_keys.policy.apply``: the world is read again, and only the actions the plan showed
that the world still calls for are made; creates and rotations first, each secret
delivered and verified, then retires and revokes. Each action gets an outcome (a table or
JSON); the exit status is 1 if any did not succeed. A signal stops the apply between two
steps or during a request, never during a delivery, and the report says what exists.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from ._errors import CliError, ExitCode, Interruption
from ._options import global_options, pass_session
from ._output import emit, emit_json_report, emit_report, plural
from ._plan import compute_plan, file_option, load_policy
from ._policy_output import (
    applied_record,
    applied_summary,
    outcomes_table,
    plan_record,
    plan_summary,
    plan_text,
)
from ._revoking import progress_wanted, require_confirmation_possible
from ._session import Session
from ._signals import GUARD, Interrupted, signal_of
from ._streams import write_stderr

if TYPE_CHECKING:
    from neon_keys.policy import Applied, Outcome, Plan


@click.command("apply")
@file_option
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@global_options()
@pass_session
def apply_command(session: Session, /, *, path: str, yes: bool) -> None:
    """Make the keys what the policy file says: the changes `plan` shows, after asking.

    The world is read again before anything changes: an action no longer needed is not
    made, and one the plan did not show is reported, not made. Exits 1 if an action did
    not succeed.
    """
    require_confirmation_possible(yes, "apply")
    wanted = load_policy(path)
    shown = compute_plan(session, wanted, to_apply=True)
    if not shown.changes:
        if session.json:
            emit_json_report(
                {"plan": plan_record(shown), "outcomes": [], "unplanned": [], "ok": True}
            )
        else:
            emit(plan_text(shown))
            emit(plan_summary(shown), err=True)
        return
    if not session.json:
        emit(plan_text(shown))
        emit(plan_summary(shown), err=True)
    _confirm(shown, yes=yes)
    applied = _carry_out(session, shown)
    if session.json:
        failure = emit_json_report(applied_record(applied, shown))
    else:
        failure = emit_report("\n" + outcomes_table(applied))
        emit(applied_summary(applied), err=True)
    if failure is not None:
        raise failure
    if not applied.ok:
        raise CliError(
            f"{plural(len(applied.failed) + len(applied.unplanned), 'action')} not done",
            ExitCode.FAILURE,
        )


def _confirm(shown: Plan, *, yes: bool) -> None:
    if yes:
        return
    count = plural(len(shown.actions), "change")
    try:
        agreed = click.confirm(f"Make these {count}? Revoked keys cannot be restored.", err=True)
    except click.Abort:
        if GUARD.pending is not None:
            raise Interrupted(GUARD.pending) from None
        raise
    if not agreed:
        raise CliError("nothing was changed", ExitCode.FAILURE)


def _carry_out(session: Session, shown: Plan) -> Applied:
    from neon_keys import policy  # noqa: PLC0415  (on demand)

    client = session.client()
    with (
        GUARD.hold(),
        _bar(len(shown.actions) if progress_wanted(json=session.json) else 0) as advance,
    ):

        def settled(outcome: Outcome) -> None:
            advance()
            if outcome.new_key is not None and outcome.new_key.secret is not None:
                _last_resort(outcome)

        try:
            return policy.apply(client, shown, on_outcome=settled, checkpoint=GUARD.check)
        except KeyboardInterrupt as interrupt:
            done = policy.interrupted_apply(interrupt)
            report = "nothing was done"
            if done is not None:
                for outcome in done.outcomes:
                    new = outcome.new_key
                    if outcome.status.value == "interrupted" and new and new.secret is not None:
                        _last_resort(outcome)
                emit_report(outcomes_table(done), err=True)
                report = applied_summary(done)
            raise Interruption(signal_of(interrupt), report) from None


def _last_resort(outcome: Outcome) -> None:
    """After a failed delivery: say where the secret is, or, when no sink holds it, print
    it once on stderr."""
    key = outcome.new_key
    assert key is not None and key.secret is not None
    org = f" --org {outcome.action.org_id}" if outcome.action.org_id else ""
    if outcome.delivered:
        write_stderr(
            f'The secret of new key {key.id} "{key.name}" is in {", ".join(outcome.delivered)} '
            f"(not shown here: keep that copy, or revoke the key with: "
            f"neon-keys revoke {key.id}{org})"
        )
        return
    write_stderr(
        f'Neon shows a secret only once, so here is the one of new key {key.id} "{key.name}"; '
        f"store it now, or revoke the key with: neon-keys revoke {key.id}{org}"
    )
    write_stderr(key.secret.reveal())


@contextmanager
def _bar(length: int) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr while the actions run (a person at a terminal only)."""
    if length <= 1:
        yield lambda: None
        return
    with click.progressbar(length=length, label="Applying", file=sys.stderr) as bar:
        yield lambda: bar.update(1)
