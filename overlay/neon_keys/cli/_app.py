"""The ``neon-keys`` commands. Each parses and checks its input, then calls the library.

Nothing here imports httpx at module level: the client is built on first use
(``Session.client``), so ``--help`` and ``--version`` stay fast.
"""

from __future__ import annotations

import errno
import fnmatch
import logging
import sys
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from neon_keys._bulk import RevokeStatus
from neon_keys._exceptions import APIConnectionError, NeonError
from neon_keys._version import __version__

from . import _audit, _revoking
from ._errors import CliError, ExitCode, describe, exit_code_for
from ._output import (
    auth_pairs,
    auth_record,
    emit,
    emit_json,
    key_label,
    key_record,
    keys_table,
    org_record,
    plural,
    render_pairs,
    render_table,
)
from ._params import KEY_ID, KEY_NAME, ORG_ID, PROJECT_ID
from ._rotate import Rotation, RotationError, rotate
from ._session import API_HOST_ENV, API_KEY_ENV, Session
from ._sinks import build_sink, deliver_or_show, sink_options

if TYPE_CHECKING:
    from neon_keys._bulk import RevokeOutcome

pass_session = click.make_pass_decorator(Session)

_LOGGER = "neon_keys"

F = TypeVar("F", bound=Callable[..., Any])


def _version_text() -> str:
    from neon_keys import _spec  # noqa: PLC0415  (a constants module, imported on demand)

    release = getattr(_spec, "SPEC_RELEASE", None) or "unknown"
    digest = getattr(_spec, "SPEC_SHA256", None)
    pinned = f"sha256 {digest[:12]}" if digest else "sha256 unknown"
    return f"neon-keys {__version__} (Neon API spec {release}, {pinned})"


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(_version_text())
        ctx.exit()


class NeonGroup(click.Group):
    """A command group that reports errors as one line and a documented exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; library errors become ``CliError`` (tracebacks with --verbose)."""
        try:
            return super().invoke(ctx)
        except CliError as err:
            # Messages built from OS and library errors: scrub them once more, to be sure.
            raise CliError(_redact(ctx, err.message), err.exit_code) from err.__cause__
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except NeonError as err:
            _show_traceback(ctx)
            message = describe(err, api_host=_api_host(ctx, err))
            raise CliError(_redact(ctx, message), exit_code_for(err)) from err
        except OSError as err:
            if err.errno == errno.EPIPE:
                raise  # stdout closed early (| head): click exits 1 quietly
            _show_traceback(ctx)
            raise CliError(_unexpected(ctx, err)) from err
        except Exception as err:
            _show_traceback(ctx)
            raise CliError(_unexpected(ctx, err)) from err


def _unexpected(ctx: click.Context, err: Exception) -> str:
    message = _redact(ctx, " ".join(f"{type(err).__name__}: {err}".split()))
    hint = "" if _verbose(ctx) else " (run with --verbose for details)"
    return f"unexpected error: {message}{hint}"


def _api_host(ctx: click.Context, err: NeonError) -> str | None:
    """The API root a connection error was about, to name it in the message."""
    if isinstance(err, APIConnectionError) and isinstance(ctx.obj, Session):
        return ctx.obj.base_url
    return None


def _verbose(ctx: click.Context) -> bool:
    return isinstance(ctx.obj, Session) and ctx.obj.verbose


def _redact(ctx: click.Context, text: str) -> str:
    return ctx.obj.redact(text) if isinstance(ctx.obj, Session) else text


def _show_traceback(ctx: click.Context) -> None:
    if _verbose(ctx):
        click.echo(_redact(ctx, traceback.format_exc()).rstrip(), err=True)


@click.group(cls=NeonGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--api-key",
    envvar=API_KEY_ENV,
    show_envvar=True,
    metavar="KEY",
    help="The Neon API key to call with (prefer the environment variable: "
    "command lines are visible to other users).",
)
@click.option(
    "--api-host",
    envvar=API_HOST_ENV,
    show_envvar=True,
    metavar="URL",
    help="The API root, default https://console.neon.tech/api/v2.",
)
@click.option(
    "--output",
    "-o",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Tables for people, or JSON for programs (see docs/cli.md for the schema).",
)
@click.option("--verbose", "-v", is_flag=True, help="Log each request; tracebacks on errors.")
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and the pinned API description, and exit.",
)
@click.pass_context
def cli(
    ctx: click.Context, api_key: str | None, api_host: str | None, output: str, verbose: bool
) -> None:
    """Create, list, revoke, rotate and audit Neon API keys.

    The options below may also follow the command (neon-keys list -o json).

    Exit codes: 0 success; 1 failure (API error, partial failure, audit findings);
    2 usage error or invalid input (nothing sent); 3 authentication failure.
    """
    session = ctx.ensure_object(Session)
    session.api_key = api_key
    session.api_host = api_host
    session.output = output
    session.verbose = False
    ctx.call_on_close(session.close)
    if verbose:
        _enable_verbose(ctx, session)


def _enable_verbose(ctx: click.Context, session: Session) -> None:
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
        _enable_verbose(ctx, session)
    else:
        setattr(session, str(param.name), value)


def global_options(*, api: bool = True) -> Callable[[F], F]:
    """Accept the global options after the command too (``neon-keys list -o json``).

    ``api``: include ``--api-key`` and ``--api-host`` (not for ``sandbox``).
    """
    common: dict[str, Any] = {"expose_value": False, "callback": _late_global}
    options = [
        click.option(
            "--api-key", metavar="KEY", help=f"The Neon API key (default ${API_KEY_ENV}).", **common
        ),
        click.option(
            "--api-host", metavar="URL", help=f"The API root (default ${API_HOST_ENV}).", **common
        ),
    ]
    options = options if api else []
    options += [
        click.option(
            "--output",
            "-o",
            type=click.Choice(["table", "json"]),
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


def _scope(neon: Any, org: str | None) -> Any:
    """``neon.org(org).keys`` or ``neon.personal_keys``."""
    return neon.org(org).keys if org else neon.personal_keys


def _progress(session: Session) -> bool:
    """Whether a long revocation may draw a progress bar: for a person at a terminal only."""
    return not session.json and _revoking.stderr_is_terminal()


def _exit(code: int) -> None:
    if code:
        raise click.exceptions.Exit(code)


# -- list ------------------------------------------------------------------------------------


@cli.command("list")
@click.option(
    "--org", type=ORG_ID, metavar="ORG", help="List this organization's keys instead of yours."
)
@click.option(
    "--kind",
    type=click.Choice(["personal", "org", "project"]),
    help="Only keys of this kind (org and project need --org).",
)
@click.option(
    "--unused-days",
    type=click.IntRange(min=1),
    metavar="N",
    help="Only keys not used in the last N days (never used included).",
)
@click.option("--name", "name_glob", metavar="GLOB", help="Only keys whose name matches GLOB.")
@global_options()
@pass_session
def list_keys(
    session: Session,
    /,
    *,
    org: str | None,
    kind: str | None,
    unused_days: int | None,
    name_glob: str | None,
) -> None:
    """List your personal keys, or an organization's keys with --org."""
    if kind in ("org", "project") and org is None:
        raise click.UsageError(f"--kind {kind} lists organization keys: add --org ORG")
    if kind == "personal" and org is not None:
        raise click.UsageError("--kind personal does not apply with --org")
    keys = _scope(session.client(), org).list()
    now = session.clock()
    keys = [
        key
        for key in keys
        if (kind is None or key.kind.value == kind)
        and (name_glob is None or fnmatch.fnmatchcase(key.name, name_glob))
        and (unused_days is None or _audit.is_unused(key, unused_days, now))
    ]
    if session.json:
        emit_json([key_record(key) for key in keys])
    elif keys:
        emit(keys_table(keys, org=org is not None))
    else:
        emit("No keys found.", err=True)


# -- create ----------------------------------------------------------------------------------


@cli.command()
@click.argument("name", type=KEY_NAME)
@click.option("--org", type=ORG_ID, metavar="ORG", help="Create an organization key.")
@click.option(
    "--project",
    type=PROJECT_ID,
    metavar="PROJECT",
    help="Scope the organization key to this project (needs --org).",
)
@sink_options
@global_options()
@pass_session
def create(
    session: Session, /, *, name: str, org: str | None, project: str | None, **sink_args: Any
) -> None:
    """Create a key named NAME; its secret goes to exactly one place.

    The secret alone goes to stdout (KEY=$(neon-keys create ci) works) and the key's
    details to stderr, unless --save, --dotenv or --github-env is given.
    """
    if project is not None and org is None:
        raise click.UsageError("--project needs --org: project-scoped keys are organization keys")
    sink = build_sink(**sink_args)
    keys = _scope(session.client(), org)
    new = keys.create(name, project_id=project) if org else keys.create(name)
    assert new.secret is not None
    secret = new.secret.reveal()
    session.remember_secret(secret)
    revoke_hint = f"neon-keys revoke {new.id}" + (f" --org {org}" if org else "")
    failure = deliver_or_show(sink, secret, key=key_label(new), revoke=revoke_hint)
    if failure is not None:
        raise CliError(
            f"{key_label(new)} was created but its secret could not be delivered to "
            f"{sink.target} ({failure}); it was shown above, once"
        )
    if session.json:
        record = key_record(new)
        record["secret_delivered_to"] = sink.target
        emit_json(record, err=sink.uses_stdout)
    else:
        emit(f"Created {key_label(new)}; secret {sink.done}.", err=sink.uses_stdout)


# -- revoke ----------------------------------------------------------------------------------


@cli.command()
@click.argument("key_ids", nargs=-1, required=True, type=KEY_ID, metavar="ID...")
@click.option("--org", type=ORG_ID, metavar="ORG", help="The keys belong to this organization.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--missing-ok", is_flag=True, help="A key that is not found counts as revoked.")
@global_options()
@pass_session
def revoke(
    session: Session, /, *, key_ids: tuple[int, ...], org: str | None, yes: bool, missing_ok: bool
) -> None:
    """Revoke keys by id (asks first; pass --yes when not on a terminal)."""
    _revoking.require_confirmation_possible(yes, "revoke")
    ids = list(dict.fromkeys(key_ids))
    keys = _scope(session.client(), org)
    scope = f"organization {org} " if org else "personal "
    noun = "key" if len(ids) == 1 else "keys"
    _revoking.confirm(
        f"Revoke {scope}{noun} {', '.join(map(str, ids))}? This cannot be undone.", yes=yes
    )
    outcomes = _revoking.revoke_all(keys, ids, progress=_progress(session))
    if session.json:
        emit_json([_revoking.outcome_record(o, missing_ok=missing_ok) for o in outcomes])
    else:
        emit(_revoking.outcomes_table(outcomes, missing_ok=missing_ok))
    code = _revoking.failure_code(outcomes, missing_ok=missing_ok)
    if code:
        failed = sum(not _revoking.succeeded(o, missing_ok=missing_ok) for o in outcomes)
        missing = not missing_ok and any(o.status is RevokeStatus.ALREADY_GONE for o in outcomes)
        hint = " (organization keys need --org ORG)" if missing and org is None else ""
        emit(f"Error: {failed} of {plural(len(outcomes), 'key')} not revoked{hint}", err=True)
    _exit(code)


# -- rotate ----------------------------------------------------------------------------------


@cli.command("rotate")
@click.argument("key_id", type=KEY_ID, metavar="ID")
@click.option("--org", type=ORG_ID, metavar="ORG", help="The key belongs to this organization.")
@click.option(
    "--name",
    "new_name",
    type=KEY_NAME,
    metavar="NAME",
    help="Name the new key (default: the old name).",
)
@sink_options
@global_options()
@pass_session
def rotate_key(
    session: Session, /, *, key_id: int, org: str | None, new_name: str | None, **sink_args: Any
) -> None:
    """Replace key ID with a new key, then revoke the old one.

    The old key is revoked only after the new secret was delivered and verified; if a step
    fails, the command stops and says exactly which keys exist.
    """
    sink = build_sink(**sink_args)
    rotation = Rotation(key_id, org, sink)
    try:
        rotate(session.client(), rotation, new_name=new_name, remember=session.remember_secret)
    except RotationError:
        if session.json:
            emit_json(rotation.record(), err=sink.uses_stdout)
        raise
    if session.json:
        emit_json(rotation.record(), err=sink.uses_stdout)
    else:
        emit(rotation.summary(), err=sink.uses_stdout)


# -- audit -----------------------------------------------------------------------------------


@cli.command("audit")
@click.option(
    "--org", type=ORG_ID, metavar="ORG", help="Audit this organization's keys instead of yours."
)
@click.option(
    "--unused-days",
    type=click.IntRange(min=1),
    default=90,
    show_default=True,
    metavar="N",
    help="Flag keys last used more than N days ago.",
)
@click.option("--revoke", "do_revoke", is_flag=True, help="Revoke the flagged keys (asks first).")
@click.option("--yes", "-y", is_flag=True, help="With --revoke: do not ask for confirmation.")
@click.option(
    "--fail-on-findings",
    is_flag=True,
    help="Exit 1 if a flagged key is still active (for CI).",
)
@global_options()
@pass_session
def audit_keys(
    session: Session,
    /,
    *,
    org: str | None,
    unused_days: int,
    do_revoke: bool,
    yes: bool,
    fail_on_findings: bool,
) -> None:
    """Flag never-used, stale and duplicate keys; optionally revoke them."""
    if yes and not do_revoke:
        raise click.UsageError("--yes only applies with --revoke")
    if do_revoke:
        _revoking.require_confirmation_possible(yes, "audit --revoke")
    keys = _scope(session.client(), org)
    listing = keys.list()
    flagged = _audit.audit(listing, unused_days=unused_days, now=session.clock())
    if not session.json:
        if flagged:
            emit(_audit.flagged_table(flagged, org=org is not None))
        emit(f"{len(flagged)} of {plural(len(listing), 'key')} flagged.", err=True)

    outcomes: dict[int, RevokeOutcome[Any]] = {}
    if do_revoke and flagged:
        ids = [item.key.id for item in flagged]
        _revoking.confirm(
            f"Revoke the {len(ids)} flagged keys ({', '.join(map(str, ids))})? "
            "This cannot be undone.",
            yes=yes,
        )
        revoked = _revoking.revoke_all(keys, ids, progress=_progress(session))
        outcomes = {o.key_id: o for o in revoked}
        if not session.json:
            names = _revoking.key_names(listing)
            emit(_revoking.outcomes_table(list(outcomes.values()), missing_ok=True, names=names))

    if session.json:
        emit_json(
            _audit.report_record(
                flagged, outcomes, org_id=org, unused_days=unused_days, checked=len(listing)
            )
        )

    code = _revoking.failure_code(list(outcomes.values()), missing_ok=True)
    if code:
        emit("Error: some flagged keys could not be revoked", err=True)
    elif fail_on_findings and (active := _audit.still_active(flagged, outcomes)):
        emit(f"Error: {plural(len(active), 'flagged key')} still active", err=True)
        code = ExitCode.FAILURE
    _exit(code)


# -- whoami, orgs ----------------------------------------------------------------------------


@cli.command()
@global_options()
@pass_session
def whoami(session: Session) -> None:
    """Show which credential is calling: its kind and account."""
    record = auth_record(session.client().whoami())
    if session.json:
        emit_json(record)
    else:
        emit(render_pairs(auth_pairs(record)))


@cli.command()
@global_options()
@pass_session
def orgs(session: Session) -> None:
    """List the organizations you belong to, with their ids."""
    organizations = session.client().organizations()
    if session.json:
        emit_json([org_record(org) for org in organizations])
    elif organizations:
        rows = [[org.id, org.name, org.handle, org.plan] for org in organizations]
        emit(render_table(("id", "name", "handle", "plan"), rows))
    else:
        emit("You belong to no organization.", err=True)


# -- sandbox (its own module, which uses the option machinery above) ---------------------------

from ._sandbox import sandbox  # noqa: E402

cli.add_command(sandbox)
