"""``neon-keys sandbox``: the emulator on loopback, for people and for scripts.

    neon-keys sandbox [--port N] [--env-file FILE]   serve here until Ctrl-C
    neon-keys sandbox start [--port N] [--env-file FILE]
                                         serve in the background; print the settings
                                         once it accepts connections, and return
    neon-keys sandbox status | stop | advance DURATION | fault OPERATION KIND

The server needs the ``[sandbox]`` extra (starlette, uvicorn). It runs a seeded world on a
clock that follows real time and that ``advance`` moves forward (``OffsetClock``). The
commands that act on a running sandbox call its control routes (``/_sandbox``, see
``neon_keys.testing._control``) at the address and with the key it printed, taken from
``--env-file FILE`` or else from ``NEON_API_HOST`` and ``NEON_API_KEY`` (or ``--api-host``
and ``--api-key``); they need httpx only.

This module holds the commands and the foreground server; ``_sandbox_process`` starts one
in the background, ``_sandbox_controls`` talks to a running one. Modules only some commands
need (httpx, subprocess, signal ...) are imported by those commands, so that
``neon-keys --help`` stays fast.

Every wait is bounded: ``start`` waits ``--timeout`` seconds for the server to accept
connections, ``stop`` as long for it to be gone, and each control request 10 seconds.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from neon_keys._constants import (
    API_HOST_ENV,
    API_KEY_ENV,
    OPERATION_IDS,
    ORG_ID_ENV,
    PROJECT_ID_ENV,
)

from ._errors import CliError, ExitCode
from ._options import global_options
from ._sandbox_controls import SandboxControls
from ._sandbox_process import (
    Readiness,
    check_env_file,
    dotenv_text,
    ready_fd_from_environment,
    remove_if_unchanged,
    start_detached,
    write_env_file,
)
from ._session import Session

if TYPE_CHECKING:
    import threading

    from neon_keys.testing import EmulatorServer

SANDBOX_EXTRA = "pip install 'neon-api-keys[sandbox]'"
HOST = "127.0.0.1"
SETTINGS = (API_HOST_ENV, API_KEY_ENV, ORG_ID_ENV, PROJECT_ID_ENV)
"""The variables the sandbox prints, in order."""

DEFAULT_TIMEOUT = 30.0
"""Seconds ``start`` waits for the server to accept connections, and ``stop`` for it to go."""

_POLL_SECONDS = 0.1

pass_session = click.make_pass_decorator(Session)


# -- serving ---------------------------------------------------------------------------------


def serve(
    port: int,
    *,
    as_json: bool = False,
    env_file: str | None = None,
    ready_fd: int | None = None,
) -> None:
    """Serve a freshly seeded emulator on 127.0.0.1:``port`` until stopped.

    Prints ``NEON_API_HOST``, ``NEON_API_KEY`` (the personal key of an organization admin),
    ``NEON_ORG_ID`` and ``NEON_PROJECT_ID`` on stdout in dotenv form (or, ``as_json``, as
    one JSON object), then serves until SIGINT, SIGTERM or ``neon-keys sandbox stop``.

    Args:
        port: the port; 0 for any free one.
        as_json: print the settings as one JSON object.
        env_file: also write the settings to this file (dotenv lines, mode 0600, atomically)
            once the server accepts connections; removed when the sandbox stops, unless it
            was changed meanwhile.
        ready_fd: a pipe to report readiness on instead of stdout (``start`` uses it): one
            JSON object, ``{"settings": {...}, "pid": N}`` or ``{"error": "..."}``.
    """
    report = Readiness(ready_fd)
    try:
        server, app = _start_server(port)
    except CliError as err:
        report.failed(err.message)
        raise
    written: str | None = None
    try:
        settings = _settings(server)
        if env_file is not None:
            text = dotenv_text(settings)
            write_env_file(env_file, text)
            written = text
        if report.active:
            report.ready(settings)
        else:
            _print_settings(settings, as_json=as_json, exported=False)
            sys.stdout.flush()
            click.echo(
                f"Serving the Neon emulator at {server.base_url}; Ctrl-C stops it.", err=True
            )
        stopped = wait_for_stop(lambda: server.running and not app.stop_requested.is_set())
        if not stopped and not app.stop_requested.is_set():
            raise CliError("the emulator stopped unexpectedly", ExitCode.FAILURE)
    except KeyboardInterrupt:
        pass  # Ctrl-C before the signal handlers were in place: stop quietly all the same.
    except CliError as err:
        report.failed(err.message)  # start is told why (once ready, nobody listens)
        raise
    finally:
        if env_file is not None and written is not None:
            remove_if_unchanged(env_file, written)
        server.stop()


def _start_server(port: int) -> tuple[EmulatorServer, Any]:
    """A started server on a seeded world with a movable clock, and its ``SandboxApp``."""
    try:
        from neon_keys.testing import EmulatorServer, OffsetClock, World  # noqa: PLC0415
        from neon_keys.testing._control import SandboxApp  # noqa: PLC0415
    except ImportError as err:
        missing = f" (cannot import {err.name})" if err.name else ""
        raise CliError(
            f"neon-keys sandbox needs starlette and uvicorn: {SANDBOX_EXTRA}{missing}"
        ) from None
    app = SandboxApp(World.seeded(clock=OffsetClock()))
    server = EmulatorServer(app, host=HOST, port=port)
    try:
        server.start()
    except OSError as err:
        raise CliError(f"cannot serve on {HOST}:{port}: {err.strerror or err}") from None
    except KeyboardInterrupt:
        server.stop()
        raise
    return server, app


def _settings(server: EmulatorServer) -> dict[str, str]:
    return dict(
        zip(
            SETTINGS,
            (server.base_url, server.api_key, server.org_id, server.project_id),
            strict=True,
        )
    )


def wait_for_stop(running: Callable[[], bool]) -> bool:
    """Block until SIGINT or SIGTERM (True), or until ``running()`` turns false (False)."""
    import threading  # noqa: PLC0415

    stop = threading.Event()
    with _stop_on_signals(stop):
        while not stop.wait(_POLL_SECONDS):
            if not running():
                return False
    return True


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Set ``stop`` on SIGINT and SIGTERM instead of raising, while the block runs."""
    import signal  # noqa: PLC0415

    def handler(_signum: int, _frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


# -- the settings, printed and written ------------------------------------------------------


def _print_settings(settings: dict[str, str], *, as_json: bool, exported: bool) -> None:
    if as_json:
        click.echo(json.dumps(settings, indent=2))
        return
    prefix = "export " if exported else ""
    for name, value in settings.items():
        click.echo(f"{prefix}{name}={value}")


# -- the commands ---------------------------------------------------------------------------


def _port_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--port",
        type=click.IntRange(0, 65535),
        default=0,
        help="Port on 127.0.0.1 (default: any free port).",
    )(command)


def _env_file_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option("--env-file", metavar="FILE", default=None, help=help_text)


@click.group(invoke_without_command=True)
@_port_option
@_env_file_option(
    "Also write the settings to FILE (dotenv lines, mode 0600) once the server accepts "
    "connections; removed when it stops."
)
@global_options(api=False)
@pass_session
@click.pass_context
def sandbox(
    ctx: click.Context,
    session: Session,
    /,
    *,
    port: int,
    env_file: str | None,
) -> None:
    """Serve the Neon emulator locally, or act on one that runs.

    Without a command: serve in the foreground. Prints NEON_API_HOST, NEON_API_KEY (a
    personal key of an organization admin, new for every run), NEON_ORG_ID and
    NEON_PROJECT_ID (dotenv lines, or one JSON object with --output json), then serves
    until interrupted (Ctrl-C) or stopped (neon-keys sandbox stop).

    For scripts: eval "$(neon-keys sandbox start)" starts one in the background and
    returns once it accepts connections.
    """
    if ctx.invoked_subcommand is not None:
        given = [
            f"--{name.replace('_', '-')}"
            for name in ("port", "env_file")
            if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT
        ]
        if given:
            raise click.UsageError(
                f"{', '.join(given)} goes after the command: "
                f"neon-keys sandbox {ctx.invoked_subcommand} {given[0]} ..."
            )
        return
    if env_file is not None:
        check_env_file(env_file)
    serve(port, as_json=session.json, env_file=env_file, ready_fd=ready_fd_from_environment())


@sandbox.command()
@_port_option
@_env_file_option("Also write the settings to FILE (dotenv lines, mode 0600) before returning.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True, max=600),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds to wait for the server to accept connections.",
)
@global_options(api=False)
@pass_session
def start(session: Session, /, *, port: int, env_file: str | None, timeout: float) -> None:
    """Start a sandbox in the background; print its settings once it is ready.

    The settings go to stdout as export lines, for eval "$(neon-keys sandbox start)" (or as
    one JSON object with --output json); its address goes to stderr. The sandbox runs until
    neon-keys sandbox stop (neon-keys sandbox status shows its process id).
    """
    settings = start_detached(port, env_file=env_file, timeout=timeout)
    _print_settings(settings, as_json=session.json, exported=True)
    click.echo(
        f"Sandbox serving at {settings[API_HOST_ENV]}; `neon-keys sandbox stop` stops it.",
        err=True,
    )


@sandbox.command()
@_env_file_option("Read the sandbox's address and key from FILE (as start wrote it).")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True, max=600),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds to wait for the server to be gone.",
)
@global_options(timeout=False, profile=False)
@pass_session
def stop(session: Session, /, *, env_file: str | None, timeout: float) -> None:
    """Stop a running sandbox and wait until it is gone."""
    controls = SandboxControls(session, env_file)
    answer = controls.call("POST", "/stop")
    if not controls.gone(answer.get("pid"), time.monotonic() + timeout):
        raise CliError(f"the sandbox at {controls.origin} still answers after {timeout:g} s")
    if session.json:
        click.echo(json.dumps({"stopped": True, "pid": answer.get("pid")}))
    else:
        click.echo(f"Sandbox at {controls.api_host} stopped.", err=True)


@sandbox.command()
@_env_file_option("Read the sandbox's address and key from FILE (as start wrote it).")
@global_options(profile=False)
@pass_session
def status(session: Session, /, *, env_file: str | None) -> None:
    """Show a running sandbox's clock and the faults planned for its next requests."""
    controls = SandboxControls(session, env_file)
    _show_state(session, controls, controls.call("GET"))


@sandbox.command()
@click.argument("duration", metavar="DURATION")
@_env_file_option("Read the sandbox's address and key from FILE (as start wrote it).")
@global_options(profile=False)
@pass_session
def advance(session: Session, /, *, duration: str, env_file: str | None) -> None:
    """Move a running sandbox's clock forward by DURATION (90s, 15m, 1h30m, 120d).

    Keys made before look that much older: created_at, last_used_at and the Date header
    all follow the moved clock, and rate limits refill.
    """
    from neon_keys._durations import parse_duration  # noqa: PLC0415
    from neon_keys._exceptions import InvalidInputError  # noqa: PLC0415

    try:
        seconds = parse_duration(duration, field="DURATION").total_seconds()
    except InvalidInputError as err:
        raise CliError(str(err), ExitCode.USAGE) from None
    controls = SandboxControls(session, env_file)
    _show_state(session, controls, controls.call("POST", "/clock", {"advance_seconds": seconds}))


@sandbox.command()
@click.argument(
    "operation", type=click.Choice([*OPERATION_IDS, "*"]), metavar="OPERATION", required=False
)
@click.argument("kind", metavar="KIND", required=False)
@click.option(
    "--times",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="How many requests it strikes.",
)
@click.option("--always", is_flag=True, help="Strike every request until --clear.")
@click.option(
    "--status",
    "status_code",
    type=click.IntRange(100, 599),
    help="The HTTP status of a status or html fault.",
)
@click.option(
    "--seconds",
    type=click.FloatRange(min=0, max=3600),
    help="How long a delay fault holds the response.",
)
@click.option(
    "--committed/--uncommitted",
    default=None,
    help="Carry the request out before the fault strikes, or not (default: the kind's).",
)
@click.option("--content-type", metavar="VALUE", help="The label a content-type fault sends.")
@click.option("--clear", is_flag=True, help="Forget every planned fault instead.")
@_env_file_option("Read the sandbox's address and key from FILE (as start wrote it).")
@global_options(profile=False)
@pass_session
def fault(
    session: Session,
    /,
    *,
    operation: str | None,
    kind: str | None,
    times: int,
    always: bool,
    status_code: int | None,
    seconds: float | None,
    committed: bool | None,
    content_type: str | None,
    clear: bool,
    env_file: str | None,
) -> None:
    """Make the next request(s) of OPERATION meet a fault of KIND.

    OPERATION is an operation id (createApiKey, listOrgApiKeys, ...: a wrong one lists all
    eight), or '*' for any. KIND is one of: status (--status, default 500), html (a
    proxy's page, --status, default 502), disconnect, lost-response (carried out, then the
    connection drops), reset, delay (--seconds), truncated-body, content-type
    (--content-type).
    """
    if clear:
        if operation is not None or kind is not None:
            raise click.UsageError("--clear takes no OPERATION or KIND")
        controls = SandboxControls(session, env_file)
        _show_state(session, controls, controls.call("DELETE", "/faults"))
        return
    if operation is None or kind is None:
        raise click.UsageError("give OPERATION and KIND (or --clear)")
    from neon_keys.testing._faults import build_fault  # noqa: PLC0415

    try:  # checked here, before anything is sent
        build_fault(
            kind,
            status=status_code,
            seconds=seconds,
            committed=committed,
            content_type=content_type,
        )
    except ValueError as err:
        raise CliError(str(err), ExitCode.USAGE) from None
    options = {
        "status": status_code,
        "seconds": seconds,
        "committed": committed,
        "content_type": content_type,
    }
    body: dict[str, Any] = {
        "operation_id": operation,
        "fault": kind,
        "times": None if always else times,
    }
    body.update({name: value for name, value in options.items() if value is not None})
    controls = SandboxControls(session, env_file)
    _show_state(session, controls, controls.call("POST", "/faults", body))


def _show_state(session: Session, controls: SandboxControls, state: dict[str, Any]) -> None:
    """Print a sandbox's clock and planned faults (JSON: the control route's answer)."""
    if session.json:
        click.echo(json.dumps(state, indent=2))
        return
    offset = state.get("clock_offset_seconds")
    moved = ""
    if isinstance(offset, int | float) and offset:
        import datetime  # noqa: PLC0415

        from neon_keys._durations import format_duration  # noqa: PLC0415

        moved = f" (moved {format_duration(datetime.timedelta(seconds=offset))} forward)"
    click.echo(f"sandbox  {controls.api_host}")
    click.echo(f"clock    {state.get('now')}{moved}")
    planned = state.get("faults") or []
    if not planned:
        click.echo("faults   none planned")
    for number, item in enumerate(planned):
        remaining = item.get("remaining")
        times = "every request" if remaining is None else _requests(remaining)
        label = "faults" if number == 0 else ""
        click.echo(f"{label:<8} {item.get('operation_id')}: {item.get('fault')} ({times})")


def _requests(count: int) -> str:
    return f"next {count} request" + ("" if count == 1 else "s")
