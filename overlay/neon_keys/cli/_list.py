"""``neon-keys list``: your personal keys, or an organization's."""

from __future__ import annotations

import fnmatch

import click

from . import _audit
from ._options import global_options, pass_session
from ._output import emit, emit_json, key_record, keys_table
from ._params import ORG_ID
from ._session import Session


@click.command("list")
@click.option(
    "--org", type=ORG_ID, metavar="ORG", help="List this organization's keys instead of yours."
)
@click.option(
    "--kind",
    type=click.Choice(["personal", "org", "project"]),
    help="Only keys of this kind (org and project need --org).",
)
@click.option(
    "--unused-days",
    type=click.IntRange(min=1),
    metavar="N",
    help="Only keys not used in the last N days (never used included).",
)
@click.option("--name", "name_glob", metavar="GLOB", help="Only keys whose name matches GLOB.")
@global_options()
@pass_session
def list_keys(
    session: Session,
    /,
    *,
    org: str | None,
    kind: str | None,
    unused_days: int | None,
    name_glob: str | None,
) -> None:
    """List your personal keys, or an organization's keys with --org."""
    if kind in ("org", "project") and org is None:
        raise click.UsageError(f"--kind {kind} lists organization keys: add --org ORG")
    if kind == "personal" and org is not None:
        raise click.UsageError("--kind personal does not apply with --org")
    keys = session.scope(org).list()
    now = session.clock()
    keys = [
        key
        for key in keys
        if (kind is None or key.kind.value == kind)
        and (name_glob is None or fnmatch.fnmatchcase(key.name, name_glob))
        and (unused_days is None or _audit.is_unused(key, unused_days, now))
    ]
    if session.json:
        emit_json([key_record(key) for key in keys])
    elif keys:
        emit(keys_table(keys, org=org is not None))
    else:
        emit("No keys found.", err=True)
