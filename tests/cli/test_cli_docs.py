"""The CLI's documentation keeps up with the CLI: README examples, docs/cli.md reference."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from neon_keys.cli import ExitCode, cli

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = sorted(cli.commands)


def _section(text: str, heading: str) -> str:
    """The Markdown section under ``heading`` (up to the next heading of its level)."""
    start = text.index(heading)
    level = heading.split(" ", 1)[0]
    end = text.find(f"\n{level} ", start + len(heading))
    return text[start : end if end != -1 else None]


def _readme_cli() -> str:
    return _section((ROOT / "README.md").read_text(), "## The command line: `neon-keys`")


def _reference() -> str:
    return (ROOT / "docs" / "cli.md").read_text()


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_has_a_worked_example_of_each_command(command: str) -> None:
    """The README's command-line section runs every command in a console example."""
    assert re.search(rf"^\$ .*neon-keys {command}\b", _readme_cli(), re.MULTILINE), command


@pytest.mark.parametrize("sink", ["$(neon-keys create", "--save", "--dotenv", "--github-env"])
def test_readme_shows_create_with_each_sink(sink: str) -> None:
    """Each place a secret can go has a create example in the README."""
    examples = [line for line in _readme_cli().splitlines() if line.startswith("$ ")]
    assert any("create" in line and sink in line for line in examples), sink


@pytest.mark.parametrize("command", COMMANDS)
def test_reference_documents_each_command_and_its_json(command: str) -> None:
    """docs/cli.md has a section for every command and says what its JSON output is."""
    reference = _reference()
    assert re.search(rf"^## .*`neon-keys {command}`", reference, re.MULTILINE), command
    json_section = _section(reference, "## JSON output")
    assert f"| `{command}` |" in json_section or f"`{command}` prints" in json_section, command


def test_reference_lists_the_exit_codes() -> None:
    """The exit-code table of docs/cli.md has exactly the codes ExitCode defines."""
    table = _section(_reference(), "## Exit codes")
    documented = [int(code) for code in re.findall(r"^\| (\d+) \|", table, re.MULTILINE)]
    assert documented == [int(code) for code in ExitCode]
