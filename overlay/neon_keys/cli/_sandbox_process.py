"""Starting a sandbox server in the background, and hearing from it once it is ready.

``neon-keys sandbox start`` runs ``python -m neon_keys.cli sandbox`` in a session of its own
(no terminal: a closing shell does not stop it) and hands it the write end of a pipe, named
in ``READY_FD_ENV``. The server writes one JSON object there and closes it:
``{"settings": {...}, "pid": N}`` once it accepts connections (and its env file is
written), or ``{"error": "..."}``. Every wait is bounded, and a server that does not report
in time, or whose start is interrupted, is killed: none is left running unknown.

The env file (``--env-file``) holds the settings as dotenv lines, written atomically with
mode 0600, and is removed when the sandbox stops unless it was changed meanwhile.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from typing import TYPE_CHECKING, Any

from neon_keys._files import write_private

from ._errors import CliError, ExitCode

if TYPE_CHECKING:
    import subprocess

__all__ = [
    "READY_FD_ENV",
    "Readiness",
    "check_env_file",
    "dotenv_text",
    "read_until_closed",
    "ready_fd_from_environment",
    "remove_if_unchanged",
    "start_detached",
    "write_env_file",
]

READY_FD_ENV = "NEON_KEYS_SANDBOX_READY_FD"
"""How ``start`` tells the server it spawns where to report readiness (a pipe's descriptor)."""


class Readiness:
    """Reports to ``start`` through a pipe, once: ready, or failed (nothing without a pipe).

    Args:
        fd: the pipe's write end, or None when the server was not started by ``start``.
    """

    def __init__(self, fd: int | None) -> None:
        self.fd = fd

    @property
    def active(self) -> bool:
        """Whether ``start`` waits for this report."""
        return self.fd is not None

    def ready(self, settings: dict[str, str]) -> None:
        """Report the settings; from then on the server prints nothing anywhere."""
        self._send({"settings": settings, "pid": os.getpid()})
        # From now on nobody reads what it would print: send it nowhere.
        devnull = os.open(os.devnull, os.O_WRONLY)
        for fd in (1, 2):
            os.dup2(devnull, fd)
        os.close(devnull)

    def failed(self, message: str) -> None:
        """Report why the server could not start (nothing once ``ready`` was sent)."""
        self._send({"error": message})

    def _send(self, message: dict[str, Any]) -> None:
        fd, self.fd = self.fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError), os.fdopen(fd, "w", encoding="utf-8") as pipe:
            pipe.write(json.dumps(message))


def dotenv_text(settings: dict[str, str]) -> str:
    """The settings as dotenv lines (``NAME=value``)."""
    return "".join(f"{name}={value}\n" for name, value in settings.items())


def check_env_file(path: str) -> None:
    """Refuse an env file that cannot be written, before anything starts."""
    if not path or path.endswith(os.sep) or os.path.isdir(path):
        raise CliError(f"--env-file {path!r} is not a file name", ExitCode.USAGE)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CliError(f"--env-file {path!r}: no folder {folder}", ExitCode.USAGE)


def write_env_file(path: str, text: str) -> None:
    """Write ``text`` to ``path`` atomically with mode 0600, replacing what is there."""
    try:
        write_private(path, text, replace=True)
    except OSError as err:
        raise CliError(f"cannot write --env-file {path}: {err.strerror or err}") from None


def remove_if_unchanged(path: str, text: str) -> None:
    """Remove ``path`` if it still holds exactly ``text``."""
    with contextlib.suppress(OSError):
        with open(path, encoding="utf-8") as current:
            if current.read() != text:
                return
        os.unlink(path)


def start_detached(port: int, *, env_file: str | None, timeout: float) -> dict[str, str]:
    """Start a sandbox in a new session with no terminal; return its settings.

    The server reports through a pipe once it accepts connections (and has written
    ``env_file``). A server that reports a failure, exits, or says nothing within
    ``timeout`` seconds is killed and the reason raised as a ``CliError``; so is one still
    starting when the wait is interrupted (Ctrl-C), so that none is left behind unknown.
    """
    import subprocess  # noqa: PLC0415
    import tempfile  # noqa: PLC0415

    if env_file is not None:
        check_env_file(env_file)
    command = [sys.executable, "-m", "neon_keys.cli", "sandbox", "--port", str(port)]
    if env_file is not None:
        command += ["--env-file", os.path.abspath(env_file)]
    deadline = time.monotonic() + timeout
    with tempfile.TemporaryFile() as errors:  # what it says before it is ready, if it fails
        read_end, write_end = os.pipe()
        try:
            child = subprocess.Popen(
                command,
                env={**os.environ, READY_FD_ENV: str(write_end)},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                pass_fds=(write_end,),
                start_new_session=True,  # no terminal: a closing shell does not stop it
                close_fds=True,
            )
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        try:
            with os.fdopen(read_end, "rb") as pipe:
                raw, closed = read_until_closed(pipe.fileno(), deadline)
        except BaseException:
            _kill(child)
            raise
        report = _json_or_none(raw)
        settings = report.get("settings") if isinstance(report, dict) else None
        if isinstance(settings, dict):
            return {str(name): str(value) for name, value in settings.items()}
        _kill(child)
        if isinstance(report, dict) and isinstance(report.get("error"), str):
            raise CliError(report["error"])
        if not closed:
            raise CliError(f"the sandbox did not start within {timeout:g} s")
        errors.seek(0)
        said = [line for line in errors.read().decode("utf-8", "replace").splitlines() if line]
        reason = f": {said[-1].strip()}" if said else ""
        raise CliError(
            f"the sandbox exited before it was ready (status {child.returncode}){reason}"
        )


def _json_or_none(raw: bytes) -> object:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def ready_fd_from_environment() -> int | None:
    """The descriptor ``start`` passed in ``READY_FD_ENV``, taken out of the environment."""
    raw = os.environ.pop(READY_FD_ENV, None)
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def read_until_closed(fd: int, deadline: float) -> tuple[bytes, bool]:
    """What is written to a pipe until its writer closes it (True) or ``deadline`` (False)."""
    import select  # noqa: PLC0415

    chunks: list[bytes] = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return b"".join(chunks), False
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            return b"".join(chunks), False
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks), True
        chunks.append(chunk)


def _kill(child: subprocess.Popen[bytes]) -> None:
    import subprocess  # noqa: PLC0415

    with contextlib.suppress(ProcessLookupError):
        child.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(timeout=10)
