"""``neon-keys completion``: the shell completion script, from click's own machinery.

The script calls ``neon-keys`` back with ``_NEON_KEYS_COMPLETE`` set at each Tab; click
answers with the commands, options and choices of the program itself, so completion never
drifts from the program. Profile names and the organizations of profiles are completed from
the config file (read only, never a request).
"""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

from ._output import emit

PROG_NAME = "neon-keys"
COMPLETE_VAR = "_NEON_KEYS_COMPLETE"
"""The variable click reads to answer a completion request (``_<PROG>_COMPLETE``)."""

SHELLS = ("bash", "zsh", "fish")

STARTUP_LINES = {
    "bash": ("~/.bashrc", 'eval "$(neon-keys completion bash)"'),
    "zsh": ("~/.zshrc, after compinit", 'eval "$(neon-keys completion zsh)"'),
    "fish": ("~/.config/fish/config.fish", "neon-keys completion fish | source"),
}
"""For each shell: its startup file, and the line that loads the script there."""


def _help() -> str:
    lines = [
        f"  {shell} ({where}):\n      {line}" for shell, (where, line) in STARTUP_LINES.items()
    ]
    return (
        "Print the completion script for SHELL (bash, zsh or fish).\n\n"
        "Commands, options, choices and the profiles of the config file complete with Tab. "
        "Add one line to your shell's startup file:\n\n\b\n" + "\n".join(lines)
    )


@click.command("completion", help=_help())
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the completion script for SHELL (the help text is ``_help()``)."""
    root = click.get_current_context().find_root().command
    script = get_completion_class(shell)
    assert script is not None  # every name of SHELLS is one of click's
    emit(script(root, {}, PROG_NAME, COMPLETE_VAR).source().rstrip("\n"))
