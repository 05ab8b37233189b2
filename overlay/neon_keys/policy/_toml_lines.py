"""Where each key of a TOML document is written: the line numbers ``tomllib`` does not give.

``tomllib`` is the parser: it decides whether a document is valid and what it holds. This
module only reads a document ``tomllib`` has accepted a second time, to note the line on
which each key, table header and array element starts, so that an error about a value can
name its line. It follows the grammar of TOML 1.0 as far as positions need: table headers
(``[a.b]``), arrays of tables (``[[keys]]``, numbered from 0 in order), dotted and quoted
keys, inline tables, arrays spread over lines, every kind of string (a ``]``, ``=`` or
``#`` inside one is text), and comments.

A path is a tuple of keys and array indices, as the parsed document is reached:
``("keys", 2, "deliver", 0)`` is the first command of the third ``[[keys]]``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping

__all__ = ["Path", "line_of", "locate"]

Path = tuple[str | int, ...]
"""A place in a parsed document: keys and array indices, from the top."""

_BARE_KEY = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_SPACE = " \t"
_VALUE_END = ",]}#\n\r"


def locate(text: str) -> dict[Path, int]:
    """The line (from 1) on which every key, table and array element of ``text`` starts.

    ``text`` must be a document ``tomllib.loads`` accepts; what this returns for any other
    text is unspecified (it never raises for want of a closing bracket).
    """
    return _Scanner(text).scan()


def line_of(lines: Mapping[Path, int], path: Path) -> int:
    """The line of ``path``, or of the nearest enclosing place that has one (else 1).

    A value that is missing has no line: its table's header (or the first line) stands in.
    """
    for end in range(len(path), 0, -1):
        line = lines.get(path[:end])
        if line is not None:
            return line
    return 1


class _Scanner:
    """One pass over a valid document. Strictly private."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.lines: dict[Path, int] = {}
        self.last_index: dict[Path, int] = {}
        """For each array of tables (by its resolved path), the index of its latest table."""

    # -- characters ------------------------------------------------------------------------

    def peek(self, offset: int = 0) -> str:
        index = self.pos + offset
        return self.text[index] if index < len(self.text) else ""

    def advance(self, count: int = 1) -> None:
        end = min(self.pos + count, len(self.text))
        self.line += self.text.count("\n", self.pos, end)
        self.pos = end

    def skip_spaces(self) -> None:
        while self.peek() and self.peek() in _SPACE:
            self.pos += 1

    def skip_comment(self) -> None:
        if self.peek() == "#":
            end = self.text.find("\n", self.pos)
            self.pos = len(self.text) if end == -1 else end

    def skip_blank(self) -> None:
        """Spaces, comments and line breaks (between statements, or inside an array)."""
        while True:
            self.skip_spaces()
            self.skip_comment()
            if self.peek() in ("\n", "\r") and self.peek():
                self.advance()
                continue
            return

    # -- the document ----------------------------------------------------------------------

    def scan(self) -> dict[Path, int]:
        table: Path = ()
        while True:
            self.skip_blank()
            if not self.peek():
                return self.lines
            if self.peek() == "[":
                table = self.header()
            else:
                self.key_value(table)
            self.skip_spaces()
            self.skip_comment()

    def header(self) -> Path:
        """A ``[table]`` or ``[[array]]`` header; the path of the table it opens."""
        line = self.line
        array = self.peek(1) == "["
        self.advance(2 if array else 1)
        keys = self.key()
        self.skip_spaces()
        self.advance(2 if array else 1)
        path = (*self.resolve(keys[:-1]), keys[-1])
        if path not in self.lines:
            self.lines[path] = line
        if not array:
            return self.resolve(keys)
        index = self.last_index.get(path, -1) + 1
        self.last_index[path] = index
        self.lines[(*path, index)] = line
        return (*path, index)

    def resolve(self, keys: tuple[str, ...]) -> Path:
        """``keys`` as a path, each array of tables taken at its latest table."""
        path: Path = ()
        for key in keys:
            path = (*path, key)
            index = self.last_index.get(path)
            if index is not None:
                path = (*path, index)
        return path

    def key_value(self, table: Path) -> None:
        line = self.line
        keys = self.key()
        path = table
        for key in keys:
            path = (*path, key)
            self.lines.setdefault(path, line)
        self.skip_spaces()
        self.advance()  # "="
        self.skip_spaces()
        self.value(path)

    def key(self) -> tuple[str, ...]:
        """A key, dotted or not, each part unquoted."""
        parts = []
        while True:
            self.skip_spaces()
            parts.append(self.simple_key())
            self.skip_spaces()
            if self.peek() != ".":
                return tuple(parts)
            self.advance()

    def simple_key(self) -> str:
        char = self.peek()
        if char in ('"', "'"):
            start = self.pos
            self.string()
            # The key's own text, unescaped by tomllib itself.
            value: str = tomllib.loads("k = " + self.text[start : self.pos])["k"]
            return value
        start = self.pos
        while self.peek() and self.peek() in _BARE_KEY:
            self.pos += 1
        return self.text[start : self.pos]

    # -- values ----------------------------------------------------------------------------

    def value(self, path: Path) -> None:
        char = self.peek()
        if char in ('"', "'"):
            self.string()
        elif char == "[":
            self.array(path)
        elif char == "{":
            self.inline_table(path)
        else:  # a number, a boolean, a date or time (which may hold one space)
            while self.peek() and self.peek() not in _VALUE_END:
                self.pos += 1

    def string(self) -> None:
        quote = self.peek()
        if self.text.startswith(quote * 3, self.pos):
            self.advance(3)
            closing = quote * 3
            while self.pos < len(self.text):
                if quote == '"' and self.peek() == "\\":
                    self.advance(2)
                elif self.text.startswith(closing, self.pos):
                    self.advance(3)
                    # Up to two more quotes may end the content ("""a""""" is 'a""').
                    while self.peek() == quote:
                        self.advance()
                    return
                else:
                    self.advance()
            return
        self.advance()
        while self.pos < len(self.text) and self.peek() != quote:
            self.advance(2 if quote == '"' and self.peek() == "\\" else 1)
        self.advance()

    def array(self, path: Path) -> None:
        self.advance()  # "["
        index = 0
        while True:
            self.skip_blank()
            if self.peek() in ("]", ""):
                self.advance()
                return
            self.lines[(*path, index)] = self.line
            self.value((*path, index))
            index += 1
            self.skip_blank()
            if self.peek() == ",":
                self.advance()

    def inline_table(self, path: Path) -> None:
        self.advance()  # "{"
        while True:
            self.skip_spaces()
            if self.peek() in ("}", ""):
                self.advance()
                return
            self.key_value(path)
            self.skip_spaces()
            if self.peek() == ",":
                self.advance()
