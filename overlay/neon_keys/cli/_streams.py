"""stdout and stderr that may fail: closed, a pipe whose reader has gone, a full disk.

``write_stdout`` turns every such failure into ``StdoutUnwritable``; ``write_stderr``
reports it as False (there is nowhere left to say more). After a failure the stream's
descriptor points at the null device, so that Python's own flush at exit cannot fail again
(a second error message and exit status 120).
"""

from __future__ import annotations

import errno
import os
import sys
from typing import IO

from ._errors import CliError, one_line


class StdoutUnwritable(CliError):
    """stdout could not be written: it is closed, its reader has gone, or its disk is full.

    ``reason`` is the OS error; ``report_on_stderr``: the output went to stderr instead.
    """

    def __init__(self, reason: OSError, *, report_on_stderr: bool = False) -> None:
        self.reason = reason
        self.report_on_stderr = report_on_stderr
        where = "; the report above went to stderr instead" if report_on_stderr else ""
        super().__init__(f"cannot write to stdout: {one_line(reason)}{where}")

    @property
    def quiet(self) -> bool:
        """Whether to exit without a word: the reader of a pipe went away (``| head``)."""
        return self.reason.errno == errno.EPIPE and not self.report_on_stderr


def write_stdout(text: str) -> None:
    """Write ``text`` and a newline to stdout and flush it; ``StdoutUnwritable`` on failure.

    After a failure stdout is pointed at the null device, so that Python's own flush at exit
    cannot fail again (a second error message, exit status 120).
    """
    stream = sys.stdout
    try:
        if stream is None:
            raise OSError(errno.EBADF, "stdout is closed")
        stream.write(text + "\n")
        stream.flush()
    except OSError as err:
        discard(stream)
        raise StdoutUnwritable(err) from err
    except ValueError as err:  # a closed file object, or text the stream cannot encode
        discard(stream)
        raise StdoutUnwritable(OSError(errno.EIO, one_line(err))) from err


def write_stderr(text: str) -> bool:
    """Write ``text`` and a newline to stderr and flush it; False if that failed."""
    stream = sys.stderr
    try:
        if stream is None:
            return False
        stream.write(text + "\n")
        stream.flush()
    except (OSError, ValueError):
        discard(stream)
        return False
    return True


def discard(stream: IO[str] | None) -> None:
    """Point ``stream``'s file descriptor at the null device (best effort), after it failed:
    Python's own flush at exit then cannot fail again (exit status 120)."""
    if stream is None:
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    try:
        os.dup2(null, stream.fileno())
    except (OSError, ValueError):
        pass  # not backed by a descriptor (a test's capture): nothing to flush at exit
    finally:
        os.close(null)
