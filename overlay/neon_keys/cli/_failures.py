"""How a failure reaches the user: one ``Error: ...`` line, or, with ``--output json``, one
JSON object on stderr, so that programs never parse prose.

The object (documented in docs/cli.md, fields only ever added)::

    {"error": {"message": "...", "exit_code": 1, "kind": "api", "signal": null,
               "library_error": {"type": "NotFoundError", "message": "...", "attempts": 1,
                                 "status_code": 404, "code": "", "request_id": "...",
                                 "method": "DELETE", "path": "/api_keys/12"}}}

It is written on one line. Every text in it has been through the run's redaction: the API
key and the secrets the run saw never appear. The one plain-text exception stays what it
is: the last-resort printing of a secret that could not be delivered (``_sinks``).
"""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click

from neon_keys._exceptions import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    ConfigurationError,
    CreateOutcomeUnknownError,
    InvalidInputError,
    NeonError,
    UnexpectedResponseError,
)

from . import _color
from ._errors import CliError, ErrorKind, ExitCode, Interruption, one_line
from ._signals import GUARD, signal_name
from ._streams import StdoutUnwritable, discard, write_stderr

_CARRIED = (
    "status_code",
    "code",
    "request_id",
    "method",
    "path",
    "retry_after",
    "request_sent",
    "field",
    "rule",
    "key_name",
)
"""The attributes of library errors a JSON error carries, where the error has them."""

_OUTPUT_OPTIONS = ("-o", "--output")
_SHORT_FLAGS = frozenset("vyhq")
"""Short options without a value, which may come bundled before ``-o`` (``-vo json``)."""


def output_requested(args: Sequence[str]) -> str | None:
    """The ``--output`` a command line asks for (the last one given), read from its words.

    Read from the words themselves because an error may come before the options are
    parsed (an unknown option, a bad value), when only they say what the caller wants.
    """
    found = None
    words = list(args)
    for index, word in enumerate(words):
        if word == "--":
            break
        following = words[index + 1] if index + 1 < len(words) else None
        if word in _OUTPUT_OPTIONS:
            found = following
        elif word.startswith("--output="):
            found = word.partition("=")[2]
        elif word.startswith("-") and not word.startswith("--") and "o" in word[1:]:
            flags, _, rest = word[1:].partition("o")
            if set(flags) <= _SHORT_FLAGS:
                found = rest or following
    return found


def kind_of(error: click.ClickException) -> ErrorKind:
    """What kind of failure ``error`` is (see ``ErrorKind``)."""
    if isinstance(error, Interruption):
        return ErrorKind.INTERRUPTED
    if isinstance(error, StdoutUnwritable):
        return ErrorKind.OUTPUT
    if isinstance(error, CliError) and error.kind is not None:
        return error.kind
    if isinstance(error, click.UsageError) or error.exit_code == ExitCode.USAGE:
        return ErrorKind.USAGE
    if error.exit_code == ExitCode.AUTH:
        return ErrorKind.AUTH
    cause = library_error(error)
    if cause is not None:
        return _library_kind(cause)
    return ErrorKind.FAILURE


def _library_kind(error: NeonError) -> ErrorKind:
    kinds: list[tuple[type[NeonError], ErrorKind]] = [
        (AuthenticationError, ErrorKind.AUTH),
        (APIError, ErrorKind.API),
        (APITimeoutError, ErrorKind.TIMEOUT),
        (APIConnectionError, ErrorKind.CONNECTION),
        (UnexpectedResponseError, ErrorKind.UNEXPECTED_RESPONSE),
        (CreateOutcomeUnknownError, ErrorKind.CREATE_OUTCOME_UNKNOWN),
        (InvalidInputError, ErrorKind.USAGE),
        (ConfigurationError, ErrorKind.USAGE),
    ]
    return next((kind for cls, kind in kinds if isinstance(error, cls)), ErrorKind.FAILURE)


def library_error(error: BaseException) -> NeonError | None:
    """The library error behind a CLI failure (its cause), if there is one."""
    cause = error.__cause__
    return cause if isinstance(cause, NeonError) else None


def library_record(error: NeonError, redact: Callable[[str], str]) -> dict[str, Any]:
    """A library error as JSON: its class, message, attempts and the attributes it carries."""
    record: dict[str, Any] = {
        "type": type(error).__name__,
        "message": redact(one_line(error)),
        "attempts": error.attempts,
    }
    carried = vars(error)
    for name in _CARRIED:
        if name in carried:
            value = carried[name]
            record[name] = redact(value) if isinstance(value, str) else value
    if isinstance(error, CreateOutcomeUnknownError):
        record["candidates"] = (
            [key.id for key in error.candidates] if error.candidates is not None else None
        )
        record["cause"] = library_record(error.cause, redact)
    return record


def error_record(error: click.ClickException, redact: Callable[[str], str]) -> dict[str, Any]:
    """The JSON object that stands for ``error`` (see the module docstring)."""
    if isinstance(error, Interruption):
        message = f"Interrupted by {signal_name(error.signum)}"
        message += f": {error.message}" if error.message else ""
    else:
        message = error.format_message()
    cause = library_error(error)
    return {
        "error": {
            "message": redact(message),
            "exit_code": error.exit_code,
            "kind": kind_of(error).value,
            "signal": signal_name(error.signum) if isinstance(error, Interruption) else None,
            "library_error": library_record(cause, redact) if cause is not None else None,
        }
    }


_HEADLINE = re.compile(r"^(Error:|Interrupted by \S+?)(?=[:.\s])", re.MULTILINE)


def show(
    error: click.ClickException, *, json_output: bool, redact: Callable[[str], str] = str
) -> None:
    """Print ``error`` on stderr: a JSON object, or its text (coloured on a terminal).

    A second signal meanwhile waits until it is printed; a stderr that cannot be written
    leaves nowhere to say anything: the exit code remains.
    """
    with GUARD.hold():
        if json_output:
            write_stderr(json.dumps(error_record(error, redact), ensure_ascii=False))
            return
        if sys.stderr is None:  # closed: click would print the error on stdout instead
            return
        if not _color.enabled(sys.stderr):
            try:
                error.show()
            except (OSError, ValueError):
                discard(sys.stderr)
            return
        text = io.StringIO()
        error.show(file=text)

        def headline(match: re.Match[str]) -> str:
            color = _color.FAILURE if match[1] == "Error:" else _color.WARNING
            return _color.paint(match[1], color, on=True)

        write_stderr(_HEADLINE.sub(headline, text.getvalue()).rstrip("\n"))
