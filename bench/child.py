"""A helper process of the benchmark, spoken to in JSON lines over its stdin and stdout.

The fixed-response server, the workers and the emulator each run in a process of their
own, so that what one of them does is not measured as the cost of another. Closing a
child's stdin is its signal to stop.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
from types import TracebackType
from typing import Any, Self


class Child:
    """A child process for the duration of a ``with`` block.

    Args:
        command: the command line that starts it.
        name: what to call it when it ends unexpectedly.
    """

    def __init__(self, command: list[str], name: str) -> None:
        self._command = command
        self._name = name
        self._process: subprocess.Popen[str] | None = None

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send one JSON line and return the child's JSON answer."""
        process = self._process
        assert process is not None and process.stdin and process.stdout
        process.stdin.write(json.dumps(message) + "\n")
        process.stdin.flush()
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self._name} ended (see its error output above)")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def __enter__(self) -> Self:
        self._process = subprocess.Popen(
            self._command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stop_child(self._process)
        self._process = None


def stop_child(process: subprocess.Popen[str] | None, grace: float = 5.0) -> None:
    """Close a child's stdin (its signal to stop), then wait for it, then kill it."""
    if process is None:
        return
    if process.stdin is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(grace)
    if process.stdout is not None:
        process.stdout.close()
