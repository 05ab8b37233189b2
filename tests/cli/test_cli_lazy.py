"""Commands imported on first use: ``--help`` and completion list them all, import none.

``neon-keys``'s group knows its commands from a table (``neon_keys.cli._app.COMMANDS``) and
imports a command's module only when the command itself is needed. The table's summaries
give the one-line helps; these tests hold them to the commands, so the two cannot drift.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from neon_keys.cli import cli
from neon_keys.cli._app import COMMANDS
from neon_keys.cli._lazy_group import LazyCommand, LazyCommands, LazyGroup

WIDTHS = (50, 80, 120, 200)


def _command(entry: LazyCommand) -> click.Command:
    command = getattr(importlib.import_module(entry.module, "neon_keys.cli"), entry.attribute)
    assert isinstance(command, click.Command)
    return command


def test_the_table_holds_each_command_and_its_own_one_line_help() -> None:
    """Each entry names a visible command of that name whose one-line help, at any width,
    is the one the entry's summary gives."""
    for name, entry in COMMANDS.items():
        command = _command(entry)
        assert command.name == name and not command.hidden
        stand_in = click.Command(name, help=entry.summary)
        for limit in range(20, 161):
            assert stand_in.get_short_help_str(limit) == command.get_short_help_str(limit), (
                name,
                limit,
            )


def test_every_command_module_is_in_the_table() -> None:
    """Every click command defined at the top of a module of neon_keys.cli is reachable: the
    group's own table names it (a command left out would exist but never run)."""
    package = Path(importlib.import_module("neon_keys.cli").__file__ or "").parent
    tabled = {(entry.module, entry.attribute) for entry in COMMANDS.values()}
    found = set()
    for path in sorted(package.glob("_*.py")):
        if path.stem.startswith("__"):  # __init__, and __main__, which runs the program
            continue
        module = importlib.import_module(f".{path.stem}", "neon_keys.cli")
        for attribute, value in vars(module).items():
            defined_here = getattr(getattr(value, "callback", None), "__module__", None)
            if isinstance(value, click.Command) and defined_here == module.__name__:
                if value is cli or _is_subcommand(value):
                    continue
                found.add((f".{path.stem}", attribute))
    assert found == tabled


def _is_subcommand(command: click.Command) -> bool:
    """Whether ``command`` belongs to one of the program's groups (``sandbox start``)."""
    groups = [_command(entry) for entry in COMMANDS.values()]
    return any(
        isinstance(group, click.Group) and command in group.commands.values() for group in groups
    )


_PROBE = """
import json, sys
from click.testing import CliRunner
from neon_keys.cli import cli
from neon_keys.cli._app import COMMANDS

modules = sorted({"neon_keys.cli" + entry.module for entry in COMMANDS.values()})
helps = [CliRunner().invoke(cli, ["--help"], terminal_width=w).output for w in WIDTHS]
env = {"_NEON_KEYS_COMPLETE": "bash_complete", "COMP_WORDS": "neon-keys ", "COMP_CWORD": "1"}
completed = CliRunner().invoke(cli, [], prog_name="neon-keys", env=env).output
imported = [m for m in modules if m in sys.modules]
CliRunner().invoke(cli, ["whoami", "--help"])
by_whoami = [m for m in modules if m in sys.modules]
for name in list(cli.commands):
    cli.commands[name]
helps_loaded = [CliRunner().invoke(cli, ["--help"], terminal_width=w).output for w in WIDTHS]
completed_loaded = CliRunner().invoke(cli, [], prog_name="neon-keys", env=env).output
print(json.dumps({
    "imported": imported, "by_whoami": by_whoami, "same_help": helps == helps_loaded,
    "same_completion": completed == completed_loaded, "help": helps[1],
    "completed": completed,
}))
"""


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """What a fresh process imports for help and completion, and what they print."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEON_")}
    env.pop("COLUMNS", None)
    done = subprocess.run(
        [sys.executable, "-c", f"WIDTHS = {WIDTHS!r}\n" + textwrap.dedent(_PROBE)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
        cwd=tmp_path_factory.mktemp("probe"),
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_help_lists_every_command_without_importing_one(probe: dict[str, object]) -> None:
    """``neon-keys --help`` lists every command with its one-line help, imports no command
    module, and reads at every width exactly as it does once every command is imported."""
    assert probe["imported"] == []
    assert probe["same_help"] is True
    help_text = str(probe["help"])
    listed = help_text.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    assert [line.split()[0] for line in listed.splitlines()] == sorted(COMMANDS)


def test_completing_a_command_name_imports_no_command(probe: dict[str, object]) -> None:
    """A Tab after ``neon-keys`` offers every command with its one-line help, the same as
    with every command imported, and imports none."""
    assert probe["imported"] == []
    assert probe["same_completion"] is True
    offered = {line.split(",")[1] for line in str(probe["completed"]).splitlines() if line}
    assert set(COMMANDS) <= offered


def test_a_command_imports_its_own_module_only(probe: dict[str, object]) -> None:
    """``neon-keys whoami --help`` imports the module of ``whoami`` and no other command's."""
    assert probe["by_whoami"] == ["neon_keys.cli._identity"]


def test_each_command_shows_its_examples_once_imported() -> None:
    """A command's help ends with its examples however it was first looked up."""
    for name in COMMANDS:
        output = CliRunner().invoke(cli, [name, "--help"], terminal_width=100).output
        assert "Examples:" in output, name


def test_an_unknown_command_is_a_usage_error_with_a_suggestion() -> None:
    """A misspelt command exits 2 and suggests the command meant."""
    result = CliRunner().invoke(cli, ["lsit"])
    assert result.exit_code == 2
    assert "No such command 'lsit'" in result.output and "list" in result.output


# -- LazyCommands itself, on a package of the test's own --------------------------------------

_ONE = '''
import click

LOADS = []


@click.command()
def one() -> None:
    """Do one thing. Then more."""
'''


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A package ``lazypkg`` with a module ``_one`` defining the command ``one``."""
    (tmp_path / "lazypkg").mkdir()
    (tmp_path / "lazypkg" / "__init__.py").write_text("")
    (tmp_path / "lazypkg" / "_one.py").write_text(_ONE)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("lazypkg", "lazypkg._one"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    return "lazypkg"


def test_lazy_commands_import_a_module_on_first_lookup_only(package: str) -> None:
    """Names, length and membership import nothing; the first lookup imports the module
    and hands the command to on_load once; a later lookup returns the same command."""
    loaded: list[tuple[str, str]] = []
    commands = LazyCommands(
        {"one": LazyCommand("._one", "one", "Do one thing. Then more.")},
        package,
        on_load=lambda command, name: loaded.append((command.name or "", name)),
    )
    assert list(commands) == ["one"] and len(commands) == 1 and "one" in commands
    assert "two" not in commands and commands.get("two") is None
    assert commands.short_help("one") == "Do one thing."
    assert "lazypkg._one" not in sys.modules and not commands.is_loaded("one")
    first = commands["one"]
    assert "lazypkg._one" in sys.modules and loaded == [("one", "one")]
    assert commands["one"] is first and loaded == [("one", "one")]


def test_lazy_commands_take_added_commands_and_removals(package: str) -> None:
    """A command added as an object is kept and listed; a removed one is gone whole."""
    commands = LazyCommands({"one": LazyCommand("._one", "one", "Do one thing.")}, package)
    extra = click.Command("extra", help="Something else.", hidden=True)
    commands["extra"] = extra
    assert sorted(commands) == ["extra", "one"] and len(commands) == 2
    assert commands["extra"] is extra and commands.short_help("extra") is None
    del commands["one"]
    assert list(commands) == ["extra"] and "lazypkg._one" not in sys.modules
    with pytest.raises(KeyError):
        del commands["one"]
    with pytest.raises(KeyError):
        commands["one"]


def test_a_lazy_group_lists_a_hidden_command_as_click_does(package: str) -> None:
    """A hidden command, tabled or added, is left out of the group's help like click's."""
    group = LazyGroup("program", help="A program.")
    group.commands = LazyCommands(
        {"one": LazyCommand("._one", "one", "Do one thing. Then more.")}, package
    )
    group.add_command(click.Command("secret", hidden=True, help="Not shown."))
    output = CliRunner().invoke(group, ["--help"], terminal_width=80).output
    assert any(line.split() == ["one", "Do", "one", "thing."] for line in output.splitlines())
    assert "secret" not in output and "lazypkg._one" not in sys.modules
