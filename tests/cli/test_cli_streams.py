"""stdout and stderr that fail, in process: the errors they become, and the descriptor left."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import signal
import sys
from collections.abc import Iterator

import click
import pytest
from neon_keys.cli import _streams
from neon_keys.cli._errors import CliError, Interruption
from neon_keys.cli._failures import show
from neon_keys.cli._streams import StdoutUnwritable, discard, write_stderr, write_stdout


class Failing(io.StringIO):
    """A text stream whose writes fail with ``error``."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def write(self, _text: str) -> int:
        raise self.error


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    """A pipe (read end, write end), closed afterwards."""
    read_end, write_end = os.pipe()
    yield read_end, write_end
    for fd in (read_end, write_end):
        with contextlib.suppress(OSError):  # one may be closed already
            os.close(fd)


@pytest.mark.parametrize(
    ("stdout", "code", "says"),
    [
        (None, errno.EBADF, "[Errno 9] stdout is closed"),
        (Failing(BrokenPipeError(errno.EPIPE, "Broken pipe")), errno.EPIPE, "Broken pipe"),
        (Failing(OSError(errno.ENOSPC, "No space left on device")), errno.ENOSPC, "No space"),
        (Failing(ValueError("I/O operation on closed file")), errno.EIO, "closed file"),
        (Failing(UnicodeEncodeError("ascii", "é", 0, 1, "no")), errno.EIO, "ascii"),
    ],
)
def test_every_stdout_failure_becomes_one_error(
    monkeypatch: pytest.MonkeyPatch, stdout: io.StringIO | None, code: int, says: str
) -> None:
    """Closed, broken, full or unable to encode: StdoutUnwritable with the OS error inside."""
    monkeypatch.setattr(sys, "stdout", stdout)
    with pytest.raises(StdoutUnwritable) as caught:
        write_stdout("text")
    assert caught.value.reason.errno == code
    assert caught.value.message.startswith("cannot write to stdout: ") and says in (
        caught.value.message
    )
    assert caught.value.exit_code == 1


@pytest.mark.parametrize(
    ("code", "on_stderr", "quiet"),
    [
        (errno.EPIPE, False, True),
        (errno.EPIPE, True, False),
        (errno.ENOSPC, False, False),
        (errno.EBADF, False, False),
    ],
)
def test_only_a_gone_reader_ends_quietly(code: int, on_stderr: bool, quiet: bool) -> None:
    """| head ends without a word; a full disk, a closed stdout or a moved report are said."""
    failure = StdoutUnwritable(OSError(code, os.strerror(code)), report_on_stderr=on_stderr)
    assert failure.quiet is quiet
    assert ("the report above went to stderr instead" in failure.message) is on_stderr


def test_a_good_stdout_gets_the_line_and_its_newline(capsys: pytest.CaptureFixture[str]) -> None:
    """write_stdout writes the text and one newline, flushed."""
    write_stdout("napi_x")
    assert capsys.readouterr().out == "napi_x\n"


@pytest.mark.parametrize(
    "stderr",
    [None, Failing(OSError(errno.ENOSPC, "No space left on device")), Failing(ValueError("x"))],
)
def test_a_failing_stderr_is_reported_as_false(
    monkeypatch: pytest.MonkeyPatch, stderr: io.StringIO | None
) -> None:
    """write_stderr never raises: there is nowhere left to say more."""
    monkeypatch.setattr(sys, "stderr", stderr)
    assert write_stderr("text") is False


def test_a_good_stderr_is_reported_as_true(capsys: pytest.CaptureFixture[str]) -> None:
    """write_stderr says it wrote the line."""
    assert write_stderr("note") is True
    assert capsys.readouterr().err == "note\n"


def test_a_failed_stream_is_pointed_at_the_null_device(pipe: tuple[int, int]) -> None:
    """After discard, writes to the stream's descriptor vanish instead of failing again."""
    read_end, write_end = pipe
    stream = io.TextIOWrapper(io.FileIO(write_end, "w", closefd=False), encoding="utf-8")
    discard(stream)
    os.write(write_end, b"lost")  # goes to /dev/null now
    os.close(write_end)
    assert os.read(read_end, 10) == b""  # the pipe saw nothing, and its writer is gone


def test_a_failure_discards_the_stream(
    monkeypatch: pytest.MonkeyPatch, pipe: tuple[int, int]
) -> None:
    """A failed write to stdout or stderr points that stream at the null device."""
    discarded: list[object] = []
    monkeypatch.setattr(_streams, "discard", discarded.append)
    full = Failing(OSError(errno.ENOSPC, "No space left on device"))
    monkeypatch.setattr(sys, "stdout", full)
    monkeypatch.setattr(sys, "stderr", full)
    with pytest.raises(StdoutUnwritable):
        write_stdout("x")
    assert write_stderr("y") is False
    assert discarded == [full, full]


def test_discard_leaves_a_stream_without_a_descriptor_alone() -> None:
    """A test's capture (no descriptor) or no stream at all: nothing to point anywhere, and
    the capture keeps working."""
    discard(None)
    capture = io.StringIO()
    capture.write("kept")
    discard(capture)
    capture.write(" after")
    assert capture.getvalue() == "kept after" and not capture.closed


@pytest.mark.parametrize(
    "error",
    [
        Interruption(int(signal.SIGINT), "key 12 was created"),
        CliError("no Neon API key"),
        click.UsageError("invalid org"),
    ],
    ids=["interruption", "error", "usage"],
)
def test_with_stderr_closed_a_report_is_dropped_not_printed_on_stdout(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], error: click.ClickException
) -> None:
    """An error or an interruption's report with stderr closed is said nowhere: stdout,
    which a program may be reading, gets none of it."""
    monkeypatch.setattr(sys, "stderr", None)
    show(error, json_output=False)
    assert capsys.readouterr().out == ""


class FailingFlush(io.StringIO):
    """A text stream that takes writes but fails to flush them (a full disk shows late)."""

    def flush(self) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_write_lost_at_the_flush_is_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    """Text that cannot be flushed counts as not written, on stdout as on stderr."""
    monkeypatch.setattr(sys, "stdout", FailingFlush())
    monkeypatch.setattr(sys, "stderr", FailingFlush())
    with pytest.raises(StdoutUnwritable, match="No space"):
        write_stdout("napi_x")
    assert write_stderr("note") is False


def test_an_unencodable_stdout_is_discarded_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stdout that refuses the text (closed file object, wrong encoding) is discarded too."""
    discarded: list[object] = []
    monkeypatch.setattr(_streams, "discard", discarded.append)
    closed = Failing(ValueError("I/O operation on closed file"))
    monkeypatch.setattr(sys, "stdout", closed)
    with pytest.raises(StdoutUnwritable):
        write_stdout("x")
    assert discarded == [closed]


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts /proc/self/fd")
def test_discard_leaves_no_descriptor_open(pipe: tuple[int, int]) -> None:
    """Pointing a stream at the null device opens no descriptor that stays open."""
    _read_end, write_end = pipe
    stream = io.TextIOWrapper(io.FileIO(write_end, "w", closefd=False), encoding="utf-8")
    before = len(os.listdir("/proc/self/fd"))
    discard(stream)
    assert len(os.listdir("/proc/self/fd")) == before


def test_a_broken_pipe_ends_quietly_by_default() -> None:
    """A gone reader is quiet unless the report was moved to stderr, which is said."""
    failure = StdoutUnwritable(BrokenPipeError(errno.EPIPE, "Broken pipe"))
    assert failure.quiet and not failure.report_on_stderr
    assert failure.message == "cannot write to stdout: [Errno 32] Broken pipe"
