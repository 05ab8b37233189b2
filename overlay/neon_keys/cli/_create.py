"""``neon-keys create``: a new key, whose secret goes to every place asked for."""

from __future__ import annotations

import datetime
from typing import Any, Unpack

import click

from neon_keys import interrupted_create
from neon_keys._models import APIKey
from neon_keys._scope import KeyScope
from neon_keys._sinks import Sink

from ._errors import CliError, Interruption, one_line
from ._interrupts import interrupted_create_report
from ._leasing import TTL, check_lease_base, create_lease_for, expiry_text, lease_interrupted_report
from ._options import global_options, pass_session
from ._output import emit_json_report, emit_report, key_label, key_record, revoke_command
from ._params import KEY_NAME, ORG_ID, PROJECT_ID
from ._session import Session
from ._signals import GUARD, signal_of
from ._sinks import (
    SinkOptions,
    build_sinks,
    check_sinks,
    deliver_all,
    done_texts,
    last_resort,
    sink_options,
    uses_stdout,
    whereabouts,
)


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
    """Create a key named NAME; its secret goes to every sink given, or to stdout.

    The secret alone goes to stdout (KEY=$(neon-keys create ci) works) and the key's
    details to stderr, unless --save, --dotenv, --github-env, --deliver-cmd or --deliver
    is given.
    """
    if project is not None and org is None:
        raise click.UsageError("--project needs --org: project-scoped keys are organization keys")
    if ttl is not None:
        check_lease_base(name)
    sinks = build_sinks(**sink_args)
    check_sinks(sinks)
    on_stderr = uses_stdout(sinks)
    keys = session.scope(org)
    # From here on a signal waits while this code runs: once the key exists, its secret is
    # delivered (or shown) and what exists is said before the command stops.
    with GUARD.hold():
        GUARD.check()  # a signal before the request: nothing was sent, stop here
        new, stopped_by = _create_key(session, keys, name, org=org, project=project, ttl=ttl)
        assert new.secret is not None
        session.remember_secret(new.secret.reveal())
        label = key_label(new)
        results = deliver_all(sinks, new.secret)
        delivered = [sink for sink, error in results if error is None]
        held = [sink.target for sink in delivered]
        failed = [(sink, error) for sink, error in results if error is not None]
        if failed:
            last_resort(
                new.secret.reveal(),
                label,
                failed,
                revoke_command([new.id], org),
                delivered=delivered,
            )
        output_failure = None
        if not failed:
            fate = f"its secret {done_texts(sinks)}"
            if session.json:
                record: dict[str, Any] = key_record(new)
                record["secret_delivered_to"] = ", ".join(sink.target for sink in sinks)
                record["deliveries"] = [delivery_record(sink, None) for sink in sinks]
                output_failure = emit_json_report(record, err=on_stderr)
            else:
                output_failure = emit_report(
                    f"Created {label}{expiry_text(new)}; secret {done_texts(sinks)}.",
                    err=on_stderr,
                )
        elif delivered:
            fate = f"its secret could not be delivered everywhere; {whereabouts(held)}"
        else:
            fate = "its secret could not be delivered and was shown above, once"
        stopped_by = GUARD.pending if GUARD.pending is not None else stopped_by
        if stopped_by is not None:
            raise Interruption(stopped_by, f"{label} was created; {fate}")
    if failed:
        where = "; ".join(f"{sink.target} ({one_line(error)})" for sink, error in failed)
        raise CliError(
            f"{label} was created but its secret could not be delivered to {where}; "
            f"{whereabouts(held)}"
        )
    if output_failure is not None:
        raise output_failure


def _create_key(
    session: Session,
    keys: KeyScope,
    name: str,
    *,
    org: str | None,
    project: str | None,
    ttl: datetime.timedelta | None,
) -> tuple[APIKey, int | None]:
    """The new key (a lease with ``ttl``), and the signal that came while it was made.

    A signal during the request ends the command with a report of the key that may exist,
    unless Neon's answer was read before it came: that key is returned, to be delivered
    like any other before the command stops.
    """
    try:
        if ttl is None:
            return keys.create(name, project_id=project), None
        return create_lease_for(session, keys, name, ttl=ttl, project_id=project), None
    except KeyboardInterrupt as interrupt:
        found = interrupted_create(interrupt)
        if found is None or found.created is None:
            if ttl is None:
                report = interrupted_create_report(interrupt, name=name, org_id=org)
            else:
                report = lease_interrupted_report(interrupt, base_name=name, org_id=org)
            raise Interruption(signal_of(interrupt), report) from None
        return found.created, signal_of(interrupt)


def delivery_record(
    sink: Sink, error: BaseException | None, status: str | None = None
) -> dict[str, Any]:
    """One delivery as JSON: ``target``, ``status`` (delivered, failed, ...), ``error``."""
    return {
        "target": sink.target,
        "status": status or ("delivered" if error is None else "failed"),
        "error": one_line(error) if error is not None else None,
    }
