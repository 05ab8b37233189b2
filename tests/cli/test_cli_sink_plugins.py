"""Sinks from other packages: the entry-point group ``neon_keys.sinks``, in Python and as
``--deliver NAME:ARG``.

Each test installs a small plug-in package under ``tmp_path`` (a module and its
``.dist-info`` with ``entry_points.txt``) and puts it on ``sys.path``, as pip would.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from cli_support import Neon
from neon_keys import SinkError, load_sink

PLUGIN = '''
from neon_keys import SinkError


class MemoSink:
    """Writes the token to the file named by its argument."""

    def __init__(self, argument):
        self.path = argument
        self.target = f"memo:{argument}"

    def check(self):
        if self.path.endswith("refuse"):
            raise SinkError("memo refuses this path", target=self.target)

    def deliver(self, secret):
        with open(self.path, "w") as file:
            file.write(secret.reveal())


def broken(argument):
    raise RuntimeError("the plug-in is broken")


def not_a_sink(argument):
    return 42
'''

ENTRY_POINTS = """
[neon_keys.sinks]
memo = acme_sinks:MemoSink
broken = acme_sinks:broken
junk = acme_sinks:not_a_sink
"""


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The package ``acme-sinks`` installed under ``tmp_path``; returns its folder."""
    site = tmp_path / "site"
    info = site / "acme_sinks-1.0.dist-info"
    info.mkdir(parents=True)
    (site / "acme_sinks.py").write_text(PLUGIN)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-sinks\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(ENTRY_POINTS))
    monkeypatch.syspath_prepend(str(site))
    return site


def test_load_sink_makes_the_plugin_sink(plugin: Path, tmp_path: Path) -> None:
    """load_sink finds the entry point by name and hands it the argument."""
    sink = load_sink("memo", str(tmp_path / "held"))
    assert sink.target == f"memo:{tmp_path / 'held'}"


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("nope", "no sink named 'nope' in neon_keys.sinks (offered: broken, junk, memo)"),
        ("broken", "the plug-in is broken"),
        ("junk", "did not return a Sink"),
    ],
)
def test_load_sink_refuses_what_is_not_a_working_sink(plugin: Path, name: str, says: str) -> None:
    """An unknown name, a factory that fails and one that returns no Sink are SinkErrors."""
    with pytest.raises(SinkError) as refused:
        load_sink(name, "x")
    assert says in str(refused.value)


def test_rotate_delivers_through_a_plugin(neon: Neon, plugin: Path, tmp_path: Path) -> None:
    """rotate --deliver memo:FILE gives the new secret to the plug-in's sink, with the others."""
    token = neon.world.issue_personal_key(neon.world.seed.admin_id, "deploy")
    old = neon.world.key_for_token(token)
    assert old is not None
    held, saved = tmp_path / "held", tmp_path / "saved"
    result = neon(
        "rotate", str(old.id), "--grace", "1h", "--save", str(saved), "--deliver", f"memo:{held}"
    )
    assert result.exit_code == 0, result.stderr
    new = neon.world.key_for_token(held.read_text())
    assert new is not None and new.name == "deploy" and new.id != old.id
    assert saved.read_text().strip() == held.read_text()
    assert f"memo:{held}" in result.stdout


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("nope:x", "no sink named 'nope'"),
        ("broken:x", "the plug-in is broken"),
        ("memo:refuse", "memo refuses this path"),
    ],
)
def test_a_plugin_that_cannot_deliver_stops_create_before_any_request(
    neon: Neon, plugin: Path, spec: str, says: str
) -> None:
    """A plug-in that is missing, fails to load or refuses at check: exit 2, nothing sent."""
    result = neon("create", "ci", "--deliver", spec)
    assert result.exit_code == 2, result.stderr
    assert says in result.stderr and "no key was created" in result.stderr
    assert len(neon.world.log) == 0
