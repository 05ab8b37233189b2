"""Property test: whatever arguments ``neon-keys`` is given, it ends with a documented exit code.

Argument lists are drawn from the real vocabulary (commands, options, choices, the seeded
ids, valid and invalid names and ids, numbers) mixed with junk strings. Each list runs in
process against a fresh emulated world reached through an in-process transport, so
nothing can reach the network whatever ``--api-host`` says, in a temporary folder, with
``GITHUB_ENV`` pointing into it. ``sandbox`` is stubbed so it returns instead of serving.

A run may fail, as long as it fails the documented way: exit 0, 1, 2 or 3, no uncaught
exception, no "unexpected error" (the CLI's catch-all for bugs), no traceback without
``--verbose``, and never the caller's API key in the output.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from unittest import mock

import httpx
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from neon_keys import Backoff
from neon_keys.cli import ExitCode, _sandbox, cli
from neon_keys.cli._session import Session
from neon_keys.testing import EmulatorTransport, World

EXAMPLES = 500
"""Argument lists tried per run."""

COMMANDS = ["list", "create", "revoke", "rotate", "audit", "whoami", "orgs", "sandbox"]
GLOBAL_OPTIONS = ["--api-key", "--api-host", "--output", "-o", "--verbose", "-v", "--version"]
COMMAND_OPTIONS = [
    "--org", "--project", "--kind", "--unused-days", "--name", "--yes", "-y", "--missing-ok",
    "--save", "--force", "--dotenv", "--var", "--github-env", "--revoke", "--fail-on-findings",
    "--port", "--help", "-h", "--", "-",
]  # fmt: skip
VALUES = [
    "table", "json", "personal", "org", "project", "ci", "deploy", "x" * 64, "x" * 65, "",
    " ", "ключ", "a\nb", "0", "1", "-1", "7", "100001", "100002", "100003", "99999999999999999999",
    "org-cool-breeze-12345678", "summer-haze-17190561", "Org_Upper", "o" * 61, "org-missing-1",
    "k", "secret.txt", ".env", "out/k", "NEON_API_KEY", "1BAD", "napi_" + "w" * 60,
    "https://console.neon.tech/api/v2", "http://neon.example.test/api/v2", "ftp://x",
    "http://127.0.0.1/api/v2", "*", "c?", "[", "30", "65536",
]  # fmt: skip
"""Values the options take, good and bad. No absolute path and no '..': files stay put."""

junk = st.text(
    alphabet=st.characters(blacklist_characters="/\\\x00", blacklist_categories=("Cs",)),
    max_size=12,
).filter(lambda text: ".." not in text and not text.startswith("~"))

tokens = st.one_of(
    st.sampled_from(COMMANDS),
    st.sampled_from(GLOBAL_OPTIONS),
    st.sampled_from(COMMAND_OPTIONS),
    st.sampled_from(VALUES),
    st.integers(min_value=-(2**64), max_value=2**64).map(str),
    junk,
)
noise = st.lists(tokens, max_size=8)
"""Anything at all, from the vocabulary or not."""

Choices = tuple[list[str], list[str]]
"""Values an argument takes: good ones, and bad ones (drawn one time in eight)."""

NAMES: Choices = (["ci", "deploy", "seed-admin", "x" * 64, "ключ"], ["", "x" * 65, "a\nb"])
IDS: Choices = (["100001", "100002", "100003", "7"], ["0", "-1", "abc", "99999999999999999999"])
OPTION_VALUES: dict[str, Choices] = {
    "--org": (["org-cool-breeze-12345678"], ["Org_Upper", "org-missing-1"]),
    "--project": (["summer-haze-17190561"], ["project-missing-1", ""]),
    "--kind": (["personal", "org", "project"], ["bogus"]),
    "--unused-days": (["1", "90"], ["0", "x"]),
    "--name": (["ci", "seed-*", "*"], ["", "["]),
    "--save": (["k", "out/k", "secret.txt"], [".", ""]),
    "--dotenv": ([".env", "k"], ["."]),
    "--var": (["NEON_API_KEY", "OTHER"], ["1BAD", ""]),
    "--port": (["0"], ["65536", "x"]),
}
GLOBAL_VALUES: dict[str, Choices] = {
    "--output": (["json", "table"], ["xml"]),
    "-o": (["json", "table"], [""]),
    "--api-key": ([], ["napi_" + "w" * 60, "", "two words"]),
    "--api-host": (
        ["https://console.neon.tech/api/v2", "http://127.0.0.1/api/v2"],
        ["http://neon.example.test/api/v2", "ftp://x"],
    ),
}
FLAGS = ["--yes", "-y", "--missing-ok", "--force", "--github-env", "--revoke"]
FLAGS += ["--fail-on-findings", "--help"]
OPTIONS_OF = {
    "list": ["--org", "--kind", "--unused-days", "--name"],
    "create": ["--org", "--project", "--save", "--force", "--dotenv", "--var", "--github-env"],
    "revoke": ["--org", "--yes", "--yes", "-y", "--missing-ok"],
    "rotate": ["--org", "--name", "--save", "--force", "--dotenv", "--var", "--github-env"],
    "audit": ["--org", "--unused-days", "--revoke", "--yes", "-y", "--fail-on-findings"],
    "whoami": ["--help"],
    "orgs": ["--help"],
    "sandbox": ["--port"],
}
ARGUMENTS_OF = {"create": (NAMES, 1), "revoke": (IDS, 2), "rotate": (IDS, 1)}
"""Positional arguments of a command: their values, and how many it usually takes."""


def _value(choices: Choices) -> st.SearchStrategy[str]:
    good, bad = choices
    if not good:
        return st.sampled_from(bad)
    return st.integers(0, 7).flatmap(lambda n: st.sampled_from(good if n else bad))


def _option(name: str, table: dict[str, Choices]) -> st.SearchStrategy[list[str]]:
    choices = table.get(name)
    if choices is None:
        return st.just([name])
    return _value(choices).map(lambda value: [name, value])


@st.composite
def plausible(draw: st.DrawFn) -> list[str]:
    """A command line shaped like a real one, with some of it wrong now and then."""
    line: list[str] = []
    for _ in range(draw(st.integers(0, 2))):
        name = draw(st.sampled_from([*sorted(GLOBAL_VALUES), "--verbose"]))
        line += draw(_option(name, GLOBAL_VALUES))
    command = draw(st.sampled_from(COMMANDS))
    line.append(command)
    values, usual = ARGUMENTS_OF.get(command, (IDS, 0))
    count = usual if draw(st.integers(0, 7)) else draw(st.sampled_from([usual + 1, usual - 1]))
    count = max(0, count)
    line += [draw(_value(values)) for _ in range(count)]
    own = OPTIONS_OF[command]
    anything = sorted(OPTION_VALUES) + FLAGS
    for _ in range(draw(st.integers(0, 3))):
        mine = draw(st.integers(0, 9)) > 0
        name = draw(st.sampled_from(own if mine else anything))
        line += draw(_option(name, OPTION_VALUES))
    if draw(st.integers(0, 7)) == 0:
        line.insert(draw(st.integers(0, len(line))), draw(tokens))
    return line


command_lines = st.one_of(noise, plausible(), plausible())
"""Noise, and twice as often plausible command lines (which get past the parser)."""


class Offline:
    """An httpx client whose only way out is an in-process emulator, and that emulator."""

    def __init__(self) -> None:
        self.transport = EmulatorTransport(World.seeded())
        self.http = httpx.Client(transport=self.transport)

    def fresh_world(self) -> World:
        """Serve a newly seeded world from now on, and return it."""
        self.transport.app.world = World.seeded()
        return self.transport.app.world


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[Offline]:
    """The in-process emulator the CLI talks to; ``sandbox`` returns instead of serving."""
    # Checked against serve's real signature, so the stub cannot drift from it.
    monkeypatch.setattr(_sandbox, "serve", mock.create_autospec(_sandbox.serve))
    setup = Offline()
    with setup.http:
        yield setup


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(args=command_lines)
def test_any_arguments_end_in_a_documented_exit_code(offline: Offline, args: list[str]) -> None:
    """Random command lines never crash: a documented exit code, no traceback, no key shown."""
    world = offline.fresh_world()
    options = {"backoff": Backoff.immediate(), "http_client": offline.http}
    session = Session(client_options=options)
    with tempfile.TemporaryDirectory() as folder, contextlib.chdir(folder):
        result = CliRunner().invoke(
            cli,
            args,
            obj=session,
            env={
                "NEON_API_KEY": world.seed.admin_token,
                "NEON_API_HOST": None,
                "GITHUB_ENV": "github_env",
            },
            catch_exceptions=True,
        )
    output = result.stdout + result.stderr
    event(f"exit {result.exit_code}")
    event("sent requests" if len(world.log) else "sent nothing")
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        args,
        result.exception,
    )
    assert result.exit_code in {int(code) for code in ExitCode}, (args, output)
    assert "unexpected error" not in result.stderr, (args, output)
    if not session.verbose:
        assert "Traceback" not in output, (args, output)
    assert world.seed.admin_token not in output, args
