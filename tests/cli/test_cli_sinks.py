"""Every sink is checked before the key exists, and delivers exactly one clean line."""

from __future__ import annotations

import io
import os
import shlex
import sys
from pathlib import Path

import click
import pytest
from cli_support import Neon, lines
from neon_keys import Secret, _files
from neon_keys import _sinks as library_sinks
from neon_keys._sinks import (
    DotenvSink,
    FileSink,
    GitHubEnvSink,
    Sink,
    SinkError,
    StdoutSink,
    done_text,
)
from neon_keys.cli import _sinks
from neon_keys.cli._rotate import rotate_key

LONG_NAME = "n" * 300


def _no_key_created(neon: Neon) -> None:
    assert neon.world.log.count("createApiKey") == 0
    assert neon.personal_ids() == [neon.world.seed.admin_key_id]


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("", "--save needs a file name"),
        ("-", "--save - would write to a file named '-'; to print it on stdout, leave out --save"),
        ("newdir/", "names a folder, not a file"),
        (".", "names a folder, not a file"),
        ("..", "names a folder, not a file"),
        ("sub/..", "names a folder, not a file"),
        ("a\0b", "contains a NUL character"),
        ("missing/k", "does not exist"),
        ("afile/k", "is not a folder"),
        ("adir", "is a directory"),
        ("dirlink", "is a link to a directory"),
        (LONG_NAME, "File name too long"),
    ],
)
def test_save_refuses_bad_paths_before_creating(
    neon: Neon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str, says: str
) -> None:
    """Each path no file could be written at exits 2, names the problem, and creates nothing."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir").mkdir()
    (tmp_path / "sub").mkdir()
    (tmp_path / "dirlink").symlink_to(tmp_path / "adir")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = neon("create", "ci", "--save", path, "--force")
    assert result.exit_code == 2, result.stderr
    assert says in result.stderr and "no key was created" in result.stderr
    _no_key_created(neon)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("", "--dotenv needs a file name"),
        ("-", "--dotenv - would write to a file named '-'; name a file"),
        ("newdir/", "names a folder, not a file"),
        ("adir", "is a directory"),
        ("missing/.env", "does not exist"),
        ("afile/.env", "is not a folder"),
        ("binary.env", "is not UTF-8 text (byte 0xff at offset 4)"),
        ("fifo.env", "is not a regular file"),
        ("a\0.env", "contains a NUL character"),
    ],
)
def test_dotenv_refuses_bad_files_before_creating(
    neon: Neon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str, says: str
) -> None:
    """A dotenv path that cannot be edited exits 2, names the problem, and creates nothing."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir").mkdir()
    (tmp_path / "binary.env").write_bytes(b"A=1\n\xff\xfe=2\n")
    os.mkfifo(tmp_path / "fifo.env")
    result = neon("create", "ci", "--dotenv", path)
    assert result.exit_code == 2, result.stderr
    assert says in result.stderr and "no key was created" in result.stderr
    _no_key_created(neon)
    assert (tmp_path / "binary.env").read_bytes() == b"A=1\n\xff\xfe=2\n"


@pytest.mark.parametrize(
    ("target", "says"),
    [
        ("/dev/null", "is not a regular file"),
        ("adir", "is a directory"),
        ("missing/env", "does not exist"),
        ("", "not set"),
    ],
)
def test_github_env_refuses_bad_files_before_creating(
    neon: Neon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str, says: str
) -> None:
    """A $GITHUB_ENV that would swallow or refuse the line exits 2 and creates nothing."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "adir").mkdir()
    result = neon("create", "ci", "--github-env", env={"GITHUB_ENV": target})
    assert result.exit_code == 2, result.stderr
    assert says in result.stderr and "no key was created" in result.stderr
    assert result.stdout == ""
    _no_key_created(neon)


def _read_only(folder: str) -> bool:
    return os.path.isdir(folder) and bool(os.statvfs(folder).f_flag & os.ST_RDONLY)


@pytest.mark.skipif(not _read_only("/sys"), reason="needs a read-only mount at /sys")
def test_a_read_only_folder_is_refused_before_creating(neon: Neon) -> None:
    """A folder on a read-only mount cannot take the file (root or not): exit 2, nothing created."""
    result = neon("create", "ci", "--save", "/sys/neon-keys-test.token")
    assert result.exit_code == 2, result.stderr
    assert "cannot write in folder /sys" in result.stderr
    _no_key_created(neon)


@pytest.mark.parametrize(
    ("error", "says"),
    [
        (OSError(30, "Read-only file system"), "Read-only file system"),
        (PermissionError(13, "Permission denied"), "Permission denied"),
        (OSError(28, "No space left on device"), "No space left on device"),
    ],
)
def test_a_folder_that_refuses_a_new_file_is_refused_before_creating(
    neon: Neon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: OSError, says: str
) -> None:
    """Whatever keeps a file from being made in the folder is found by trying, before any key."""

    def refuse(*_args: object, **_kwargs: object) -> tuple[int, str]:
        raise error

    monkeypatch.setattr(_files.tempfile, "mkstemp", refuse)
    for option in ("--save", "--dotenv"):
        result = neon("create", "ci", option, str(tmp_path / "k"))
        assert result.exit_code == 2, result.stderr
        assert f"cannot write in folder {tmp_path}: {says}; no key was created" in result.stderr
    _no_key_created(neon)


# -- delivery --------------------------------------------------------------------------------


def _sinks_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Sink]:
    monkeypatch.setenv("GITHUB_ENV", str(tmp_path / "github_env"))
    return [
        StdoutSink(),
        FileSink(str(tmp_path / "k")),
        DotenvSink(str(tmp_path / ".env"), "K"),
        GitHubEnvSink("K"),
    ]


@pytest.mark.parametrize(
    "secret", ["napi_a\rb", "napi_a\nb", "napi_a\r\n", "\rnapi", "napi\x00", "napi\u2028x", ""]
)
def test_every_sink_refuses_a_secret_that_is_not_one_clean_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], secret: str
) -> None:
    """A secret with a CR, LF, NUL or line separator (or none at all) is written nowhere."""
    for sink in _sinks_in(tmp_path, monkeypatch):
        with pytest.raises(SinkError, match="line break or control character"):
            sink.deliver(Secret(secret))
    assert list(tmp_path.iterdir()) == []
    assert capsys.readouterr().out == ""


def test_every_sink_writes_a_clean_secret_on_a_line_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each sink puts the secret, and only it, where promised."""
    secret = "napi_" + "x" * 60
    for sink in _sinks_in(tmp_path, monkeypatch):
        sink.deliver(Secret(secret))
    assert capsys.readouterr().out == f"{secret}\n::add-mask::{secret}\n"
    assert (tmp_path / "k").read_text() == secret + "\n"
    assert (tmp_path / ".env").read_text() == f"K={secret}\n"
    assert (tmp_path / "github_env").read_text() == f"K={secret}\n"


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("", "K=v\n"),
        ("A=1\n", "A=1\nK=v\n"),
        ("A=1", "A=1\nK=v\n"),
        ("A=1\r\n", "A=1\r\nK=v\n"),
        ("A=1\r", "A=1\rK=v\n"),
    ],
)
def test_github_env_starts_a_new_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    before: str,
    after: str,
) -> None:
    """An unfinished last line of $GITHUB_ENV is finished, never glued to the assignment."""
    env_file = tmp_path / "github_env"
    env_file.write_bytes(before.encode())
    monkeypatch.setenv("GITHUB_ENV", str(env_file))
    GitHubEnvSink("K").deliver(Secret("v"))
    assert env_file.read_bytes() == after.encode()
    assert capsys.readouterr().out == "::add-mask::v\n"


def test_github_env_without_a_final_newline_through_create(neon: Neon, tmp_path: Path) -> None:
    """create --github-env on a file whose last line is unfinished: both variables survive."""
    env_file = tmp_path / "github_env"
    env_file.write_text("EARLIER=1")
    result = neon("create", "ci", "--github-env", env={"GITHUB_ENV": str(env_file)})
    assert result.exit_code == 0, result.stderr
    token = lines(result.stdout)[0].removeprefix("::add-mask::")
    assert env_file.read_text() == f"EARLIER=1\nNEON_API_KEY={token}\n"


def test_the_last_resort_escapes_control_characters(capsys: pytest.CaptureFixture[str]) -> None:
    """A secret that could drive the terminal is shown with escapes, and the advice says so."""
    _sinks.last_resort(
        "napi_\x1b[2Jx",
        'personal key 1 "ci"',
        [(StdoutSink(), OSError(5, "EIO"))],
        "neon-keys revoke 1",
    )
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == "napi_\\x1b[2Jx"
    assert "shown with Python escapes" in err[-2]


class _ClosedStream(io.StringIO):
    """A stdout whose descriptor was closed under it."""

    def fileno(self) -> int:
        raise OSError(9, "Bad file descriptor")


@pytest.mark.parametrize("stdout", [None, _ClosedStream()])
def test_a_closed_stdout_is_refused_by_the_sinks_that_print(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stdout: io.StringIO | None
) -> None:
    """With stdout closed, the stdout sink and --github-env refuse before anything exists."""
    monkeypatch.setenv("GITHUB_ENV", str(tmp_path / "github_env"))
    monkeypatch.setattr(sys, "stdout", stdout)
    for sink in (StdoutSink(), GitHubEnvSink("K")):
        with pytest.raises(SinkError, match="stdout is closed") as refused:
            sink.check()
        assert _sinks.refusal(refused.value).exit_code == 2
    FileSink(str(tmp_path / "k")).check()


@pytest.mark.parametrize(("mask_printed", "noted"), [(False, False), (True, True)])
def test_the_masking_note_only_once_the_mask_was_printed(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    mask_printed: bool,
    noted: bool,
) -> None:
    """The last resort speaks of the runner's mask only if the ::add-mask:: line went out."""
    monkeypatch.setenv("GITHUB_ENV", str(tmp_path / "adir"))
    (tmp_path / "adir").mkdir()

    def broken(_text: str) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    sink = GitHubEnvSink("K", print_line=_sinks.print_stdout if mask_printed else broken)
    ((_, error),) = _sinks.deliver_all([sink], Secret("napi_x"))
    assert isinstance(error, SinkError)
    _sinks.last_resort("napi_x", "k", [(sink, error)], "neon-keys revoke 1")
    assert ("masks it in the job's log" in capsys.readouterr().err) is noted


# -- what the sinks show of themselves -------------------------------------------------------


def test_a_sink_repr_names_its_place_and_never_the_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each built-in sink's repr names where it writes, and stays the same once it holds the
    secret: the token never shows in it."""
    printed: list[str] = []
    env_file = str(tmp_path / "github_env")
    sinks: list[tuple[Sink, str]] = [
        (StdoutSink(print_line=printed.append), "StdoutSink()"),
        (
            FileSink(str(tmp_path / "k"), replace=True),
            f"FileSink({str(tmp_path / 'k')!r}, replace=True)",
        ),
        (_sinks.SaveSink(str(tmp_path / "s")), f"SaveSink({str(tmp_path / 's')!r}, replace=False)"),
        (DotenvSink(str(tmp_path / ".env"), "K"), f"DotenvSink({str(tmp_path / '.env')!r}, 'K')"),
        (
            GitHubEnvSink("K", path=env_file, print_line=printed.append),
            f"GitHubEnvSink('K', path={env_file!r})",
        ),
    ]
    token = "napi_" + "r" * 60
    for sink, shown in sinks:
        assert repr(sink) == shown
        sink.deliver(Secret(token))
        assert repr(sink) == shown
    assert printed == [token, f"::add-mask::{token}"]


def test_a_sink_error_says_its_message_and_keeps_its_target() -> None:
    """A SinkError reads as its message, with the sink's target kept apart."""
    error = SinkError("no room", target="ci.token")
    assert (str(error), error.args, error.target) == ("no room", ("no room",), "ci.token")
    assert SinkError("refused").target is None


class _SaysDone:
    """A plug-in sink whose ``done`` is a method, not the string ``done_text`` uses."""

    target = "memo:x"

    def check(self) -> None:
        """Nothing to refuse."""

    def deliver(self, secret: Secret) -> None:
        """Holds nothing."""

    def done(self) -> str:
        """Not a property: ``sink.done`` is a bound method."""
        return "memo kept it"


def test_done_text_falls_back_when_a_sink_says_nothing_usable() -> None:
    """A sink's own ``done`` words are used only when they are a non-empty string; otherwise
    the report says it was delivered to the sink's target."""
    assert done_text(_SaysDone()) == "delivered to memo:x"
    assert done_text(FileSink("ci.token")) == "saved to ci.token (mode 0600)"


def test_the_stdout_sink_flushes_the_token_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The token reaches stdout's file as soon as it is delivered, not when the buffer of a
    piped stdout fills or the process ends."""
    raw = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(raw, encoding="utf-8"))
    StdoutSink().deliver(Secret("napi_flushed"))
    assert raw.getvalue() == b"napi_flushed\n"


def test_a_world_readable_dotenv_is_warned_about_where_check_is_called(tmp_path: Path) -> None:
    """A library DotenvSink without ``warn`` raises a UserWarning naming the file and the
    chmod, attributed to the code that called check() (stacklevel), not to the library."""
    target = tmp_path / ".env"
    target.write_text("A=1\n")
    target.chmod(0o644)
    with pytest.warns(UserWarning, match=r"mode 0644.*chmod 600") as caught:
        DotenvSink(str(target)).check()
    assert [warning.filename for warning in caught] == [__file__]


def test_a_dotenv_made_by_someone_else_meanwhile_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dotenv file that appears between the read that found none and the write is kept:
    the delivery fails rather than replacing another program's file."""
    target = tmp_path / ".env"
    sink = DotenvSink(str(target))
    sink.check()

    def appears_meanwhile() -> tuple[str, os.stat_result]:
        target.write_text("OTHER=1\n")
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(sink, "_read", appears_meanwhile)
    with pytest.raises(SinkError, match="exists"):
        sink.deliver(Secret("napi_" + "m" * 60))
    assert target.read_text() == "OTHER=1\n"


def test_the_masking_note_is_empty_until_the_mask_went_out(tmp_path: Path) -> None:
    """``last_resort_note`` is the empty string (not None) before delivery printed the mask,
    and the runner's masking remark after."""
    printed: list[str] = []
    sink = GitHubEnvSink("K", path=str(tmp_path / "github_env"), print_line=printed.append)
    assert sink.last_resort_note == ""
    sink.deliver(Secret("napi_masked"))
    assert "masks it in the job's log" in sink.last_resort_note


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts /proc/self/fd")
def test_appending_to_github_env_leaves_no_descriptor_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Delivering to $GITHUB_ENV closes the file it opened, whether it succeeds or fails."""
    env_file = tmp_path / "github_env"
    env_file.write_text("A=1")
    sink = GitHubEnvSink("K", path=str(env_file), print_line=lambda _line: None)
    before = len(os.listdir("/proc/self/fd"))
    sink.deliver(Secret("napi_closed"))

    def no_room(*_args: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(library_sinks, "write_all", no_room)
    with pytest.raises(SinkError, match="No space left"):
        sink.deliver(Secret("napi_closed"))
    assert len(os.listdir("/proc/self/fd")) == before
    assert env_file.read_text() == "A=1\nK=napi_closed\n"


@pytest.mark.parametrize(
    ("process", "kept"),
    [
        (("owner", "owner", []), True),  # its own primary group
        (("owner", "other", ["owner"]), True),  # one of its supplementary groups
        (("owner", "other", []), False),  # a group the process is not in
        (("other", "owner", ["owner"]), False),  # another user's file in a group it shares
    ],
)
def test_an_existing_dotenv_is_edited_only_if_it_can_keep_its_owner_and_group(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    process: tuple[str, str, list[str]],
    kept: bool,
) -> None:
    """Not root, the process may rewrite a dotenv file it owns whose group is its own or
    one of its groups; any other file is refused at check, since the new file could not
    keep its owner or group."""
    target = tmp_path / ".env"
    target.write_text("A=1\n")
    if os.geteuid() == 0:  # play a user who is not root, owning the file
        os.chown(target, 4242, 4343)
    user, group, groups = process
    state = target.stat()
    ids = {"owner": (state.st_uid, state.st_gid), "other": (state.st_uid + 1, state.st_gid + 1)}
    monkeypatch.setattr(os, "geteuid", lambda: ids[user][0])
    monkeypatch.setattr(os, "getegid", lambda: ids[group][1])
    monkeypatch.setattr(os, "getgroups", lambda: [ids[name][1] for name in groups])
    sink = DotenvSink(str(target), warn=lambda _message: None)
    if kept:
        sink.check()
    else:
        with pytest.raises(SinkError, match="belongs to another user or group"):
            sink.check()


def test_the_sink_options_given_back_parse_to_the_same_sinks() -> None:
    """The sink options repeated for a command that runs the delivery again parse back to
    the very same options, --save gaining --force (its file exists by then)."""
    options: _sinks.SinkOptions = {
        "save": "ci key",
        "force": False,
        "dotenv": "app/.env",
        "var": "MY_KEY",
        "github_env": True,
        "deliver_cmd": ("gh secret set X", "sh -c 'vault kv put secret/ci token=-'"),
        "deliver_timeout": 2.5,
        "deliver": ("memo:a b", "vault:secret/neon#token"),
    }
    line = _sinks.command_line(_sinks.sink_arguments(options))
    context = rotate_key.make_context("rotate", ["7", *shlex.split(line)])
    assert {name: context.params[name] for name in options} == {**options, "force": True}
    nothing: _sinks.SinkOptions = {
        "save": None,
        "force": False,
        "dotenv": None,
        "var": None,
        "github_env": False,
        "deliver_cmd": (),
        "deliver_timeout": None,
        "deliver": (),
    }
    assert _sinks.sink_arguments(nothing) == []


@pytest.mark.parametrize(
    ("seconds", "accepted"),
    [("0", False), ("-1", False), ("86400.5", False), ("0.001", True), ("86400", True)],
)
def test_the_deliver_timeout_takes_more_than_zero_and_at_most_a_day(
    seconds: str, accepted: bool
) -> None:
    """The sink options' --deliver-timeout takes seconds over 0 and up to 86,400 (a day);
    anything else is a usage error naming the option."""
    command = _sinks.sink_options(click.Command("probe", callback=lambda **_options: None))
    args = ["--deliver-cmd", "gh secret set X", "--deliver-timeout", seconds]
    if accepted:
        assert command.make_context("probe", args).params["deliver_timeout"] == float(seconds)
    else:
        with pytest.raises(click.BadParameter) as refused:
            command.make_context("probe", args)
        assert "'--deliver-timeout'" in refused.value.format_message()
