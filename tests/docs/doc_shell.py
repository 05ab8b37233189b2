"""A shell in which a page's console examples run, in order, as a reader types them.

One bash process per page, in a temporary folder of its own, with a clean environment:
``PATH`` holds a warm ``neon-keys`` (see ``cli_forkserver``) and the project's virtual
environment (``python``, ``pytest``), ``HOME`` is the temporary folder, no ``NEON_*``
variable comes from outside, times are UTC. The shell reads the commands on a descriptor of
its own, so a command's stdin is /dev/null (as off a terminal); its stdout and stderr go to
one pipe, in the order they were written, as a terminal shows them.
"""

from __future__ import annotations

import base64
import contextlib
import os
import select
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cli_forkserver import SHIM

HERE = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
COMMAND_TIMEOUT = 60.0  # seconds; an example that blocks fails instead of hanging the suite
START_TIMEOUT = 30.0


class ShellError(Exception):
    """The shell could not run a command to its end (it hung or died)."""


@dataclass(frozen=True)
class Result:
    """What one command printed (stdout and stderr as they interleaved) and its exit status."""

    output: str
    status: int


class ForkServer:
    """The warm ``neon-keys`` behind the shell's PATH; one per test session."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.bin = folder / "bin"
        self.bin.mkdir(parents=True)
        self.socket = str(folder / "cli.sock")
        self._process = subprocess.Popen(
            [sys.executable, str(HERE / "cli_forkserver.py"), self.socket],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            cwd=folder,
            start_new_session=True,  # the server and every command it forks: one group
        )
        assert self._process.stdout is not None
        ready, _, _ = select.select([self._process.stdout], [], [], START_TIMEOUT)
        if not ready or self._process.stdout.readline() != b"ready\n":
            self.close()
            raise ShellError("the neon-keys fork server did not start")
        shim = self.bin / "neon-keys"
        shim.write_text(SHIM.format(python=sys.executable, socket=self.socket))
        shim.chmod(0o755)

    def close(self) -> None:
        """Stop the server and every command still running from it (a served sandbox)."""
        _kill_group(self._process)


class Shell:
    """One bash session, in ``cwd``, that runs commands one at a time."""

    def __init__(self, cwd: Path, server: ForkServer) -> None:
        self.cwd = cwd
        home = cwd / ".home"
        home.mkdir(exist_ok=True)
        env = {
            "PATH": os.pathsep.join([str(server.bin), str(VENV_BIN), "/usr/bin", "/bin"]),
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "TZ": "UTC",
            "TERM": "dumb",
            "COLUMNS": "80",  # a standard terminal
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        read_fd, self._script = os.pipe()
        self._marker = f"__example_done_{uuid.uuid4().hex}__"
        self._process = subprocess.Popen(
            ["bash", "--noprofile", "--norc", f"/dev/fd/{read_fd}"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            pass_fds=(read_fd,),
            start_new_session=True,
        )
        os.close(read_fd)
        assert self._process.stdout is not None
        self._out = self._process.stdout.fileno()
        os.set_blocking(self._out, False)
        self._buffer = b""

    def run(self, command: str, timeout: float = COMMAND_TIMEOUT) -> Result:
        """Run ``command`` as typed; return what it printed and its exit status."""
        # The marker carries the status; ``(exit ...)`` gives ``$?`` back to the next command.
        script = (
            f"{command}\n__status=$?; printf '%s %d\\n' {self._marker} $__status >&2; "
            "(exit $__status)\n"
        )
        os.write(self._script, script.encode())
        deadline = time.monotonic() + timeout
        marker = self._marker.encode()
        while True:
            end = self._buffer.find(marker)
            newline = self._buffer.find(b"\n", end) if end != -1 else -1
            if newline != -1:
                status = int(self._buffer[end + len(marker) : newline])
                output = self._buffer[:end].decode("utf-8", "replace")
                self._buffer = self._buffer[newline + 1 :]
                return Result(output, status)
            if not self._read(deadline):
                raise ShellError(
                    f"timed out after {timeout:g} s; printed so far:\n{self._buffer!r}"
                )

    def collect(self, done: Callable[[str], bool], timeout: float) -> str:
        """What background jobs print from now on, until ``done`` of it holds or ``timeout``.

        A job started with ``&`` prints when it is ready, after its command returned; a
        terminal shows that under the command, so the page does too.
        """
        deadline = time.monotonic() + timeout
        while not done(self._buffer.decode("utf-8", "replace")) and self._read(deadline):
            pass
        output = self._buffer.decode("utf-8", "replace")
        self._buffer = b""
        return output

    def _read(self, deadline: float) -> bool:
        """Wait until the shell prints more (True) or ``deadline`` passes (False)."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        ready, _, _ = select.select([self._out], [], [], remaining)
        if not ready:
            return False
        chunk = os.read(self._out, 65536)
        if not chunk:
            raise ShellError(f"the shell exited; printed so far:\n{self._buffer!r}")
        self._buffer += chunk
        return True

    def environment(self) -> dict[str, str]:
        """The shell's exported variables, as a program it starts would see them."""
        result = self.run("env -0 | base64 -w0; echo")
        raw = base64.b64decode(result.output.strip())
        pairs = (item.partition(b"=") for item in raw.split(b"\0") if item)
        return {key.decode(): value.decode() for key, _, value in pairs}

    def close(self) -> None:
        """End the shell and everything it started (background jobs included).

        A sandbox started with ``neon-keys sandbox start`` runs in a session of its own, out
        of the shell's group: it is found by its working folder and killed too.
        """
        with contextlib.suppress(OSError):
            os.close(self._script)
        _kill_group(self._process)
        _kill_sandboxes(self.cwd)


def _kill_sandboxes(folder: Path) -> None:
    """Kill every ``neon-keys sandbox`` process whose working folder is ``folder``."""
    proc = Path("/proc")
    if not proc.is_dir():  # pragma: no cover - Linux-only bookkeeping
        return
    for entry in proc.iterdir():
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            here = os.readlink(entry / "cwd") == str(folder)
        except (OSError, ValueError):
            continue
        if here and b"neon_keys.cli" in command and b"sandbox" in command:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGKILL)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Terminate a process and its group, waiting a bounded time; then kill what is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=5)
    if process.stdout is not None:
        process.stdout.close()
