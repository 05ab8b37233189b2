"""Editing one variable of a dotenv file, as python-dotenv reads the file.

python-dotenv's parser cuts the text into bindings, each with its exact original text: a
quoted value spanning several lines is one binding, a comment or a line it cannot read is
kept as it is. ``set_variable`` rewrites the first binding of the variable, drops the later
ones, and keeps every other byte; then it reads its own result back, and refuses to return
a text that python-dotenv would read differently from what was meant.
"""

from __future__ import annotations

import io
import re

from dotenv.parser import Binding, parse_stream

BOM = "\ufeff"

_BARE = re.compile(r"[A-Za-z0-9_\-.:/+@%,]+")
"""Values written without quotes: nothing python-dotenv (or a shell) would read differently."""

_BLANK_LINES = re.compile(r"(?:[^\S\r\n]*(?:\r\n|\n|\r))*")
_EXPORT = re.compile(r"\s*export[^\S\r\n]+")
_LINE_END = re.compile(r"(\r\n|\n|\r)$")


class DotenvError(ValueError):
    """The file cannot be edited so that python-dotenv reads back exactly what was meant."""


def quote(value: str) -> str:
    """``value`` as a dotenv value: bare when safe, else single-quoted with ``\\`` and ``'``
    escaped (which python-dotenv decodes, and which leaves ``$``, ``#`` and spaces alone)."""
    if _BARE.fullmatch(value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def read_values(text: str) -> dict[str, str | None]:
    """The variables of a dotenv text as python-dotenv reads them, without interpolation.

    A name with no ``=`` maps to None; of repeated names the last one counts.
    """
    return {b.key: b.value for b in _bindings(text) if b.key is not None}


def set_variable(text: str, name: str, value: str) -> str:
    """``text`` with exactly one assignment of ``name``, set to ``value``.

    The first assignment (``NAME=...``, ``export NAME=...``, ``NAME`` alone) is replaced in
    place, keeping ``export``, the blank lines before it and its line ending; later ones are
    removed; with none, the line is appended after a completed last line. Raises
    ``DotenvError`` if python-dotenv would not read the result as ``text`` with ``name`` set
    to ``value``.
    """
    bom = BOM if text.startswith(BOM) else ""
    assignment = f"{name}={quote(value)}"
    parts = [bom]
    found = False
    for binding in _bindings(text):
        original = binding.original.string
        if binding.key != name:
            parts.append(original)
            continue
        blank = _BLANK_LINES.match(original)
        kept = blank.group() if blank else ""
        if found:
            parts.append(kept)
            continue
        found = True
        export = "export " if _EXPORT.match(original) else ""
        end = _LINE_END.search(original)
        parts.append(f"{kept}{export}{assignment}{end.group(1) if end else ''}")
    if not found:
        if len("".join(parts)) > len(bom) and not parts[-1].endswith(("\n", "\r")):
            parts.append("\n")
        parts.append(assignment + "\n")
    result = "".join(parts)
    expected = read_values(text)
    expected[name] = value
    if read_values(result) != expected:
        raise DotenvError(
            f"python-dotenv would not read {name} back as written (an unterminated quote "
            "earlier in the file, say)"
        )
    return result


def _bindings(text: str) -> list[Binding]:
    # python-dotenv drops a leading byte-order mark; set_variable puts it back.
    return list(parse_stream(io.StringIO(text)))
