"""Where a new key's secret goes: exactly one sink per command.

- stdout (the default): the bare token and a newline, so ``KEY=$(neon-keys create ci)`` works;
- ``--save FILE``: a new file, written atomically with mode 0600 from the start;
- ``--dotenv FILE --var NAME``: one ``NAME=value`` line added to or replaced in a dotenv file;
- ``--github-env [--var NAME]``: ``::add-mask::`` on stdout, then ``NAME=value`` appended to
  the file named by ``$GITHUB_ENV`` (GitHub Actions).

Every sink is checked (``check``) before the key is created, so a refusal costs nothing. If
delivery fails afterwards, ``last_resort`` prints the secret once on stderr: the only path on
which a secret may reach stderr.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import sys
import tempfile
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ._errors import CliError, ExitCode
from ._params import ENV_NAME

GITHUB_ENV = "GITHUB_ENV"
DEFAULT_VAR = "NEON_API_KEY"
PRIVATE_MODE = 0o600

F = TypeVar("F", bound=Callable[..., Any])


class Sink:
    """A destination for one secret. Subclasses set ``target`` and implement ``deliver``."""

    target = "stdout"
    """Where the secret goes, for messages: ``stdout``, ``keys/ci.token``, ..."""
    uses_stdout = False
    """Whether delivery writes to stdout (then metadata goes to stderr)."""

    def check(self) -> None:
        """Refuse, before anything is created, what ``deliver`` could not do (``CliError``)."""

    @property
    def last_resort_note(self) -> str:
        """A remark for the last-resort advice about this sink, or an empty string."""
        return ""

    def deliver(self, secret: str) -> None:
        """Put ``secret`` in its place; raises ``OSError`` (or ``ValueError``) on failure."""
        raise NotImplementedError

    @property
    def done(self) -> str:
        """What delivery did, for messages: ``printed to stdout``, ``saved to FILE``, ..."""
        raise NotImplementedError


class StdoutSink(Sink):
    """The bare token on stdout."""

    uses_stdout = True

    def deliver(self, secret: str) -> None:
        click.echo(secret)
        sys.stdout.flush()

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
        _check_directory(self.path)
        if os.path.isdir(self.path):
            raise _refusal(f"{self.path} is a directory")
        try:
            existing = os.lstat(self.path)
        except FileNotFoundError:
            return
        # --force replaces a file or a symlink (never what a link points to); a device, a
        # FIFO or a socket is no place for a token, and replacing it could break the system.
        if not (stat.S_ISREG(existing.st_mode) or stat.S_ISLNK(existing.st_mode)):
            raise _refusal(f"{self.path} is not a regular file")
        if not self.force:
            raise _refusal(f"{self.path} already exists; pass --force to replace it")

    def deliver(self, secret: str) -> None:
        write_private(self.path, secret + "\n", replace=self.force)

    @property
    def done(self) -> str:
        return f"saved to {self.path} (mode 0600)"


class DotenvSink(Sink):
    """One ``NAME=value`` line in a dotenv file; the other lines are kept."""

    def __init__(self, path: str, var: str) -> None:
        # Edit the file a symlink points to, rather than replacing the link.
        self.path = os.path.realpath(path)
        self.target = path
        self.var = var

    def check(self) -> None:
        _check_directory(self.path)
        if os.path.exists(self.path):
            if not os.path.isfile(self.path):
                raise _refusal(f"{self.target} is not a regular file")
            if not os.access(self.path, os.R_OK | os.W_OK):
                raise _refusal(f"{self.target} is not readable and writable")
            mode = stat.S_IMODE(os.stat(self.path).st_mode)
            if mode & 0o077:
                # Its mode is kept (other programs may rely on it), but say what it means.
                click.echo(
                    f"Warning: {self.target} is readable or writable by others (mode "
                    f"{mode:04o}); the secret will be stored there. Consider: chmod 600 "
                    f"{self.target}",
                    err=True,
                )

    def deliver(self, secret: str) -> None:
        try:
            with open(self.path, encoding="utf-8", newline="") as existing:
                text = existing.read()
            mode = stat.S_IMODE(os.stat(self.path).st_mode)
            replace = True
        except FileNotFoundError:
            text, mode, replace = "", PRIVATE_MODE, False
        updated = set_dotenv_line(text, self.var, secret)
        write_private(self.path, updated, replace=replace, mode=mode)

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

    def check(self) -> None:
        if not self.path:
            raise _refusal(f"--github-env needs ${GITHUB_ENV}, which is not set (not in Actions?)")
        _check_directory(self.path)
        if os.path.isdir(self.path):
            raise _refusal(f"${GITHUB_ENV} ({self.path}) is a directory")
        if os.path.exists(self.path) and not os.access(self.path, os.W_OK):
            raise _refusal(f"${GITHUB_ENV} file {self.path} is not writable")

    def deliver(self, secret: str) -> None:
        if "\n" in secret or "\r" in secret:
            raise ValueError("the secret spans several lines")
        # Mask first: from here on GitHub hides the value in every log of the job.
        click.echo(f"::add-mask::{secret}")
        sys.stdout.flush()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_MODE)
        with os.fdopen(fd, "a", encoding="utf-8") as env_file:
            env_file.write(f"{self.var}={secret}\n")

    @property
    def done(self) -> str:
        return f"appended as {self.var} to {self.target}, masked in the job's logs"

    @property
    def last_resort_note(self) -> str:
        # The mask was registered before the append failed: the runner hides the value in
        # the job's log, which is right for a public log but means it may not be readable.
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
            help="Add or replace the line VAR=secret in the dotenv FILE.",
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
        for name, on in (("--save", save), ("--dotenv", dotenv), ("--github-env", github_env))
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
    """Print the secret of ``key`` once on stderr, after delivering it to ``sink`` failed."""
    click.echo(
        f"Error: could not deliver the secret of new {key} to {sink.target}: {error}", err=True
    )
    note = f" ({sink.last_resort_note})" if sink.last_resort_note else ""
    click.echo(
        f"Neon shows a secret only once, so here it is{note}; store it now, "
        f"or revoke the key with: {revoke}",
        err=True,
    )
    click.echo(secret, err=True)


# -- files -----------------------------------------------------------------------------------


def write_private(path: str, text: str, *, replace: bool, mode: int = PRIVATE_MODE) -> None:
    """Write ``text`` to ``path`` atomically, through a 0600 temporary file in the same folder.

    The file never exists with looser permissions than ``mode``, and never half-written.
    Without ``replace`` an existing ``path`` is never overwritten, even one that appeared
    after ``check``: ``FileExistsError``.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".neon-keys-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            if mode != PRIVATE_MODE:
                os.fchmod(out.fileno(), mode)
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        if replace:
            os.replace(temporary, path)
        else:
            _link_new(temporary, path)
        _sync_directory(directory)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def _sync_directory(directory: str) -> None:
    """Make a rename in ``directory`` durable, where the system allows it (best effort)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _link_new(temporary: str, path: str) -> None:
    """Give ``temporary`` the name ``path``, failing if ``path`` exists."""
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise
    except OSError:
        # No hard links on this filesystem (some network or FUSE mounts): check, then rename.
        if os.path.lexists(path):
            raise FileExistsError(f"{path} already exists") from None
        os.replace(temporary, path)


def set_dotenv_line(text: str, var: str, value: str) -> str:
    """``text`` (a dotenv file) with exactly one assignment of ``var``, set to ``value``.

    The first assignment (``VAR=...`` or ``export VAR=...``) is replaced in place, later
    ones are dropped; with none, the line is appended. Every other line is kept as it was.
    """
    pattern = re.compile(rf"[ \t]*(export[ \t]+)?{re.escape(var)}[ \t]*=")
    lines = text.splitlines(keepends=True)
    result: list[str] = []
    found = False
    for line in lines:
        match = pattern.match(line)
        if match is None:
            result.append(line)
        elif not found:
            found = True
            ending = line[len(line.rstrip("\r\n")) :] or "\n"
            result.append(f"{match.group(1) or ''}{var}={_dotenv_value(value)}{ending}")
    if not found:
        if result and not result[-1].endswith(("\n", "\r")):
            result[-1] += "\n"
        result.append(f"{var}={_dotenv_value(value)}\n")
    return "".join(result)


_BARE = re.compile(r"[A-Za-z0-9_\-.:/+@%,]+")


def _dotenv_value(value: str) -> str:
    if _BARE.fullmatch(value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _check_directory(path: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise _refusal(f"folder {directory} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise _refusal(f"cannot write in folder {directory}")


def _refusal(reason: str) -> CliError:
    return CliError(f"{reason}; no key was created", ExitCode.USAGE)
