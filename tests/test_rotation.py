"""``keys.rotate``: staged rotation, several sinks, and every step boundary faulted.

Each test runs against the loopback emulator with ``NeonKeys`` and ``AsyncNeonKeys`` alike
(``rotate`` below hides the ``await``). A failing sink is a ``Sink`` whose ``deliver``
raises; the emulator's faults fail the requests.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import pytest
from neon_keys import (
    AsyncNeonKeys,
    Backoff,
    DeliveryStatus,
    FileSink,
    NeonKeys,
    RetireStatus,
    Rotation,
    RotationError,
    RotationStep,
    Secret,
    SinkError,
    interrupted_rotation,
)
from neon_keys._retire import plan_retirement
from neon_keys.testing import EmulatorServer, FakeClock, Fault, World

START = datetime.datetime(2025, 6, 1, 12, 0, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)


class MemorySink:
    """Keeps what it is given; fails when told to (``fail``), or raises ``interrupt``."""

    def __init__(self, target: str, *, fail: bool = False) -> None:
        self.target = target
        self.fail = fail
        self.interrupt: BaseException | None = None
        self.received: list[str] = []
        self.checked = 0

    def check(self) -> None:
        self.checked += 1

    def deliver(self, secret: Secret) -> None:
        if self.interrupt is not None:
            raise self.interrupt
        if self.fail:
            raise OSError(28, "No space left on device")
        self.received.append(secret.reveal())


class RefusingSink(MemorySink):
    """Refuses at ``check``: nothing may be created."""

    def check(self) -> None:
        raise SinkError("no room here", target=self.target)


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
def rotate(request: pytest.FixtureRequest, server: EmulatorServer) -> Callable[..., Rotation]:
    """``rotate(key_id, **options)`` with the seeded admin's personal keys, sync or async."""

    def call(key_id: int, *, org: str | None = None, **options: Any) -> Rotation:
        if request.param == "sync":
            with NeonKeys(
                api_key=server.api_key, base_url=server.base_url, backoff=Backoff.immediate()
            ) as neon:
                keys = neon.org(org).keys if org else neon.personal_keys
                return keys.rotate(key_id, **options)

        async def main() -> Rotation:
            async with AsyncNeonKeys(
                api_key=server.api_key, base_url=server.base_url, backoff=Backoff.immediate()
            ) as neon:
                keys = neon.org(org).keys if org else neon.personal_keys
                return await keys.rotate(key_id, **options)

        return anyio.run(main)

    return call


def _personal(world: World, name: str = "ci") -> tuple[int, str]:
    token = world.issue_personal_key(world.seed.admin_id, name)
    info = world.key_for_token(token)
    assert info is not None
    return info.id, token


def _live(world: World, name: str = "ci") -> list[int]:
    return [k.id for k in world.personal_keys(world.seed.admin_id) if k.name == name]


def test_a_staged_rotation_keeps_the_old_key(world: World, rotate: Callable[..., Rotation]) -> None:
    """With grace the replacement is delivered to every sink and verified; the old key stays."""
    old, _ = _personal(world)
    sinks = [MemorySink("a"), MemorySink("b")]
    done = rotate(old, grace=DAY, deliver=sinks)
    assert done.complete and done.staged and done.verified and not done.old_revoked
    assert done.new is not None and done.new.secret is not None
    token = done.new.secret.reveal()
    assert [s.received for s in sinks] == [[token], [token]]
    assert [d.status for d in done.deliveries] == [DeliveryStatus.DELIVERED] * 2
    assert not world.key(old).revoked and _live(world) == [old, done.new.id]
    assert done.retire_after == done.new.created_at + DAY  # type: ignore[operator]
    assert world.key(done.new.id).last_used_at is not None  # verified: in service


def test_without_grace_the_old_key_is_revoked(
    world: World, rotate: Callable[..., Rotation]
) -> None:
    """Without grace the old key is revoked once every sink holds the verified replacement."""
    old, _ = _personal(world)
    done = rotate(old, deliver=MemorySink("a"))
    assert done.old_revoked and world.key(old).revoked
    operations = [r.operation_id for r in world.log]
    assert operations == ["listApiKeys", "createApiKey", "getAuthDetails", "revokeApiKey"]


def test_a_project_key_keeps_its_project(world: World, rotate: Callable[..., Rotation]) -> None:
    """The replacement of a project-scoped key is scoped to the same project, same name."""
    token = world.issue_org_key(world.seed.org_id, "preview", project_id=world.seed.project_id)
    old = world.key_for_token(token)
    assert old is not None
    done = rotate(old.id, org=world.seed.org_id, grace=DAY, deliver=[MemorySink("a")])
    assert done.new is not None
    new = world.key(done.new.id)
    assert (new.kind, new.project_id, new.name) == ("project", world.seed.project_id, "preview")


def test_sinks_are_checked_before_anything_is_sent(
    world: World, rotate: Callable[..., Rotation]
) -> None:
    """A sink that refuses at check stops the rotation before any request: nothing made."""
    old, _ = _personal(world)
    world.log.clear()
    with pytest.raises(SinkError, match="no room here"):
        rotate(old, grace=DAY, deliver=[MemorySink("a"), RefusingSink("b")])
    assert len(world.log) == 0 and _live(world) == [old]


def test_a_new_name_does_not_go_with_grace(world: World, rotate: Callable[..., Rotation]) -> None:
    """A staged rotation keeps the name, so retire can find the old key: refused, nothing sent."""
    old, _ = _personal(world)
    world.log.clear()
    with pytest.raises(ValueError, match="keeps the name"):
        rotate(old, grace=DAY, new_name="other")
    assert len(world.log) == 0


# -- a fault at every step boundary ----------------------------------------------------------


@pytest.mark.parametrize("failing", [0, 1, 2])
@pytest.mark.parametrize("grace", [None, DAY])
def test_a_failed_delivery_revokes_nothing_and_says_who_holds_the_secret(
    world: World, rotate: Callable[..., Rotation], failing: int, grace: datetime.timedelta | None
) -> None:
    """One sink of three fails: the others still get the secret, nothing is verified or
    revoked, and the error's record holds the secret and each sink's outcome."""
    old, _ = _personal(world)
    sinks = [MemorySink(f"s{i}", fail=i == failing) for i in range(3)]
    with pytest.raises(RotationError) as stopped:
        rotate(old, grace=grace, deliver=sinks)
    record = stopped.value.rotation
    assert record.step is RotationStep.DELIVER and not record.verified
    assert record.new is not None and record.new.secret is not None
    token = record.new.secret.reveal()
    statuses = [d.status for d in record.deliveries]
    assert statuses == [
        DeliveryStatus.FAILED if i == failing else DeliveryStatus.DELIVERED for i in range(3)
    ]
    assert all(s.received == ([] if s.fail else [token]) for s in sinks)
    assert not world.key(old).revoked
    assert world.log.count("getAuthDetails") == 0 and world.log.count("revokeApiKey") == 0
    assert token not in str(stopped.value)


@pytest.mark.parametrize(
    ("operation", "step"),
    [
        ("listApiKeys", RotationStep.FIND),
        ("createApiKey", RotationStep.CREATE),
        ("getAuthDetails", RotationStep.VERIFY),
        ("revokeApiKey", RotationStep.REVOKE),
    ],
)
def test_a_failed_request_stops_at_its_step_and_revokes_nothing_early(
    world: World, rotate: Callable[..., Rotation], operation: str, step: RotationStep
) -> None:
    """A request that fails at any step stops the rotation there; the old key is revoked
    only if the failure came after verification, never before."""
    old, _ = _personal(world)
    sink = MemorySink("a")
    world.faults.inject(operation, Fault.status(401 if operation == "getAuthDetails" else 400))
    with pytest.raises(RotationError) as stopped:
        rotate(old, deliver=sink)
    record = stopped.value.rotation
    assert record.step is step and not record.old_revoked
    assert not world.key(old).revoked
    if step in (RotationStep.VERIFY, RotationStep.REVOKE):
        assert record.new is not None and record.new.secret is not None
        assert sink.received == [record.new.secret.reveal()]
    else:
        assert sink.received == []


def test_a_lost_create_answer_names_the_key_and_keeps_the_old(
    world: World, rotate: Callable[..., Rotation]
) -> None:
    """The create happened but its answer was lost: the error says so; nothing delivered."""
    old, _ = _personal(world)
    sink = MemorySink("a")
    world.faults.inject("createApiKey", Fault.lost_response())
    with pytest.raises(RotationError) as stopped:
        rotate(old, grace=DAY, deliver=sink)
    assert stopped.value.rotation.step is RotationStep.CREATE
    assert sink.received == [] and not world.key(old).revoked
    (made,) = [k for k in _live(world) if k != old]
    assert str(made) in str(stopped.value)


@pytest.mark.parametrize("at", ["create", "delivery", "verify"])
def test_after_any_failure_a_second_rotation_and_retire_converge(
    world: World, rotate: Callable[..., Rotation], at: str
) -> None:
    """Whatever step failed, rotating again gives every sink one working key, and the
    retirement rule then revokes every older key of the name, never the one in service."""
    old, old_token = _personal(world)
    sinks = [MemorySink("a"), MemorySink("b")]
    if at == "create":
        world.faults.inject("createApiKey", Fault.lost_response())
    elif at == "delivery":
        sinks[1].fail = True
    else:
        world.faults.inject("getAuthDetails", Fault.status(500), times=None)
    with pytest.raises(RotationError):
        rotate(old, grace=DAY, deliver=sinks)
    world.faults.clear()
    sinks[1].fail = False
    world.advance_clock(60)
    done = rotate(old, grace=DAY, deliver=sinks)
    assert done.new is not None and done.new.secret is not None
    token = done.new.secret.reveal()
    assert sinks[0].received[-1] == token and sinks[1].received[-1] == token
    # Consumers switch; the old key and the failed attempt's key are retired once due.
    world.advance_clock(DAY.total_seconds())
    listed = [_as_key(world, key_id) for key_id in _live(world)]
    plan = plan_retirement(listed, now=world.clock.now(), grace=DAY)
    assert {item.key.id for item in plan} == set(_live(world)) - {done.new.id}
    assert all(item.status.value == "due" for item in plan)
    assert old_token  # the old key's token stays valid until then


def _as_key(world: World, key_id: int) -> Any:
    from neon_keys import PersonalKey

    info = world.key(key_id)
    return PersonalKey(
        id=info.id,
        name=info.name,
        created_at=info.created_at,
        created_by=None,
        last_used_at=info.last_used_at,
    )


# -- interruptions ---------------------------------------------------------------------------


@pytest.mark.parametrize("sync", [True, False])
def test_an_interrupted_delivery_carries_the_record(
    world: World, server: EmulatorServer, sync: bool
) -> None:
    """Ctrl-C (or a cancellation) during a delivery: the same exception is re-raised,
    carrying the new key with its secret and which sinks hold it."""
    old, _ = _personal(world)
    first, second, third = MemorySink("a"), MemorySink("b"), MemorySink("c")
    second.interrupt = KeyboardInterrupt()
    with pytest.raises(KeyboardInterrupt) as stopped:
        if sync:
            with NeonKeys(api_key=server.api_key, base_url=server.base_url) as neon:
                neon.personal_keys.rotate(old, grace=DAY, deliver=[first, second, third])
        else:

            async def main() -> None:
                async with AsyncNeonKeys(api_key=server.api_key, base_url=server.base_url) as neon:
                    await neon.personal_keys.rotate(old, grace=DAY, deliver=[first, second, third])

            anyio.run(main)
    record = interrupted_rotation(stopped.value)
    assert record is not None and record.new is not None and record.new.secret is not None
    assert first.received == [record.new.secret.reveal()]
    assert [d.status for d in record.deliveries] == [
        DeliveryStatus.DELIVERED,
        DeliveryStatus.INTERRUPTED,
        DeliveryStatus.NOT_ATTEMPTED,
    ]
    assert any("rotation of key" in note for note in stopped.value.__notes__)
    assert record.new.secret.reveal() not in "".join(stopped.value.__notes__)
    assert not world.key(old).revoked


def test_a_checkpoint_stops_the_rotation_between_steps(
    world: World, server: EmulatorServer
) -> None:
    """What the checkpoint raises after the deliveries stops it before verification."""
    old, _ = _personal(world)
    sink = MemorySink("a")
    calls = 0

    def checkpoint() -> None:
        nonlocal calls
        calls += 1
        if calls == 3:  # before find, before create, then after the deliveries
            raise KeyboardInterrupt

    with (
        NeonKeys(api_key=server.api_key, base_url=server.base_url) as neon,
        pytest.raises(KeyboardInterrupt) as stopped,
    ):
        neon.personal_keys.rotate(old, deliver=sink, checkpoint=checkpoint)
    record = interrupted_rotation(stopped.value)
    assert record is not None and record.step is RotationStep.VERIFY
    assert sink.received and world.log.count("getAuthDetails") == 0
    assert not world.key(old).revoked


def test_file_sink_through_rotate(
    world: World, rotate: Callable[..., Rotation], tmp_path: Any
) -> None:
    """A built-in sink works through the library as through the CLI: the token, 0600."""
    old, _ = _personal(world)
    target = tmp_path / "ci.token"
    done = rotate(old, grace=DAY, deliver=FileSink(str(target)))
    assert done.new is not None and done.new.secret is not None
    assert target.read_text() == done.new.secret.reveal() + "\n"
    assert target.stat().st_mode & 0o777 == 0o600


# -- a stop at every step boundary, then convergence ------------------------------------------

_BOUNDARIES = [
    ("before find", 1, None),
    ("before create", 2, None),
    ("during delivery 1, right after the create", None, 0),
    ("during delivery 2", None, 1),
    ("during delivery 3", None, 2),
    ("after the deliveries, before verify", 3, None),
    ("after verify, before the revoke", 4, None),
]


@pytest.mark.parametrize("boundary", _BOUNDARIES, ids=[b[0] for b in _BOUNDARIES])
def test_a_stop_at_any_boundary_loses_no_secret_revokes_nothing_and_converges(
    world: World,
    server: EmulatorServer,
    rotate: Callable[..., Rotation],
    boundary: tuple[str, int | None, int | None],
) -> None:
    """Stopped (Ctrl-C) at any step boundary, a rotation has revoked nothing and the secret
    of any key it made is in its record; rotating again with grace and retiring then leaves
    one live key of the name, held by every sink."""
    where, at_check, at_sink = boundary  # the checkpoint's call, or the sink, that stops it
    old, _ = _personal(world)
    sinks = [MemorySink("a"), MemorySink("b"), MemorySink("c")]
    if at_sink is not None:
        sinks[at_sink].interrupt = KeyboardInterrupt()
    calls = 0

    def checkpoint() -> None:
        nonlocal calls
        calls += 1
        if calls == at_check:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt) as stopped:
        rotate(old, deliver=sinks, checkpoint=checkpoint)
    record = interrupted_rotation(stopped.value)
    assert record is not None, where
    assert not world.key(old).revoked and not record.old_revoked
    made = [key_id for key_id in _live(world) if key_id != old]
    if made:  # the create happened: its secret is in the record, never lost
        assert record.new is not None and record.new.secret is not None
        (made_id,) = made
        assert world.key_for_token(record.new.secret.reveal()).id == made_id  # type: ignore[union-attr]
    else:
        assert record.new is None
    if at_sink is not None:  # which sinks hold it, which do not
        expected = [DeliveryStatus.DELIVERED] * at_sink + [DeliveryStatus.INTERRUPTED]
        expected += [DeliveryStatus.NOT_ATTEMPTED] * (len(sinks) - at_sink - 1)
        assert [d.status for d in record.deliveries] == expected

    for sink in sinks:
        sink.interrupt = None
    world.advance_clock(60)
    done = rotate(old, grace=DAY, deliver=sinks)
    assert done.new is not None and done.new.secret is not None
    token = done.new.secret.reveal()
    assert [sink.received[-1] for sink in sinks] == [token, token, token]
    world.advance_clock(DAY.total_seconds())
    older = set(_live(world)) - {done.new.id}
    with NeonKeys(
        api_key=server.api_key, base_url=server.base_url, backoff=Backoff.immediate()
    ) as neon:
        outcomes = neon.personal_keys.retire(grace=DAY)
    assert {o.key.id for o in outcomes if o.status is RetireStatus.REVOKED} == older
    assert _live(world) == [done.new.id]
