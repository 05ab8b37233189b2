"""``revoke -`` (ids on stdin) and ``revoke --name GLOB``: choosing the keys to revoke."""

from __future__ import annotations

import io
import json
import tracemalloc

import click
import pytest
from cli_support import Neon, lines
from neon_keys.cli import _revoking
from neon_keys.cli._revoke import read_ids


def _personal(neon: Neon, *names: str) -> list[int]:
    for name in names:
        neon.world.issue_personal_key(neon.world.seed.admin_id, name)
    return neon.personal_ids()[-len(names) :]


def _no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_revoking, "open_terminal", lambda: None)


def test_the_ids_of_list_quiet_revoke_those_keys(neon: Neon) -> None:
    """``neon-keys list --quiet --name 'ci-*' | neon-keys revoke - --yes`` revokes just those."""
    ci_a, ci_b, keep = _personal(neon, "ci-a", "ci-b", "keep")
    listed = neon("list", "--quiet", "--name", "ci-*")
    assert listed.exit_code == 0 and listed.stderr == ""
    assert listed.stdout == f"{ci_a}\n{ci_b}\n"
    result = neon("revoke", "-", "--yes", input=listed.stdout)
    assert result.exit_code == 0, result.stderr
    assert [row.split()[0] for row in lines(result.stdout)[1:]] == [str(ci_a), str(ci_b)]
    assert neon.world.key(ci_a).revoked and neon.world.key(ci_b).revoked
    assert not neon.world.key(keep).revoked


def test_ids_as_jq_prints_them_are_read(neon: Neon) -> None:
    """Ids from ``list -o json | jq``, with blank lines, CRLF, spaces and quotes, are read."""
    first, second, third = _personal(neon, "a", "b", "c")
    records = json.loads(neon("-o", "json", "list", "--name", "[abc]").stdout)
    assert [record["id"] for record in records] == [first, second, third]
    text = f'{first}\r\n\n  {second}  \n"{third}"\n\n'
    result = neon("-o", "json", "revoke", "-", "--yes", input=text)
    assert result.exit_code == 0, result.stderr
    assert [record["id"] for record in json.loads(result.stdout)] == [first, second, third]


@pytest.mark.parametrize(
    ("junk", "shown"),
    [
        ("abc", "line 2 ('abc')"),
        ("ID      NAME  KIND", "line 2 ('ID      NAME  KIND')"),
        ("0", "line 2 ('0')"),
        ("-5", "line 2 ('-5')"),
        ("1.5", "line 2 ('1.5')"),
        ('""', "line 2 ('\"\"')"),
        ("12 13", "line 2 ('12 13')"),
        ("99999999999999999999", "line 2 ('99999999999999999999')"),
        ("napi_" + "s" * 60, "line 2 (65 characters)"),
    ],
)
def test_a_junk_line_on_stdin_revokes_nothing(neon: Neon, junk: str, shown: str) -> None:
    """A line that is not a key id exits 2 naming its line, before any request."""
    (key_id,) = _personal(neon, "a")
    before = len(neon.world.log)
    result = neon("revoke", "-", "--yes", input=f"{key_id}\n{junk}\n")
    assert result.exit_code == 2
    assert f"not an id: {shown}" in result.stderr and "no key was revoked" in result.stderr
    assert len(neon.world.log) == before
    assert not neon.world.key(key_id).revoked
    if junk.startswith("napi_"):
        assert junk not in result.stderr


def test_many_junk_lines_are_counted(neon: Neon) -> None:
    """Beyond three junk lines, the error counts the rest instead of naming them."""
    result = neon("revoke", "-", "--yes", input="a\nb\nc\nd\ne\n")
    assert result.exit_code == 2
    assert "line 1 ('a'), line 2 ('b'), line 3 ('c') and 2 more" in result.stderr


@pytest.mark.parametrize("output", ["table", "json"])
def test_empty_stdin_revokes_nothing_and_succeeds(neon: Neon, output: str) -> None:
    """No ids on stdin is a cleanup with nothing to do: exit 0, no request."""
    result = neon("-o", output, "revoke", "-", "--yes", input="\n\n")
    assert result.exit_code == 0, result.stderr
    assert len(neon.world.log) == 0
    if output == "json":
        assert json.loads(result.stdout) == []
    else:
        assert result.stderr == "No key ids on stdin; nothing to revoke.\n"


def test_ids_on_the_command_line_and_on_stdin_are_revoked_once(neon: Neon) -> None:
    """``revoke 12 -`` revokes 12 and the ids on stdin, each once, in that order."""
    first, second = _personal(neon, "a", "b")
    result = neon("-o", "json", "revoke", str(second), "-", "--yes", input=f"{first}\n{second}\n")
    assert result.exit_code == 0, result.stderr
    assert [record["id"] for record in json.loads(result.stdout)] == [second, first]
    assert neon.world.log.count("revokeApiKey") == 2


def test_without_yes_and_without_a_terminal_stdin_ids_are_refused(
    neon: Neon, monkeypatch: pytest.MonkeyPatch
) -> None:
    """stdin carries the ids, so without --yes and a terminal to ask on, nothing is sent."""
    _no_terminal(monkeypatch)
    (key_id,) = _personal(neon, "a")
    result = neon("revoke", "-", input=f"{key_id}\n")
    assert result.exit_code == 2
    assert "stdin carries the ids: pass --yes" in result.stderr
    assert len(neon.world.log) == 0


@pytest.mark.parametrize(("answer", "revoked"), [("y\n", True), ("n\n", False), ("", False)])
def test_with_stdin_ids_the_question_is_asked_on_the_terminal(
    neon: Neon, monkeypatch: pytest.MonkeyPatch, answer: str, revoked: bool
) -> None:
    """``list --quiet | revoke -`` asks on the terminal, naming each key, as xargs -p does."""
    terminal = io.StringIO(answer)
    monkeypatch.setattr(_revoking, "open_terminal", lambda: terminal)
    (key_id,) = _personal(neon, "ci")
    result = neon("revoke", "-", input=f"{key_id}\n")
    assert result.exit_code == (0 if revoked else 1)
    assert f"About to revoke 1 key of your personal keys:\n  {key_id}  ci\n" in result.stderr
    assert neon.world.key(key_id).revoked is revoked


def test_the_calling_key_on_stdin_needs_including_self(neon: Neon) -> None:
    """An id read from stdin gets the same protection of the calling key."""
    result = neon("revoke", "-", "--yes", input=f"{neon.world.seed.admin_key_id}\n")
    assert result.exit_code == 2 and "--including-self" in result.stderr
    assert neon.world.log.count("revokeApiKey") == 0


def test_revoke_by_name_revokes_only_the_matching_keys(neon: Neon) -> None:
    """--name GLOB revokes the keys whose name matches, and reports each."""
    first, second, keep = _personal(neon, "preview-1", "preview-2", "prod")
    result = neon("revoke", "--name", "preview-*", "--yes")
    assert result.exit_code == 0, result.stderr
    rows = [row.split() for row in lines(result.stdout)[1:]]
    assert rows == [[str(first), "preview-1", "revoked"], [str(second), "preview-2", "revoked"]]
    assert not neon.world.key(keep).revoked


def test_revoke_by_name_shows_the_matches_and_asks(
    neon: Neon, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a terminal, --name lists what matches and revokes nothing on "no"."""
    monkeypatch.setattr(_revoking, "stdin_is_terminal", lambda: True)
    first, second, _ = _personal(neon, "tmp-a", "tmp-b", "prod")
    result = neon("revoke", "--name", "tmp-*", input="n\n")
    assert result.exit_code == 1
    assert (
        f"About to revoke 2 keys of your personal keys:\n  {first}  tmp-a\n  {second}  tmp-b\n"
        in result.stderr
    )
    assert neon.world.log.count("revokeApiKey") == 0


def test_revoke_by_name_in_an_organization(neon: Neon) -> None:
    """--name with --org matches the organization's keys."""
    neon.world.issue_org_key(neon.org, "deploy")
    neon.world.issue_personal_key(neon.world.seed.admin_id, "deploy")
    result = neon("-o", "json", "revoke", "--name", "deploy", "--org", neon.org, "--yes")
    assert result.exit_code == 0, result.stderr
    assert neon.org_ids() == []
    assert len(neon.personal_ids()) == 2  # the personal "deploy" is still there


@pytest.mark.parametrize("output", ["table", "json"])
def test_a_name_that_matches_nothing_revokes_nothing(neon: Neon, output: str) -> None:
    """No match: exit 0 (nothing left to clean up), said on stderr, or [] in JSON."""
    _personal(neon, "a")
    result = neon("-o", output, "revoke", "--name", "preview-*", "--yes")
    assert result.exit_code == 0, result.stderr
    assert neon.world.log.count("revokeApiKey") == 0
    if output == "json":
        assert json.loads(result.stdout) == []
    else:
        assert "has a name matching 'preview-*'; nothing to revoke" in result.stderr


def test_a_name_matching_the_calling_key_needs_including_self(neon: Neon) -> None:
    """``--name '*'`` does not revoke the key making the call without --including-self."""
    _personal(neon, "a")
    result = neon("revoke", "--name", "*", "--yes")
    assert result.exit_code == 2 and "--including-self" in result.stderr
    assert neon.world.log.count("revokeApiKey") == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["12", "--name", "x"], "--name chooses the keys by name: give no ids with it"),
        (["-", "--name", "x"], "--name chooses the keys by name: give no ids with it"),
        ([], "which keys? give their ids, - to read ids from stdin, or --name GLOB"),
    ],
)
def test_ids_or_a_name_but_not_both(neon: Neon, args: list[str], message: str) -> None:
    """revoke needs ids, -, or --name, and refuses a mix, before any request."""
    result = neon("revoke", *args, "--yes", input="12\n")
    assert result.exit_code == 2 and message in result.stderr
    assert len(neon.world.log) == 0


class _EndlessLine(io.TextIOBase):
    """stdin holding one line of ``size`` digits (``cat /dev/zero``-like), which fails the
    test if it is ever asked for a whole line at once."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.largest = 0

    def readable(self) -> bool:
        return True

    def readline(self, size: int | None = -1) -> str:
        assert size is not None and size > 0, "a whole line was read at once"
        chunk = "7" * min(size, self.left)
        self.left -= len(chunk)
        self.largest = max(self.largest, len(chunk))
        return chunk


def test_an_endless_line_on_stdin_is_read_in_bounded_pieces() -> None:
    """A line of 50 million characters is refused as one junk line, read piece by piece."""
    stream = _EndlessLine(50_000_000)
    with pytest.raises(click.UsageError, match=r"line 1 \(50000000 characters\)"):
        read_ids(stream)
    assert stream.left == 0 and stream.largest <= 1 << 16


def test_junk_lines_are_counted_without_being_kept() -> None:
    """Twenty thousand junk lines are counted in the message and keep no memory each."""
    stream = io.StringIO("x\n" * 20_000)
    tracemalloc.start()
    try:
        with pytest.raises(click.UsageError, match=r"line 3 \('x'\) and 19997 more"):
            read_ids(stream)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 300_000
