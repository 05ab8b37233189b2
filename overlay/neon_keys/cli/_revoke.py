"""``neon-keys revoke``: revoke keys by id, each with its outcome."""

from __future__ import annotations

import click

from ._caller import find_calling_keys, refuse_self
from ._errors import CliError, Interruption
from ._options import global_options, pass_session
from ._params import KEY_ID, ORG_ID
from ._revoking import (
    Result,
    Revocation,
    confirm,
    key_names,
    progress_wanted,
    report_revocation,
    require_confirmation_possible,
    revoke_all,
)
from ._session import Session
from ._signals import GUARD


@click.command()
@click.argument("key_ids", nargs=-1, required=True, type=KEY_ID, metavar="ID...")
@click.option("--org", type=ORG_ID, metavar="ORG", help="The keys belong to this organization.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--missing-ok", is_flag=True, help="A key already gone counts as revoked.")
@click.option(
    "--including-self",
    is_flag=True,
    help="Allow revoking the key this command calls with (it stops working).",
)
@global_options()
@pass_session
def revoke(
    session: Session,
    /,
    *,
    key_ids: tuple[int, ...],
    org: str | None,
    yes: bool,
    missing_ok: bool,
    including_self: bool,
) -> None:
    """Revoke keys by id (asks first; pass --yes when not on a terminal).

    The keys are listed first, to show their names, and the key making the call is
    revoked only with --including-self.
    """
    require_confirmation_possible(yes, "revoke")
    ids = list(dict.fromkeys(key_ids))
    keys = session.scope(org)
    listing = keys.list()
    names = key_names(listing)
    calling = find_calling_keys(keys, listing, ids, whoami=session.client().whoami)
    if not including_self:
        refuse_self(ids, calling, names)
    scope = f"organization {org}'s keys" if org else "your personal keys"
    confirm(ids, names=names, scope=scope, calling=calling, yes=yes)
    with GUARD.hold():
        done = revoke_all(keys, ids, names=names, progress=progress_wanted(json=session.json))
        output_failure = report_revocation(done, json=session.json, missing_ok=missing_ok)
        signum = done.signum if done.signum is not None else GUARD.pending
        if signum is not None:
            raise Interruption(signum, done.interruption_report(org))
    if output_failure is not None:
        raise output_failure
    code = done.exit_code(missing_ok=missing_ok)
    if code:
        raise CliError(_failure(done, org=org, missing_ok=missing_ok), code)


def _failure(done: Revocation, *, org: str | None, missing_ok: bool) -> str:
    """``2 of 3 keys not revoked``, with advice when some were already gone."""
    failed = done.failed(missing_ok=missing_ok)
    message = f"{len(failed)} of {len(done.settled)} keys not revoked"
    if any(item.result is Result.ALREADY_GONE for item in failed):
        where = "" if org else "; organization keys need --org ORG"
        message += (
            f" (already gone: not found in this scope{where}; "
            "--missing-ok counts keys already gone as revoked)"
        )
    return message
