"""``neon-keys``: the group and its commands, one module per command (or pair of commands).

The group and the global options live in ``_root`` and ``_options``; each command in its own
module, imported when the command is first used (``_lazy_group``); this module only puts
them together: ``COMMANDS`` says where each command lives and what ``--help`` says of it.
"""

from __future__ import annotations

from ._examples import EXAMPLES, add_examples, epilog
from ._lazy_group import LazyCommand, LazyCommands
from ._root import cli

COMMANDS: dict[str, LazyCommand] = {
    "list": LazyCommand(
        "._list",
        "list_keys",
        "List your personal keys, an organization's keys with --org, or all with --all-orgs.",
    ),
    "create": LazyCommand(
        "._create",
        "create",
        "Create a key named NAME; its secret goes to every sink given, or to stdout.",
    ),
    "revoke": LazyCommand(
        "._revoke",
        "revoke",
        "Revoke keys by id, by the ids on stdin (-), or by name (--name GLOB).",
    ),
    "rotate": LazyCommand(
        "._rotate",
        "rotate_key",
        "Replace key ID with a new key; then revoke the old one, or with --grace keep it.",
    ),
    "retire": LazyCommand(
        "._retire",
        "retire",
        "Revoke keys that newer keys of the same name replaced, once they are due.",
    ),
    "audit": LazyCommand(
        "._audit",
        "audit_keys",
        "Flag never-used, stale and duplicate keys; optionally revoke them.",
    ),
    "whoami": LazyCommand(
        "._identity",
        "whoami",
        "Show which credential is calling: its kind and account.",
    ),
    "orgs": LazyCommand(
        "._identity",
        "orgs",
        "List the organizations you belong to, with their ids.",
    ),
    "sandbox": LazyCommand(
        "._sandbox",
        "sandbox",
        "Serve the Neon emulator locally, or act on one that runs.",
    ),
    "exec": LazyCommand(
        "._exec",
        "exec_command",
        "Run COMMAND with a short-lived key in its environment; revoke the key when it ends.",
    ),
    "sweep": LazyCommand(
        "._sweep",
        "sweep_command",
        "Revoke expired leases: your personal keys, or an organization's (--org, --all-orgs).",
    ),
    "plan": LazyCommand(
        "._plan",
        "plan_command",
        "Show what `apply` would change to make the keys what the policy file says.",
    ),
    "apply": LazyCommand(
        "._apply",
        "apply_command",
        "Make the keys what the policy file says: the changes `plan` shows, after asking.",
    ),
    "check": LazyCommand(
        "._plan",
        "check_command",
        "Check the keys against the rules of the policy file, as a CI gate.",
    ),
    "completion": LazyCommand(
        "._completion",
        "completion",
        "Print the completion script for SHELL (bash, zsh or fish).",
    ),
}
"""Every command of ``neon-keys``: its module, the command's name there, and the first
paragraph of its help (``tests/cli/test_cli_lazy.py`` holds each to the command itself)."""

# Each command gets its examples as it is imported; the group its own now.
cli.commands = LazyCommands(COMMANDS, __name__.rpartition(".")[0], on_load=add_examples)
cli.epilog = epilog(EXAMPLES[""])

__all__ = ["COMMANDS", "cli"]
