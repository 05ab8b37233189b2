"""A click group whose commands are imported when first used. Strictly private.

``neon-keys --help`` lists every command with its one-line help, and ``neon-keys list``
needs ``list`` only: importing every command module for either (rotation, policy files,
the sandbox, their dependencies) is most of the program's start-up. The group's
``commands`` is a ``LazyCommands``: a mapping that knows each command's module, attribute
and summary from a table, and imports the module the first time the command itself is
looked up (to run it, show its own help, complete its options). Its help and the
completion of command names read the summaries instead, so they import nothing.

Everything that reads ``group.commands`` the way click documents it (``get_command``,
``list_commands``, iterating ``commands.items()`` as mkdocs-click does) sees every
command; ``tests/cli/test_cli_lazy.py`` holds the table to the commands themselves.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from gettext import gettext as _
from typing import TYPE_CHECKING, NamedTuple

import click

from neon_keys._lazy import FIRST_USE_IMPORTS

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

__all__ = ["LazyCommand", "LazyCommands", "LazyGroup"]


class LazyCommand(NamedTuple):
    """Where a command is defined, and what ``--help`` says of it before it is imported."""

    module: str
    """Its module, relative to the group's package (``"._list"``)."""
    attribute: str
    """The name of the ``click.Command`` in that module."""
    summary: str
    """The first paragraph of its help, from which click makes the one-line help."""


class LazyCommands(MutableMapping[str, click.Command]):
    """A group's commands by name; a command of ``table`` is imported on first lookup.

    Args:
        table: the commands to import on first use, by name, in no particular order.
        package: the package the modules of ``table`` are relative to.
        on_load: called with each command imported, and its name, before it is handed out
            (the program gives it its examples).

    Iterating, ``len`` and ``in`` import nothing; looking a command up imports its module
    once. Commands added as objects (``group.add_command``) are kept as they are.
    """

    def __init__(
        self,
        table: Mapping[str, LazyCommand],
        package: str,
        on_load: Callable[[click.Command, str], None] | None = None,
    ) -> None:
        self._table = dict(table)
        self._package = package
        self._on_load = on_load
        self._loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        command = self._loaded.get(name)
        if command is not None:
            return command
        entry = self._table[name]  # KeyError for an unknown name, as a dict's
        with FIRST_USE_IMPORTS:
            command = getattr(importlib.import_module(entry.module, self._package), entry.attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{entry.module}.{entry.attribute} is not a click command")
        if self._on_load is not None:
            self._on_load(command, name)
        self._loaded[name] = command
        return command

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self._table.pop(name, None)
        self._loaded.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        yield from self._table
        yield from (name for name in self._loaded if name not in self._table)

    def __len__(self) -> int:
        return len(self._table.keys() | self._loaded.keys())

    def __contains__(self, name: object) -> bool:
        return name in self._table or name in self._loaded

    def is_loaded(self, name: str) -> bool:
        """Whether ``name``'s module was imported (or the command added as an object)."""
        return name in self._loaded

    def short_help(self, name: str, limit: int = 45) -> str | None:
        """The one-line help of ``name`` within ``limit`` characters, as click makes it
        (None for a hidden command); from the table while the command is not imported."""
        command = self._loaded.get(name)
        if command is None:
            # A bare command with the same help: click shortens it as it would the real one.
            command = click.Command(name, help=self._table[name].summary)
        return None if command.hidden else command.get_short_help_str(limit)


class LazyGroup(click.Group):
    """A group that lists its commands, in its help and in shell completion, without
    importing them when its ``commands`` is a ``LazyCommands``."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The ``Commands:`` section, as click writes it, from the commands' summaries."""
        commands = self.commands
        if not isinstance(commands, LazyCommands):
            super().format_commands(ctx, formatter)
            return
        names = self.list_commands(ctx)
        visible = [name for name in names if commands.short_help(name) is not None]
        if not visible:
            return
        # click's own layout: three times the default spacing after the longest name.
        limit = formatter.width - 6 - max(len(name) for name in visible)
        rows = [(name, commands.short_help(name, limit) or "") for name in visible]
        with formatter.section(_("Commands")):  # click's heading, translated as click does
            formatter.write_dl(rows)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        """Command names starting with ``incomplete`` with their one-line help, then what
        click completes for the group's own options."""
        commands = self.commands
        if not isinstance(commands, LazyCommands):
            return super().shell_complete(ctx, incomplete)
        from click.shell_completion import CompletionItem  # noqa: PLC0415  (as click does)

        results = [
            CompletionItem(name, help=text)
            for name in self.list_commands(ctx)
            if name.startswith(incomplete) and (text := commands.short_help(name)) is not None
        ]
        # What click.Group adds after the command names: the group's own parameters.
        results.extend(click.Command.shell_complete(self, ctx, incomplete))
        return results
