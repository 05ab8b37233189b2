"""Colour: findings and failures stand out on a terminal, and nowhere else."""

from __future__ import annotations

import os
import re

import click
import pytest
from cli_support import Neon
from neon_keys.cli import _color
from neon_keys.testing import Fault

ANSI = re.compile(r"\x1b\[[0-9;]*m")
RED = click.style("Error:", fg="red", bold=True)
YELLOW = "\x1b[33m"


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """stdout and stderr are terminals, colour is not switched off."""
    monkeypatch.setattr(_color, "is_terminal", lambda _stream: True)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")


def _audit_scene(neon: Neon) -> None:
    neon.world.issue_personal_key(neon.world.seed.admin_id, "idle")


@pytest.mark.usefixtures("terminal")
def test_an_error_is_red_on_a_terminal(neon: Neon) -> None:
    """The ``Error:`` of a failure is red and bold on a terminal; the message is unchanged."""
    result = neon("list", env={"NEON_API_KEY": None})
    assert result.exit_code == 3
    assert result.stderr.startswith(RED + " no Neon API key")
    assert ANSI.sub("", result.stderr).startswith("Error: no Neon API key")


@pytest.mark.usefixtures("terminal")
def test_findings_are_yellow_and_the_table_keeps_its_columns(neon: Neon) -> None:
    """Audit findings are yellow on a terminal; without the colour the table is the same."""
    _audit_scene(neon)
    coloured = neon("audit", "--min-age", "0s")
    assert YELLOW in coloured.stdout and "never used" in coloured.stdout
    assert YELLOW in coloured.stderr  # "1 of 2 keys flagged."
    plain = neon("audit", "--min-age", "0s", env={"NO_COLOR": "1"})
    assert ANSI.sub("", coloured.stdout) == plain.stdout
    assert "\x1b" not in plain.stdout + plain.stderr


@pytest.mark.usefixtures("terminal")
def test_only_failed_revocations_are_coloured(neon: Neon) -> None:
    """In a revoke table the failures stand out; a revoked key is plain."""
    neon.world.issue_personal_key(neon.world.seed.admin_id, "a")
    key_id = neon.personal_ids()[-1]
    result = neon("revoke", str(key_id), "999999", "--yes")
    revoked, missing = result.stdout.splitlines()[1:]
    assert "\x1b" not in revoked
    assert YELLOW in missing and "already gone (not found)" in ANSI.sub("", missing)
    neon.world.faults.inject("revokeApiKey", Fault.status(500))
    neon.world.issue_personal_key(neon.world.seed.admin_id, "b")
    failed = neon("revoke", str(neon.personal_ids()[-1]), "--yes").stdout.splitlines()[1]
    assert "\x1b[31m" in failed and "failed:" in failed


@pytest.mark.parametrize(
    ("env", "coloured"),
    [
        ({"NO_COLOR": "1"}, False),
        ({"NO_COLOR": "anything"}, False),
        ({"NO_COLOR": ""}, True),  # set but empty: no-color.org says it does not count
        ({"TERM": "dumb"}, False),
        ({}, True),
    ],
)
@pytest.mark.usefixtures("terminal")
def test_no_color_and_a_dumb_terminal_switch_colour_off(
    neon: Neon, env: dict[str, str | None], coloured: bool
) -> None:
    """NO_COLOR (when not empty) and TERM=dumb turn colour off even on a terminal."""
    _audit_scene(neon)
    result = neon("audit", "--min-age", "0s", "--fail-on-findings", env=env)
    assert ("\x1b" in result.stdout + result.stderr) is coloured


def test_off_a_terminal_there_is_no_colour(neon: Neon) -> None:
    """In a pipe or a file (the test's streams), nothing is coloured."""
    _audit_scene(neon)
    result = neon("audit", "--min-age", "0s", "--fail-on-findings")
    assert result.exit_code == 1 and "\x1b" not in result.stdout + result.stderr


@pytest.mark.usefixtures("terminal")
def test_json_is_never_coloured(neon: Neon) -> None:
    """JSON output and JSON errors carry no colour, even on a terminal."""
    _audit_scene(neon)
    result = neon("-o", "json", "audit", "--min-age", "0s", "--fail-on-findings")
    assert result.exit_code == 1 and "\x1b" not in result.stdout + result.stderr


def test_a_pseudo_terminal_is_a_terminal_and_a_pipe_is_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The terminal test itself: true for a pty, false for a pipe and a closed stream."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    leader, follower = os.openpty()
    read, write = os.pipe()
    with os.fdopen(follower, "w") as tty, os.fdopen(write, "w") as pipe:
        assert _color.enabled(tty)
        assert not _color.enabled(pipe)
    assert not _color.enabled(tty)  # closed
    assert not _color.enabled(None)
    os.close(leader)
    os.close(read)
