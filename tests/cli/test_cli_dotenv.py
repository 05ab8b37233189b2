"""``--dotenv``: the file is edited as python-dotenv reads it, and read back the same way."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest
from cli_support import Neon, mode
from dotenv import dotenv_values
from dotenv.parser import parse_stream
from hypothesis import given, settings
from hypothesis import strategies as st
from neon_keys import _dotenv
from neon_keys._dotenv import DotenvError, quote, set_variable

TOKEN = "napi_" + "a1B2" * 16


def _read(text: str) -> dict[str, str | None]:
    """What python-dotenv reads from ``text`` (its public API, default settings)."""
    return dict(dotenv_values(stream=io.StringIO(text)))


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("", "K=v\n"),
        ("A=1\n", "A=1\nK=v\n"),
        ("A=1", "A=1\nK=v\n"),
        ("K=old\n", "K=v\n"),
        ("  K = old\r\n", "K=v\r\n"),
        ("K=old\rB=2\r", "K=v\rB=2\r"),
        ("export K=old\nB=2\n", "export K=v\nB=2\n"),
        ("K=1\nB=2\nK=3\n", "K=v\nB=2\n"),
        ("KEY=1\nK_2=2\n# K=3\n", "KEY=1\nK_2=2\n# K=3\nK=v\n"),
        ("K\nB=2\n", "K=v\nB=2\n"),
        ("A=1\n\n\nK=old\n", "A=1\n\n\nK=v\n"),
        ("A=1\n\nK=1\n\nK=2\nB=3\n", "A=1\n\nK=v\n\nB=3\n"),
        ("K=old", "K=v"),
        ("\ufeffK=old\nA=1\n", "\ufeffK=v\nA=1\n"),
        ("\ufeffA=1", "\ufeffA=1\nK=v\n"),
        ("'K'=old\n", "K=v\n"),
        ("K=old # the deploy key\n", "K=v\n"),
    ],
)
def test_one_assignment_is_set_and_every_other_byte_kept(before: str, after: str) -> None:
    """The first assignment is replaced in place, later ones go, all else is kept byte for byte."""
    assert set_variable(before, "K", "v") == after
    assert _read(after)["K"] == "v"


def test_a_quoted_multi_line_value_is_one_value() -> None:
    """A line inside a quoted value that looks like the variable is neither replaced nor dropped."""
    before = 'CERT="-----BEGIN-----\nNEON_API_KEY=inside the value\n-----END-----"\nA=1\n'
    after = set_variable(before, "NEON_API_KEY", TOKEN)
    assert after == before + f"NEON_API_KEY={TOKEN}\n"
    values = _read(after)
    assert values["CERT"] == "-----BEGIN-----\nNEON_API_KEY=inside the value\n-----END-----"
    assert values["NEON_API_KEY"] == TOKEN and values["A"] == "1"


def test_a_multi_line_assignment_of_the_variable_is_replaced_whole() -> None:
    """An old multi-line value of the variable is replaced entirely, none of its lines left."""
    before = "A=1\nNEON_API_KEY='line one\nline two'\nB=2\n"
    after = set_variable(before, "NEON_API_KEY", TOKEN)
    assert after == f"A=1\nNEON_API_KEY={TOKEN}\nB=2\n"


def test_lines_python_dotenv_cannot_read_are_kept() -> None:
    """A line python-dotenv cannot parse stays as it is, and the variable is still set."""
    before = 'A=1\nthis is not = valid"\nB=2\n'
    after = set_variable(before, "K", "v")
    assert after == before + "K=v\n"
    assert _read(after)["K"] == "v"


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (TOKEN, TOKEN),
        ("a#b", "'a#b'"),
        ("a b", "'a b'"),
        ("a #b", "'a #b'"),
        ("#x", "'#x'"),
        ("a'b", "'a\\'b'"),
        ("a\\b", "'a\\\\b'"),
        ('a"b', "'a\"b'"),
        ("${HOME}", "'${HOME}'"),
        ("", "''"),
        ("a=b", "'a=b'"),
        ("x ", "'x '"),
    ],
)
def test_values_are_quoted_exactly_when_needed(value: str, written: str) -> None:
    """A token is written bare; a #, a space, a quote or a backslash gets single quotes."""
    assert quote(value) == written
    text = set_variable("", "K", value)
    assert text == f"K={written}\n"
    assert dotenv_values(stream=io.StringIO(text), interpolate=False)["K"] == value


_NAMES = st.sampled_from(["A", "B", "K", "NEON_API_KEY", "export", "K2"])
_VALUES = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x85"),
    max_size=12,
)
_LINES = st.one_of(
    st.builds(lambda n, v: f"{n}={quote(v)}", _NAMES, _VALUES),
    st.builds(lambda n, v: f"export {n}={quote(v)}", _NAMES, _VALUES),
    st.builds(lambda n, v: f'{n}="{v}"', _NAMES, st.sampled_from(["x\ny", "K=1\nB=2", ""])),
    st.sampled_from(["# K=old", "", "   ", "not valid'", "K", "A = spaced  # comment"]),
)


@settings(max_examples=150, deadline=None)
@given(
    lines=st.lists(_LINES, max_size=8),
    ending=st.sampled_from(["\n", "\r\n", ""]),
    value=_VALUES,
)
def test_python_dotenv_reads_back_what_was_meant(lines: list[str], ending: str, value: str) -> None:
    """For any file, python-dotenv reads the edited one as the old one with K set to the value."""
    text = "\n".join(lines) + ending
    try:
        after = set_variable(text, "K", value)
    except DotenvError:
        # Refused only when the result would not read back: then nothing is written.
        return
    expected = dotenv_values(stream=io.StringIO(text), interpolate=False)
    expected["K"] = value
    assert dotenv_values(stream=io.StringIO(after), interpolate=False) == expected
    kept = [b.original.string for b in parse_stream(io.StringIO(text)) if b.key != "K"]
    for original in kept:
        assert original.strip() in after


def test_a_result_that_would_not_read_back_is_refused() -> None:
    """When python-dotenv would read the edit otherwise, set_variable raises instead."""
    with pytest.raises(DotenvError, match="would not read K back"):
        set_variable('A="unterminated\n', "K", 'x"y')


# -- the sink, end to end --------------------------------------------------------------------


def test_dotenv_keeps_a_multi_line_value_through_create(neon: Neon, tmp_path: Path) -> None:
    """create --dotenv on a file with a quoted multi-line value sets the key and keeps the value."""
    target = tmp_path / ".env"
    before = 'CERT="BEGIN\nNEON_API_KEY=not-a-key\nEND"\nexport NEON_API_KEY=old\n'
    target.write_text(before)
    target.chmod(0o600)
    result = neon("create", "ci", "--dotenv", str(target))
    assert result.exit_code == 0, result.stderr
    values = dotenv_values(target)
    assert values["CERT"] == "BEGIN\nNEON_API_KEY=not-a-key\nEND"
    token = values["NEON_API_KEY"]
    assert token is not None and neon.world.key_for_token(token) is not None
    assert (
        target.read_text()
        == f'CERT="BEGIN\nNEON_API_KEY=not-a-key\nEND"\nexport NEON_API_KEY={token}\n'
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_dotenv_keeps_owner_group_and_mode(neon: Neon, tmp_path: Path) -> None:
    """The rewritten file keeps its owner, its group and its mode."""
    target = tmp_path / ".env"
    target.write_text("A=1\n")
    os.chown(target, 12345, 23456)
    target.chmod(0o640)
    assert neon("create", "ci", "--dotenv", str(target)).exit_code == 0
    state = target.stat()
    assert (state.st_uid, state.st_gid, mode(target)) == (12345, 23456, 0o640)
    assert dotenv_values(target)["A"] == "1"


def test_dotenv_of_another_owner_is_refused_when_it_cannot_be_kept(
    neon: Neon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not root and not the owner: the file could not keep its owner, so nothing is created."""
    target = tmp_path / ".env"
    target.write_text("A=1\n")
    monkeypatch.setattr(os, "geteuid", lambda: 4242)
    monkeypatch.setattr(os, "getegid", lambda: 4242)
    monkeypatch.setattr(os, "getgroups", lambda: [4242])
    result = neon("create", "ci", "--dotenv", str(target))
    assert result.exit_code == 2, result.stderr
    assert "belongs to another user or group" in result.stderr
    assert "no key was created" in result.stderr
    assert neon.world.log.count("createApiKey") == 0
    assert target.read_text() == "A=1\n"


def test_dotenv_that_python_dotenv_could_not_read_back_is_refused_before_creating(
    neon: Neon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When even the rehearsal of the edit would not read back, nothing is created."""

    def never(_text: str) -> dict[str, str | None]:
        return {}

    monkeypatch.setattr(_dotenv, "read_values", never)
    target = tmp_path / ".env"
    target.write_text("A=1\n")
    result = neon("create", "ci", "--dotenv", str(target))
    assert result.exit_code == 2
    assert "would not read NEON_API_KEY back" in result.stderr
    assert neon.world.log.count("createApiKey") == 0


def test_without_python_dotenv_only_dotenv_is_refused(
    neon: Neon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where python-dotenv is missing, --dotenv says what to install and creates nothing."""
    monkeypatch.setitem(sys.modules, "dotenv.parser", None)
    monkeypatch.delitem(sys.modules, "neon_keys._dotenv")
    result = neon("create", "ci", "--dotenv", str(tmp_path / ".env"))
    assert result.exit_code == 2
    assert "--dotenv needs python-dotenv: pip install 'python-dotenv>=1.0,<2'" in result.stderr
    assert neon.world.log.count("createApiKey") == 0
    assert neon("create", "ci", "--save", str(tmp_path / "k")).exit_code == 0
