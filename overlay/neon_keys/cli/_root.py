"""The ``neon-keys`` group: global options, and how every failure ends (one line, an exit code).

Commands live in modules of their own and are registered in ``_app``. Nothing here imports
httpx at module level: the client is built on first use (``Session.client``), so ``--help``
and ``--version`` stay fast.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence
from typing import Any

import click

from neon_keys._exceptions import (
    APIConnectionError,
    NeonError,
    NotFoundError,
    PermissionDeniedError,
)

from ._errors import CliError, ErrorKind, ExitCode, Interruption, describe, exit_code_for
from ._failures import output_requested, show
from ._lazy_group import LazyGroup
from ._options import root_options, start_session
from ._session import Session
from ._signals import GUARD, exit_code, signal_of
from ._streams import StdoutUnwritable


class NeonGroup(LazyGroup):
    """A command group that ends every run with a documented exit code and at most a few lines.

    Library errors become one ``Error: ...`` line (tracebacks with ``--verbose``); SIGINT,
    SIGTERM and SIGHUP end with a report of what exists and exit 130, 143 or 129, never a
    bare ``Aborted!``.
    """

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the program and exit; with ``standalone_mode=False``, click's plain behaviour."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        with GUARD.installed():
            code = self._run(args, prog_name, complete_var, **extra)
        sys.exit(code)

    def _run(
        self,
        args: Sequence[str] | None,
        prog_name: str | None,
        complete_var: str | None,
        **extra: Any,
    ) -> int:
        words = list(sys.argv[1:] if args is None else args)
        session = extra.setdefault("obj", Session())
        redact = session.redact if isinstance(session, Session) else str
        json_output = output_requested(words) == "json"

        def report(error: click.ClickException) -> None:
            show(error, json_output=json_output, redact=redact)

        try:
            result = super().main(words, prog_name, complete_var, False, **extra)
        except StdoutUnwritable as err:
            if not err.quiet:
                report(err)
            return err.exit_code
        except click.ClickException as err:
            report(err)
            return err.exit_code
        except click.exceptions.Abort as abort:  # a signal outside a command, or EOF at a prompt
            cause = abort.__cause__ or abort.__context__
            if isinstance(cause, KeyboardInterrupt):
                signum = signal_of(cause)
            elif GUARD.pending is not None:
                signum = GUARD.pending
            else:
                report(CliError("aborted", kind=ErrorKind.DECLINED))
                return ExitCode.FAILURE
            report(Interruption(signum))
            return exit_code(signum)
        except KeyboardInterrupt as interrupt:  # while the run was being torn down
            return exit_code(signal_of(interrupt))
        return result if isinstance(result, int) else ExitCode.OK

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; library errors become ``CliError``, signals ``Interruption``."""
        try:
            return super().invoke(ctx)
        except (CliError, Interruption) as err:
            # Messages built from OS and library errors: scrub them once more, to be sure.
            err.message = _redact(ctx, err.message)  # type: ignore[misc]
            raise
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt as interrupt:
            raise Interruption(signal_of(interrupt)) from None
        except NeonError as err:
            _show_traceback(ctx)
            message = _describe(ctx, err)
            raise CliError(_redact(ctx, message), exit_code_for(err)) from err
        except Exception as err:
            _show_traceback(ctx)
            raise CliError(_unexpected(ctx, err), kind=ErrorKind.INTERNAL) from err


def _describe(ctx: click.Context, err: NeonError) -> str:
    session = ctx.obj if isinstance(ctx.obj, Session) else None
    if session is None:
        return describe(err)
    host = session.base_url if isinstance(err, APIConnectionError | NotFoundError) else None
    text = describe(err, api_host=host)
    return text + _organization_key_hint(session, err)


def _organization_key_hint(session: Session, err: NeonError) -> str:
    """Advice for a 403 on personal keys when the API key is an organization's."""
    if not isinstance(err, PermissionDeniedError) or not err.path.startswith("/api_keys"):
        return ""
    try:
        caller = session.client().whoami()
    except NeonError:
        return ""
    from neon_keys._models import KeyKind  # noqa: PLC0415  (not for --help)

    if caller.key_kind is not KeyKind.ORG:
        return ""
    return (
        f"; the API key is a key of organization {caller.account_id}, which cannot manage "
        f"personal keys: for that organization's keys pass --org {caller.account_id}"
    )


def _unexpected(ctx: click.Context, err: Exception) -> str:
    """``unexpected error: ...`` (a bug), one line, with the way to the traceback."""
    message = _redact(ctx, " ".join(f"{type(err).__name__}: {err}".split()))
    hint = "" if _verbose(ctx) else " (run with --verbose for details)"
    return f"unexpected error: {message}{hint}"


def _verbose(ctx: click.Context) -> bool:
    return isinstance(ctx.obj, Session) and ctx.obj.verbose


def _redact(ctx: click.Context, text: str) -> str:
    return ctx.obj.redact(text) if isinstance(ctx.obj, Session) else text


def _show_traceback(ctx: click.Context) -> None:
    if _verbose(ctx):
        click.echo(_redact(ctx, traceback.format_exc()).rstrip(), err=True)


@click.group(cls=NeonGroup, context_settings={"help_option_names": ["-h", "--help"]})
@root_options
@click.pass_context
def cli(
    ctx: click.Context,
    /,
    *,
    api_key: str | None,
    api_host: str | None,
    profile: str | None,
    output: str,
    timeout: float | None,
    verbose: bool,
) -> None:
    """Create, list, revoke, rotate and audit Neon API keys.

    The options below may also follow the command (neon-keys list -o json).

    Exit codes: 0 success; 1 failure (API error, partial failure, audit findings);
    2 usage error or invalid input (nothing sent); 3 authentication failure;
    4 plan: changes pending;
    130, 143 and 129 interrupted by SIGINT, SIGTERM or SIGHUP (after saying what exists).
    """
    start_session(
        ctx,
        api_key=api_key,
        api_host=api_host,
        profile=profile,
        output=output,
        timeout=timeout,
        verbose=verbose,
    )
