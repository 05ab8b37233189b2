"""Every console and python example of README.md and the site prints what its page shows."""

from __future__ import annotations

import ast
import shlex
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from doc_blocks import Example, Page, all_pages
from doc_runner import PageRun, python_names_exist
from doc_shell import ForkServer
from neon_keys.cli import cli

PAGES, FORMAT_ERRORS = all_pages()
RUNNABLE_PAGES = [
    page for page in PAGES if any(e.block.not_run_reason is None for e in page.examples())
]
NOT_RUN = [e for page in PAGES for e in page.examples() if e.block.not_run_reason is not None]


@pytest.fixture(scope="module")
def fork_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForkServer]:
    """The warm ``neon-keys`` the pages' shells run."""
    server = ForkServer(tmp_path_factory.mktemp("cli"))
    try:
        yield server
    finally:
        server.close()


def test_every_block_is_an_example_data_or_marked() -> None:
    """Each fenced block of every page is a runnable example, data, a file, or marked not run."""
    assert not FORMAT_ERRORS, "\n".join(FORMAT_ERRORS)
    assert len(PAGES) >= 10 and len(RUNNABLE_PAGES) >= 5


@pytest.mark.parametrize("page", RUNNABLE_PAGES, ids=lambda page: page.path)
def test_page_examples_print_what_the_page_shows(
    page: Page, tmp_path: Path, fork_server: ForkServer
) -> None:
    """The page's examples, run in order against the emulator, print what the page shows."""
    mismatches = PageRun(page, tmp_path, fork_server).run()
    assert not mismatches, "\n\n".join(str(mismatch) for mismatch in mismatches)


def _cli_words_problems(argv: list[str]) -> list[str]:
    """What is wrong with a ``neon-keys`` command line: an unknown command or option."""
    problems = []
    command: click.Command = cli
    options = {opt for param in cli.params for opt in (*param.opts, *param.secondary_opts)}
    group_options = set(options)
    for word in argv[1:]:
        if word.startswith("-") and word != "-":
            name = word.split("=", 1)[0]
            if name not in options and name not in group_options:
                problems.append(f"no option {name} for {command.name}")
        elif isinstance(command, click.Group) and word in command.commands:
            command = command.commands[word]
            options = {opt for param in command.params for opt in param.opts}
            options |= {opt for param in command.params for opt in param.secondary_opts}
    return problems


@pytest.mark.parametrize("example", NOT_RUN, ids=lambda example: example.block.where)
def test_examples_not_run_still_match_the_program(example: Example) -> None:
    """An example marked not run still names real commands, options and library names."""
    block = example.block
    if block.language == "python":
        ast.parse(block.body, block.where)
        assert not python_names_exist(block), block.where
        return
    for command in example.commands:
        for line in command.text.replace("\\\n", " ").split("|"):
            argv = shlex.split(line, comments=True)
            if argv and argv[0] == "neon-keys":
                assert not _cli_words_problems(argv), (block.where, command.text)
