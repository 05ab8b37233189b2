"""The global options, accepted before the command and after it (``neon-keys list -o json``).

``root_options`` decorates the group; ``global_options`` gives every command the same options
again, whose values override the group's. ``pass_session`` hands a command the ``Session``
that both fill in.
"""

from __future__ import annotations

import functools
import logging
import math
import sys
from collections.abc import Callable
from typing import Any, TypeVar, cast

import click
from click.core import ParameterSource
from click.shell_completion import CompletionItem

from neon_keys._constants import API_HOST_ENV, API_KEY_ENV
from neon_keys._version import __version__

from ._errors import API_TIMEOUT_ENV, PROFILE_ENV
from ._session import Session

F = TypeVar("F", bound=Callable[..., Any])


def pass_session(command: F) -> F:
    """Hand a command the run's ``Session`` as its first argument.

    A command with an ``org`` parameter that ``--org`` left unset gets the chosen profile's
    default organization instead (None without one): every command that takes ``--org``
    follows the profile alike. Not with ``--all-orgs``, which a default does not narrow.
    """

    @functools.wraps(command)
    def with_session(*args: Any, **kwargs: Any) -> Any:
        session = click.get_current_context().find_object(Session)
        if session is None:
            raise RuntimeError("neon-keys commands run under the neon-keys group")
        if "org" in kwargs and kwargs["org"] is None and not kwargs.get("all_orgs"):
            kwargs["org"] = session.default_org()
        return command(session, *args, **kwargs)

    return cast(F, with_session)


def complete_profiles(
    _ctx: click.Context, _param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """The config file's profile names that start with what was typed (for shells)."""
    from ._profiles import profile_names  # noqa: PLC0415  (tomllib, subprocess: not for --help)

    return [CompletionItem(name) for name in profile_names() if name.startswith(incomplete)]


_LOGGER = "neon_keys"
OUTPUTS = ("table", "json")


class TimeoutType(click.ParamType):  # type: ignore[type-arg]
    """Seconds a request may wait for each phase: a positive, finite number."""

    name = "seconds"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not math.isfinite(seconds) or seconds <= 0:
            self.fail(f"{value!r} is not a positive number of seconds", param, ctx)
        return seconds


TIMEOUT = TimeoutType()


def version_text() -> str:
    """``neon-keys 0.1.0 (Neon API spec 2025-10, sha256 f99d78e3037b)``."""
    from neon_keys._spec import SPEC_RELEASE, SPEC_SHA256  # noqa: PLC0415  (on demand)

    return f"neon-keys {__version__} (Neon API spec {SPEC_RELEASE}, sha256 {SPEC_SHA256[:12]})"


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(version_text())
        ctx.exit()


def root_options(group: F) -> F:
    """The options of the ``neon-keys`` group itself, read from the environment too."""
    options = [
        click.option(
            "--api-key",
            envvar=API_KEY_ENV,
            show_envvar=True,
            metavar="KEY",
            help="The Neon API key to call with (prefer the environment variable: "
            "command lines are visible to other users).",
        ),
        click.option(
            "--api-host",
            envvar=API_HOST_ENV,
            show_envvar=True,
            metavar="URL",
            help="The API root, default https://console.neon.tech/api/v2.",
        ),
        click.option(
            "--profile",
            envvar=PROFILE_ENV,
            show_envvar=True,
            metavar="NAME",
            shell_complete=complete_profiles,
            help="Use this profile of the config file (~/.config/neon-keys/config.toml): "
            "its API root, default --org and the command that prints the API key.",
        ),
        click.option(
            "--output",
            "-o",
            type=click.Choice(OUTPUTS),
            default="table",
            show_default=True,
            help="Tables for people, or JSON for programs (see docs/cli.md for the schema).",
        ),
        click.option(
            "--timeout",
            type=TIMEOUT,
            envvar=API_TIMEOUT_ENV,
            show_envvar=True,
            metavar="SECONDS",
            help="Seconds to wait for each phase of a request (connect, send, answer); default 30.",
        ),
        click.option("--verbose", "-v", is_flag=True, help="Log each request; tracebacks."),
        click.option(
            "--version",
            is_flag=True,
            expose_value=False,
            is_eager=True,
            callback=_print_version,
            help="Show the version and the pinned API description, and exit.",
        ),
    ]
    for option in reversed(options):
        group = option(group)
    return group


def start_session(
    ctx: click.Context,
    *,
    api_key: str | None,
    api_host: str | None,
    profile: str | None,
    output: str,
    timeout: float | None,
    verbose: bool,
) -> Session:
    """The run's ``Session`` (a test may have passed one in ``obj``), set from the options."""
    session = ctx.ensure_object(Session)

    def from_env(name: str) -> bool:
        return ctx.get_parameter_source(name) is ParameterSource.ENVIRONMENT

    session.set_option("api_key", api_key, from_env=from_env("api_key"))
    session.set_option("api_host", api_host, from_env=from_env("api_host"))
    session.choose_profile(profile, from_env=from_env("profile"))
    session.output = output
    session.timeout = timeout
    session.verbose = False
    ctx.call_on_close(session.close)
    _silence_library_logs(ctx)
    if verbose:
        enable_verbose(ctx, session)
    return session


def _silence_library_logs(ctx: click.Context) -> None:
    """Keep the library's log records off stderr unless --verbose asks for them.

    Without a handler anywhere, Python prints WARNING records on stderr (its "last resort");
    the CLI says what it has to say in its own words (an interrupted create, say), once.
    """
    logger = logging.getLogger(_LOGGER)
    handler = logging.NullHandler()
    logger.addHandler(handler)
    ctx.call_on_close(lambda: logger.removeHandler(handler))


def enable_verbose(ctx: click.Context, session: Session) -> None:
    """Log each request on stderr until the run ends (once, however often it is asked)."""
    if session.verbose:
        return
    session.verbose = True
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    logger = logging.getLogger(_LOGGER)
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)

    def detach() -> None:
        logger.removeHandler(handler)
        logger.setLevel(previous)

    ctx.find_root().call_on_close(detach)


def _late_global(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """A global option given after the command: it overrides the one given before."""
    session = ctx.find_object(Session)
    if session is None or value is None or value is False:
        return
    if param.name == "verbose":
        enable_verbose(ctx, session)
    elif param.name == "profile":
        session.choose_profile(value, from_env=False)
    elif param.name in ("api_key", "api_host"):
        session.set_option(param.name, value, from_env=False)
    else:
        setattr(session, str(param.name), value)


def global_options(
    *, api: bool = True, timeout: bool = True, profile: bool = True
) -> Callable[[F], F]:
    """Accept the global options after the command too (``neon-keys list -o json``).

    ``api``: include ``--api-key``, ``--api-host``, ``--profile`` and ``--timeout`` (not for
    ``sandbox``);
    ``timeout``: include ``--timeout`` (not for a command with a ``--timeout`` of its own);
    ``profile``: include ``--profile`` with ``api`` (not for the sandbox's controls, which
    never call Neon).
    """
    common: dict[str, Any] = {"expose_value": False, "callback": _late_global}
    options = []
    if api:
        options += [
            click.option(
                "--api-key", metavar="KEY", help=f"The Neon API key (${API_KEY_ENV}).", **common
            ),
            click.option(
                "--api-host", metavar="URL", help=f"The API root (${API_HOST_ENV}).", **common
            ),
        ]
    if api and profile:
        options.append(
            click.option(
                "--profile",
                metavar="NAME",
                shell_complete=complete_profiles,
                help=f"Use this profile of the config file (${PROFILE_ENV}).",
                **common,
            )
        )
    if api and timeout:
        options.append(
            click.option(
                "--timeout",
                type=TIMEOUT,
                metavar="SECONDS",
                help=f"Seconds to wait for each phase of a request (${API_TIMEOUT_ENV}).",
                **common,
            )
        )
    options += [
        click.option(
            "--output",
            "-o",
            type=click.Choice(OUTPUTS),
            help="Tables for people, or JSON for programs.",
            **common,
        ),
        click.option(
            "--verbose",
            "-v",
            is_flag=True,
            help="Log each request; tracebacks on errors.",
            **common,
        ),
    ]

    def decorate(command: F) -> F:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate
