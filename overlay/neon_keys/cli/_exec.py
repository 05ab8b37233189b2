"""``neon-keys exec``: run one command with a key that exists only while it runs.

    neon-keys exec --org ORG --ttl 30m -- ./deploy.sh --preview

1. Everything that can be checked is checked first (options, the command can be found),
   so a refusal creates nothing.
2. A lease is created (``neon_keys._leases.create_lease``): a key whose name carries its
   expiry, for ``neon-keys sweep`` to remove if this process never gets to.
3. With ``--verify``, ``GET /auth`` with the new key must succeed, as the right kind of key.
4. With ``GITHUB_ACTIONS=true``, ``::add-mask::TOKEN`` goes to stdout (flushed), so the
   runner hides the token in every later log line.
5. COMMAND runs with the token in one environment variable (``--var``, default
   ``NEON_API_KEY``); the caller's own ``NEON_API_KEY`` is not passed on. The token is never
   on a command line and never printed. SIGINT, SIGTERM, SIGHUP and SIGQUIT are forwarded
   to COMMAND, except a SIGINT or SIGQUIT that a terminal sent to its whole foreground
   process group, COMMAND included (Ctrl-C, Ctrl-\\), which COMMAND already has.
6. When COMMAND ends, the lease is revoked, and ``exec`` exits with COMMAND's status
   (128+N if a signal N ended it). A revoke that fails is reported with the key id, and
   the exit status is then never 0.

A signal before COMMAND starts stops there (the lease is revoked, exit 128+N); one during
the final revoke is noted and the revoke finishes; a second one abandons it (the lease is
left to a sweep, and the message says so).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any, Self

import click

from neon_keys._constants import API_KEY_ENV
from neon_keys._exceptions import CreateOutcomeUnknownError, NeonError, NotFoundError
from neon_keys._lease_names import check_base_name, fit_base_name

from ._errors import CliError, ExitCode, Interruption, describe, one_line
from ._leasing import TTL, create_lease_for, expiry_text, lease_interrupted_report
from ._options import global_options, pass_session
from ._output import emit, key_label, revoke_command
from ._params import ENV_NAME, ORG_ID, PROJECT_ID
from ._session import Session
from ._signals import GUARD, Interrupted, signal_name, signal_of

if TYPE_CHECKING:
    import subprocess

    from neon_keys._client import NeonKeys
    from neon_keys._models import APIKey


_SIGNAL_NAMES = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")
FORWARDED = tuple(getattr(signal, name) for name in _SIGNAL_NAMES if hasattr(signal, name))
"""The signals passed on to COMMAND (those this platform has)."""

_FROM_TERMINAL = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGQUIT") if hasattr(signal, name)
)
"""Signals a terminal sends to its whole foreground process group (Ctrl-C, Ctrl-\\)."""

DEFAULT_BASE_NAME = "exec"
"""The lease's base name when none is given and none can be derived from COMMAND."""


@click.command(
    "exec",
    context_settings={"allow_interspersed_args": False},
)
@click.option("--org", type=ORG_ID, metavar="ORG", help="Lease an organization key.")
@click.option(
    "--project",
    type=PROJECT_ID,
    metavar="PROJECT",
    help="Scope the organization key to this project (needs --org).",
)
@click.option(
    "--ttl",
    type=TTL,
    default="1h",
    show_default=True,
    metavar="DURATION",
    help="How long the lease lives if never revoked (90s, 15m, 1h30m, 7d).",
)
@click.option(
    "--name",
    "base_name",
    metavar="BASE",
    help="Base name of the lease, 1 to 30 characters (default: the command's name).",
)
@click.option(
    "--var",
    type=ENV_NAME,
    default=API_KEY_ENV,
    show_default=True,
    metavar="NAME",
    help="The environment variable that carries the token to COMMAND.",
)
@click.option("--verify", is_flag=True, help="Check the new key with GET /auth before running.")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED, metavar="COMMAND...")
@global_options()
@pass_session
def exec_command(
    session: Session,
    /,
    *,
    org: str | None,
    project: str | None,
    ttl: Any,
    base_name: str | None,
    var: str,
    verify: bool,
    command: tuple[str, ...],
) -> None:
    """Run COMMAND with a short-lived key in its environment; revoke the key when it ends.

    The key is a lease: its name carries its expiry (--ttl), so if this process is killed,
    `neon-keys sweep` revokes it once expired. COMMAND gets the token in --var only, never
    on a command line; signals are forwarded to it; exec exits with its status (128+N if
    signal N ended it). Put `--` before COMMAND when it has options of its own.
    """
    import shutil  # noqa: PLC0415  (only for this command)

    if project is not None and org is None:
        raise click.UsageError("--project needs --org: project-scoped keys are organization keys")
    program = shutil.which(command[0])
    if program is None:
        raise CliError(f"{command[0]}: command not found; no key was created", ExitCode.USAGE)
    base = check_base_name(base_name) if base_name is not None else derived_base_name(command)
    client = session.client()
    scope = session.scope(org)
    # A signal during the create is the library's to report (it looks for the key); once
    # the lease exists, one waits (GUARD.hold) until _Signals takes over, which revokes it.
    with GUARD.hold():
        GUARD.check()  # a signal before the request: nothing was sent, stop here
        try:
            key = create_lease_for(session, scope, base, ttl=ttl, project_id=project)
        except KeyboardInterrupt as interrupt:
            report = lease_interrupted_report(interrupt, base_name=base, org_id=org)
            raise Interruption(signal_of(interrupt), report) from None
        except CreateOutcomeUnknownError as err:
            notes = "; ".join(getattr(err, "__notes__", ()))
            raise CliError(describe(err) + (f"; {notes}" if notes else "")) from err
        _run_with_lease(
            session,
            client,
            scope,
            key,
            org=org,
            program=program,
            command=command,
            var=var,
            verify=verify,
        )


def _run_with_lease(
    session: Session,
    client: NeonKeys,
    scope: Any,
    key: APIKey,
    *,
    org: str | None,
    program: str,
    command: tuple[str, ...],
    var: str,
    verify: bool,
) -> None:
    """Steps 3 to 7 of the module docstring, for the lease ``key``: it is revoked in the end."""
    code: int = ExitCode.FAILURE
    failure: click.ClickException | None = None
    with _Signals() as signals:
        try:
            if GUARD.pending is not None:  # came while the lease was being made
                raise Interrupted(GUARD.pending)
            assert key.secret is not None
            token = key.secret.reveal()
            session.remember_secret(token)
            if verify:
                _verify(client, key)
            _mask_in_github_actions(token)
            code = _run(signals, program, command, _child_environment(var, token))
        except Interrupted as stop:
            code = 128 + stop.signum
            failure = Interruption(stop.signum, f"before {command[0]} started")
        except CliError as err:
            failure = err
        except BaseException:
            signals.revoking = True
            if (problem := _revoke(scope, key, org)) is not None:
                emit(f"Error: {problem}", err=True)
            raise
        signals.revoking = True
        problem = _revoke(scope, key, org)
    if failure is not None:
        outcome = f"the new {key_label(key)} was revoked" if problem is None else problem
        message = f"{failure.message}; {outcome}"
        if isinstance(failure, Interruption):
            raise Interruption(failure.signum, message)
        raise CliError(message, failure.exit_code)
    if problem is not None:  # an error (JSON with -o json), with COMMAND's status, or 1
        raise CliError(problem, code or ExitCode.FAILURE)
    if code:
        raise click.exceptions.Exit(code)


def derived_base_name(command: tuple[str, ...]) -> str:
    """The lease's default base name: COMMAND's file name, cut to fit, or ``exec``."""
    return fit_base_name(os.path.basename(command[0]), DEFAULT_BASE_NAME)


def _child_environment(var: str, token: str) -> dict[str, str]:
    """This process's environment for COMMAND: the token in ``var``, no other Neon key."""
    environment = dict(os.environ)
    environment.pop(API_KEY_ENV, None)  # the caller's (long-lived) key stays here
    environment[var] = token
    return environment


def _verify(client: NeonKeys, key: APIKey) -> None:
    """``GET /auth`` with the new key, which must answer as the kind of key it is."""
    from neon_keys._models import KeyKind  # noqa: PLC0415

    assert key.secret is not None
    try:
        auth = client.with_options(api_key=key.secret).whoami()
    except NeonError as err:
        raise CliError(f"the new key failed verification (GET /auth: {one_line(err)})") from err
    expected = KeyKind.PERSONAL if key.kind is KeyKind.PERSONAL else KeyKind.ORG
    if auth.key_kind is not expected:
        raise CliError(
            f"the new key failed verification: GET /auth answered {auth.auth_method!r}, "
            f"expected a {expected.value} key"
        )


def _mask_in_github_actions(token: str) -> None:
    """In GitHub Actions, have the runner hide the token in every later line of the log."""
    if os.environ.get("GITHUB_ACTIONS") == "true":
        click.echo(f"::add-mask::{token}")
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:  # a stream closed by the caller (2>&-) is None
            stream.flush()


def _run(signals: _Signals, program: str, command: tuple[str, ...], env: dict[str, str]) -> int:
    """Run COMMAND to its end, forwarding signals; its exit status (128+N for signal N)."""
    import subprocess  # noqa: PLC0415  (only for this command)

    signals.starting = True
    try:
        child = subprocess.Popen(list(command), executable=program, env=env)
    except OSError as err:
        signals.starting = False
        missing = isinstance(err, FileNotFoundError)
        raise CliError(
            f"could not run {command[0]}: {err.strerror or err}", 127 if missing else 126
        ) from err
    signals.attach(child)
    try:
        returncode = child.wait()
    finally:
        signals.detach()
    return returncode if returncode >= 0 else 128 - returncode


def _revoke(scope: Any, key: APIKey, org: str | None) -> str | None:
    """Revoke the lease; a description of the failure, or None if it is gone."""
    try:
        scope.revoke(key.id)
    except NotFoundError:  # revoked meanwhile (by COMMAND itself, or a sweep)
        return None
    except NeonError as err:
        why = one_line(err)
    except Interrupted as stop:
        why = f"abandoned on {signal_name(stop.signum)}"
    else:
        return None
    sweep = "neon-keys sweep" + (f" --org {org}" if org else "")
    expires = expiry_text(key).removeprefix(", expires ")
    return (
        f"could not revoke lease {key_label(key)}: {why}; it stays valid until revoked "
        f"({revoke_command([key.id], org)}) or until `{sweep}` removes it after {expires}"
    )


class _Signals:
    """While active, catches the forwarded signals: passes them to COMMAND while it runs.

    Before COMMAND starts, a signal stops ``exec`` (``_Interrupted``); while it is being
    started, signals wait and follow as soon as it exists; during the final revoke
    (``revoking``), the first is noted and the second abandons the revoke.
    """

    def __init__(self) -> None:
        self.child: subprocess.Popen[bytes] | None = None
        self.starting = False
        self.revoking = False
        self._pending: list[int] = []
        self._noted = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> Self:
        for signum in FORWARDED:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def attach(self, child: subprocess.Popen[bytes]) -> None:
        """COMMAND has started: forward what arrived meanwhile, and all that follows."""
        self.child, self.starting = child, False
        pending, self._pending = self._pending, []
        for signum in pending:
            self._forward(signum)

    def detach(self) -> None:
        """COMMAND has ended."""
        self.child = None

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.child is not None:
            self._forward(signum)
        elif self.starting:
            self._pending.append(signum)
        elif self.revoking and not self._noted:
            self._noted = True
            click.echo(
                f"neon-keys: {signal_name(signum)} received; finishing the revoke of the "
                "lease (send it again to abandon it)",
                err=True,
            )
        else:
            raise Interrupted(signum)

    def _forward(self, signum: int) -> None:
        child = self.child
        if child is None or (signum in _FROM_TERMINAL and _terminal_sent_to_us()):
            return
        child.send_signal(signum)  # does nothing once COMMAND has ended


def _terminal_sent_to_us() -> bool:
    """Whether this process is in its terminal's foreground process group.

    A terminal's Ctrl-C or Ctrl-\\ reaches every process of that group, COMMAND included
    (it shares ours): forwarding it would deliver it twice.
    """
    try:
        tty = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError:  # no controlling terminal (CI, cron, a daemon)
        return False
    try:
        return os.tcgetpgrp(tty) == os.getpgrp()
    except OSError:
        return False
    finally:
        with contextlib.suppress(OSError):
            os.close(tty)
