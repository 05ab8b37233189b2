"""``neon-keys list``: your personal keys, an organization's, or all of them at once."""

from __future__ import annotations

import datetime
import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import click

from neon_keys._exceptions import NeonError
from neon_keys._findings import is_unused

from ._errors import CliError, describe, exit_code_for, partial
from ._options import global_options, pass_session
from ._output import emit, emit_json, key_record, keys_table
from ._params import ORG_ID
from ._session import Session

if TYPE_CHECKING:
    from neon_keys._models import APIKey


@dataclass(frozen=True, slots=True)
class Listing:
    """The keys of every scope a run could list, and the organizations it could not."""

    keys: tuple[APIKey, ...]
    failures: tuple[tuple[str, NeonError], ...] = ()
    """(organization id, why its keys could not be listed), in the order tried."""


def list_everything(session: Session) -> Listing:
    """The keys of every scope the calling key reaches (``--all-orgs``), personal keys first.

    An organization whose keys cannot be listed (the caller is not its admin, say) is a
    failure of its own: the others are still listed.
    """
    keys: list[APIKey] = []
    failures = []
    for org_id, scope in session.every_scope():
        try:
            keys += scope.list()
        except NeonError as err:
            if org_id is None:
                raise
            failures.append((org_id, err))
    return Listing(tuple(keys), tuple(failures))


def _failure(listing: Listing) -> CliError:
    """``could not list the keys of 1 organization: org-x: ...`` (the worst exit code)."""
    parts = [f"{org_id}: {describe(err)}" for org_id, err in listing.failures]
    count = len(listing.failures)
    what = "1 organization" if count == 1 else f"{count} organizations"
    code = max(exit_code_for(err) for _, err in listing.failures)
    return CliError(f"could not list the keys of {what}: {'; '.join(parts)}", code, partial(code))


def _select(
    keys: Sequence[APIKey],
    *,
    kind: str | None,
    name_glob: str | None,
    unused_days: int | None,
    session: Session,
) -> list[APIKey]:
    now = session.now()  # after the listing: Neon's clock, from its answer
    return [
        key
        for key in keys
        if (kind is None or key.kind.value == kind)
        and (name_glob is None or fnmatch.fnmatchcase(key.name, name_glob))
        and (unused_days is None or is_unused(key, now, datetime.timedelta(days=unused_days)))
    ]


@click.command("list")
@click.option(
    "--org", type=ORG_ID, metavar="ORG", help="List this organization's keys instead of yours."
)
@click.option(
    "--all-orgs",
    is_flag=True,
    help="List your personal keys and every organization's keys, with an ORG column.",
)
@click.option(
    "--kind",
    type=click.Choice(["personal", "org", "project"]),
    help="Only keys of this kind (org and project need --org or --all-orgs).",
)
@click.option(
    "--unused-days",
    type=click.IntRange(min=1),
    metavar="N",
    help="Only keys not used in the last N days (never used included).",
)
@click.option("--name", "name_glob", metavar="GLOB", help="Only keys whose name matches GLOB.")
@click.option(
    "--quiet",
    "-q",
    is_flag=True,
    help="Print only the ids, one per line (for `neon-keys revoke -`).",
)
@global_options()
@pass_session
def list_keys(
    session: Session,
    /,
    *,
    org: str | None,
    all_orgs: bool,
    kind: str | None,
    unused_days: int | None,
    name_glob: str | None,
    quiet: bool,
) -> None:
    """List your personal keys, an organization's keys with --org, or all with --all-orgs."""
    if all_orgs:
        if org is not None:
            raise click.UsageError("--all-orgs lists every organization: leave out --org")
        if quiet:
            raise click.UsageError(
                "--quiet prints bare ids, which do not say their organization; "
                "with --all-orgs use --output json (each key has its org_id)"
            )
    if quiet and session.json:
        raise click.UsageError("--quiet prints bare ids: leave out --output json")
    if kind in ("org", "project") and org is None and not all_orgs:
        raise click.UsageError(f"--kind {kind} lists organization keys: add --org ORG")
    if kind == "personal" and org is not None:
        raise click.UsageError("--kind personal does not apply with --org")
    listing = list_everything(session) if all_orgs else Listing(tuple(session.scope(org).list()))
    keys = _select(
        listing.keys, kind=kind, name_glob=name_glob, unused_days=unused_days, session=session
    )
    if quiet:
        if keys:
            emit("\n".join(str(key.id) for key in keys))
    elif session.json:
        emit_json([key_record(key) for key in keys])
    elif keys:
        emit(keys_table(keys, org=org is not None or all_orgs, orgs=all_orgs))
    else:
        emit("No keys found.", err=True)
    if listing.failures:
        raise _failure(listing)
