"""``neon-keys``: the group and its commands, one module per command (or pair of commands).

The group and the global options live in ``_root`` and ``_options``; each command in its own
module; this module only puts them together.
"""

from __future__ import annotations

import click

from ._audit import audit_keys
from ._create import create
from ._identity import orgs, whoami
from ._list import list_keys
from ._options import global_options, pass_session
from ._revoke import revoke
from ._root import cli
from ._rotate import rotate_key
from ._session import Session

cli.add_command(list_keys)
cli.add_command(create)
cli.add_command(revoke)
cli.add_command(rotate_key)
cli.add_command(audit_keys)
cli.add_command(whoami)
cli.add_command(orgs)


# -- sandbox ---------------------------------------------------------------------------------


@cli.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    help="Port on 127.0.0.1 (default: any free port).",
)
@global_options(api=False)
@pass_session
def sandbox(session: Session, /, *, port: int) -> None:
    """Serve the Neon emulator locally and print its settings.

    Prints NEON_API_HOST, NEON_API_KEY (a personal key of an organization admin),
    NEON_ORG_ID and NEON_PROJECT_ID (dotenv lines, or one JSON object with --output json),
    then serves until interrupted (Ctrl-C).
    """
    from ._sandbox import serve  # noqa: PLC0415  (needs the [sandbox] extra)

    serve(port, as_json=session.json)


__all__ = ["cli"]
