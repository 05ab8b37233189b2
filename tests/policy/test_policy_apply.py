"""``policy.plan`` and ``policy.apply`` in the library, with ``NeonKeys`` and ``AsyncNeonKeys``.

Each test runs against the loopback emulator with both clients (``run`` hides the
``await``): the plan as typed actions, the order of apply, no surprise when the world
changed between the plan shown and the apply, and a secret never lost.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from date_rewriting import DateRewriting
from neon_keys import AsyncNeonKeys, Backoff, NeonKeys, ServerTimeUnknownError, policy
from neon_keys.policy import (
    Create,
    OutcomeStatus,
    Plan,
    Retire,
    Revoke,
    RevokeCause,
    Rotate,
)
from neon_keys.testing import (
    EmulatorServer,
    EmulatorTransport,
    FakeClock,
    World,
)

START = datetime.datetime(2025, 6, 1, 12, 0, tzinfo=datetime.UTC)
DAY = 86_400.0
BASE = "http://127.0.0.1/api/v2"
Run = Callable[[Callable[[Any], Any]], Any]


@pytest.fixture
def world() -> World:
    """A seeded world on a fake clock."""
    return World.seeded(clock=FakeClock(START))


@pytest.fixture
def server(world: World) -> Iterator[EmulatorServer]:
    """The loopback emulator serving ``world``."""
    with EmulatorServer(world) as running:
        yield running


@pytest.fixture(params=["sync", "async"])
def run(request: pytest.FixtureRequest, server: EmulatorServer) -> Run:
    """``run(lambda neon: policy.plan(neon, wanted))`` with either client, awaited if need be."""

    def call(body: Callable[[Any], Any]) -> Any:
        if request.param == "sync":
            with NeonKeys(
                api_key=server.api_key, base_url=server.base_url, backoff=Backoff.immediate()
            ) as neon:
                return body(neon)

        async def main() -> Any:
            async with AsyncNeonKeys(
                api_key=server.api_key, base_url=server.base_url, backoff=Backoff.immediate()
            ) as neon:
                return await body(neon)

        return anyio.run(main)

    return call


def _policy(folder: Path, world: World, extra: str = "") -> policy.Policy:
    path = folder / "neon-keys.toml"
    path.write_text(
        f"""version = 1
[rules]
undeclared = "revoke"
[scopes]
personal = true
orgs = ["{world.seed.org_id}"]
[[keys]]
name = "ci"
scope = "personal"
save = "ci.token"
[[keys]]
name = "deploy"
scope = "org:{world.seed.org_id}"
rotate_every = "30d"
save = "deploy.token"
{extra}""",
        encoding="utf-8",
    )
    return policy.load(path)


def _plan_and_apply(neon: Any, wanted: policy.Policy) -> Any:
    """plan then apply, with either client (a coroutine with ``AsyncNeonKeys``)."""
    if isinstance(neon, AsyncNeonKeys):

        async def both() -> Any:
            return await policy.apply(neon, await policy.plan(neon, wanted))

        return both()
    return policy.apply(neon, policy.plan(neon, wanted))


def _use(world: World, token: str) -> int:
    info = world.key_for_token(token)
    assert info is not None
    with world.store.transaction():
        stored = world.store.key(info.id)
        assert stored is not None
        world.store.touch(stored, "127.0.0.1")
    return info.id


def test_the_plan_is_typed_actions_creates_and_rotations_first(
    world: World, run: Run, tmp_path: Path
) -> None:
    """plan returns Create, Rotate, Retire and Revoke actions with their keys, changes first."""
    stray = world.issue_personal_key(world.seed.admin_id, "stray")
    deploy = _use(world, world.issue_org_key(world.seed.org_id, "deploy"))
    world.clock.advance(31 * DAY)
    wanted = _policy(tmp_path, world)
    made: Plan = run(lambda neon: policy.plan(neon, wanted))
    assert [type(a) for a in made.actions[:2]] == [Create, Rotate]
    assert {type(a) for a in made.actions[2:]} == {Retire, Revoke}
    create, rotate = made.actions[:2]
    (retire,) = [a for a in made.actions if isinstance(a, Retire)]
    (revoke,) = [a for a in made.actions if isinstance(a, Revoke)]
    assert isinstance(retire, Retire) and retire.key.id == deploy and retire.after == rotate
    assert isinstance(create, Create) and create.declaration.name == "ci"
    assert isinstance(rotate, Rotate) and rotate.key.id == deploy
    assert isinstance(revoke, Revoke) and revoke.cause is RevokeCause.UNDECLARED
    assert revoke.key.id == world.key_for_token(stray).id  # type: ignore[union-attr]
    # Neon's clock (its Date, to the second, plus time elapsed since), not this machine's.
    assert abs(made.now - (START + datetime.timedelta(days=31))) < datetime.timedelta(seconds=5)
    assert len(world.log) and all(not record.changed for record in world.log)


@pytest.mark.parametrize("flavour", ["sync", "async"])
@pytest.mark.parametrize(
    "date", [None, "Mon, 01 Jan 2300 00:00:00 GMT"], ids=["no-date", "year-2300"]
)
def test_apply_acts_on_neons_clock_only(
    world: World, tmp_path: Path, flavour: str, date: str | None
) -> None:
    """With answers that carry no Date, or a Date far beyond what Neon's records show (a
    proxy's clock), apply refuses before changing anything, as retire does."""
    world.issue_personal_key(world.seed.admin_id, "stray")
    _use(world, world.issue_org_key(world.seed.org_id, "deploy"))
    wanted = _policy(tmp_path, world)
    settings: dict[str, Any] = {"api_key": world.seed.admin_token, "base_url": BASE}
    with (
        httpx.Client(transport=EmulatorTransport(world)) as http,
        NeonKeys(**settings, http_client=http) as neon,
    ):
        shown = policy.plan(neon, wanted)
    assert shown.changes
    transport = DateRewriting(world, date)
    with pytest.raises(ServerTimeUnknownError, match="nothing was"):
        if flavour == "sync":
            with (
                httpx.Client(transport=transport) as client,
                NeonKeys(**settings, http_client=client) as neon,
            ):
                policy.apply(neon, shown)
        else:

            async def main() -> None:
                async with (
                    httpx.AsyncClient(transport=transport) as client,
                    AsyncNeonKeys(**settings, http_client=client) as neon,
                ):
                    await policy.apply(neon, shown)

            anyio.run(main)
    assert [r.operation_id for r in world.log if r.changed] == []
    assert not (tmp_path / "ci.token").exists()


def test_apply_converges_and_a_second_plan_is_empty(world: World, run: Run, tmp_path: Path) -> None:
    """apply makes every action; secrets are where the file says; a new plan has no changes."""
    world.issue_personal_key(world.seed.admin_id, "stray")
    wanted = _policy(tmp_path, world)
    done = run(lambda neon: _plan_and_apply(neon, wanted))
    assert done.ok and [o.status for o in done.outcomes] == [OutcomeStatus.DONE] * 3
    for name in ("ci", "deploy"):
        holder = world.key_for_token((tmp_path / f"{name}.token").read_text().strip())
        assert holder is not None and holder.name == name and holder.last_used_at is not None
    again: Plan = run(lambda neon: policy.plan(neon, wanted))
    assert not again.changes


def test_a_world_changed_since_the_plan_is_reported_not_acted_on(
    world: World, run: Run, tmp_path: Path
) -> None:
    """A key revoked since the plan is a stale action; a stray key created since is not touched."""
    first = world.issue_personal_key(world.seed.admin_id, "stray")
    wanted = _policy(tmp_path, world)

    def body(neon: Any) -> Any:
        if isinstance(neon, AsyncNeonKeys):

            async def both() -> Any:
                shown = await policy.plan(neon, wanted)
                change_world()
                return await policy.apply(neon, shown)

            return both()
        shown = policy.plan(neon, wanted)
        change_world()
        return policy.apply(neon, shown)

    late: list[str] = []

    def change_world() -> None:
        world.revoke(world.key_for_token(first).id)  # type: ignore[union-attr]
        late.append(world.issue_personal_key(world.seed.admin_id, "late"))

    done = run(body)
    statuses = {o.action.describe(): o.status for o in done.outcomes}
    assert any(s is OutcomeStatus.STALE for d, s in statuses.items() if "stray" in d)
    assert [a.key.name for a in done.unplanned if isinstance(a, Revoke)] == ["late"]
    assert not world.key_for_token(late[0]).revoked  # type: ignore[union-attr]
    assert not done.ok


def test_an_undeliverable_secret_revokes_nothing_it_was_to_replace(
    world: World, run: Run, tmp_path: Path
) -> None:
    """When a rotation's sink fails, the old key stays and the outcome names the new key."""
    deploy = _use(world, world.issue_org_key(world.seed.org_id, "deploy"))
    world.clock.advance(31 * DAY)
    wanted = _policy(tmp_path, world)
    (tmp_path / "deploy.token").mkdir()  # a folder where the file should go: delivery fails
    with pytest.raises(policy.PolicyFileError):
        run(lambda neon: _plan_and_apply(neon, wanted))
    assert not world.key(deploy).revoked
    assert all(not record.changed for record in world.log)


@pytest.mark.parametrize("stop_at", [1, 2, 3, 4])
def test_an_interrupted_apply_says_what_exists_and_a_second_one_converges(
    world: World, server: EmulatorServer, tmp_path: Path, stop_at: int
) -> None:
    """Ctrl-C at any checkpoint: the record says each action's fate, nothing is revoked
    early, and a second apply leaves no change to make."""
    deploy = _use(world, world.issue_org_key(world.seed.org_id, "deploy"))
    world.issue_personal_key(world.seed.admin_id, "stray")
    world.clock.advance(31 * DAY)
    wanted = _policy(tmp_path, world)
    calls = 0

    def checkpoint() -> None:
        nonlocal calls
        calls += 1
        if calls == stop_at:
            raise KeyboardInterrupt

    with NeonKeys(
        api_key=server.api_key, base_url=server.base_url, backoff=Backoff.immediate()
    ) as neon:
        shown = policy.plan(neon, wanted)
        with pytest.raises(KeyboardInterrupt) as stopped:
            policy.apply(neon, shown, checkpoint=checkpoint)
        record = policy.interrupted_apply(stopped.value)
        assert record is not None
        # Re-raised from another handler or inside a task group's exception group, the
        # interruption still leads to its record.
        try:
            raise RuntimeError("cleanup failed") from stopped.value
        except RuntimeError as wrapped:
            group = BaseExceptionGroup("task group", [wrapped])
        assert policy.interrupted_apply(group) is record
        statuses = [o.status for o in record.outcomes]
        assert OutcomeStatus.INTERRUPTED in statuses
        assert len(record.outcomes) == len(shown.actions)
        replaced = world.key(deploy)
        if replaced.revoked:  # only once its replacement is held, verified, by the file
            holder = world.key_for_token((tmp_path / "deploy.token").read_text().strip())
            assert holder is not None and holder.last_used_at is not None
        done = policy.apply(neon, policy.plan(neon, wanted))
        assert done.ok
        assert not policy.plan(neon, wanted).changes
