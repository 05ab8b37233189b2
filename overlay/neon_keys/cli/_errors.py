"""Exit codes, and the translation of library errors into one-line CLI failures.

| code | meaning                                                                        |
| ---- | ------------------------------------------------------------------------------ |
| 0    | success                                                                        |
| 1    | failure: an API or network error, a partial failure, audit findings with      |
|      | ``--fail-on-findings``, a declined confirmation                               |
| 2    | usage error or invalid input; refused before any request was sent             |
| 3    | authentication failure: no API key, or Neon answered 401 (unknown or revoked) |
"""

from __future__ import annotations

import enum

import click

from neon_keys._exceptions import (
    APIConnectionError,
    AuthenticationError,
    ConfigurationError,
    InvalidInputError,
    NeonError,
)


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


class CliError(click.ClickException):
    """A failure shown as one ``Error: ...`` line on stderr, exiting with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = ExitCode.FAILURE) -> None:
        super().__init__(message)
        # click reads the exit code from the exception; its class-level default is 1.
        self.exit_code = int(exit_code)  # type: ignore[misc]


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

    ``api_host``: the API root the client used, named when Neon could not be reached.
    """
    text = one_line(error)
    if isinstance(error, AuthenticationError):
        return f"Neon refused the API key: {text}; check --api-key or NEON_API_KEY"
    if isinstance(error, APIConnectionError) and api_host:
        return (
            f"cannot reach the Neon API at {api_host}: {text}; "
            "check the network, or --api-host / NEON_API_HOST"
        )
    return text
