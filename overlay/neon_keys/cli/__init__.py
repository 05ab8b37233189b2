"""``neon-keys``: the command line of ``neon_keys``.

``main`` is the console entry point; ``cli`` is the click group, for embedding and testing.
Importing this package imports click but neither httpx nor the generated client.
"""

from __future__ import annotations

import sys

try:
    import click  # noqa: F401  (checked first, for a clear message where it is missing)
except ImportError as _err:
    raise ImportError(
        "the neon-keys command line (neon_keys.cli) needs click: pip install 'click>=8.1' "
        "(the neon_keys library itself works without it)",
        name="click",
    ) from _err

from ._app import cli
from ._errors import ExitCode

__all__ = ["ExitCode", "cli", "main"]


def main() -> None:
    """Run ``neon-keys`` with the process's arguments and exit with its exit code."""
    # The command line never runs under trio, but httpcore imports trio wherever it is
    # installed, as soon as a client is made (~30 ms, more than the rest of a short
    # command's own work). This process is the program's: keep trio out of it.
    sys.modules.setdefault("trio", None)  # type: ignore[arg-type]
    try:
        cli.main(prog_name="neon-keys")
    finally:
        # The process ends here. Freezing what it holds spares the interpreter's last
        # collections a walk through every object httpx, click and the library made: a
        # sixth of the CPU time of a short command such as `neon-keys exec -- true`.
        import gc  # noqa: PLC0415

        gc.freeze()
