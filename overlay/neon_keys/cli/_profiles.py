"""Named profiles in an optional config file: an API root, a default organization, and a
command that prints the API key, never the key itself.

The file is ``$XDG_CONFIG_HOME/neon-keys/config.toml`` (``~/.config/neon-keys/config.toml``
when that variable is unset, empty or not an absolute path)::

    [profiles.ci]
    api_host = "https://console.neon.tech/api/v2"
    org = "org-cool-breeze-12345678"
    api_key_command = "op read op://ci/neon/token"
    api_key_command_timeout = "30s"

It is read only when a profile is chosen (``--profile NAME`` or ``NEON_KEYS_PROFILE``), and
checked whole then: an unknown field, a value of the wrong type, and above all anything that
looks like an API key written in the file are refused, naming the file and the field, before
any request. As the file names a command to run, it is refused (as ssh refuses its own) when
another user could have written it: when it, or its folder, is writable by group or others,
or belongs to someone else; so is anything but a regular file (a FIFO would never end).
The key command runs without a shell (its words split as a POSIX shell would, or given as
an array), with stdin closed, within a timeout, in a process group of its own (when it is
stopped, everything it started is stopped too); what it prints on stdout is the key and is
never shown, its stderr is the user's (a password manager may ask there, and on the
terminal, which is lent to it when neon-keys runs in the foreground of one).
"""

from __future__ import annotations

import contextlib
import datetime
import os
import re
import selectors
import shlex
import signal
import stat
import subprocess
import time
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neon_keys import _validation
from neon_keys._durations import format_duration, parse_duration
from neon_keys._exceptions import InvalidInputError
from neon_keys._processes import stop_group

from ._errors import CliError, ExitCode
from ._signals import Interrupted

CONFIG_HOME_ENV = "XDG_CONFIG_HOME"
"""Where the XDG Base Directory specification puts user configuration."""

DEFAULT_KEY_COMMAND_TIMEOUT = datetime.timedelta(seconds=30)
"""How long an ``api_key_command`` may run (a password manager may wait for a fingerprint)."""

FIELDS = ("api_host", "org", "api_key_command", "api_key_command_timeout")
"""The fields a profile may hold."""

_KEY_FIELDS = re.compile(r"(?i)(?:api[_-]?)?(?:key|token|secret|password)s?")
"""Field names that would hold a credential in plain text."""

_TOKEN = re.compile(r"\bnapi_[A-Za-z0-9]{8,}|(?<![A-Za-z0-9])[A-Za-z0-9]{40,}(?![A-Za-z0-9])")
"""Text shaped like an API key: Neon's ``napi_`` prefix, or a long run of letters and digits
(Neon's older keys are 64 of them) that no host, id or command word has."""

_PROFILE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")

MAX_KEY_LENGTH = 1024
"""Longest output taken for a key (Neon's are under a hundred characters)."""

MAX_OUTPUT = 64 * 1024
"""Bytes of a key command's output read before it is stopped (``cat`` of a large file or
a device by mistake): it is never read into memory whole."""

_EXIT_POLL = 0.05
"""Seconds between looks at whether the key command exited while its stdout stays open."""


MAX_CONFIG_SIZE = 1024 * 1024
"""Bytes of the config file read at most (a few profiles take a few hundred)."""


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    """The config file's path (it need not exist), as the XDG specification places it.

    A usage error (exit 2) when neither ``XDG_CONFIG_HOME`` nor a home folder says where
    it is (``HOME`` unset and the user unknown to the system, as in some containers).
    """
    env = os.environ if environ is None else environ
    base = env.get(CONFIG_HOME_ENV, "")
    if base and os.path.isabs(base):
        return Path(base) / "neon-keys" / "config.toml"
    home = env.get("HOME", "")
    if not os.path.isabs(home):  # unset, empty or relative: the system's record of the user
        home = _home_of_user()
    if not os.path.isabs(home):
        raise CliError(
            "cannot find the config file: HOME is unset and the system knows no home folder "
            f"for this user; set {CONFIG_HOME_ENV} to the folder that holds neon-keys/",
            ExitCode.USAGE,
        )
    return Path(home) / ".config" / "neon-keys" / "config.toml"


def _home_of_user() -> str:
    """This user's home folder as the system records it ('' when it records none)."""
    if os.name != "posix":  # pragma: no cover - no passwd database
        try:
            return str(Path.home())
        except RuntimeError:
            return ""
    import pwd  # noqa: PLC0415  (POSIX only)

    try:
        return pwd.getpwuid(os.getuid()).pw_dir
    except KeyError:
        return ""


@dataclass(frozen=True, slots=True)
class Profile:
    """One ``[profiles.NAME]`` table, checked.

    ``api_host``, ``org`` and ``api_key_command`` are None when the profile does not set
    them; ``api_key_command`` is the command's words (argv), run without a shell;
    ``api_key_command_timeout`` bounds its run.
    """

    name: str
    path: Path
    api_host: str | None = None
    org: str | None = None
    api_key_command: tuple[str, ...] | None = None
    api_key_command_timeout: datetime.timedelta = DEFAULT_KEY_COMMAND_TIMEOUT

    @property
    def label(self) -> str:
        """``profile "ci" (~/.config/neon-keys/config.toml)``, for messages."""
        return f'profile "{self.name}" ({self.path})'

    def read_api_key(self) -> str:
        """Run ``api_key_command`` and return the key it prints (exit 3 if it does not).

        The key is never part of a message: a failure says what went wrong, not what the
        command printed.
        """
        assert self.api_key_command is not None
        command = shlex.join(self.api_key_command)
        program = self.api_key_command[0]
        where = f'the api_key_command of profile "{self.name}" ({command})'
        seconds = self.api_key_command_timeout.total_seconds()
        try:
            status, output = _run(self.api_key_command, seconds)
        except FileNotFoundError:
            raise _no_key(f"{where} cannot run: {program} was not found") from None
        except PermissionError:
            raise _no_key(f"{where} cannot run: {program} is not executable") from None
        except OSError as err:
            raise _no_key(f"{where} cannot run: {err.strerror or err}") from None
        except subprocess.TimeoutExpired:
            raise _no_key(
                f"{where} did not finish within {format_duration(self.api_key_command_timeout)} "
                "(api_key_command_timeout); it was stopped"
            ) from None
        except _Flood:
            raise _no_key(
                f"{where} printed more than {MAX_OUTPUT // 1024} KiB, more than a key; "
                "it was stopped"
            ) from None
        if status != 0:
            raise _no_key(f"{where} exited with status {status}")
        return _the_key(output, where)


class _Flood(Exception):
    """A key command printed more than ``MAX_OUTPUT`` bytes."""


def _run(argv: Sequence[str], seconds: float) -> tuple[int, bytes]:
    """Run ``argv`` with stdin closed: its exit status and what it printed on stdout.

    Returns once the command has exited, even if a process it started (an agent) keeps its
    stdout open: what it printed before exiting is all read. Raises ``TimeoutExpired`` after
    ``seconds`` and ``_Flood`` past ``MAX_OUTPUT`` bytes, the command killed either way.
    """
    if os.name != "posix":  # pragma: no cover - no non-blocking pipes to select on
        done = subprocess.run(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, timeout=seconds, check=False
        )
        if len(done.stdout) > MAX_OUTPUT:
            raise _Flood
        return done.returncode, done.stdout
    deadline = time.monotonic() + seconds
    # A group of its own, so that a stop reaches what it forked too (see _processes).
    with (
        subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, process_group=0
        ) as process,
        _terminal_lent_to(process),
    ):
        try:
            return _read_until_exit(process, deadline)
        except BaseException:
            stop_group(process)
            raise


@contextlib.contextmanager
def _terminal_lent_to(process: subprocess.Popen[bytes]) -> Iterator[None]:
    """Let ``process``'s group use the terminal while the block runs, as a shell does for a
    job it runs in the foreground: it may prompt on ``/dev/tty`` (a password manager asking
    for a passphrase) and gets Ctrl-C (raised here as ``Interrupted`` once it has ended).

    Nothing is done when this process is not the terminal's foreground (no terminal: CI,
    or a background job): the command then has no terminal to read either.
    """
    terminal = _foreground_terminal()
    if terminal is None:
        yield
        return
    try:
        with contextlib.suppress(OSError):
            os.tcsetpgrp(terminal, process.pid)
            # It may have tried to read the terminal before it was its own (and stopped).
            os.killpg(process.pid, signal.SIGCONT)
        yield
    finally:
        # Taken back from the background: SIGTTOU would stop this process otherwise.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTTOU})
        try:
            with contextlib.suppress(OSError):
                os.tcsetpgrp(terminal, os.getpgrp())
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTTOU})
            os.close(terminal)
    if process.returncode == -signal.SIGINT:  # Ctrl-C reached only the command
        raise Interrupted(signal.SIGINT)


def _foreground_terminal() -> int | None:
    """A descriptor of the controlling terminal when this process's group is its foreground
    (an interactive run), else None."""
    try:
        terminal = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return None
    try:
        if os.tcgetpgrp(terminal) == os.getpgrp():
            return terminal
    except OSError:
        pass
    os.close(terminal)
    return None


def _read_until_exit(process: subprocess.Popen[bytes], deadline: float) -> tuple[int, bytes]:
    """The exit status and stdout of ``process``, read until it exits (see ``_run``)."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    os.set_blocking(fd, False)
    output = bytearray()
    ended = False
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            status = process.poll()  # before reading: all it wrote is then in the pipe
            ended = _drain(fd, output) or ended
            if len(output) > MAX_OUTPUT:
                raise _Flood
            if status is not None:
                return status, bytes(output)
            left = deadline - time.monotonic()
            if left <= 0:
                raise subprocess.TimeoutExpired(process.args, 0)
            if ended:
                process.wait(left)
            else:
                selector.select(min(left, _EXIT_POLL))


def _drain(fd: int, output: bytearray) -> bool:
    """Read what ``fd`` holds now into ``output`` (at most one byte past ``MAX_OUTPUT``);
    whether it reached the end (every writer closed it)."""
    while len(output) <= MAX_OUTPUT:
        try:
            chunk = os.read(fd, MAX_OUTPUT + 1 - len(output))
        except BlockingIOError:
            return False
        if not chunk:
            return True
        output += chunk
    return False


def _the_key(output: bytes, where: str) -> str:
    """The key in a command's output: one line of content; blank lines before or after it
    (a trailing line break, an empty line a tool adds) are not content."""
    try:
        text = output.decode("utf-8")
    except UnicodeDecodeError:
        raise _no_key(f"{where} printed something that is not UTF-8 text, not a key") from None
    lines = text.split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    key = "\n".join(lines).removesuffix("\r")
    if not key.strip():
        raise _no_key(f"{where} printed no key")
    if len(key) > MAX_KEY_LENGTH:
        raise _no_key(f"{where} printed {len(key)} characters, more than a key")
    if any(not char.isprintable() for char in key):
        raise _no_key(
            f"{where} printed more than the key (several lines, or control characters); "
            "it must print the key alone"
        )
    return key.strip()


def _no_key(message: str) -> CliError:
    return CliError(f"no Neon API key: {message}", ExitCode.AUTH)


# -- reading the file ------------------------------------------------------------------------


def load_profile(name: str, path: Path | None = None) -> Profile:
    """The profile ``name`` of the config file, checked (usage error, exit 2, otherwise)."""
    path = config_path() if path is None else path
    if not _PROFILE_NAME.fullmatch(name):
        raise _bad(path, f"{name!r} is not a profile name (letters, digits, '-' and '_')")
    tables = read_profiles(path)
    if name not in tables:
        known = ", ".join(sorted(tables)) or "none"
        raise _bad(path, f'no profile "{name}" in the file (profiles: {known})')
    return _profile(name, path, tables[name])


def read_profiles(path: Path) -> dict[str, dict[str, Any]]:
    """The ``[profiles.NAME]`` tables of the config file at ``path``, by name.

    The whole file is checked for credentials first: no profile of a file holding a key in
    plain text is used.
    """
    try:
        text = _read_config(path).decode("utf-8")
    except FileNotFoundError:
        raise _bad(path, "the config file does not exist") from None
    except UnicodeDecodeError:
        raise _bad(path, "the config file is not UTF-8 text") from None
    except OSError as err:
        raise _bad(path, f"cannot read the config file: {err.strerror or err}") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise _bad(path, f"not valid TOML: {err}") from None
    _refuse_plain_keys(path, document, ())
    unknown = sorted(set(document) - {"profiles"})
    if unknown:
        raise _bad(
            path, f"unknown top-level entry {unknown[0]!r} (profiles go under [profiles.NAME])"
        )
    profiles = document.get("profiles", {})
    if not isinstance(profiles, dict):
        raise _bad(path, "profiles must be tables: [profiles.NAME]")
    for name, table in profiles.items():
        if not isinstance(table, dict):
            raise _bad(path, f"profiles.{name} must be a table: [profiles.{name}]")
    return profiles


def _read_config(path: Path) -> bytes:
    """The config file's bytes, once it is known to be a regular file no other user could
    have written, and no larger than ``MAX_CONFIG_SIZE``.

    It is opened without blocking and checked as opened: a FIFO (which would wait for a
    writer for ever), a device or a folder is refused, never read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    with open(os.open(path, flags), "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise _bad(path, "the config file is not a regular file (a FIFO, device or folder)")
        _check_owner(path, info)
        data = file.read(MAX_CONFIG_SIZE + 1)
    if len(data) > MAX_CONFIG_SIZE:
        raise _bad(path, f"the config file is larger than {MAX_CONFIG_SIZE // 1024} KiB")
    return data


def _check_owner(path: Path, opened: os.stat_result) -> None:
    """Refuse a config file another user could have written (it names a command to run);
    ``opened`` is the file's own status, as opened."""
    if not hasattr(os, "getuid"):  # pragma: no cover - Windows has no such modes
        return
    me = os.getuid()
    for info, place, what in (
        (opened, path, "the config file"),
        (path.parent.stat(), path.parent, "its folder"),
    ):
        if info.st_uid not in (me, 0):
            raise _bad(path, f"{what} belongs to another user (uid {info.st_uid}); not read")
        if info.st_mode & 0o022:
            raise _bad(
                path,
                f"{what} is writable by others (mode {info.st_mode & 0o777:04o}), who could "
                f"make neon-keys run any command: chmod go-w {place}",
            )


def profile_names(path: Path | None = None) -> list[str]:
    """The names of the profiles in the config file; none when it is missing or unreadable.

    For shell completion, which must never fail.
    """
    try:
        return sorted(read_profiles(config_path() if path is None else path))
    except CliError:  # no such file, an unsafe or unreadable one, or no home folder
        return []


def profile_orgs(path: Path | None = None) -> list[str]:
    """The organizations the config file's profiles name (for completion; never fails)."""
    try:
        tables = read_profiles(config_path() if path is None else path)
    except CliError:  # as for profile_names
        return []
    orgs = {table.get("org") for table in tables.values()}
    return sorted(org for org in orgs if isinstance(org, str))


def _refuse_plain_keys(path: Path, value: object, where: Sequence[str]) -> None:
    """Refuse a file that holds something like an API key, anywhere, naming only where."""
    if isinstance(value, dict):
        for field, item in value.items():
            location = (*where, str(field))
            if _KEY_FIELDS.fullmatch(str(field)) and len(where) == 2:  # profiles.NAME.<field>
                raise _plain_key(path, location)
            _refuse_plain_keys(path, item, location)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_plain_keys(path, item, (*where[:-1], f"{where[-1]}[{index}]"))
    elif isinstance(value, str) and _TOKEN.search(value):
        raise _plain_key(path, where)


def _plain_key(path: Path, where: Sequence[str]) -> CliError:
    field = ".".join(where)
    return _bad(
        path,
        f"{field} holds what looks like an API key in plain text; neon-keys never reads a "
        "key from its config file: set api_key_command to a command that prints it "
        '(api_key_command = "op read op://vault/neon/token"), or use NEON_API_KEY',
    )


def _profile(name: str, path: Path, table: dict[str, Any]) -> Profile:
    unknown = sorted(set(table) - set(FIELDS))
    if unknown:
        fields = ", ".join(FIELDS)
        raise _bad(path, f"profiles.{name}.{unknown[0]} is not a profile field (fields: {fields})")
    for field in ("api_host", "org", "api_key_command_timeout"):
        if field in table and not isinstance(table[field], str):
            raise _bad(path, f"profiles.{name}.{field} must be a string")
    org = table.get("org")
    if org is not None:
        try:
            _validation.resource_id("org", org)
        except InvalidInputError as err:
            raise _bad(path, f"profiles.{name}.org: {err}") from None
    timeout = DEFAULT_KEY_COMMAND_TIMEOUT
    if "api_key_command_timeout" in table:
        try:
            timeout = parse_duration(
                table["api_key_command_timeout"], field=f"profiles.{name}.api_key_command_timeout"
            )
        except InvalidInputError as err:
            raise _bad(path, str(err)) from None
        if not timeout:
            raise _bad(path, f"profiles.{name}.api_key_command_timeout must be more than 0s")
    return Profile(
        name=name,
        path=path,
        api_host=table.get("api_host") or None,
        org=org,
        api_key_command=_command(name, path, table.get("api_key_command")),
        api_key_command_timeout=timeout,
    )


def _command(name: str, path: Path, value: object) -> tuple[str, ...] | None:
    """A command's words: a string split as a POSIX shell would (no expansion), or an array."""
    field = f"profiles.{name}.api_key_command"
    if value is None:
        return None
    if isinstance(value, str):
        try:
            words = shlex.split(value)
        except ValueError as err:
            raise _bad(path, f"{field}: cannot split it into words: {err}") from None
    elif isinstance(value, list) and all(isinstance(word, str) for word in value):
        words = list(value)
    else:
        raise _bad(path, f"{field} must be a string or an array of strings")
    if not words or not words[0]:
        raise _bad(path, f"{field} is empty")
    return tuple(words)


def _bad(path: Path, message: str) -> CliError:
    return CliError(f"{path}: {message}", ExitCode.USAGE)
