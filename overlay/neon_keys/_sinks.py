"""Sinks: where the secret of a new key goes.

A sink is any object with a ``target`` (where, in words), ``check()`` (refuse now what
delivery could not do, before the key exists) and ``deliver(secret)`` (put it there): the
``Sink`` protocol. ``rotate`` and the CLI deliver through it, and so can any code.

Built in, each a ``Sink``:

- ``StdoutSink``: the bare token and a newline on stdout;
- ``FileSink``: a new file, written atomically with mode 0600 from the start;
- ``DotenvSink``: one ``NAME=value`` assignment added to or replaced in a dotenv file, as
  python-dotenv reads it;
- ``GitHubEnvSink``: ``::add-mask::`` on stdout, then ``NAME=value`` appended on a line of its
  own to the file named by ``$GITHUB_ENV`` (GitHub Actions);
- ``CommandSink`` (``_command_sink``): a command that reads the secret on its stdin.

Other packages add sinks through the entry-point group ``neon_keys.sinks``: each entry
point names a factory that takes one string argument and returns a ``Sink``
(``load_sink("vault", "secret/neon#token")``; ``neon-keys --deliver vault:secret/neon#token``).

Every built-in sink refuses a secret that is empty or holds a line break or another control
character (Neon's never do): each writes it on a line of its own, or as the whole input.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ._constants import API_KEY_ENV
from ._exceptions import NeonError
from ._files import PRIVATE_MODE, FolderRefused, folder_of, probe_folder, write_all, write_private

if TYPE_CHECKING:
    from ._secret import Secret

__all__ = [
    "ENTRY_POINT_GROUP",
    "GITHUB_ENV",
    "DotenvSink",
    "FileSink",
    "GitHubEnvSink",
    "Sink",
    "SinkError",
    "SinkFactory",
    "StdoutSink",
    "available_sinks",
    "check_secret",
    "deliver_secret",
    "done_text",
    "load_sink",
]

ENTRY_POINT_GROUP = "neon_keys.sinks"
"""The entry-point group through which other packages add sinks."""

GITHUB_ENV = "GITHUB_ENV"
"""The variable naming GitHub Actions' environment file."""

_PLACEHOLDER = "napi_" + "0" * 64  # pragma: no mutate (any clean token rehearses alike)
"""A token of Neon's shape, for rehearsing a dotenv edit before the key exists."""


@runtime_checkable
class Sink(Protocol):
    """A place where the secret of a new key is delivered.

    ``check`` runs before the key is created, so that a destination that cannot take the
    secret costs nothing; ``deliver`` runs once the key exists. A sink holds no secret
    until ``deliver`` is called, and never shows it in ``target``, ``repr`` or errors.
    """

    @property
    def target(self) -> str:
        """Where the secret goes, for messages and reports (a path, a command, a URL)."""
        ...

    def check(self) -> None:
        """Raise ``SinkError`` now if ``deliver`` could not succeed; write nothing."""
        ...

    def deliver(self, secret: Secret) -> None:
        """Put ``secret`` in its place; raise ``SinkError`` (or any exception) on failure."""
        ...


SinkFactory = Callable[[str], Sink]
"""What an entry point of ``neon_keys.sinks`` names: argument text in, ``Sink`` out."""


class SinkError(NeonError):
    """A sink refused (``check``) or failed to take (``deliver``) a secret.

    Attributes:
        target: the sink's ``target``, or None when the error came before there was one.
    """

    def __init__(self, message: str, *, target: str | None = None) -> None:
        self.target = target
        super().__init__(message)  # pragma: no mutate (BaseException.__new__ already sets args)


def check_secret(secret: Secret) -> str:
    """The token of ``secret``, if it is one clean line; ``SinkError`` otherwise."""
    token = secret.reveal()
    if not token or not token.isprintable():
        raise SinkError("the secret is empty or holds a line break or control character")
    return token


def deliver_secret(sink: Sink, secret: Secret) -> None:
    """Deliver ``secret`` to ``sink``.

    The one place where the library hands a secret to a sink: the CLI lets nothing (no
    signal) cut short a delivery it finds running here (``neon_keys.cli._signals``).
    """
    sink.deliver(secret)


def done_text(sink: Sink) -> str:
    """What delivering to ``sink`` did, in words: its ``done`` if it says, else generic."""
    done = getattr(sink, "done", None)
    return done if isinstance(done, str) and done else f"delivered to {sink.target}"


# -- stdout ----------------------------------------------------------------------------------

PrintLine = Callable[[str], None]
"""Writes one line (a newline is added) to stdout; raises ``OSError`` if it cannot."""


def print_line(text: str) -> None:
    """Write ``text`` and a newline to ``sys.stdout`` and flush it; ``OSError`` if it cannot."""
    stream = sys.stdout
    if stream is None:
        raise OSError(errno.EBADF, "stdout is closed")
    try:
        stream.write(text + "\n")
        stream.flush()
    except ValueError as err:  # a closed file object, or text the stream cannot encode
        raise OSError(errno.EIO, str(err)) from err


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
        raise SinkError(f"stdout is closed, so {what} could not be printed", target="stdout")


class StdoutSink:
    """The bare token and a newline on stdout (``KEY=$(neon-keys create ci)``).

    Args:
        print_line: writes one line to stdout, raising ``OSError`` if it cannot (default:
            ``sys.stdout``, flushed).
    """

    target = "stdout"
    uses_stdout = True
    """Delivery writes to stdout (so a report should go to stderr)."""

    def __init__(self, *, print_line: PrintLine = print_line) -> None:
        self._print_line = print_line

    def __repr__(self) -> str:
        return "StdoutSink()"

    @property
    def done(self) -> str:
        """What delivery did, in words."""
        return "printed to stdout"

    def check(self) -> None:
        """Refuse a closed stdout."""
        _check_stdout("the secret")

    def deliver(self, secret: Secret) -> None:
        """Print the token on a line of its own."""
        token = check_secret(secret)
        try:
            self._print_line(token)
        except OSError as err:
            raise _failure(self.target, err) from err


# -- files -----------------------------------------------------------------------------------


class FileSink:
    """A file holding the token and a newline, mode 0600, written atomically.

    Args:
        path: the file. A symlink is replaced itself (with ``replace``), never followed.
        replace: replace an existing file (or symlink); without it an existing ``path`` is
            refused by ``check``, and never overwritten by ``deliver``.

    ``check`` refuses what no file could be written at (an empty path, ``-``, a folder, a
    missing or read-only folder, a device, FIFO or socket even with ``replace``).
    """

    option = "path"
    """How messages name the path's source (the CLI says ``--save``)."""
    dash_advice = "name a file"
    """What messages advise instead of the path ``-``."""
    replace_advice = "pass replace=True to replace it"
    """What messages advise when the file exists."""
    uses_stdout = False

    def __init__(self, path: str, *, replace: bool = False) -> None:
        self.path = path
        self.target = path
        self.replace = replace

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path!r}, replace={self.replace})"

    @property
    def done(self) -> str:
        """What delivery did, in words."""
        return f"saved to {self.path} (mode 0600)"

    def check(self) -> None:
        """Refuse a path no new file could be written at (see the class docstring)."""
        existing = check_path(self.path, self.option, dash=self.dash_advice, target=self.target)
        probe(folder_of(self.path), self.target)
        if existing is None:
            return
        # replace swaps a file or a symlink (never what a link points to); a device, a FIFO
        # or a socket is no place for a token, and replacing it could break the system.
        if not (stat.S_ISREG(existing.st_mode) or stat.S_ISLNK(existing.st_mode)):
            raise SinkError(f"{self.path} is not a regular file", target=self.target)
        if not self.replace:
            raise SinkError(
                f"{self.path} already exists; {self.replace_advice}", target=self.target
            )

    def deliver(self, secret: Secret) -> None:
        """Write the file (through a 0600 temporary file in its folder, then renamed)."""
        token = check_secret(secret)
        try:
            write_private(self.path, token + "\n", replace=self.replace)
        except OSError as err:
            raise _failure(self.target, err) from err


class DotenvSink:
    """One ``VAR=value`` assignment in a dotenv file; every other byte is kept.

    Args:
        path: the dotenv file (a symlink is followed: the file it names is edited).
        var: the variable (default ``NEON_API_KEY``).
        warn: called with a warning found by ``check`` (default: ``warnings.warn``).

    The file is read and edited as python-dotenv reads it, and the result is read back
    before it replaces the file. A new file is 0600; an existing one keeps its mode, owner
    and group (``check`` warns when others may read or write it).
    """

    option = "path"
    """How messages name the file's source (the CLI says ``--dotenv``)."""
    dash_advice = "name a file"
    """What messages advise instead of the path ``-``."""
    uses_stdout = False

    def __init__(
        self, path: str, var: str = API_KEY_ENV, *, warn: Callable[[str], None] | None = None
    ) -> None:
        self.target = path
        self._warn = warn
        # Edit the file a symlink points to, rather than replacing the link.
        self.path = os.path.realpath(path) if path and "\0" not in path else path
        self.var = var

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.target!r}, {self.var!r})"

    @property
    def done(self) -> str:
        """What delivery did, in words."""
        return f"set as {self.var} in {self.target}"

    def check(self) -> None:
        """Refuse a file that could not be edited and read back (see the class docstring)."""
        try:
            from ._dotenv import set_variable  # noqa: PLC0415  (only dotenv files need it)
        except ImportError as err:
            raise SinkError(
                f"{self.option} needs python-dotenv: pip install 'python-dotenv>=1.0,<2' ({err})",
                target=self.target,
            ) from None
        check_path(self.target, self.option, dash=self.dash_advice, target=self.target)
        probe(folder_of(self.path), self.target)
        if not os.path.exists(self.path):
            return
        if not stat.S_ISREG(os.stat(self.path).st_mode):
            raise SinkError(f"{self.target} is not a regular file", target=self.target)
        try:
            text, state = self._read()
            with open(self.path, "r+b"):
                pass  # can it be written? (the edit replaces it; this asks the system first)
            set_variable(text, self.var, _PLACEHOLDER)
        except (OSError, ValueError) as err:
            raise SinkError(
                f"cannot edit {self.target}: {reason(err)}", target=self.target
            ) from None
        if not _can_give(state.st_uid, state.st_gid):
            raise SinkError(
                f"{self.target} belongs to another user or group (uid {state.st_uid}, "
                f"gid {state.st_gid}), which rewriting it would not keep; edit it as its owner",
                target=self.target,
            )
        mode = stat.S_IMODE(state.st_mode)
        if mode & 0o077:
            # Its mode is kept (other programs may rely on it), but say what it means.
            message = (
                f"{self.target} is readable or writable by others (mode {mode:04o}); the "
                f"secret will be stored there. Consider: chmod 600 {self.target}"
            )
            if self._warn is not None:
                self._warn(message)
            else:
                warnings.warn(message, UserWarning, stacklevel=2)

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

    def deliver(self, secret: Secret) -> None:
        """Set the variable, writing the file atomically."""
        token = check_secret(secret)
        try:
            self._write(token)
        except (OSError, ValueError) as err:
            raise _failure(self.target, err) from err

    def _write(self, token: str) -> None:
        from ._dotenv import set_variable  # noqa: PLC0415

        try:
            text, state = self._read()
        except FileNotFoundError:
            write_private(self.path, set_variable("", self.var, token), replace=False)
            return
        write_private(
            self.path,
            set_variable(text, self.var, token),
            replace=True,
            mode=stat.S_IMODE(state.st_mode),
            owner=(state.st_uid, state.st_gid),
        )


class GitHubEnvSink:
    """``::add-mask::`` on stdout, then ``VAR=value`` appended to ``$GITHUB_ENV``.

    For GitHub Actions: the mask line makes the runner hide the value in every later log
    line; later steps of the job see the variable. The assignment goes on a line of its own
    (an unfinished last line is finished first).

    Args:
        var: the variable (default ``NEON_API_KEY``).
        path: the environment file; default ``$GITHUB_ENV`` as this process sees it.
        print_line: writes the mask line to stdout (see ``StdoutSink``).
    """

    option = "this sink"
    """How messages name the sink (the CLI says ``--github-env``)."""
    uses_stdout = True
    """Delivery writes the mask line to stdout (so a report should go to stderr)."""

    def __init__(
        self,
        var: str = API_KEY_ENV,
        *,
        path: str | None = None,
        print_line: PrintLine = print_line,
    ) -> None:
        self.var = var
        self.path = os.environ.get(GITHUB_ENV, "") if path is None else path
        self.target = f"${GITHUB_ENV} ({self.path})"
        self.masked = False
        """Whether the mask line went out (then the runner hides the value in its log)."""
        self._print_line = print_line

    def __repr__(self) -> str:
        return f"GitHubEnvSink({self.var!r}, path={self.path!r})"

    @property
    def done(self) -> str:
        """What delivery did, in words."""
        return f"appended as {self.var} to {self.target}, masked in the job's logs"

    @property
    def last_resort_note(self) -> str:
        """A remark for whoever shows the secret after a failed delivery ('' if none)."""
        # Once the mask is registered the runner hides the value in the job's log, which is
        # right for a public log but means it may not be readable there.
        if not self.masked:
            return ""
        return "GitHub Actions masks it in the job's log: if you cannot read it, revoke the key"

    def check(self) -> None:
        """Refuse an unset ``$GITHUB_ENV``, a folder, a device, an unwritable file."""
        if not self.path:
            raise SinkError(
                f"{self.option} needs ${GITHUB_ENV}, which is not set (not in Actions?)",
                target=self.target,
            )
        check_path(self.path, f"${GITHUB_ENV}", dash="name a file", target=self.target)
        if not os.path.exists(self.path):
            probe(folder_of(os.path.realpath(self.path)), self.target)
        elif not stat.S_ISREG(os.stat(self.path).st_mode):
            raise SinkError(
                f"${GITHUB_ENV} ({self.path}) is not a regular file", target=self.target
            )
        else:
            try:
                with open(self.path, "ab"):
                    pass
            except OSError as err:
                raise SinkError(
                    f"${GITHUB_ENV} file {self.path}: {reason(err)}", target=self.target
                ) from None
        _check_stdout("the mask line")

    def deliver(self, secret: Secret) -> None:
        """Print the mask line, then append the assignment."""
        token = check_secret(secret)
        try:
            # Mask first: from here on GitHub hides the value in every log of the job.
            self._print_line(f"::add-mask::{token}")
            self.masked = True
            self._append(f"{self.var}={token}")
        except OSError as err:
            raise _failure(self.target, err) from err

    def _append(self, line: str) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, PRIVATE_MODE)
        try:
            size = os.fstat(fd).st_size
            # A file whose last line is unfinished would glue the assignment onto it.
            start = "\n" if size and os.pread(fd, 1, size - 1) not in (b"\n", b"\r") else ""
            write_all(fd, f"{start}{line}\n".encode())
        finally:
            os.close(fd)


# -- plug-ins --------------------------------------------------------------------------------


def available_sinks() -> dict[str, str]:
    """The sinks other packages offer: entry-point name -> the object it names."""
    from importlib.metadata import entry_points  # noqa: PLC0415  (slow; only when asked)

    return {point.name: point.value for point in entry_points(group=ENTRY_POINT_GROUP)}


def load_sink(name: str, argument: str = "") -> Sink:
    """The sink that the entry point ``name`` of ``neon_keys.sinks`` makes of ``argument``.

    Raises ``SinkError`` when no installed package offers ``name``, when its factory cannot
    be loaded or fails, or when what it returns is not a ``Sink``. The sink is not checked.
    """
    from importlib.metadata import entry_points  # noqa: PLC0415  (slow; only when asked)

    found = [point for point in entry_points(group=ENTRY_POINT_GROUP) if point.name == name]
    if not found:
        offered = ", ".join(sorted(available_sinks())) or "none is installed"
        raise SinkError(f"no sink named {name!r} in {ENTRY_POINT_GROUP} (offered: {offered})")
    point = found[0]
    try:
        factory = point.load()
        sink = factory(argument)
    except SinkError:
        raise
    except Exception as err:  # a plug-in's failure, whatever it is, is a refusal here
        raise SinkError(f"sink {name!r} ({point.value}) failed: {one_line(err)}") from err
    if not isinstance(sink, Sink):
        raise SinkError(f"sink {name!r} ({point.value}) did not return a Sink: {type(sink)!r}")
    return sink


# -- checks ----------------------------------------------------------------------------------


def check_path(path: str, option: str, *, dash: str, target: str) -> os.stat_result | None:
    """Refuse a path no file could be written at; its ``lstat`` if it exists, else None.

    ``option`` names the path's source in messages; ``dash`` says what to do instead of ``-``.
    """
    if not path:
        raise SinkError(f"{option} needs a file name", target=target)
    if "\0" in path:
        raise SinkError(f"{option} {path!r} contains a NUL character", target=target)
    if path == "-":
        raise SinkError(f"{option} - would write to a file named '-'; {dash}", target=target)
    if path.endswith(("/", os.sep)) or os.path.basename(path) in (".", ".."):
        raise SinkError(f"{option} {path} names a folder, not a file", target=target)
    try:
        existing: os.stat_result | None = os.lstat(path)
    except FileNotFoundError:
        existing = None
    except NotADirectoryError:
        raise SinkError(f"{folder_of(path)} is not a folder", target=target) from None
    except OSError as err:
        raise SinkError(f"{option} {path}: {reason(err)}", target=target) from None
    if existing is not None and stat.S_ISDIR(existing.st_mode):
        raise SinkError(f"{path} is a directory", target=target)
    if existing is not None and stat.S_ISLNK(existing.st_mode) and os.path.isdir(path):
        raise SinkError(f"{path} is a link to a directory", target=target)
    return existing


def probe(directory: str, target: str) -> None:
    """Refuse a folder that will not take a new file (found by making one there)."""
    try:
        probe_folder(directory)
    except FolderRefused as refused:
        raise SinkError(refused.reason, target=target) from None


def _can_give(uid: int, gid: int) -> bool:
    """Whether a file this process writes can be given owner ``uid`` and group ``gid``."""
    if os.geteuid() == 0:
        return True
    return uid == os.geteuid() and (gid == os.getegid() or gid in os.getgroups())


def one_line(error: BaseException) -> str:
    """The message of ``error`` on one line (its class name if it has none)."""
    return " ".join(str(error).split()) or type(error).__name__


def reason(err: BaseException) -> str:
    """An OS error's own words (``Permission denied``), else the error on one line."""
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    return one_line(err)


def _failure(target: str, err: BaseException) -> SinkError:
    """The ``SinkError`` of a failed delivery, in the failure's own words."""
    return SinkError(one_line(err), target=target)
