"""``neon-keys``: the group and its commands, one module per command (or pair of commands).

The group and the global options live in ``_root`` and ``_options``; each command in its own
module; this module only puts them together.
"""

from __future__ import annotations

from ._apply import apply_command
from ._audit import audit_keys
from ._completion import completion
from ._create import create
from ._examples import add_examples
from ._exec import exec_command
from ._identity import orgs, whoami
from ._list import list_keys
from ._plan import check_command, plan_command
from ._retire import retire
from ._revoke import revoke
from ._root import cli
from ._rotate import rotate_key
from ._sandbox import sandbox
from ._sweep import sweep_command

cli.add_command(list_keys)
cli.add_command(create)
cli.add_command(revoke)
cli.add_command(rotate_key)
cli.add_command(retire)
cli.add_command(audit_keys)
cli.add_command(whoami)
cli.add_command(orgs)
cli.add_command(sandbox)
cli.add_command(exec_command)
cli.add_command(sweep_command)
cli.add_command(plan_command)
cli.add_command(apply_command)
cli.add_command(check_command)
cli.add_command(completion)
add_examples(cli)

__all__ = ["cli"]
