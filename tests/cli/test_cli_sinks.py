"""Every sink is checked before the key exists, and delivers exactly one clean line."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest
from cli_support import Neon, lines
from neon_keys import Secret, _files
from neon_keys._sinks import DotenvSink, FileSink, GitHubEnvSink, Sink, SinkError, StdoutSink
from neon_keys.cli import _sinks

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
