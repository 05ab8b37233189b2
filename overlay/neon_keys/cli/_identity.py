"""``neon-keys whoami`` and ``neon-keys orgs``: who is calling, and with access to what."""

from __future__ import annotations

import click

from ._options import global_options, pass_session
from ._output import (
    auth_pairs,
    auth_record,
    emit,
    emit_json,
    org_record,
    render_pairs,
    render_table,
)
from ._session import Session


@click.command()
@global_options()
@pass_session
def whoami(session: Session) -> None:
    """Show which credential is calling: its kind and account."""
    record = auth_record(session.client().whoami())
    if session.json:
        emit_json(record)
    else:
        emit(render_pairs(auth_pairs(record)))


@click.command()
@global_options()
@pass_session
def orgs(session: Session) -> None:
    """List the organizations you belong to, with their ids."""
    organizations = session.client().organizations()
    if session.json:
        emit_json([org_record(org) for org in organizations])
    elif organizations:
        rows = [[org.id, org.name, org.handle, org.plan] for org in organizations]
        emit(render_table(("id", "name", "handle", "plan"), rows))
    else:
        emit("You belong to no organization.", err=True)
