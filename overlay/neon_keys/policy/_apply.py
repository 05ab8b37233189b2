"""Carrying out a plan: creates and rotations first, every secret delivered and verified;
then the retires and revokes, each only once what it waits for has succeeded.

``apply`` never does what the plan it is given did not show: it reads the world again and
computes the plan afresh, does only the actions both share, and reports the rest (an
action no longer needed, one that the world now calls for but the plan did not show).
Every step is recorded in an ``Outcome``; an interruption (Ctrl-C, a cancelled task) is
re-raised carrying what was done (``interrupted_apply``).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .._command_sink import CommandSink
from .._exceptions import NeonError, NotFoundError
from .._interrupts import find_carried
from .._models import APIKey, AuthDetails, KeyKind
from .._rotation import RotationError, interrupted_rotation
from .._secret import Secret
from .._sinks import FileSink, Sink, SinkError, deliver_secret
from ._load import PolicyFileError, Problem
from ._model import KeyDeclaration, Policy
from ._plan import Action, Create, Plan, Retire, Revoke, Rotate

if TYPE_CHECKING:
    pass

__all__ = [
    "Applied",
    "Outcome",
    "OutcomeStatus",
    "check_sinks",
    "interrupted_apply",
    "sinks_of",
]

_ATTRIBUTE = "neon_keys_interrupted_apply"

OnOutcome = Callable[["Outcome"], None]
"""Called with each outcome as it is settled (for progress reporting)."""


class OutcomeStatus(enum.StrEnum):
    """What became of one action."""

    DONE = "done"
    """Carried out."""
    FAILED = "failed"
    """Tried, and it failed; ``error`` says why."""
    SKIPPED = "skipped"
    """Not tried: the action it waits for (``after``) did not succeed."""
    STALE = "stale"
    """Not tried: reading the world again, the plan no longer has it (the world changed)."""
    INTERRUPTED = "interrupted"
    """Under way when an interruption came: ``message`` says what exists."""
    NOT_ATTEMPTED = "not_attempted"
    """Not tried: an interruption stopped the apply before its turn."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one action of a plan.

    Attributes:
        action: the action (as planned afresh when it was carried out).
        status: what became of it.
        message: what happened, in words (what exists, when it failed).
        new_key: the key a create or rotation made (its ``secret`` set only when a
            delivery failed: then it is the one copy left; store it or revoke the key).
        delivered: the sinks that hold the new secret.
        error: why it failed, if it did.
    """

    action: Action
    status: OutcomeStatus
    message: str = ""
    new_key: APIKey | None = None
    delivered: tuple[str, ...] = ()
    error: BaseException | None = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        """Whether the action was carried out."""
        return self.status is OutcomeStatus.DONE


@dataclass(frozen=True, slots=True)
class Applied:
    """What ``apply`` did.

    Attributes:
        plan: the plan computed afresh when ``apply`` began.
        outcomes: one per action of the plan it was given, in order.
        unplanned: actions the fresh plan has that the given one did not show: not done.
    """

    plan: Plan
    outcomes: tuple[Outcome, ...]
    unplanned: tuple[Action, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether every action was carried out and the world held no surprise."""
        return all(outcome.ok for outcome in self.outcomes) and not self.unplanned

    @property
    def failed(self) -> tuple[Outcome, ...]:
        """The outcomes that are not ``DONE``."""
        return tuple(outcome for outcome in self.outcomes if not outcome.ok)


def interrupted_apply(exc: BaseException) -> Applied | None:
    """What an ``apply`` interrupted from outside (Ctrl-C, a cancelled task) did, or None.

    The exceptions ``exc`` was raised from and the members of an exception group are
    looked at too.
    """
    return find_carried(exc, _ATTRIBUTE, Applied)


# -- sinks ---------------------------------------------------------------------------------


def sinks_of(declaration: KeyDeclaration, policy: Policy) -> list[Sink]:
    """The sinks of a declared key: its file first, then its commands, in order.

    Commands run in the policy file's folder, as relative ``save`` paths are read there.
    """
    sinks: list[Sink] = []
    if declaration.save is not None:
        sinks.append(FileSink(str(declaration.save), replace=True))
    folder = _folder(policy)
    sinks += [CommandSink(command, cwd=folder) for command in declaration.deliver]
    return sinks


def _folder(policy: Policy) -> str | None:
    import os  # noqa: PLC0415

    folder = os.path.dirname(policy.path)
    return folder or None


def check_sinks(plan: Plan) -> None:
    """Check the sinks of every create and rotation of ``plan`` before anything is sent.

    Raises ``PolicyFileError``, each problem at the line of its ``deliver`` or ``save``.
    """
    problems = []
    seen: set[int] = set()
    for action in plan.actions:
        if not isinstance(action, Create | Rotate):
            continue
        declaration = action.declaration
        if declaration.index in seen:
            continue
        seen.add(declaration.index)
        for sink in sinks_of(declaration, plan.policy):
            try:
                sink.check()
            except SinkError as err:
                field_name = "save" if isinstance(sink, FileSink) else "deliver"
                problems.append(
                    Problem(
                        plan.policy.path,
                        declaration.line,
                        f"keys[{declaration.index}].{field_name}",
                        str(err),
                    )
                )
    if problems:
        raise PolicyFileError(problems)


# -- matching the plan shown with the world as it is ---------------------------------------


def reconcile(shown: Plan, fresh: Plan) -> tuple[list[Action], list[Outcome], list[Action]]:
    """What to do: the fresh plan's actions the shown one has; what became stale; what is new.

    An action of both is taken as the fresh plan has it (the keys as they are now); an
    action that waits for one no longer to be done is stale too.
    """
    shown_ids = set(shown.identities())
    fresh_ids = set(fresh.identities())
    todo = [action for action in fresh.actions if action.identity in shown_ids]
    doing = {action.identity for action in todo}
    stale_todo = [a for a in todo if _after(a) is not None and _after(a).identity not in doing]  # type: ignore[union-attr]
    todo = [a for a in todo if a not in stale_todo]
    stale = [
        Outcome(action, OutcomeStatus.STALE, "no longer needed: the world changed since the plan")
        for action in shown.actions
        if action.identity not in fresh_ids
    ]
    stale += [
        Outcome(
            action,
            OutcomeStatus.STALE,
            "the action it waits for is no longer in the plan: the world changed",
        )
        for action in stale_todo
    ]
    unplanned = [action for action in fresh.actions if action.identity not in shown_ids]
    return todo, stale, unplanned


def _after(action: Action) -> Create | Rotate | None:
    return action.after if isinstance(action, Retire | Revoke) else None


def ordered(shown: Plan, outcomes: Iterable[Outcome]) -> tuple[Outcome, ...]:
    """``outcomes`` in the order of the shown plan's actions."""
    place = {identity: index for index, identity in enumerate(shown.identities())}
    return tuple(sorted(outcomes, key=lambda o: place.get(o.action.identity, len(place))))


# -- one action: the steps, for both clients --------------------------------------------------


def verification_problem(key: APIKey, auth: AuthDetails, org_id: str | None) -> str | None:
    """Why ``GET /auth`` with the new secret does not answer as ``key`` (None if it does)."""
    expected = KeyKind.PERSONAL if key.kind is KeyKind.PERSONAL else KeyKind.ORG
    if auth.key_kind is not expected:
        return f"it authenticates as {auth.auth_method!r}, not as a {expected.value} key"
    if org_id is not None and auth.account_id != org_id:
        return f"it authenticates for account {auth.account_id!r}, not organization {org_id!r}"
    return None


def rotation_outcome(action: Rotate, rotation: Any) -> Outcome:
    """The outcome of a finished rotation (the secret dropped: every sink holds it)."""
    new = rotation.new
    delivered = tuple(d.target for d in rotation.delivered)
    return Outcome(
        action,
        OutcomeStatus.DONE,
        f"new key {new.id} created, delivered to {', '.join(delivered)}, verified; "
        f"old key {action.key.id} kept until retired",
        new_key=replace(new, secret=None),
        delivered=delivered,
    )


def rotation_failure(action: Rotate, err: RotationError) -> Outcome:
    """The outcome of a rotation that stopped at a failed step."""
    rotation = err.rotation
    new = rotation.new
    undelivered = new is not None and bool(rotation.undelivered)
    return Outcome(
        action,
        OutcomeStatus.FAILED,
        str(err),
        new_key=new if undelivered else (replace(new, secret=None) if new else None),
        delivered=tuple(d.target for d in rotation.delivered),
        error=err,
    )


def interrupted_outcome(action: Action, interruption: BaseException) -> Outcome:
    """The outcome of an action an interruption cut short."""
    rotation = interrupted_rotation(interruption)
    if rotation is not None:
        message = rotation.describe()
        new = rotation.new
        return Outcome(action, OutcomeStatus.INTERRUPTED, message, new_key=new)
    return Outcome(action, OutcomeStatus.INTERRUPTED, "interrupted while under way")


def attach(interruption: BaseException, applied: Applied) -> None:
    """Carry what ``apply`` did on ``interruption``, with a note saying it."""
    setattr(interruption, _ATTRIBUTE, applied)
    done = sum(outcome.ok for outcome in applied.outcomes)
    interruption.add_note(
        f"neon_keys: apply interrupted: {done} of {len(applied.outcomes)} actions done"
    )


def failure(
    action: Action, err: NeonError, new: APIKey | None = None, held: Sequence[str] = ()
) -> Outcome:
    """The outcome of an action whose request failed."""
    return Outcome(action, OutcomeStatus.FAILED, " ".join(str(err).split()), new, tuple(held), err)


def revoked(action: Retire | Revoke, err: NeonError | None) -> Outcome:
    """The outcome of a retire or revoke (a key found gone is gone, as wanted)."""
    if err is None:
        return Outcome(action, OutcomeStatus.DONE, "revoked")
    if isinstance(err, NotFoundError):
        return Outcome(action, OutcomeStatus.DONE, "already gone")
    return failure(action, err)


def create_done(action: Create, key: APIKey, held: Sequence[str]) -> Outcome:
    """The outcome of a create whose secret every sink holds and that was verified."""
    return Outcome(
        action,
        OutcomeStatus.DONE,
        f"key {key.id} created, delivered to {', '.join(held)}, verified",
        new_key=replace(key, secret=None),
        delivered=tuple(held),
    )


def secret_of(key: APIKey) -> Secret:
    """The secret of a key just created (Neon always gives it)."""
    assert key.secret is not None
    return key.secret


def deliver_all(sinks: Sequence[Sink], secret: Secret) -> tuple[list[str], list[str]]:
    """Deliver to every sink whatever happens to the others: (held by, failures)."""
    held, failed = [], []
    for sink in sinks:
        try:
            deliver_secret(sink, secret)
        except Exception as err:  # a sink's failure, whatever it is, is recorded
            failed.append(f"{sink.target}: {' '.join(str(err).split()) or type(err).__name__}")
        else:
            held.append(sink.target)
    return held, failed
