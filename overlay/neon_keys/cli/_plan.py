"""``neon-keys plan`` and ``neon-keys check``: a policy file against the keys as they are.

``plan`` shows, per managed scope, every change ``apply`` would make and why, and the
findings that are only reported; it exits 4 when there are changes, 0 when there are none.
``check`` runs the rules only, as a CI gate: it exits 1 on findings, and with
``--format github`` also prints each as a GitHub Actions annotation at its rule's line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ._errors import CliError, ExitCode
from ._options import global_options, pass_session
from ._output import emit, emit_json, iso_time, plural
from ._policy_output import (
    annotation,
    finding_record,
    findings_table,
    plan_record,
    plan_summary,
    plan_text,
)
from ._session import Session

if TYPE_CHECKING:
    from collections.abc import Callable

    from neon_keys.policy import Plan, Policy

DEFAULT_FILE = "neon-keys.toml"


def file_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """``-f/--file FILE``, the policy file (default ./neon-keys.toml)."""
    return click.option(
        "-f",
        "--file",
        "path",
        default=DEFAULT_FILE,
        show_default=True,
        metavar="FILE",
        help="The policy file.",
    )(command)


def load_policy(path: str) -> Policy:
    """Read and check the policy file; each problem on a line of its own, then exit 2."""
    from neon_keys.policy import PolicyFileError, load  # noqa: PLC0415  (on demand)

    try:
        return load(path)
    except PolicyFileError as err:
        for problem in err.problems:
            emit(str(problem), err=True)
        count = plural(len(err.problems), "problem")
        raise CliError(f"{path} has {count}; nothing was sent", ExitCode.USAGE) from None


def compute_plan(session: Session, wanted: Policy, *, to_apply: bool = False) -> Plan:
    """The plan of ``wanted`` against the keys as they are now; ``to_apply``: refused
    (``ServerTimeUnknownError``) unless the times read are Neon's, as ``apply`` requires."""
    from neon_keys import policy  # noqa: PLC0415  (on demand)
    from neon_keys.policy._api import plan_to_apply  # noqa: PLC0415

    if to_apply:
        return plan_to_apply(session.client(), wanted)
    return policy.plan(session.client(), wanted)


@click.command("plan")
@file_option
@global_options()
@pass_session
def plan_command(session: Session, /, *, path: str) -> None:
    """Show what `apply` would change to make the keys what the policy file says.

    Per managed scope: each create, rotate, retire and revoke with its reason, the findings
    of the rules (reported only) and the keys kept on purpose. Sends no change. Exits 4
    when there are changes, 0 when there are none.
    """
    wanted = load_policy(path)
    result = compute_plan(session, wanted)
    if session.json:
        emit_json(plan_record(result))
    else:
        emit(plan_text(result))
        emit(plan_summary(result), err=True)
    if result.changes:
        raise click.exceptions.Exit(ExitCode.CHANGES)


@click.command("check")
@file_option
@click.option(
    "--format",
    "style",
    type=click.Choice(["text", "github"]),
    default="text",
    show_default=True,
    help="github: also print each finding as a GitHub Actions annotation.",
)
@global_options()
@pass_session
def check_command(session: Session, /, *, path: str, style: str) -> None:
    """Check the keys against the rules of the policy file, as a CI gate.

    Reads every managed scope and reports the keys that break a rule (max_age,
    max_unused, min_age, allowed_networks, personal_keys, undeclared, expired_leases).
    Changes nothing. Exits 1 when there are findings.
    """
    wanted = load_policy(path)
    result = compute_plan(session, wanted)
    findings = result.findings
    if session.json:
        emit_json(
            {
                "file": wanted.path,
                "now": iso_time(result.now),
                "findings": [finding_record(finding) for finding in findings],
            }
        )
    elif findings:
        emit(findings_table(findings))
    if style == "github":
        for finding in findings:
            emit(annotation(finding, wanted.path))
    checked = sum(len(keys) for _, keys in result.scopes)
    if not session.json:
        emit(f"{plural(len(findings), 'finding')} in {plural(checked, 'key')} checked.", err=True)
    if findings:
        raise click.exceptions.Exit(ExitCode.FAILURE)
