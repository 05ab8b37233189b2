"""Running ``neon-keys`` as a real process, and signalling it at the moment that matters."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cli_support import Neon
from neon_keys.testing import InjectedFault

HOOKS = Path(__file__).parent / "hooks"
"""Holds the ``sitecustomize`` that signals a child process at a chosen function."""

WAIT = 20.0
"""Seconds any wait of these tests may last before it fails."""

SIGNALS = [signal.SIGINT, signal.SIGTERM]

STARTED: list[subprocess.Popen[str]] = []
"""Every child started, for ``reap`` to end those a failed test left running."""


def reap() -> None:
    """Kill and collect every child still running, and close its pipes."""
    while STARTED:
        proc = STARTED.pop()
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def child_env(neon: Neon, **extra: str) -> dict[str, str]:
    """The environment of a ``neon-keys`` child: the emulator's settings and nothing ambient."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NEON_", "PYTHON")) and k not in ("GITHUB_ENV", "COLUMNS")
    }
    env.update(
        NEON_API_KEY=neon.world.seed.admin_token,
        NEON_API_HOST=neon.server.base_url,
        NEON_API_TIMEOUT="15",
        PYTHONDONTWRITEBYTECODE="1",  # the hook lives in the checkout: no __pycache__ there
    )
    env.update(extra)
    return env


def signal_at(
    target: str, sig: int, *, count: int = 1, skip: int = 0, on_return: bool = False
) -> dict[str, str]:
    """Environment that makes the child signal itself on entering ``target`` (or, with
    ``on_return``, as it returns)."""
    return {
        "PYTHONPATH": str(HOOKS),
        "NEON_KEYS_TEST_SIGNAL_AT": target,
        "NEON_KEYS_TEST_SIGNAL": signal.Signals(sig).name,
        "NEON_KEYS_TEST_SIGNAL_COUNT": str(count),
        "NEON_KEYS_TEST_SIGNAL_SKIP": str(skip),
        "NEON_KEYS_TEST_SIGNAL_WHEN": "return" if on_return else "enter",
    }


@dataclass
class Done:
    """How a child ended."""

    code: int
    stdout: str
    stderr: str


class Child:
    """A running ``neon-keys`` process (``python -m neon_keys.cli``) with piped output.

    ``stdout``: a descriptor for its stdout (default a pipe this object reads); with
    ``close_stdout`` the child starts with no stdout at all, as after ``>&-``.
    """

    def __init__(
        self,
        neon: Neon,
        cwd: Path,
        *args: str,
        stdout: int | None = None,
        close_stdout: bool = False,
        **env: str,
    ) -> None:
        command = [sys.executable, "-m", "neon_keys.cli", *args]
        if close_stdout:
            command = ["sh", "-c", 'exec "$@" >&-', "sh", *command]
        self.proc = subprocess.Popen(
            command,
            cwd=cwd,
            env=child_env(neon, **env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if stdout is None else stdout,
            stderr=subprocess.PIPE,
            text=True,
        )
        STARTED.append(self.proc)

    def send(self, sig: int) -> None:
        """Send ``sig`` to the child."""
        self.proc.send_signal(sig)

    def finish(self) -> Done:
        """Wait (bounded) for the child to end; kill it and fail if it does not."""
        try:
            stdout, stderr = self.proc.communicate(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            stdout, stderr = self.proc.communicate()
            raise AssertionError(f"neon-keys did not end: {stderr}") from None
        return Done(self.proc.returncode, stdout or "", stderr or "")


def run(neon: Neon, cwd: Path, *args: str, **env: str) -> Done:
    """Run ``neon-keys ARGS`` to its end."""
    return Child(neon, cwd, *args, **env).finish()


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` until it holds; fail after ``WAIT`` seconds."""
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def in_flight(neon: Neon, operation: str, done: int = 0) -> Callable[[], bool]:
    """Whether the emulator is serving a request after ``done`` finished ``operation`` ones."""
    return lambda: neon.world.log.in_flight > 0 and neon.world.log.count(operation) >= done


def struck(neon: Neon, fault: InjectedFault) -> Callable[[], bool]:
    """Whether ``fault`` has struck its request, which is still being served (a delay)."""
    return lambda: fault.exhausted and neon.world.log.in_flight > 0


def clean_end(done: Done, sig: int) -> None:
    """The child ended as a signal should end it: 128 + n, a report, no traceback or Aborted!."""
    assert done.code == 128 + sig, done.stderr
    assert f"Interrupted by {signal.Signals(sig).name}" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and "Aborted" not in done.stderr, done.stderr
