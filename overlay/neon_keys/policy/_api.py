"""``plan`` and ``apply``, for ``NeonKeys`` and ``AsyncNeonKeys`` alike.

Each function takes either client: with ``NeonKeys`` it returns the result, with
``AsyncNeonKeys`` an awaitable of it. The decisions are made once (``_plan.compute``,
``_apply``); the two drivers differ only in awaiting each request.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, overload

from .._exceptions import NeonError
from .._leases import create_flow
from .._models import APIKey
from .._resource import NeonNow
from .._rotation import RotationError
from .._steps import Call, Flow, arun, run
from ._apply import (
    Applied,
    OnOutcome,
    Outcome,
    OutcomeStatus,
    attach,
    check_sinks,
    create_done,
    deliver_all,
    failure,
    interrupted_outcome,
    ordered,
    reconcile,
    revoked,
    rotation_failure,
    rotation_outcome,
    secret_of,
    sinks_of,
    verification_problem,
)
from ._model import KeyDeclaration, Policy
from ._plan import Action, Create, Plan, Retire, Revoke, Rotate, compute
from ._world import World, aread_world, read_world

if TYPE_CHECKING:
    from .._client import AsyncNeonKeys, NeonKeys

__all__ = ["apply", "plan"]

Checkpoint = Callable[[], None]
_ZERO = datetime.timedelta(0)


def _from_world(policy: Policy, world: World) -> Plan:
    return compute(policy, world.listings, world.now, world.calling())


@overload
def plan(client: NeonKeys, policy: Policy) -> Plan: ...
@overload
def plan(client: AsyncNeonKeys, policy: Policy) -> Coroutine[Any, Any, Plan]: ...
def plan(client: NeonKeys | AsyncNeonKeys, policy: Policy) -> Plan | Coroutine[Any, Any, Plan]:
    """What ``apply`` would change to make the keys what ``policy`` says, and what it reports.

    Reads every managed scope (at once, paced under Neon's limits) and asks who is calling;
    sends nothing else. Ages are measured on Neon's clock. With ``AsyncNeonKeys``, await it.

    Returns:
        the ``Plan``: its ``actions`` (creates and rotations first, then retires and
        revokes), ``findings`` and ``notes``.
    """
    from .._client import AsyncNeonKeys  # noqa: PLC0415  (imports httpx: only when used)

    if isinstance(client, AsyncNeonKeys):
        return _aplan(client, policy)
    return _from_world(policy, read_world(client, policy))


async def _aplan(client: AsyncNeonKeys, policy: Policy) -> Plan:
    return _from_world(policy, await aread_world(client, policy))


def plan_to_apply(client: NeonKeys, policy: Policy) -> Plan:
    """``plan``, refused as ``apply`` would refuse it when the times read are not Neon's
    (``ServerTimeUnknownError``): for whoever asks for a confirmation before applying, so
    that nobody agrees to changes that would not be made. Strictly private."""
    world = read_world(client, policy)
    world.check_clock()
    return _from_world(policy, world)


@overload
def apply(
    client: NeonKeys,
    plan: Plan,
    *,
    on_outcome: OnOutcome | None = None,
    checkpoint: Checkpoint | None = None,
) -> Applied: ...
@overload
def apply(
    client: AsyncNeonKeys,
    plan: Plan,
    *,
    on_outcome: OnOutcome | None = None,
    checkpoint: Checkpoint | None = None,
) -> Coroutine[Any, Any, Applied]: ...
def apply(
    client: NeonKeys | AsyncNeonKeys,
    plan: Plan,
    *,
    on_outcome: OnOutcome | None = None,
    checkpoint: Checkpoint | None = None,
) -> Applied | Coroutine[Any, Any, Applied]:
    """Carry out ``plan``: exactly the actions it shows that the world still calls for.

    The world is read again and the plan computed afresh; only the actions both plans have
    are carried out, and the others are reported (``STALE`` outcomes for actions no longer
    needed, ``Applied.unplanned`` for actions the plan did not show). The sinks of every
    create and rotation are checked first (``PolicyFileError``, nothing changed). Then
    every create and rotation runs, each delivering its secret to every sink and verifying
    the new key; only then are keys retired or revoked, each only if the action it waits
    for succeeded. The client's pacing keeps all of it under Neon's limits.

    Args:
        client: ``NeonKeys``, or ``AsyncNeonKeys`` (then await the result).
        plan: the plan shown (``plan()``).
        on_outcome: called with each ``Outcome`` as it is settled.
        checkpoint: called between steps; what it raises stops the apply as an
            interruption does.

    Returns:
        ``Applied``: one outcome per action of ``plan``. An interruption from outside
        (Ctrl-C, a cancelled task) is re-raised carrying it (``interrupted_apply``).
    """
    from .._client import AsyncNeonKeys  # noqa: PLC0415  (imports httpx: only when used)

    if isinstance(client, AsyncNeonKeys):
        return _aapply(client, plan, on_outcome, checkpoint)
    return _Run(plan, on_outcome, checkpoint).sync(client)


async def _aapply(
    client: AsyncNeonKeys, shown: Plan, on_outcome: OnOutcome | None, checkpoint: Checkpoint | None
) -> Applied:
    return await _Run(shown, on_outcome, checkpoint).asynchronous(client)


class _Run:
    """One apply: the bookkeeping both drivers share. Strictly private."""

    def __init__(
        self, shown: Plan, on_outcome: OnOutcome | None, checkpoint: Checkpoint | None
    ) -> None:
        self.shown = shown
        self.policy = shown.policy
        self.on_outcome = on_outcome
        self.checkpoint = checkpoint
        self.outcomes: list[Outcome] = []
        self.succeeded: set[tuple[str, str | None, str]] = set()
        self.fresh: Plan | None = None
        self.unplanned: list[Action] = []

    def start(self, world: World) -> list[Action]:
        """Check Neon's clock, plan afresh and match the plan shown; what to do, changes first."""
        world.check_clock()
        self.fresh = fresh = _from_world(self.policy, world)
        todo, stale, self.unplanned = reconcile(self.shown, fresh)
        check_sinks(Plan(self.policy, fresh.now, fresh.scopes, tuple(todo), ()))
        for outcome in stale:
            self.settle(outcome)
        return [a for a in todo if isinstance(a, Create | Rotate)] + [
            a for a in todo if isinstance(a, Retire | Revoke)
        ]

    def settle(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        if outcome.ok:
            self.succeeded.add(outcome.action.identity)
        if self.on_outcome is not None:
            self.on_outcome(outcome)

    def waiting(self, action: Action) -> Outcome | None:
        """The outcome of a retire or revoke whose ``after`` did not succeed, else None."""
        after = action.after if isinstance(action, Retire | Revoke) else None
        if after is None or after.identity in self.succeeded:
            return None
        return Outcome(
            action,
            OutcomeStatus.SKIPPED,
            f"not done: it waits for {after.describe()}, which did not succeed",
        )

    def result(self) -> Applied:
        assert self.fresh is not None
        return Applied(self.fresh, ordered(self.shown, self.outcomes), tuple(self.unplanned))

    def interrupted(self, interruption: BaseException, current: Action, rest: list[Action]) -> None:
        self.settle(interrupted_outcome(current, interruption))
        for action in rest:
            self.settle(Outcome(action, OutcomeStatus.NOT_ATTEMPTED, "stopped before its turn"))
        attach(interruption, self.result())

    def check(self) -> None:
        if self.checkpoint is not None:
            self.checkpoint()

    # -- the sync driver -------------------------------------------------------------------

    def sync(self, client: NeonKeys) -> Applied:
        todo = self.start(read_world(client, self.policy))
        for index, action in enumerate(todo):
            try:
                self.check()
                outcome = self.waiting(action) or self._sync_action(client, action)
            except NeonError as err:  # a request that failed outside the action's own steps
                outcome = failure(action, err)
            except BaseException as interruption:
                self.interrupted(interruption, action, todo[index + 1 :])
                raise
            self.settle(outcome)
        return self.result()

    def _sync_action(self, client: NeonKeys, action: Action) -> Outcome:
        scope = client.org(action.org_id).keys if action.org_id else client.personal_keys
        if isinstance(action, Retire | Revoke):
            try:
                scope.revoke(action.key.id)
            except NeonError as err:
                return revoked(action, err)
            return revoked(action, None)
        assert isinstance(action, Create | Rotate)
        sinks = sinks_of(action.declaration, self.policy)
        if isinstance(action, Rotate):
            try:
                rotation = scope.rotate(
                    action.key.id,
                    grace=action.declaration.grace or _ZERO,
                    deliver=sinks,
                    checkpoint=self.checkpoint,
                )
            except RotationError as err:
                return rotation_failure(action, err)
            return rotation_outcome(action, rotation)
        assert isinstance(action, Create)
        try:
            key = run(_create(scope, client.server_now, action.declaration))
        except NeonError as err:
            return failure(action, err)
        secret = secret_of(key)
        held, failed = deliver_all(sinks, secret)
        if failed:
            return _undelivered(action, key, held, failed)
        self.check()
        try:
            auth = client.with_options(api_key=secret).whoami()
        except NeonError as err:
            return failure(action, err, _without_secret(key), held)
        problem = verification_problem(key, auth, action.org_id)
        if problem is not None:
            return _unverified(action, key, held, problem)
        return create_done(action, key, held)

    # -- the async driver ------------------------------------------------------------------

    async def asynchronous(self, client: AsyncNeonKeys) -> Applied:
        todo = self.start(await aread_world(client, self.policy))
        for index, action in enumerate(todo):
            try:
                self.check()
                outcome = self.waiting(action) or await self._async_action(client, action)
            except NeonError as err:  # a request that failed outside the action's own steps
                outcome = failure(action, err)
            except BaseException as interruption:
                self.interrupted(interruption, action, todo[index + 1 :])
                raise
            self.settle(outcome)
        return self.result()

    async def _async_action(self, client: AsyncNeonKeys, action: Action) -> Outcome:
        import anyio.to_thread  # noqa: PLC0415  (an httpx dependency; async code has it)

        scope = client.org(action.org_id).keys if action.org_id else client.personal_keys
        if isinstance(action, Retire | Revoke):
            try:
                await scope.revoke(action.key.id)
            except NeonError as err:
                return revoked(action, err)
            return revoked(action, None)
        assert isinstance(action, Create | Rotate)
        sinks = sinks_of(action.declaration, self.policy)
        if isinstance(action, Rotate):
            try:
                rotation = await scope.rotate(
                    action.key.id,
                    grace=action.declaration.grace or _ZERO,
                    deliver=sinks,
                    checkpoint=self.checkpoint,
                )
            except RotationError as err:
                return rotation_failure(action, err)
            return rotation_outcome(action, rotation)
        assert isinstance(action, Create)
        try:
            key = await arun(_create(scope, client.server_now, action.declaration))
        except NeonError as err:
            return failure(action, err)
        secret = secret_of(key)
        # Deliveries are plain blocking code; they run on a worker thread, to the end.
        with anyio.CancelScope(shield=True):
            held, failed = await anyio.to_thread.run_sync(deliver_all, sinks, secret)
        if failed:
            return _undelivered(action, key, held, failed)
        self.check()
        try:
            auth = await client.with_options(api_key=secret).whoami()
        except NeonError as err:
            return failure(action, err, _without_secret(key), held)
        problem = verification_problem(key, auth, action.org_id)
        if problem is not None:
            return _unverified(action, key, held, problem)
        return create_done(action, key, held)


def _create(scope: Any, neon_now: NeonNow, declaration: KeyDeclaration) -> Flow[APIKey]:
    """Create a declared key: a lease stamped on Neon's clock, or an ordinary key."""
    project_id = declaration.target.project_id
    if declaration.ttl is not None:
        key: APIKey = yield from create_flow(
            scope, neon_now, declaration.name, declaration.ttl, project_id
        )
        return key
    created: APIKey = yield Call(scope.create, (declaration.name,), {"project_id": project_id})
    return created


def _without_secret(key: Any) -> Any:
    from dataclasses import replace  # noqa: PLC0415

    return replace(key, secret=None)


def _undelivered(action: Create, key: Any, held: list[str], failed: list[str]) -> Outcome:
    where = f"; it is in {', '.join(held)}" if held else ""
    return Outcome(
        action,
        OutcomeStatus.FAILED,
        f"key {key.id} was created but its secret could not be delivered "
        f"({'; '.join(failed)}){where}",
        new_key=key,
        delivered=tuple(held),
    )


def _unverified(action: Create, key: Any, held: list[str], problem: str) -> Outcome:
    return Outcome(
        action,
        OutcomeStatus.FAILED,
        f"key {key.id} was created and delivered but failed verification ({problem})",
        new_key=_without_secret(key),
        delivered=tuple(held),
    )
