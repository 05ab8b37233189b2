"""Where a new key's secret goes: the sink options of ``create`` and ``rotate``.

- stdout (the default, when no other sink is given): the bare token and a newline, so
  ``KEY=$(neon-keys create ci)`` works;
- ``--save FILE``: a new file, written atomically with mode 0600 from the start;
- ``--dotenv FILE --var NAME``: one ``NAME=value`` assignment added to or replaced in a dotenv
  file, as python-dotenv reads it;
- ``--github-env [--var NAME]``: ``::add-mask::`` on stdout, then ``NAME=value`` appended on
  a line of its own to the file named by ``$GITHUB_ENV`` (GitHub Actions);
- ``--deliver-cmd CMD`` (repeatable): a command that reads the secret on its stdin, run
  without a shell, within ``--deliver-timeout`` seconds;
- ``--deliver NAME:ARG`` (repeatable): a sink another package offers (entry-point group
  ``neon_keys.sinks``).

They combine: the secret goes to every one, local files first, then ``$GITHUB_ENV``, the
commands and the plug-ins, in the order given. The sinks themselves are the library's
(``neon_keys._sinks``); this module turns options into sinks, checks them before the key
exists (exit 2, nothing created), and when a delivery fails after all and no other sink
holds the secret, prints it once on stderr (``last_resort``): the only path on which a
secret may reach stderr. A secret some sink holds is never shown: that copy is the one to use.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Sequence
from typing import Any, TypedDict, TypeVar

import click

from neon_keys._command_sink import DEFAULT_DELIVERY_TIMEOUT, CommandSink
from neon_keys._constants import API_KEY_ENV
from neon_keys._secret import Secret
from neon_keys._sinks import (
    GITHUB_ENV,
    DotenvSink,
    FileSink,
    GitHubEnvSink,
    Sink,
    SinkError,
    StdoutSink,
    deliver_secret,
    done_text,
    load_sink,
)

from ._errors import CliError, ExitCode, one_line
from ._output import clean
from ._params import ENV_NAME
from ._streams import StdoutUnwritable, write_stderr, write_stdout

DEFAULT_VAR = API_KEY_ENV

F = TypeVar("F", bound=Callable[..., Any])


class SinkOptions(TypedDict):
    """The sink options of ``create`` and ``rotate``, as click passes them."""

    save: str | None
    force: bool
    dotenv: str | None
    var: str | None
    github_env: bool
    deliver_cmd: tuple[str, ...]
    deliver_timeout: float | None
    deliver: tuple[str, ...]


def print_stdout(text: str) -> None:
    """Print a line on stdout for a sink; the OS error if stdout cannot take it."""
    try:
        write_stdout(text)
    except StdoutUnwritable as failure:
        raise failure.reason from None


class SaveSink(FileSink):
    """``--save FILE [--force]``."""

    option = "--save"
    dash_advice = "to print it on stdout, leave out --save"
    replace_advice = "pass --force to replace it"


class DotenvOption(DotenvSink):
    """``--dotenv FILE [--var NAME]``."""

    option = "--dotenv"


class GitHubEnvOption(GitHubEnvSink):
    """``--github-env [--var NAME]``."""

    option = "--github-env"


def show_command_output(program: str) -> Callable[[str, str], None]:
    """Shows what a delivery command printed, on stderr, each line prefixed by its name."""

    def show(_stream: str, text: str) -> None:
        for line in text.splitlines():
            write_stderr(clean(f"{program}: {line}"))

    return show


def uses_stdout(sinks: Sequence[Sink]) -> bool:
    """Whether any sink prints on stdout (then reports go to stderr)."""
    return any(getattr(sink, "uses_stdout", False) for sink in sinks)


def sink_options(command: F) -> F:
    """Add the sink options to a command."""
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
        click.option(
            "--deliver-cmd",
            metavar="CMD",
            multiple=True,
            help="Run CMD (split like a shell would, run without one) with the secret on its "
            "stdin; it must exit 0. Repeatable.",
        ),
        click.option(
            "--deliver-timeout",
            type=click.FloatRange(min=0, min_open=True, max=86_400),
            metavar="SECONDS",
            help=f"Stop a --deliver-cmd after SECONDS (default {DEFAULT_DELIVERY_TIMEOUT:g}).",
        ),
        click.option(
            "--deliver",
            metavar="NAME:ARG",
            multiple=True,
            help="Deliver through the sink NAME that an installed package offers "
            "(entry points neon_keys.sinks), given ARG. Repeatable.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def build_sinks(
    *,
    save: str | None,
    force: bool,
    dotenv: str | None,
    var: str | None,
    github_env: bool,
    deliver_cmd: tuple[str, ...] = (),
    deliver_timeout: float | None = None,
    deliver: tuple[str, ...] = (),
) -> list[Sink]:
    """The sinks the options ask for, in delivery order (not yet checked).

    Usage errors (exit 2) for options that make no sense together.
    """
    if force and save is None:
        raise click.UsageError("--force only applies to --save")
    if var is not None and dotenv is None and not github_env:
        raise click.UsageError("--var only applies to --dotenv and --github-env")
    if deliver_timeout is not None and not deliver_cmd:
        raise click.UsageError("--deliver-timeout only applies to --deliver-cmd")
    sinks: list[Sink] = []
    if save is not None:
        sinks.append(SaveSink(save, replace=force))
    if dotenv is not None:
        sinks.append(DotenvOption(dotenv, var or DEFAULT_VAR, warn=_warn))
    if github_env:
        sinks.append(GitHubEnvOption(var or DEFAULT_VAR, print_line=print_stdout))
    timeout = deliver_timeout or DEFAULT_DELIVERY_TIMEOUT
    for command in deliver_cmd:
        try:
            sink = CommandSink(command, timeout=timeout)
        except SinkError as err:
            raise CliError(f"--deliver-cmd: {err}; no key was created", ExitCode.USAGE) from None
        sink.show = show_command_output(os.path.basename(sink.argv[0]))
        sinks.append(sink)
    for spec in deliver:
        name, _, argument = spec.partition(":")
        try:
            sinks.append(load_sink(name, argument))
        except SinkError as err:
            raise CliError(f"--deliver {spec}: {err}; no key was created", ExitCode.USAGE) from None
    if not sinks:
        sinks.append(StdoutSink(print_line=print_stdout))
    targets = [sink.target for sink in sinks]
    repeated = sorted({target for target in targets if targets.count(target) > 1})
    if repeated:
        raise click.UsageError(f"the secret would go to {', '.join(repeated)} twice")
    return sinks


def check_sinks(sinks: Sequence[Sink]) -> None:
    """Check every sink before the key exists; a refusal exits 2, naming the problem."""
    for sink in sinks:
        try:
            sink.check()
        except SinkError as err:
            raise refusal(err) from None


def refusal(err: SinkError) -> CliError:
    """The usage error (exit 2) of a sink that refused before anything was created."""
    return CliError(f"{one_line(err)}; no key was created", ExitCode.USAGE)


def sink_arguments(options: SinkOptions) -> list[str]:
    """The sink options again, for a command that repeats the delivery (``--save`` with
    ``--force``: the file may exist by then)."""
    words: list[str] = []
    if options["save"] is not None:
        words += ["--save", options["save"], "--force"]
    if options["dotenv"] is not None:
        words += ["--dotenv", options["dotenv"]]
    if options["github_env"]:
        words.append("--github-env")
    if options["var"] is not None:
        words += ["--var", options["var"]]
    for command in options["deliver_cmd"]:
        words += ["--deliver-cmd", command]
    if options["deliver_timeout"] is not None:
        words += ["--deliver-timeout", f"{options['deliver_timeout']:g}"]
    for spec in options["deliver"]:
        words += ["--deliver", spec]
    return words


def deliver_all(sinks: Sequence[Sink], secret: Secret) -> list[tuple[Sink, Exception | None]]:
    """Deliver ``secret`` to every sink, each whatever became of the others: (sink, error)."""
    results: list[tuple[Sink, Exception | None]] = []
    for sink in sinks:
        try:
            deliver_secret(sink, secret)
        except Exception as err:  # any failure of a sink is its outcome
            results.append((sink, err))
        else:
            results.append((sink, None))
    return results


def done_texts(sinks: Sequence[Sink]) -> str:
    """What delivery did at each sink, joined: ``saved to ci.token (mode 0600), passed to ...``."""
    return ", ".join(done_text(sink) for sink in sinks)


def last_resort(
    secret: str,
    key: str,
    failed: Sequence[tuple[Sink, BaseException | None]],
    revoke: str,
    *,
    delivered: Sequence[Sink] = (),
) -> None:
    """Say on stderr which deliveries of the secret of ``key`` failed, and where it is.

    ``failed`` are the sinks that do not hold it (with why), ``delivered`` those that do.
    When none does, the secret itself is printed once, as the last copy there is; a secret
    holding control characters is then shown with Python's escapes, so that it cannot drive
    the terminal, and the advice says so.
    """
    for sink, error in failed:
        why = one_line(error) if error is not None else "interrupted"
        write_stderr(f"Error: could not deliver the secret of new {key} to {sink.target}: {why}")
    if delivered:
        write_stderr(
            f"It was delivered to: {', '.join(sink.target for sink in delivered)} (not shown "
            f"here: keep that copy, or revoke the key with: {revoke})"
        )
        return
    shown = secret if secret.isprintable() else secret.encode("unicode_escape").decode("ascii")
    escaped = "" if shown == secret else " (shown with Python escapes such as \\n)"
    notes = [note for sink, _ in failed if (note := getattr(sink, "last_resort_note", ""))]
    note = f" ({notes[0]})" if notes else ""
    write_stderr(
        f"Neon shows a secret only once, so here it is{note}{escaped}; store it now, "
        f"or revoke the key with: {revoke}"
    )
    write_stderr(shown)


def whereabouts(delivered: Sequence[str]) -> str:
    """Where a secret some deliveries missed is, as ``last_resort`` left it: in the sinks
    that hold it, or shown on stderr when none does."""
    if delivered:
        return f"it is in {', '.join(delivered)}"
    return "it was shown above, once"


def _warn(message: str) -> None:
    write_stderr(f"Warning: {message}")


def command_line(words: Sequence[str]) -> str:
    """``words`` as one command line for a POSIX shell."""
    return shlex.join(words)
