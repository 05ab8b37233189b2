"""``CommandSink``: deliver a secret to any secret store whose command line reads stdin.

    CommandSink("gh secret set NEON_API_KEY --repo acme/app")
    CommandSink(["vault", "kv", "put", "secret/neon", "token=-"])

The command is split with ``shlex`` (POSIX rules) and run without a shell: pipes,
redirections and ``$VARS`` need an explicit ``sh -c '...'``, the user's choice. The secret
is written to the command's stdin, exactly (no newline after it), and stdin is then closed;
it never appears on a command line or in an environment. The command runs with this
process's environment less ``NEON_API_KEY`` (a delivery has no use for the key that made
the new one), in its own session, so that a Ctrl-C meant for ``neon-keys`` does not cut the
delivery short; after ``timeout`` seconds it is stopped (SIGTERM, then SIGKILL to its whole
process group). Once it has exited, what it started and left in its group still holding its
output is stopped the same way; a daemon that left the group and its output runs on. Its
exit status decides: 0 is delivered, anything else is a ``SinkError``.
What it prints is kept (the last ``OUTPUT_LIMIT`` bytes of each stream), redacted of the
secret and of every other credential the library knows, and handed to ``show``.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shlex
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import IO, TYPE_CHECKING

from ._constants import API_KEY_ENV
from ._processes import KILL_GRACE, stop_group
from ._redaction import redact
from ._sinks import SinkError, check_secret, one_line

if TYPE_CHECKING:
    from ._secret import Secret

__all__ = ["DEFAULT_DELIVERY_TIMEOUT", "OUTPUT_LIMIT", "CommandSink", "ShowOutput"]

DEFAULT_DELIVERY_TIMEOUT = 60.0
"""Seconds a delivery command may run before it is stopped."""

OUTPUT_LIMIT = 64 * 1024
"""Bytes of each of a command's streams that are kept (the last ones: errors come last)."""

logger = logging.getLogger("neon_keys")

_DRAIN_WAIT = 2.0
"""Seconds, in all, to wait for an ended command's streams to close, once it has exited or
been stopped; past them, what still holds the streams is stopped (``_stop_leftovers``)."""

ShowOutput = Callable[[str, str], None]
"""Shows what a command printed: (``"stdout"`` or ``"stderr"``, the redacted text)."""


class CommandSink:
    """A command that reads the secret on its stdin; see the module docstring.

    Args:
        command: the command line (split with ``shlex``) or its arguments.
        timeout: seconds the command may run (default 60).
        env: its environment; default this process's, less ``NEON_API_KEY``.
        cwd: its working folder; default this process's.
        show: called with what it printed on each stream (redacted, possibly cut to the
            last ``OUTPUT_LIMIT`` bytes), once it has ended; default: not shown.

    Raises ``SinkError`` for a command line ``shlex`` cannot split, an empty one, or a
    ``timeout`` that is not a positive number.
    """

    uses_stdout = False

    def __init__(
        self,
        command: str | Sequence[str],
        *,
        timeout: float = DEFAULT_DELIVERY_TIMEOUT,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        show: ShowOutput | None = None,
    ) -> None:
        if isinstance(command, str):
            try:
                argv = shlex.split(command)
            except ValueError as err:
                raise SinkError(f"cannot split the command {command!r}: {err}") from None
        else:
            argv = [str(arg) for arg in command]
        if not argv or not argv[0]:
            raise SinkError("the delivery command is empty")
        if isinstance(timeout, bool) or not isinstance(timeout, int | float):
            raise SinkError(f"timeout must be a number of seconds, not {timeout!r}")
        if not math.isfinite(timeout) or timeout <= 0:
            raise SinkError(f"timeout must be a positive number of seconds, not {timeout!r}")
        self.argv = tuple(argv)
        self.target = shlex.join(argv)
        self.timeout = float(timeout)
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.show = show
        self.output: dict[str, str] = {}
        """What the command printed on each stream, redacted (after ``deliver``)."""
        self.returncode: int | None = None
        """Its exit status (after ``deliver``; negative: the signal that ended it)."""

    def __repr__(self) -> str:
        return f"CommandSink({self.target!r}, timeout={self.timeout:g})"

    @property
    def done(self) -> str:
        """What delivery did, in words."""
        return f"passed to `{self.target}`"

    def check(self) -> None:
        """Refuse a command that cannot be found or run, before the key exists."""
        program = self.argv[0]
        environment = self._environment()
        if os.sep in program:
            found = program if os.path.isfile(program) and os.access(program, os.X_OK) else None
        else:
            found = shutil.which(program, path=environment.get("PATH", os.defpath))
        if found is None:
            where = "no such executable file" if os.sep in program else "not found on PATH"
            raise SinkError(f"command {program!r}: {where}", target=self.target)
        if self.cwd is not None and not os.path.isdir(self.cwd):
            raise SinkError(f"folder {self.cwd} does not exist", target=self.target)

    def deliver(self, secret: Secret) -> None:
        """Run the command with the token on its stdin; ``SinkError`` unless it exits 0."""
        token = check_secret(secret)
        try:
            process = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=self._environment(),
                cwd=self.cwd,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as err:
            raise SinkError(
                f"cannot run `{self.target}`: {one_line(err)}", target=self.target
            ) from err
        assert process.stdin is not None and process.stdout is not None
        assert process.stderr is not None
        readers = {
            "stdout": _Tail(process.stdout),
            "stderr": _Tail(process.stderr),
        }
        feeder = threading.Thread(target=_feed, args=(process.stdin, token.encode()), daemon=True)
        feeder.start()
        timed_out = False
        try:
            process.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            stop_group(process)
        finally:
            if process.poll() is None:  # interrupted while waiting: let it finish its work
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=self.timeout)
                stop_group(process)
            deadline = time.monotonic() + _DRAIN_WAIT
            held = not _join_by(deadline, [feeder, *(r.thread for r in readers.values())])
            if held:  # the command exited, something it started still holds its pipes
                _stop_leftovers(process.pid, [r.thread for r in readers.values()])
            for reader in readers.values():
                reader.close()
        self.returncode = process.returncode
        self.output = {name: redact(reader.text(), token) for name, reader in readers.items()}
        if self.show is not None:
            for name, text in self.output.items():
                if text.strip():
                    self.show(name, text)
        if timed_out:
            raise SinkError(
                f"`{self.target}` did not finish within {self.timeout:g} s and was stopped",
                target=self.target,
            )
        if process.returncode != 0:
            raise SinkError(
                f"`{self.target}` {_status(process.returncode)}{_last_words(self.output)}",
                target=self.target,
            )

    def _environment(self) -> dict[str, str]:
        if self.env is not None:
            return dict(self.env)
        return {name: value for name, value in os.environ.items() if name != API_KEY_ENV}


class _Tail:
    """Reads a stream to its end on a thread, keeping its last ``OUTPUT_LIMIT`` bytes."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._kept = bytearray()
        self.dropped = 0
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            while chunk := os.read(self._stream.fileno(), 65536):
                self._kept += chunk
                excess = len(self._kept) - OUTPUT_LIMIT
                if excess > 0:
                    del self._kept[:excess]
                    self.dropped += excess

    @property
    def thread(self) -> threading.Thread:
        """The thread reading the stream: it ends when every holder of the pipe closed it."""
        return self._thread

    def close(self) -> None:
        """Stop reading: close this end of the pipe (a reader still blocked gives up)."""
        with contextlib.suppress(OSError):
            self._stream.close()

    def text(self) -> str:
        kept = bytes(self._kept).decode("utf-8", errors="replace")
        if self.dropped:
            return f"[{self.dropped} earlier bytes not kept]\n{kept}"
        return kept


def _join_by(deadline: float, threads: Sequence[threading.Thread]) -> bool:
    """Wait for ``threads`` until ``deadline`` (``time.monotonic()``), one deadline for all;
    True if every one has ended."""
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return not any(thread.is_alive() for thread in threads)


def _stop_leftovers(group: int, readers: Sequence[threading.Thread]) -> None:
    """Stop what is left of the command's process group ``group`` once the command exited.

    Its output is not whole until every process holding its pipes has let go; a process
    still in its group that holds them (``sh -c 'helper & ...'``) is a leftover, not a
    daemon: a daemon leaves the group (``setsid``) and its output (``/dev/null``), and is
    never signalled here. SIGTERM, then SIGKILL if the pipes are still held ``KILL_GRACE``
    seconds later; the leader is reaped, but the group's id cannot be reused while any
    member lives, so the signals reach no one else.
    """
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(group, signum)
        except (ProcessLookupError, PermissionError):
            return  # nobody left in the group: the holder is elsewhere, left alone
        if signum == signal.SIGTERM:
            logger.warning(
                "the delivery command exited but left processes holding its output; "
                "stopping its process group %d",
                group,
            )
        if _join_by(time.monotonic() + KILL_GRACE, readers):
            return


def _feed(stdin: IO[bytes], data: bytes) -> None:
    """Write ``data`` to the command's stdin and close it (a command may not read it all)."""
    with contextlib.suppress(OSError, ValueError):
        stdin.write(data)
    with contextlib.suppress(OSError, ValueError):
        stdin.close()


def _status(returncode: int) -> str:
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"was ended by {name}"
    return f"exited with status {returncode}"


def _last_words(output: Mapping[str, str]) -> str:
    """``: <its last line of stderr>`` (or of stdout), for an error message; '' if silent."""
    for name in ("stderr", "stdout"):
        lines = [line.strip() for line in output.get(name, "").splitlines() if line.strip()]
        if lines:
            return f": {lines[-1][:200]}"
    return ""
