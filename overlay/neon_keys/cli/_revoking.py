"""Revoking several keys (``revoke``, ``audit --revoke``): the checks, the prompt, the outcomes.

Before anything is revoked: the keys are listed (the prompt shows their names), and a key
that may be the one making the call (``_caller``) is revoked only with ``--including-self``.
While keys
are revoked, a signal stops the work between two requests or in the middle of one, and the
outcome of every id is still reported: revoked, already gone, failed, interrupted (its
request was in flight: it may or may not be revoked) or not attempted.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

import click

from neon_keys._bulk import RevokeOutcome, RevokeStatus
from neon_keys._exceptions import NeonError
from neon_keys._models import APIKey
from neon_keys._scope import KeyScope

from . import _color
from ._errors import CliError, ErrorKind, ExitCode, exit_code_for, one_line
from ._output import (
    NONE,
    clean,
    emit_json_report,
    emit_report,
    plural,
    render_table,
    revoke_command,
)
from ._signals import GUARD, Interrupted, signal_name, signal_of
from ._streams import StdoutUnwritable

PROGRESS_THRESHOLD = 10
"""Above this many keys, a progress bar may be drawn on stderr while revoking."""


class Result(enum.StrEnum):
    """How the revocation of one key ended: the vocabulary of tables and JSON alike."""

    REVOKED = "revoked"
    """Revoked by this command."""
    ALREADY_GONE = "already_gone"
    """Neon answered 404 in this scope: revoked before, or never one of its keys (an
    organization key asked without ``--org``, a mistyped id). A failure unless
    ``--missing-ok``."""
    FAILED = "failed"
    """Not revoked; ``error`` says why."""
    INTERRUPTED = "interrupted"
    """A signal came while its request was in flight: it may or may not be revoked."""
    NOT_ATTEMPTED = "not_attempted"
    """A signal stopped the command before its turn: not revoked."""

    @property
    def words(self) -> str:
        """The result as a table shows it (``already gone``)."""
        return self.value.replace("_", " ")


_RESULTS = {
    RevokeStatus.REVOKED: Result.REVOKED,
    RevokeStatus.ALREADY_GONE: Result.ALREADY_GONE,
    RevokeStatus.FAILED: Result.FAILED,
}


@dataclass(frozen=True, slots=True)
class Settled:
    """What happened to one id: ``result``, the key's ``name`` if known, the ``error``."""

    key_id: int
    result: Result
    name: str | None = None
    error: NeonError | None = None

    def ok(self, *, missing_ok: bool) -> bool:
        """Whether the key is gone as asked: revoked now, or (with ``missing_ok``) not found."""
        if self.result is Result.ALREADY_GONE:
            return missing_ok
        return self.result is Result.REVOKED


@dataclass(frozen=True, slots=True)
class Revocation:
    """The outcome of every id, in order; ``signum`` is the signal that stopped it, if any."""

    settled: tuple[Settled, ...]
    signum: int | None = None

    def failed(self, *, missing_ok: bool) -> list[Settled]:
        """The ids not gone as asked."""
        return [item for item in self.settled if not item.ok(missing_ok=missing_ok)]

    def exit_code(self, *, missing_ok: bool) -> ExitCode:
        """``OK`` when every key is gone as asked; ``AUTH`` if the credential was refused."""
        failures = self.failed(missing_ok=missing_ok)
        if not failures:
            return ExitCode.OK
        if any(f.error is not None and exit_code_for(f.error) is ExitCode.AUTH for f in failures):
            return ExitCode.AUTH
        return ExitCode.FAILURE

    def table(self, *, missing_ok: bool, color: bool = False) -> str:
        """A table of outcomes: id, name, result; with ``color``, failures stand out."""
        rows = [
            [str(item.key_id), item.name or NONE, self._text(item, missing_ok=missing_ok)]
            for item in self.settled
        ]
        colors = [[None, None, self._color(item, missing_ok=missing_ok)] for item in self.settled]
        return render_table(("id", "name", "result"), rows, colors if color else None)

    @staticmethod
    def _color(item: Settled, *, missing_ok: bool) -> str | None:
        if item.ok(missing_ok=missing_ok):
            return None
        if item.result in (Result.FAILED, Result.INTERRUPTED):
            return _color.FAILURE
        return _color.WARNING

    def records(self, *, missing_ok: bool) -> list[dict[str, Any]]:
        """The outcomes as JSON: ``id``, ``name``, ``outcome``, ``ok``, ``error``."""
        return [self.record(item, missing_ok=missing_ok) for item in self.settled]

    def record(self, item: Settled, *, missing_ok: bool) -> dict[str, Any]:
        """One outcome as JSON."""
        ok = item.ok(missing_ok=missing_ok)
        return {
            "id": item.key_id,
            "name": item.name,
            "outcome": item.result.value,
            "ok": ok,
            "error": None if ok else self._problem(item),
        }

    def interruption_report(self, org_id: str | None) -> str:
        """What a signal left: counts, and the command that finishes the work."""
        counts = {result: 0 for result in Result}
        for item in self.settled:
            counts[item.result] += 1
        parts = [f"{counts[Result.REVOKED]} of {plural(len(self.settled), 'key')} revoked"]
        if counts[Result.ALREADY_GONE]:
            parts.append(f"{counts[Result.ALREADY_GONE]} already gone")
        if counts[Result.FAILED]:
            parts.append(f"{counts[Result.FAILED]} failed")
        if counts[Result.INTERRUPTED]:
            parts.append(f"{counts[Result.INTERRUPTED]} interrupted (may or may not be revoked)")
        parts.append(f"{counts[Result.NOT_ATTEMPTED]} not attempted")
        left = [
            item.key_id
            for item in self.settled
            if item.result in (Result.INTERRUPTED, Result.NOT_ATTEMPTED)
        ]
        finish = f"; to finish: {revoke_command(left, org_id)} --missing-ok" if left else ""
        return ", ".join(parts) + finish

    def _text(self, item: Settled, *, missing_ok: bool) -> str:
        if item.result in (Result.REVOKED, Result.NOT_ATTEMPTED):
            return item.result.words
        if item.result is Result.ALREADY_GONE:
            return item.result.words + ("" if missing_ok else " (not found)")
        return f"{item.result.words}: {self._problem(item)}"

    def _problem(self, item: Settled) -> str:
        signal = signal_name(self.signum) if self.signum is not None else "a signal"
        if item.result is Result.INTERRUPTED:
            return f"{signal} came with its request in flight: it may or may not be revoked"
        if item.result is Result.NOT_ATTEMPTED:
            return f"not attempted: stopped by {signal}"
        return one_line(item.error)


# -- before revoking -------------------------------------------------------------------------


def stdin_is_terminal() -> bool:
    """Whether a person can answer a confirmation prompt."""
    return sys.stdin is not None and sys.stdin.isatty()


def stderr_is_terminal() -> bool:
    """Whether a progress bar on stderr would be seen by a person (not a log or a pipe)."""
    return sys.stderr is not None and sys.stderr.isatty()


def progress_wanted(*, json: bool) -> bool:
    """Whether a long revocation may draw a progress bar: for a person at a terminal only."""
    return not json and stderr_is_terminal()


def require_confirmation_possible(yes: bool, what: str) -> None:
    """Refuse (usage error, exit 2) to go on without ``--yes`` when nobody can be asked."""
    if not yes and not stdin_is_terminal():
        raise click.UsageError(f"{what} needs confirmation: pass --yes (stdin is not a terminal)")


def open_terminal() -> IO[str] | None:
    """The controlling terminal, to ask on when stdin carries data; None when there is none."""
    try:
        return open("/dev/tty", encoding="utf-8", errors="replace")
    except OSError:
        return None


def ask(question: str, answers: IO[str]) -> bool:
    """Ask ``question`` on stderr and read the answer from ``answers`` (default: no)."""
    while True:
        click.echo(f"{question} [y/N]: ", err=True, nl=False)
        line = answers.readline()
        if not line:
            raise click.Abort
        answer = line.strip().lower()
        if answer in ("y", "yes"):
            return True
        if answer in ("n", "no", ""):
            return False
        click.echo("Error: invalid input", err=True)


def confirm(
    ids: Sequence[int],
    *,
    names: dict[int, str],
    scope: str,
    calling: set[int],
    yes: bool,
    answers: IO[str] | None = None,
) -> None:
    """Ask on stderr before revoking (unless ``yes``): each id with its name, self flagged.

    ``scope`` describes the keys (``personal keys``); a "no" stops the command (exit 1).
    The answer is read from stdin, or from ``answers`` (the terminal, when stdin carried
    the ids).
    """
    if yes:
        return
    width = max(len(str(key_id)) for key_id in ids)
    rows = []
    for key_id in ids:
        name = names.get(key_id)
        label = clean(name) if name is not None else f"(not among {scope})"
        if key_id in calling:
            label += "  <- may be the key making this call: it will stop working"
        rows.append(f"  {str(key_id).ljust(width)}  {label}")
    click.echo(
        "\n".join([f"About to revoke {plural(len(ids), 'key')} of {scope}:", *rows]), err=True
    )
    question = f"Revoke {'it' if len(ids) == 1 else 'them'}? This cannot be undone."
    try:
        if answers is not None:
            agreed = ask(question, answers)
        else:
            agreed = click.confirm(question, default=False, err=True)
    except click.Abort:
        if GUARD.pending is not None:  # Ctrl-C at the prompt: an interruption like any other
            raise Interrupted(GUARD.pending) from None
        raise
    if not agreed:
        raise CliError("nothing was revoked", ExitCode.FAILURE, ErrorKind.DECLINED)


# -- revoking --------------------------------------------------------------------------------


def revoke_all(
    keys: KeyScope, ids: Sequence[int], *, names: dict[int, str], progress: bool
) -> Revocation:
    """Revoke ``ids`` in order and settle every one of them, even when a signal comes.

    With ``progress`` (a person at a terminal: in a log or a pipe a bar is noise, and
    programs reading JSON have the outcomes) a bar is drawn on stderr when there are many.
    Run it inside ``GUARD.hold()``: a signal during a request interrupts that request; one
    between two requests stops the work before the next.
    """
    outcomes: list[RevokeOutcome[APIKey]] = []
    between = False

    def settled(outcome: RevokeOutcome[APIKey], advance: Callable[[], None]) -> None:
        nonlocal between
        outcomes.append(outcome)
        advance()
        if GUARD.pending is not None:
            between = True
            GUARD.check()

    signum = None
    with _bar(len(ids) if progress else 0) as advance:
        try:
            keys.revoke_many(ids, on_outcome=lambda outcome: settled(outcome, advance))
        except KeyboardInterrupt as interrupt:
            signum = signal_of(interrupt)
    result = [Settled(o.key_id, _RESULTS[o.status], _name(o, names), o.error) for o in outcomes]
    rest = list(ids[len(outcomes) :])
    if signum is not None and rest and not between:
        in_flight = rest.pop(0)
        result.append(Settled(in_flight, Result.INTERRUPTED, names.get(in_flight)))
    result += [Settled(key_id, Result.NOT_ATTEMPTED, names.get(key_id)) for key_id in rest]
    return Revocation(tuple(result), signum)


@contextmanager
def _bar(length: int) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr for more than ``PROGRESS_THRESHOLD`` items (else nothing)."""
    if length <= PROGRESS_THRESHOLD:
        yield lambda: None
        return
    with click.progressbar(length=length, label="Revoking", file=sys.stderr) as bar:
        yield lambda: bar.update(1)


def _name(outcome: RevokeOutcome[APIKey], names: dict[int, str]) -> str | None:
    if outcome.key is not None:
        return outcome.key.name
    return names.get(outcome.key_id)


def key_names(keys: Sequence[APIKey]) -> dict[int, str]:
    """Key names by id, to label outcomes whose revoke response was lost."""
    return {key.id: key.name for key in keys}


def report_revocation(done: Revocation, *, json: bool, missing_ok: bool) -> StdoutUnwritable | None:
    """Print every outcome (table or JSON); the stdout failure, if stdout failed."""
    if json:
        return emit_json_report(done.records(missing_ok=missing_ok))
    color = _color.enabled(sys.stdout)
    return emit_report(done.table(missing_ok=missing_ok, color=color))
