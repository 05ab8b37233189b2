"""Where a new key's secret goes: exactly one sink per command.

- stdout (the default): the bare token and a newline, so ``KEY=$(neon-keys create ci)`` works;
- ``--save FILE``: a new file, written atomically with mode 0600 from the start;
- ``--dotenv FILE --var NAME``: one ``NAME=value`` assignment added to or replaced in a dotenv
  file, as python-dotenv reads it;
- ``--github-env [--var NAME]``: ``::add-mask::`` on stdout, then ``NAME=value`` appended on
  a line of its own to the file named by ``$GITHUB_ENV`` (GitHub Actions).

Every sink is checked (``check``) before the key is created, so a refusal costs nothing: a
path that is empty, ``-``, a folder, in a folder that does not exist or cannot be written, a
dotenv file that is not UTF-8 or whose owner could not be kept, a closed stdout... If
delivery fails afterwards, ``last_resort`` prints the secret once on stderr: the only path on
which a secret may reach stderr.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Callable
from typing import Any, TypedDict, TypeVar

import click

from neon_keys._constants import API_KEY_ENV

from ._errors import CliError, ExitCode, one_line
from ._files import PRIVATE_MODE, FolderRefused, folder_of, probe_folder, write_all, write_private
from ._params import ENV_NAME
from ._streams import StdoutUnwritable, write_stderr, write_stdout

GITHUB_ENV = "GITHUB_ENV"
DEFAULT_VAR = API_KEY_ENV

_PLACEHOLDER = "napi_" + "0" * 64
"""A token of Neon's shape, for rehearsing a dotenv edit before the key exists."""

F = TypeVar("F", bound=Callable[..., Any])


class SinkOptions(TypedDict):
    """The sink options of ``create`` and ``rotate``, as click passes them."""

    save: str | None
    force: bool
    dotenv: str | None
    var: str | None
    github_env: bool


class Sink:
    """A destination for one secret. Subclasses set ``target`` and implement ``_write``."""

    target = "stdout"
    """Where the secret goes, for messages: ``stdout``, ``keys/ci.token``, ..."""
    uses_stdout = False
    """Whether delivery writes to stdout (then metadata goes to stderr)."""

    def check(self) -> None:
        """Refuse, before anything is created, what ``deliver`` could not do (``CliError``)."""

    def deliver(self, secret: str) -> None:
        """Put ``secret`` in its place; raises ``OSError`` or ``ValueError`` on failure.

        A secret that is empty or holds a line break or another control character is
        refused by every sink: each writes it on a line of its own.
        """
        if not secret or not secret.isprintable():
            raise ValueError("the secret is empty or holds a line break or control character")
        self._write(secret)

    def _write(self, secret: str) -> None:
        raise NotImplementedError

    @property
    def last_resort_note(self) -> str:
        """A remark for the last-resort advice about this sink, or an empty string."""
        return ""

    @property
    def done(self) -> str:
        """What delivery did, for messages: ``printed to stdout``, ``saved to FILE``, ..."""
        raise NotImplementedError


class StdoutSink(Sink):
    """The bare token on stdout."""

    uses_stdout = True

    def check(self) -> None:
        _check_stdout("the secret")

    def _write(self, secret: str) -> None:
        try:
            write_stdout(secret)
        except StdoutUnwritable as failure:
            raise failure.reason from None

    @property
    def done(self) -> str:
        return "printed to stdout"


class FileSink(Sink):
    """A file holding the token, mode 0600; an existing file only with ``force``."""

    def __init__(self, path: str, *, force: bool) -> None:
        self.path = path
        self.target = path
        self.force = force

    def check(self) -> None:
        existing = _check_path(self.path, "--save", dash="to print it on stdout, leave out --save")
        _probe(folder_of(self.path))
        if existing is None:
            return
        # --force replaces a file or a symlink (never what a link points to); a device, a
        # FIFO or a socket is no place for a token, and replacing it could break the system.
        if not (stat.S_ISREG(existing.st_mode) or stat.S_ISLNK(existing.st_mode)):
            raise _refusal(f"{self.path} is not a regular file")
        if not self.force:
            raise _refusal(f"{self.path} already exists; pass --force to replace it")

    def _write(self, secret: str) -> None:
        write_private(self.path, secret + "\n", replace=self.force)

    @property
    def done(self) -> str:
        return f"saved to {self.path} (mode 0600)"


class DotenvSink(Sink):
    """One ``NAME=value`` assignment in a dotenv file; everything else is kept."""

    def __init__(self, path: str, var: str) -> None:
        self.target = path
        # Edit the file a symlink points to, rather than replacing the link.
        self.path = os.path.realpath(path) if path and "\0" not in path else path
        self.var = var

    def check(self) -> None:
        try:
            from ._dotenv import set_variable  # noqa: PLC0415  (only --dotenv needs python-dotenv)
        except ImportError as err:
            raise _refusal(
                f"--dotenv needs python-dotenv: pip install 'python-dotenv>=1.0,<2' ({err})"
            ) from None
        _check_path(self.target, "--dotenv", dash="name a file")
        _probe(folder_of(self.path))
        if not os.path.exists(self.path):
            return
        if not stat.S_ISREG(os.stat(self.path).st_mode):
            raise _refusal(f"{self.target} is not a regular file")
        try:
            text, state = self._read()
            with open(self.path, "r+b"):
                pass  # can it be written? (the edit replaces it; this asks the system first)
            set_variable(text, self.var, _PLACEHOLDER)
        except (OSError, ValueError) as err:
            raise _refusal(f"cannot edit {self.target}: {_reason(err)}") from None
        if not _can_give(state.st_uid, state.st_gid):
            raise _refusal(
                f"{self.target} belongs to another user or group (uid {state.st_uid}, "
                f"gid {state.st_gid}), which rewriting it would not keep; edit it as its owner"
            )
        mode = stat.S_IMODE(state.st_mode)
        if mode & 0o077:
            # Its mode is kept (other programs may rely on it), but say what it means.
            write_stderr(
                f"Warning: {self.target} is readable or writable by others (mode "
                f"{mode:04o}); the secret will be stored there. Consider: chmod 600 "
                f"{self.target}"
            )

    def _read(self) -> tuple[str, os.stat_result]:
        """The file's text (UTF-8, ``ValueError`` otherwise) and its status."""
        with open(self.path, "rb") as existing:
            state = os.fstat(existing.fileno())
            data = existing.read()
        try:
            return data.decode("utf-8"), state
        except UnicodeDecodeError as err:
            raise ValueError(
                f"it is not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start})"
            ) from None

    def _write(self, secret: str) -> None:
        from ._dotenv import set_variable  # noqa: PLC0415

        try:
            text, state = self._read()
        except FileNotFoundError:
            write_private(self.path, set_variable("", self.var, secret), replace=False)
            return
        write_private(
            self.path,
            set_variable(text, self.var, secret),
            replace=True,
            mode=stat.S_IMODE(state.st_mode),
            owner=(state.st_uid, state.st_gid),
        )

    @property
    def done(self) -> str:
        return f"set as {self.var} in {self.target}"


class GitHubEnvSink(Sink):
    """``::add-mask::`` on stdout, then ``NAME=value`` appended to ``$GITHUB_ENV``."""

    uses_stdout = True

    def __init__(self, var: str) -> None:
        self.var = var
        self.path = os.environ.get(GITHUB_ENV, "")
        self.target = f"${GITHUB_ENV} ({self.path})"
        self.masked = False

    def check(self) -> None:
        if not self.path:
            raise _refusal(f"--github-env needs ${GITHUB_ENV}, which is not set (not in Actions?)")
        _check_path(self.path, f"${GITHUB_ENV}", dash="name a file")
        if not os.path.exists(self.path):
            _probe(folder_of(os.path.realpath(self.path)))
        elif not stat.S_ISREG(os.stat(self.path).st_mode):
            raise _refusal(f"${GITHUB_ENV} ({self.path}) is not a regular file")
        else:
            try:
                with open(self.path, "ab"):
                    pass
            except OSError as err:
                raise _refusal(f"${GITHUB_ENV} file {self.path}: {_reason(err)}") from None
        _check_stdout("the mask line")

    def _write(self, secret: str) -> None:
        # Mask first: from here on GitHub hides the value in every log of the job.
        try:
            write_stdout(f"::add-mask::{secret}")
        except StdoutUnwritable as failure:
            raise failure.reason from None
        self.masked = True
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, PRIVATE_MODE)
        try:
            size = os.fstat(fd).st_size
            # A file whose last line is unfinished would glue the assignment onto it.
            start = "\n" if size and os.pread(fd, 1, size - 1) not in (b"\n", b"\r") else ""
            write_all(fd, f"{start}{self.var}={secret}\n".encode())
        finally:
            os.close(fd)

    @property
    def done(self) -> str:
        return f"appended as {self.var} to {self.target}, masked in the job's logs"

    @property
    def last_resort_note(self) -> str:
        # Once the mask is registered the runner hides the value in the job's log, which is
        # right for a public log but means it may not be readable there.
        if not self.masked:
            return ""
        return "GitHub Actions masks it in the job's log: if you cannot read it, revoke the key"


def sink_options(command: F) -> F:
    """Add the sink options (``--save``, ``--force``, ``--dotenv``, ``--var``, ``--github-env``)."""
    options = [
        click.option(
            "--save",
            metavar="FILE",
            help="Write the secret to FILE (created with mode 0600, atomically).",
        ),
        click.option("--force", is_flag=True, help="Let --save replace an existing FILE."),
        click.option(
            "--dotenv",
            metavar="FILE",
            help="Add or replace the assignment VAR=secret in the dotenv FILE.",
        ),
        click.option(
            "--var",
            type=ENV_NAME,
            help=f"Variable name for --dotenv and --github-env (default {DEFAULT_VAR}).",
        ),
        click.option(
            "--github-env",
            is_flag=True,
            help=f"Mask the secret and append VAR=secret to ${GITHUB_ENV} (GitHub Actions).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def build_sink(
    *, save: str | None, force: bool, dotenv: str | None, var: str | None, github_env: bool
) -> Sink:
    """The sink the options ask for, checked; usage errors for contradictory options."""
    chosen = [
        name
        for name, on in (
            ("--save", save is not None),
            ("--dotenv", dotenv is not None),
            ("--github-env", github_env),
        )
        if on
    ]
    if len(chosen) > 1:
        raise click.UsageError(f"choose one place for the secret, not {' and '.join(chosen)}")
    if force and save is None:
        raise click.UsageError("--force only applies to --save")
    if var is not None and dotenv is None and not github_env:
        raise click.UsageError("--var only applies to --dotenv and --github-env")
    sink: Sink
    if save is not None:
        sink = FileSink(save, force=force)
    elif dotenv is not None:
        sink = DotenvSink(dotenv, var or DEFAULT_VAR)
    elif github_env:
        sink = GitHubEnvSink(var or DEFAULT_VAR)
    else:
        sink = StdoutSink()
    sink.check()
    return sink


def deliver_or_show(sink: Sink, secret: str, *, key: str, revoke: str) -> Exception | None:
    """Deliver ``secret`` to ``sink``; on failure show it once on stderr and return the error.

    ``key`` names the key in messages; ``revoke`` is the command that would revoke it.
    """
    try:
        sink.deliver(secret)
    except (OSError, ValueError) as err:
        last_resort(secret, key, sink, err, revoke)
        return err
    return None


def last_resort(secret: str, key: str, sink: Sink, error: BaseException, revoke: str) -> None:
    """Print the secret of ``key`` once on stderr, after delivering it to ``sink`` failed.

    A secret holding control characters is shown with Python's escapes, so that it cannot
    drive the terminal, and the advice says so.
    """
    shown = secret if secret.isprintable() else secret.encode("unicode_escape").decode("ascii")
    escaped = "" if shown == secret else " (shown with Python escapes such as \\n)"
    note = f" ({sink.last_resort_note})" if sink.last_resort_note else ""
    write_stderr(
        f"Error: could not deliver the secret of new {key} to {sink.target}: {one_line(error)}"
    )
    write_stderr(
        f"Neon shows a secret only once, so here it is{note}{escaped}; store it now, "
        f"or revoke the key with: {revoke}"
    )
    write_stderr(shown)


# -- checks ----------------------------------------------------------------------------------


def _check_path(path: str, option: str, *, dash: str) -> os.stat_result | None:
    """Refuse a path no file could be written at; its ``lstat`` if it exists, else None.

    ``option`` names the path's source in messages; ``dash`` says what to do instead of ``-``.
    """
    if not path:
        raise _refusal(f"{option} needs a file name")
    if "\0" in path:
        raise _refusal(f"{option} {path!r} contains a NUL character")
    if path == "-":
        raise _refusal(f"{option} - would write to a file named '-'; {dash}")
    if path.endswith(("/", os.sep)) or os.path.basename(path) in (".", ".."):
        raise _refusal(f"{option} {path} names a folder, not a file")
    try:
        existing: os.stat_result | None = os.lstat(path)
    except FileNotFoundError:
        existing = None
    except NotADirectoryError:
        raise _refusal(f"{folder_of(path)} is not a folder") from None
    except OSError as err:
        raise _refusal(f"{option} {path}: {_reason(err)}") from None
    if existing is not None and stat.S_ISDIR(existing.st_mode):
        raise _refusal(f"{path} is a directory")
    if existing is not None and stat.S_ISLNK(existing.st_mode) and os.path.isdir(path):
        raise _refusal(f"{path} is a link to a directory")
    return existing


def _check_stdout(what: str) -> None:
    """Refuse a closed stdout when ``what`` is to be printed there."""
    closed = sys.stdout is None
    if not closed:
        try:
            os.fstat(sys.stdout.fileno())
        except OSError as err:
            closed = err.errno == errno.EBADF
        except ValueError:
            closed = sys.stdout.closed
    if closed:
        raise _refusal(f"stdout is closed, so {what} could not be printed")


def _can_give(uid: int, gid: int) -> bool:
    """Whether a file this process writes can be given owner ``uid`` and group ``gid``."""
    if os.geteuid() == 0:
        return True
    return uid == os.geteuid() and (gid == os.getegid() or gid in os.getgroups())


def _reason(err: BaseException) -> str:
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    return one_line(err)


def _refusal(reason: str) -> CliError:
    return CliError(f"{reason}; no key was created", ExitCode.USAGE)


def _probe(directory: str) -> None:
    """Refuse (exit 2, nothing created) a folder that will not take a new file."""
    try:
        probe_folder(directory)
    except FolderRefused as refused:
        raise _refusal(refused.reason) from None
