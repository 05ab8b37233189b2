"""Stopping a command the library or the CLI started, with everything it started in turn.

A command that must be stopped (it ran out of time, it printed too much, the user pressed
Ctrl-C) is started in a process group of its own, so that ``stop_group`` reaches the
processes it forked as well (``sh -c '...'``, a wrapper around a password manager), not
only the one it started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess

__all__ = ["KILL_GRACE", "stop_group"]

KILL_GRACE = 2.0
"""Seconds a stopped command has, after SIGTERM, to end before SIGKILL."""


def stop_group(process: subprocess.Popen[bytes], *, grace: float = KILL_GRACE) -> None:
    """End ``process`` and its process group: SIGTERM, then SIGKILL after ``grace`` seconds.

    ``process`` must lead a group of its own (started with ``process_group=0`` or
    ``start_new_session=True``): the signals go to that group. Nothing is sent once it has
    exited. Returns when it has exited, or after a second ``grace`` past SIGKILL.
    """
    for signum in (signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signum)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
