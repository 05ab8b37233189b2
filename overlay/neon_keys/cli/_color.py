"""Colour on a terminal, for findings and failures only; never in a pipe, a file or a log.

Off when the stream is not a terminal, when ``NO_COLOR`` is set to anything but the empty
string (https://no-color.org), and when ``TERM`` is ``dumb``.
"""

from __future__ import annotations

import os
from typing import IO, Any

import click

NO_COLOR_ENV = "NO_COLOR"

FAILURE = "red"
"""The colour of an error, and of a key that failed to be revoked."""
WARNING = "yellow"
"""The colour of an audit finding, an interruption, a key not revoked as asked."""


def enabled(stream: IO[Any] | None) -> bool:
    """Whether text written to ``stream`` may carry colour."""
    if os.environ.get(NO_COLOR_ENV) or os.environ.get("TERM") == "dumb":
        return False
    return is_terminal(stream)


def is_terminal(stream: IO[Any] | None) -> bool:
    """Whether ``stream`` is a terminal (False for a closed or missing stream)."""
    try:
        return stream is not None and stream.isatty()
    except (ValueError, OSError):
        return False


def paint(text: str, color: str | None, *, on: bool) -> str:
    """``text`` in ``color`` (bold for failures) when ``on``; unchanged otherwise."""
    if not on or color is None or not text:
        return text
    return click.style(text, fg=color, bold=color == FAILURE)
