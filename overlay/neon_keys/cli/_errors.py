"""Exit codes, and the translation of library errors into one-line CLI failures.

| code | meaning                                                                        |
| ---- | ------------------------------------------------------------------------------ |
| 0    | success                                                                        |
| 1    | failure: an API or network error, a partial failure, audit findings with      |
|      | ``--fail-on-findings``, a declined confirmation, output that could not be     |
|      | written                                                                       |
| 2    | usage error or invalid input; refused before any request was sent             |
| 3    | authentication failure: no API key, or Neon answered 401 (unknown or revoked) |
| 4    | ``plan``: changes are pending                                                 |
| 129  | interrupted by SIGHUP (the terminal closed), after saying what exists          |
| 130  | interrupted by SIGINT (Ctrl-C), after saying what exists                      |
| 143  | interrupted by SIGTERM, after saying what exists                              |
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import click

from neon_keys._constants import API_HOST_ENV, API_KEY_ENV
from neon_keys._exceptions import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    ConfigurationError,
    InvalidInputError,
    NeonError,
    NotFoundError,
)

from ._signals import GUARD, exit_code, signal_name, signal_of

API_TIMEOUT_ENV = "NEON_API_TIMEOUT"
"""Environment variable of ``--timeout`` (the CLI's only; the library takes ``timeout=``)."""

PROFILE_ENV = "NEON_KEYS_PROFILE"
"""Environment variable naming the profile to use when ``--profile`` is not given."""

API_ROOT_SUFFIX = "/api/v2"
"""How the path of Neon's API root ends."""


class ExitCode(enum.IntEnum):
    """The process exit codes of ``neon-keys``; stable, documented in docs/cli.md."""

    OK = 0
    """Everything asked for was done."""
    FAILURE = 1
    """An API or network error, a partial failure, audit findings, a declined confirmation."""
    USAGE = 2
    """Bad usage or invalid input; nothing was sent."""
    AUTH = 3
    """No API key, or Neon refused it (401)."""
    CHANGES = 4
    """``plan`` found changes to make (0: none)."""
    HANGUP = 129
    """Stopped by SIGHUP (its terminal closed), after saying what exists (128 + 1)."""
    INTERRUPTED = 130
    """Stopped by SIGINT (Ctrl-C), after saying what exists (128 + 2, as shells expect)."""
    TERMINATED = 143
    """Stopped by SIGTERM, after saying what exists (128 + 15, as shells expect)."""


class ErrorKind(enum.StrEnum):
    """What kind of failure ended a run: the ``kind`` of a JSON error (docs/cli.md)."""

    USAGE = "usage"
    """Bad usage or input, a config file refused; nothing was sent (exit 2)."""
    AUTH = "auth"
    """No API key, or Neon refused it (exit 3)."""
    API = "api"
    """Neon answered with an error status other than 401."""
    CONNECTION = "connection"
    """Neon could not be reached, or the connection failed."""
    TIMEOUT = "timeout"
    """Neon did not answer in time."""
    UNEXPECTED_RESPONSE = "unexpected_response"
    """Neon's answer could not be read as its API description says."""
    CREATE_OUTCOME_UNKNOWN = "create_outcome_unknown"
    """A create was sent and its answer lost: the key may exist."""
    PARTIAL = "partial"
    """Some of the work was done, some not (keys not revoked, scopes not listed or not
    retired, a rotation stopped once its new key existed); the output says which."""
    FINDINGS = "findings"
    """``audit --fail-on-findings``: flagged keys are still active."""
    DECLINED = "declined"
    """The confirmation was answered no, or not at all."""
    OUTPUT = "output"
    """stdout could not be written."""
    FAILURE = "failure"
    """Another failure (a secret delivered only to stderr, say); the message says what."""
    INTERRUPTED = "interrupted"
    """SIGINT or SIGTERM stopped the run (exit 130 or 143)."""
    INTERNAL = "internal"
    """A bug: an error the program did not expect."""


class CliError(click.ClickException):
    """A failure shown as one ``Error: ...`` line on stderr, exiting with ``exit_code``.

    ``kind`` says what failed, for JSON errors (None: worked out from the exit code and
    the library error behind it).
    """

    def __init__(
        self, message: str, exit_code: int = ExitCode.FAILURE, kind: ErrorKind | None = None
    ) -> None:
        super().__init__(message)
        # click reads the exit code from the exception; its class-level default is 1.
        self.exit_code = int(exit_code)  # type: ignore[misc]
        self.kind = kind


class Interruption(click.ClickException):
    """A command stopped by a signal: ``Interrupted by SIGINT: <what exists>``, exit 128 + n.

    ``report`` says what the command did and what exists now (empty: nothing to say); it
    is the exception's ``message``.
    """

    def __init__(self, signum: int, report: str = "") -> None:
        self.signum = signum
        super().__init__(report)
        self.exit_code = exit_code(signum)  # type: ignore[misc]

    def show(self, file: IO[Any] | None = None) -> None:
        """Print the report (``message``, scrubbed of secrets by then) on stderr."""
        text = f"Interrupted by {signal_name(self.signum)}"
        text += f": {self.message}" if self.message else "."
        target = file or sys.stderr
        if target is not None:  # stderr closed: nowhere to say it (never stdout)
            click.echo(text, file=target)


@contextmanager
def nothing_changed_yet(report: str) -> Iterator[None]:
    """A signal in the block (before the command changed anything) stops the command with
    ``report`` saying so (``no key was revoked``), not with a bare ``Interrupted by SIGINT.``

    A signal at a prompt counts too (click turns it into ``Abort``; the guard noted it).
    """
    try:
        yield
    except KeyboardInterrupt as interrupt:
        raise Interruption(signal_of(interrupt), report) from None
    except click.exceptions.Abort:
        if GUARD.pending is None:  # end of input at a prompt: not a signal
            raise
        raise Interruption(GUARD.pending, report) from None


def partial(code: int) -> ErrorKind | None:
    """The kind of a failure in which some of the work was done: ``PARTIAL`` for exit 1;
    for another code (3: the credential was refused meanwhile), the code says it."""
    return ErrorKind.PARTIAL if code == ExitCode.FAILURE else None


def exit_code_for(error: BaseException) -> ExitCode:
    """The exit code that stands for a library error."""
    if isinstance(error, AuthenticationError):
        return ExitCode.AUTH
    if isinstance(error, InvalidInputError | ConfigurationError):
        return ExitCode.USAGE
    return ExitCode.FAILURE


def one_line(error: BaseException | None) -> str:
    """The message of ``error`` on one line (empty for None)."""
    return "" if error is None else " ".join(str(error).split())


def describe(error: NeonError, *, api_host: str | None = None) -> str:
    """A one-line description of a library error, with advice for the common ones.

    ``api_host``: the API root the client used, named when Neon could not be reached, did
    not answer in time, or answered 404 from an unusual root.
    """
    text = one_line(error)
    if isinstance(error, AuthenticationError):
        return f"Neon refused the API key: {text}; check --api-key or {API_KEY_ENV}"
    if isinstance(error, APITimeoutError):
        # The library's message names the phase and its limit ("timed out after 30 s
        # waiting for Neon to answer"); say where, how often, and how to wait longer.
        tries = f"{error.attempts} attempts" if error.attempts > 1 else "1 attempt"
        where = f" to {api_host}" if api_host else ""
        return f"{text}; {tries}{where}; wait longer with --timeout SECONDS or {API_TIMEOUT_ENV}"
    if isinstance(error, APIConnectionError) and api_host:
        return (
            f"cannot reach the Neon API at {api_host}: {text}; "
            f"check the network, or --api-host / {API_HOST_ENV}"
        )
    if isinstance(error, NotFoundError) and api_host and not _is_api_root(api_host):
        return (
            f"{text}; the API root {api_host} does not end in {API_ROOT_SUFFIX}: "
            f"Neon's is https://console.neon.tech{API_ROOT_SUFFIX} (--api-host / {API_HOST_ENV})"
        )
    return text


def _is_api_root(url: str) -> bool:
    return url.rstrip("/").endswith(API_ROOT_SUFFIX)
