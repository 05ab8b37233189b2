"""The command line's pages keep up with the command line itself."""

from __future__ import annotations

import re

import pytest
from doc_blocks import ROOT, all_pages
from neon_keys.cli import ExitCode, cli

COMMANDS = sorted(cli.commands)
PAGES, _ = all_pages()
#: Every command line the examples test runs, across README and the site.
RUN_COMMANDS = [
    command.text
    for page in PAGES
    for example in page.examples()
    if example.block.not_run_reason is None
    for command in example.commands
]


def _section(text: str, heading: str) -> str:
    """The Markdown section under ``heading`` (up to the next heading of its level)."""
    start = text.index(heading)
    level = heading.split(" ", 1)[0]
    end = text.find(f"\n{level} ", start + len(heading))
    return text[start : end if end != -1 else None]


def _reference() -> str:
    return (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_an_example_that_runs(command: str) -> None:
    """Every command appears in a console example the examples test runs."""
    pattern = re.compile(rf"neon-keys(?: -o json| --output json)? {command}\b")
    assert any(pattern.search(text) for text in RUN_COMMANDS), command


@pytest.mark.parametrize("sink", ["$(neon-keys create", "--save", "--dotenv", "--github-env"])
def test_each_place_a_secret_can_go_has_a_create_example_that_runs(sink: str) -> None:
    """Each sink of ``create`` is shown by a console example the examples test runs."""
    assert any("create" in text and sink in text for text in RUN_COMMANDS), sink


@pytest.mark.parametrize("command", COMMANDS)
def test_the_cli_page_documents_each_command_and_its_json(command: str) -> None:
    """docs/cli.md has a section for every command and says what its JSON output is."""
    reference = _reference()
    assert re.search(rf"^## .*`neon-keys {command}`", reference, re.MULTILINE), command
    json_section = _section(reference, "## JSON output")
    assert f"| `{command}` |" in json_section or f"`{command}` prints" in json_section, command


def test_the_cli_page_lists_the_exit_codes() -> None:
    """The exit-code table of docs/cli.md has exactly the codes ExitCode defines."""
    table = _section(_reference(), "## Exit codes")
    documented = [int(code) for code in re.findall(r"^\| (\d+) \|", table, re.MULTILINE)]
    assert documented == [int(code) for code in ExitCode]
