"""Revoking several keys (``revoke``, ``audit --revoke``): confirmation, progress, outcomes."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import click

from neon_keys._bulk import RevokeStatus

from ._errors import CliError, ExitCode, exit_code_for, one_line
from ._output import NONE, render_table

if TYPE_CHECKING:
    from neon_keys._bulk import OnOutcome, RevokeOutcome
    from neon_keys._models import APIKey

PROGRESS_THRESHOLD = 10
"""Above this many keys, a progress bar may be drawn on stderr while revoking."""


class KeyRevoker(Protocol):
    """What revoking needs of ``neon.personal_keys`` or ``neon.org(id).keys``."""

    def revoke_many(
        self, key_ids: Sequence[int], *, on_outcome: OnOutcome | None = None
    ) -> Sequence[RevokeOutcome[Any]]:
        """Revoke every id, one outcome each."""
        ...


def stdin_is_terminal() -> bool:
    """Whether a person can answer a confirmation prompt."""
    return sys.stdin is not None and sys.stdin.isatty()


def stderr_is_terminal() -> bool:
    """Whether a progress bar on stderr would be seen by a person (not a log or a pipe)."""
    return sys.stderr is not None and sys.stderr.isatty()


def require_confirmation_possible(yes: bool, what: str) -> None:
    """Refuse (usage error, exit 2) to go on without ``--yes`` when nobody can be asked."""
    if not yes and not stdin_is_terminal():
        raise click.UsageError(f"{what} needs confirmation: pass --yes (stdin is not a terminal)")


def confirm(question: str, *, yes: bool) -> None:
    """Ask ``question`` on stderr unless ``yes``; a "no" stops the command (exit 1)."""
    if yes:
        return
    if not click.confirm(question, default=False, err=True):
        raise CliError("nothing was revoked", ExitCode.FAILURE)


def revoke_all(keys: KeyRevoker, ids: Sequence[int], *, progress: bool) -> list[RevokeOutcome[Any]]:
    """Revoke ``ids`` in order; with ``progress``, a progress bar on stderr when there are many.

    The caller allows ``progress`` only for a person at a terminal: in a log or a pipe a bar
    is noise, and programs reading JSON have the per-key outcomes.
    """
    if not progress or len(ids) <= PROGRESS_THRESHOLD:
        return list(keys.revoke_many(ids))
    with click.progressbar(length=len(ids), label="Revoking", file=sys.stderr) as bar:
        return list(keys.revoke_many(ids, on_outcome=lambda _outcome: bar.update(1)))


def succeeded(outcome: RevokeOutcome[Any], *, missing_ok: bool) -> bool:
    """Whether the key is gone as asked: revoked now, or (with ``missing_ok``) not found."""
    if outcome.status is RevokeStatus.ALREADY_GONE:
        return missing_ok
    return outcome.status is RevokeStatus.REVOKED


def outcome_text(outcome: RevokeOutcome[Any], *, missing_ok: bool) -> str:
    """A short account of one outcome: ``revoked``, ``not found (ok)``, ``failed: ...``."""
    if outcome.status is RevokeStatus.REVOKED:
        return "revoked"
    if outcome.status is RevokeStatus.ALREADY_GONE:
        return "not found (ok)" if missing_ok else "failed: not found"
    return f"failed: {one_line(outcome.error)}"


def outcome_record(
    outcome: RevokeOutcome[Any], *, missing_ok: bool, names: dict[int, str] | None = None
) -> dict[str, Any]:
    """One outcome as JSON: ``id``, ``name``, ``outcome``, ``ok``, ``error``."""
    ok = succeeded(outcome, missing_ok=missing_ok)
    return {
        "id": outcome.key_id,
        "name": _name(outcome, names),
        "outcome": outcome.status.value,
        "ok": ok,
        "error": None if ok or outcome.error is None else one_line(outcome.error),
    }


def outcomes_table(
    outcomes: Sequence[RevokeOutcome[Any]],
    *,
    missing_ok: bool,
    names: dict[int, str] | None = None,
) -> str:
    """A table of outcomes: id, name, result."""
    rows = [
        [str(o.key_id), _name(o, names) or NONE, outcome_text(o, missing_ok=missing_ok)]
        for o in outcomes
    ]
    return render_table(("id", "name", "result"), rows)


def failure_code(outcomes: Sequence[RevokeOutcome[Any]], *, missing_ok: bool) -> ExitCode:
    """``OK`` when every key is gone as asked; ``AUTH`` if the credential was refused."""
    failures = [o for o in outcomes if not succeeded(o, missing_ok=missing_ok)]
    if not failures:
        return ExitCode.OK
    if any(o.error is not None and exit_code_for(o.error) is ExitCode.AUTH for o in failures):
        return ExitCode.AUTH
    return ExitCode.FAILURE


def _name(outcome: RevokeOutcome[Any], names: dict[int, str] | None) -> str | None:
    if outcome.key is not None:
        return str(outcome.key.name)
    return (names or {}).get(outcome.key_id)


def key_names(keys: Sequence[APIKey]) -> dict[int, str]:
    """Key names by id, to label outcomes whose revoke response was lost."""
    return {key.id: key.name for key in keys}
