"""The examples at the end of every command's ``--help`` run, as shown, in a sandbox.

The examples are read back from the help text itself (what a reader sees is what runs),
then typed, in order, into a shell whose sandbox holds the keys the examples name (see
``neon_keys.cli._examples``). Each must end with status 0, or the status its ``# exits N``
says, without a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from doc_shell import ForkServer, Shell
from neon_keys.cli import cli
from neon_keys.cli._examples import EXAMPLES, ORG, PROJECT, walk

PRELUDE = [
    ('eval "$(neon-keys sandbox start)"', ""),
    ("neon-keys create ci --save ci.token", 'personal key 100003 "ci"'),
    (f"neon-keys create deploy --org {ORG} --save deploy.token", 'org key 100004 "deploy"'),
    (
        f"neon-keys create preview --org {ORG} --project {PROJECT} --save preview.token",
        'project key 100005 "preview"',
    ),
    ("neon-keys create ci-nightly --save nightly.token", 'personal key 100006 "ci-nightly"'),
]
"""The sandbox and keys the examples are written for, with what each step must print."""

STARTS_ITS_OWN = frozenset({"", "sandbox", "sandbox start"})
"""Commands whose examples start the sandbox themselves."""

_EXITS = re.compile(r"\s+# exits (\d+)$")


@dataclass(frozen=True)
class Example:
    """One command of a help text's examples, and the status it ends with."""

    command: str
    status: int


def help_examples(path: str) -> list[Example]:
    """The examples of ``neon-keys PATH --help``, read from the help text."""
    result = CliRunner().invoke(cli, [*path.split(), "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "Examples:" in text, f"neon-keys {path} --help has no examples"
    examples: list[Example] = []
    pending: list[str] = []
    for line in text.split("Examples:", 1)[1].splitlines():
        stripped = line.strip()
        if pending:
            pending.append(stripped)
        elif stripped.startswith("$ "):
            pending = [stripped[2:]]
        if pending and not pending[-1].endswith("\\"):
            command = "\n".join(pending)
            exits = _EXITS.search(command)
            status = int(exits[1]) if exits else 0
            examples.append(Example(_EXITS.sub("", command), status))
            pending = []
    assert not pending, f"neon-keys {path} --help: an example ends in a continuation"
    return examples


PATHS = ["", *(path for path, _ in walk(cli))]


def test_every_command_has_examples() -> None:
    """The program, every command and subcommand have examples, and every example is of a
    command."""
    assert sorted(EXAMPLES) == sorted(PATHS)


@pytest.fixture(scope="module")
def fork_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForkServer]:
    """The warm ``neon-keys`` the shells run."""
    server = ForkServer(tmp_path_factory.mktemp("cli"))
    try:
        yield server
    finally:
        server.close()


@pytest.mark.parametrize("path", sorted(EXAMPLES), ids=lambda path: path or "neon-keys")
def test_help_examples_run_as_shown(path: str, tmp_path: Path, fork_server: ForkServer) -> None:
    """``neon-keys PATH --help``'s examples, typed in order, end as they say."""
    examples = help_examples(path)
    assert examples
    shell = Shell(tmp_path, fork_server)
    try:
        if path not in STARTS_ITS_OWN:
            for command, printed in PRELUDE:
                done = shell.run(command)
                assert done.status == 0 and printed in done.output, (command, done.output)
        for example in examples:
            done = shell.run(example.command)
            where = f"neon-keys {path} --help: $ {example.command}\n{done.output}"
            assert done.status == example.status, where
            assert "Traceback" not in done.output, where
            if example.status == 0:
                assert "Error:" not in done.output, where
    finally:
        shell.run("neon-keys sandbox stop >/dev/null 2>&1")
        shell.close()
