"""``neon-keys create``: a new key, whose secret goes to exactly one place."""

from __future__ import annotations

import datetime
from typing import Unpack

import click

from neon_keys import interrupted_create

from ._errors import CliError, Interruption, one_line
from ._interrupts import interrupted_create_report
from ._leasing import TTL, check_lease_base, create_lease_for, expiry_text, lease_interrupted_report
from ._options import global_options, pass_session
from ._output import emit_json_report, emit_report, key_label, key_record, revoke_command
from ._params import KEY_NAME, ORG_ID, PROJECT_ID
from ._session import Session
from ._signals import GUARD, signal_of
from ._sinks import SinkOptions, build_sink, deliver_or_show, sink_options


@click.command()
@click.argument("name", type=KEY_NAME)
@click.option("--org", type=ORG_ID, metavar="ORG", help="Create an organization key.")
@click.option(
    "--project",
    type=PROJECT_ID,
    metavar="PROJECT",
    help="Scope the organization key to this project (needs --org).",
)
@click.option(
    "--ttl",
    type=TTL,
    metavar="DURATION",
    help="Make a lease: NAME (at most 30 characters) plus its expiry, this long from now "
    "(90s, 15m, 1h30m, 7d), for `neon-keys sweep` to revoke.",
)
@sink_options
@global_options()
@pass_session
def create(
    session: Session,
    /,
    *,
    name: str,
    org: str | None,
    project: str | None,
    ttl: datetime.timedelta | None = None,
    **sink_args: Unpack[SinkOptions],
) -> None:
    """Create a key named NAME; its secret goes to exactly one place.

    The secret alone goes to stdout (KEY=$(neon-keys create ci) works) and the key's
    details to stderr, unless --save, --dotenv or --github-env is given.
    """
    if project is not None and org is None:
        raise click.UsageError("--project needs --org: project-scoped keys are organization keys")
    if ttl is not None:
        check_lease_base(name)
    sink = build_sink(**sink_args)
    keys = session.scope(org)
    # From here on a signal waits while this code runs: once the key exists, its secret is
    # delivered (or shown) and what exists is said before the command stops.
    with GUARD.hold():
        GUARD.check()  # a signal before the request: nothing was sent, stop here
        stopped_by: int | None = None
        try:
            if ttl is None:
                new = keys.create(name, project_id=project)
            else:
                new = create_lease_for(session, keys, name, ttl=ttl, project_id=project)
        except KeyboardInterrupt as interrupt:
            found = interrupted_create(interrupt)
            if found is None or found.created is None:
                if ttl is None:
                    report = interrupted_create_report(interrupt, name=name, org_id=org)
                else:
                    report = lease_interrupted_report(interrupt, base_name=name, org_id=org)
                raise Interruption(signal_of(interrupt), report) from None
            # Neon's answer was read before the signal came: deliver it like any other.
            new, stopped_by = found.created, signal_of(interrupt)
        assert new.secret is not None
        secret = new.secret.reveal()
        session.remember_secret(secret)
        label = key_label(new)
        failure = deliver_or_show(sink, secret, key=label, revoke=revoke_command([new.id], org))
        output_failure = None
        if failure is None:
            fate = f"its secret {sink.done}"
            if session.json:
                record = key_record(new)
                record["secret_delivered_to"] = sink.target
                output_failure = emit_json_report(record, err=sink.uses_stdout)
            else:
                output_failure = emit_report(
                    f"Created {label}{expiry_text(new)}; secret {sink.done}.",
                    err=sink.uses_stdout,
                )
        else:
            fate = "its secret could not be delivered and was shown above, once"
        stopped_by = GUARD.pending if GUARD.pending is not None else stopped_by
        if stopped_by is not None:
            raise Interruption(stopped_by, f"{label} was created; {fate}")
    if failure is not None:
        raise CliError(
            f"{label} was created but its secret could not be delivered to {sink.target} "
            f"({one_line(failure)}); it was shown above, once"
        )
    if output_failure is not None:
        raise output_failure
