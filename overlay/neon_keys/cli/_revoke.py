"""``neon-keys revoke``: revoke keys by id, by ids read from stdin, or by name; each with
its outcome."""

from __future__ import annotations

import fnmatch
import sys
from collections.abc import Iterator
from typing import IO, Any

import click

from neon_keys._exceptions import InvalidInputError

from . import _revoking
from ._caller import find_calling_keys, refuse_self
from ._errors import CliError, Interruption, nothing_changed_yet, partial
from ._options import global_options, pass_session
from ._output import clean, emit, emit_json, plural
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

STDIN = "-"
"""The id argument that stands for the ids on stdin."""

SHOWN_LINE = 24
"""Longest stdin line quoted in an error; longer ones (a secret piped by mistake) are not."""


class IdOrStdinType(click.ParamType):  # type: ignore[type-arg]
    """A key id, or ``-`` for the ids on stdin."""

    name = "id"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> int | str:
        if value == STDIN:
            return STDIN
        return int(KEY_ID.convert(value, param, ctx))


MAX_LINE = 256
"""Characters of a stdin line read at once: an id has at most 19 digits, and a longer line
(``cat /dev/zero``, a binary piped by mistake) is junk whose rest is skipped, never kept."""

_SKIP = 1 << 16
"""Characters read at once while skipping the rest of an overlong line."""


def read_ids(stream: IO[str] | None) -> list[int]:
    """The key ids on ``stream``, one per line (blank lines skipped; ``"12"`` read as 12),
    each once, in the order first read.

    Any other line is a usage error naming its line number, before anything is sent; a
    line is quoted only when short (a secret piped in by mistake is never shown). Memory is
    bounded by the distinct ids: a line is read at most ``MAX_LINE`` characters at a time,
    and junk lines past the third are only counted.
    """
    if stream is None:
        raise click.UsageError("revoke - reads ids from stdin, which is closed")
    ids: dict[int, None] = {}
    bad: list[str] = []
    junk = 0
    for number, text, length in _lines(stream):
        key_id = _key_id(text) if length <= MAX_LINE else None
        if key_id is not None:
            ids[key_id] = None
            continue
        junk += 1
        if len(bad) < 3:
            bad.append(_junk(number, text, length))
    if junk:
        more = f" and {junk - 3} more" if junk > 3 else ""
        raise click.UsageError(
            f"stdin must hold one key id per line; not an id: {', '.join(bad)}{more} "
            "(pipe `neon-keys list --quiet` or `neon-keys list -o json | jq '.[].id'`); "
            "no key was revoked"
        )
    return list(ids)


def _key_id(text: str) -> int | None:
    """The key id a line holds (None: it holds something else)."""
    if len(text) > 2 and text[0] == text[-1] == '"':  # jq's output of a string id
        text = text[1:-1]
    try:
        return int(KEY_ID.check(text))
    except InvalidInputError:
        return None


def _lines(stream: IO[str]) -> Iterator[tuple[int, str, int]]:
    """Each non-blank line of ``stream``: its number, its text stripped (of an overlong
    line, only its first ``MAX_LINE`` characters) and that text's length (of an overlong
    line, the whole line's)."""
    number = 0
    while line := stream.readline(MAX_LINE):
        number += 1
        text = line.strip()
        if len(line) < MAX_LINE or line.endswith("\n"):
            if text:
                yield number, text, len(text)
            continue
        length = len(line)
        while rest := stream.readline(_SKIP):
            length += len(rest.rstrip("\r\n"))
            if rest.endswith("\n"):
                break
        yield number, text, length


def _junk(number: int, text: str, length: int) -> str:
    if length <= SHOWN_LINE:
        return f"line {number} ({clean(text)!r})"
    return f"line {number} ({length} characters)"


@click.command()
@click.argument("key_ids", nargs=-1, type=IdOrStdinType(), metavar="[ID|-]...")
@click.option("--org", type=ORG_ID, metavar="ORG", help="The keys belong to this organization.")
@click.option(
    "--name",
    "name_glob",
    metavar="GLOB",
    help="Revoke the keys whose name matches GLOB (ci-*), instead of ids; they are shown first.",
)
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
    key_ids: tuple[int | str, ...],
    org: str | None,
    name_glob: str | None,
    yes: bool,
    missing_ok: bool,
    including_self: bool,
) -> None:
    """Revoke keys by id, by the ids on stdin (-), or by name (--name GLOB).

    Asks first, showing each key's id and name; pass --yes when nobody can answer (off a
    terminal). The key making the call is revoked only with --including-self.
    """
    if name_glob is not None and key_ids:
        raise click.UsageError("--name chooses the keys by name: give no ids with it")
    if name_glob is None and not key_ids:
        raise click.UsageError(
            "which keys? give their ids, - to read ids from stdin, or --name GLOB"
        )
    with nothing_changed_yet("no key was revoked"):
        answers = _answers(session, yes=yes, from_stdin=STDIN in key_ids)
        ids = [key_id for key_id in key_ids if isinstance(key_id, int)]
        if STDIN in key_ids:
            ids += read_ids(sys.stdin)
        ids = list(dict.fromkeys(ids))
        keys = session.scope(org)
        scope = f"organization {org}'s keys" if org else "your personal keys"
        listing = keys.list() if ids or name_glob is not None else []
        if name_glob is not None:
            ids = [key.id for key in listing if fnmatch.fnmatchcase(key.name, name_glob)]
        if ids:
            names = key_names(listing)
            calling = find_calling_keys(keys, listing, ids, whoami=session.client().whoami)
            if not including_self:
                refuse_self(ids, calling, names)
            confirm(ids, names=names, scope=scope, calling=calling, yes=yes, answers=answers)
    if not ids:
        _nothing_to_revoke(session, scope, name_glob)
        return
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
        raise CliError(_failure(done, org=org, missing_ok=missing_ok), code, partial(code))


def _answers(session: Session, *, yes: bool, from_stdin: bool) -> IO[str] | None:
    """Where the answer to the confirmation comes from: stdin (None), or the terminal when
    stdin carries the ids; refused (exit 2, nothing sent) when nobody can answer."""
    if yes:
        return None
    if not from_stdin:
        require_confirmation_possible(yes, "revoke")
        return None
    terminal = _revoking.open_terminal()
    if terminal is None:
        raise click.UsageError(
            "revoke - needs confirmation, and stdin carries the ids: pass --yes "
            "(there is no terminal to ask on)"
        )
    click.get_current_context().call_on_close(terminal.close)
    return terminal


def _nothing_to_revoke(session: Session, scope: str, name_glob: str | None) -> None:
    """Say that no key was chosen (not a failure: a cleanup with nothing left to do)."""
    if session.json:
        emit_json([])
    elif name_glob is not None:
        emit(
            f"No key among {scope} has a name matching {clean(name_glob)!r}; nothing to revoke.",
            err=True,
        )
    else:
        emit("No key ids on stdin; nothing to revoke.", err=True)


def _failure(done: Revocation, *, org: str | None, missing_ok: bool) -> str:
    """``2 of 3 keys not revoked``, with advice when some were already gone."""
    failed = done.failed(missing_ok=missing_ok)
    message = f"{len(failed)} of {plural(len(done.settled), 'key')} not revoked"
    if any(item.result is Result.ALREADY_GONE for item in failed):
        where = "" if org else "; organization keys need --org ORG"
        message += (
            f" (already gone: not found in this scope{where}; "
            "--missing-ok counts keys already gone as revoked)"
        )
    return message
