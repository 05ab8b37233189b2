"""Leases and sweeps in the library: ``keys.lease(...)`` and ``keys.sweep()``, sync and async.

The emulator's clock starts in 2025 while this machine's is elsewhere, so every test that
passes does so on Neon's clock (the ``Date`` of its answers), not the local one.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from neon_keys import (
    AsyncNeonKeys,
    Backoff,
    CreateOutcomeUnknownError,
    InvalidInputError,
    KeyKind,
    LeaseName,
    LeaseRevokeError,
    NeonKeys,
    RevokeStatus,
    interrupted_create,
)
from neon_keys._leases import AsyncLease
from neon_keys.testing import (
    AsyncEmulatorTransport,
    EmulatorServer,
    EmulatorTransport,
    FakeClock,
    Fault,
    World,
)

UTC = datetime.UTC
START = datetime.datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
HOUR = datetime.timedelta(hours=1)
MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture
def clock() -> FakeClock:
    """Neon's clock: 2025, far from this machine's."""
    return FakeClock(START)


@pytest.fixture
def world(clock: FakeClock) -> World:
    """A seeded world on that clock."""
    return World.seeded(clock=clock)


@pytest.fixture
def neon(world: World) -> Iterator[NeonKeys]:
    """A sync client on the world, in process."""
    transport = EmulatorTransport(world)
    with NeonKeys(
        api_key=world.seed.admin_token,
        base_url=transport.base_url,
        http_client=httpx.Client(transport=transport),
        backoff=Backoff.immediate(),
    ) as client:
        yield client


def _async_client(world: World) -> AsyncNeonKeys:
    transport = AsyncEmulatorTransport(world)
    return AsyncNeonKeys(
        api_key=world.seed.admin_token,
        base_url=transport.base_url,
        http_client=httpx.AsyncClient(transport=transport),
        backoff=Backoff.immediate(),
    )


Scope = Callable[[Any, World], Any]
SCOPES: dict[str, tuple[Scope, dict[str, Any], KeyKind]] = {
    "personal": (lambda n, w: n.personal_keys, {}, KeyKind.PERSONAL),
    "org": (lambda n, w: n.org(w.seed.org_id).keys, {}, KeyKind.ORG),
    "project": (lambda n, w: n.org(w.seed.org_id).keys, {"project": True}, KeyKind.PROJECT),
}


def hold(
    world: World,
    kind: str,
    scope: Scope,
    body: Callable[[Any], None] = lambda key: None,
    **lease_options: Any,
) -> Any:
    """Enter a lease with a sync or an async client, run ``body(key)`` inside, return the key."""
    project = lease_options.pop("project", False)
    if project:
        lease_options["project_id"] = world.seed.project_id
    held: list[Any] = []
    if kind == "sync":
        transport = EmulatorTransport(world)
        with (
            NeonKeys(
                api_key=world.seed.admin_token,
                base_url=transport.base_url,
                http_client=httpx.Client(transport=transport),
            ) as neon,
            scope(neon, world).lease("preview-42", **lease_options) as key,
        ):
            held.append(key)
            body(key)
        return held[0]

    async def main() -> None:
        async with (
            _async_client(world) as neon,
            scope(neon, world).lease("preview-42", **lease_options) as key,
        ):
            held.append(key)
            body(key)

    anyio.run(main)
    return held[0]


def _live(world: World, key_id: int) -> bool:
    return not world.key(key_id).revoked


# -- the block ---------------------------------------------------------------------------------


@pytest.mark.parametrize("client_kind", ["sync", "async"])
@pytest.mark.parametrize("scope_name", sorted(SCOPES))
def test_a_lease_lives_for_the_block(world: World, client_kind: str, scope_name: str) -> None:
    """Inside the block the key exists and works; after it, it is revoked."""
    scope, options, kind = SCOPES[scope_name]
    seen: list[bool] = []
    key = hold(world, client_kind, scope, lambda k: seen.append(_live(world, k.id)), **options)
    assert seen == [True] and key.kind is kind and not _live(world, key.id)
    assert key.secret is not None and world.key_for_token(key.secret.reveal()).id == key.id
    assert key.base_name == "preview-42" and LeaseName.parse(key.name) is not None


@pytest.mark.parametrize("client_kind", ["sync", "async"])
def test_the_expiry_is_on_neons_clock(world: World, client_kind: str) -> None:
    """The name's expiry is Neon's time plus the ttl, however far this machine's clock is."""
    key = hold(world, client_kind, SCOPES["org"][0], ttl=datetime.timedelta(minutes=30))
    assert (
        START + 30 * MINUTE
        <= key.expires_at
        <= START + 30 * MINUTE + 2 * datetime.timedelta(seconds=1)
    )


@pytest.mark.parametrize("client_kind", ["sync", "async"])
@pytest.mark.parametrize("error", [RuntimeError("deploy failed"), KeyboardInterrupt()])
def test_a_lease_is_revoked_when_the_block_raises(
    world: World, client_kind: str, error: BaseException
) -> None:
    """An exception or a Ctrl-C in the block still revokes the key, and goes on unchanged."""
    held: list[Any] = []

    def body(key: Any) -> None:
        held.append(key)
        raise error

    with pytest.raises(type(error)) as caught:
        hold(world, client_kind, SCOPES["personal"][0], body)
    assert caught.value is error and not _live(world, held[0].id)


@pytest.fixture
def neon_world(world: World) -> World:
    """The world the plugin's ``neon_emulator`` serves over a socket: this test's."""
    return world


@pytest.mark.anyio
async def test_a_cancelled_task_still_revokes(world: World, neon_emulator: EmulatorServer) -> None:
    """Cancelling the task that holds a lease revokes it: the revoke, over a real socket,
    is shielded from the cancellation."""
    held: list[Any] = []
    async with AsyncNeonKeys(
        api_key=world.seed.admin_token, base_url=neon_emulator.base_url
    ) as neon:
        with anyio.CancelScope() as cancelled:
            async with neon.personal_keys.lease("job") as key:
                held.append(key)
                cancelled.cancel()  # delivered at the next wait, the lease held
                await anyio.sleep_forever()
    assert cancelled.cancelled_caught
    assert held and not _live(world, held[0].id)


@pytest.mark.anyio
async def test_a_revoke_that_hangs_is_bounded(world: World) -> None:
    """A revoke with no answer gives up after the bound and says the sweep will handle it."""
    async with _async_client(world) as neon:
        lease: AsyncLease[Any] = AsyncLease(
            neon.personal_keys, neon.server_now, "job", revoke_timeout=0.2
        )
        with anyio.fail_after(10), pytest.raises(LeaseRevokeError) as caught:
            async with lease as key:
                world.faults.inject("revokeApiKey", Fault.delay(30, committed=False), times=None)
    assert "no answer within 0.2 s" in str(caught.value)
    assert caught.value.key_id == key.id and _live(world, key.id)


@pytest.mark.parametrize("client_kind", ["sync", "async"])
def test_a_failed_revoke_names_the_key_and_the_sweep(world: World, client_kind: str) -> None:
    """When the revoke fails, LeaseRevokeError names the key and when a sweep removes it."""
    held: list[Any] = []

    def body(key: Any) -> None:
        held.append(key)
        world.faults.inject("revokeOrgApiKey", Fault.status(500), times=None)

    with pytest.raises(LeaseRevokeError) as caught:
        hold(world, client_kind, SCOPES["org"][0], body)
    key = held[0]
    error = caught.value
    assert error.key_id == key.id and error.expires_at == key.expires_at and _live(world, key.id)
    message = str(error)
    assert str(key.id) in message and "sweep" in message
    assert key.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ") in message
    assert error.__cause__ is error.cause and error.cause is not None


@pytest.mark.parametrize("client_kind", ["sync", "async"])
def test_an_interrupt_survives_a_failed_revoke(world: World, client_kind: str) -> None:
    """A Ctrl-C in the block stays a KeyboardInterrupt; the failed revoke is a note on it."""
    held: list[Any] = []

    def body(key: Any) -> None:
        held.append(key)
        world.faults.inject("revokeApiKey", Fault.status(500), times=None)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt) as caught:
        hold(world, client_kind, SCOPES["personal"][0], body)
    (note,) = caught.value.__notes__
    assert f"lease key {held[0].id}" in note and "sweep" in note


def test_a_lease_already_gone_is_fine(world: World, neon: NeonKeys) -> None:
    """A lease revoked inside its block (by a sweep, by hand) ends quietly."""
    with neon.personal_keys.lease("job") as key:
        neon.personal_keys.revoke(key.id)
    assert not _live(world, key.id)


def test_a_lease_is_entered_once(neon: NeonKeys) -> None:
    """Re-entering a used lease is a programming error, not a second key."""
    lease = neon.personal_keys.lease("job")
    with lease:
        pass
    with pytest.raises(RuntimeError, match="entered once"), lease:
        pass


# -- stamping ------------------------------------------------------------------------------------


def test_a_stamp_from_a_wrong_clock_is_made_again(
    world: World, neon: NeonKeys, caplog: pytest.LogCaptureFixture
) -> None:
    """Before Neon's clock is known, a lease stamped by this machine's (far off) is remade."""
    with caplog.at_level(logging.WARNING, "neon_keys"), neon.personal_keys.lease("job") as key:
        live = [k for k in world.personal_keys(world.seed.admin_id) if k.name.startswith("job")]
    assert [k.id for k in live] == [key.id]
    assert world.log.count("createApiKey") == 2 and world.log.count("revokeApiKey") == 2
    assert "making it again on Neon's time" in caplog.text


def test_a_known_clock_stamps_right_the_first_time(world: World, neon: NeonKeys) -> None:
    """Once any answer has shown Neon's time, a lease costs one create and one revoke."""
    neon.personal_keys.list()
    with neon.personal_keys.lease("job"):
        pass
    assert world.log.count("createApiKey") == 1 and world.log.count("revokeApiKey") == 1


def test_a_lost_create_answer_revokes_the_lease_it_made(world: World, neon: NeonKeys) -> None:
    """If the create's answer is lost, the key it made (its name is unique) is revoked."""
    neon.personal_keys.list()
    world.faults.inject("createApiKey", Fault.lost_response())
    with pytest.raises(CreateOutcomeUnknownError) as caught, neon.personal_keys.lease("job"):
        pytest.fail("the block must not run")
    (made,) = caught.value.candidates or []
    assert world.key(made.id).revoked
    assert f"lease key {made.id}" in caught.value.__notes__[0]


class _CtrlCAfterCreate(EmulatorTransport):
    """The emulator in process; Ctrl-C strikes once a create has been carried out."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.method == "POST":
            raise KeyboardInterrupt
        return response


def test_ctrl_c_during_the_create_says_the_lease_will_be_swept(world: World) -> None:
    """A create interrupted after Neon made the key names it as a lease a sweep will remove."""
    transport = _CtrlCAfterCreate(world)
    with NeonKeys(
        api_key=world.seed.admin_token,
        base_url=transport.base_url,
        http_client=httpx.Client(transport=transport),
    ) as neon:
        neon.personal_keys.list()  # Neon's clock is known: one create, then the interruption
        with pytest.raises(KeyboardInterrupt) as caught, neon.personal_keys.lease("job"):
            pytest.fail("the block must not run")
    found = interrupted_create(caught.value)
    (made,) = found.candidates if found and found.candidates else ()
    assert _live(world, made.id) and made.expires_at is not None
    note = caught.value.__notes__[-1]
    assert f"key {made.id} is a lease" in note and "a sweep removes it after" in note


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"ttl": datetime.timedelta(0)}, "ttl"),
        ({"ttl": datetime.timedelta(seconds=-5)}, "ttl"),
        ({"ttl": "1h"}, "ttl"),
        ({"ttl": datetime.timedelta(days=40_000)}, "ttl"),
        ({"base_name": "x" * 31}, "lease base name"),
        ({"base_name": ""}, "lease base name"),
    ],
)
def test_bad_input_is_refused_before_any_request(
    world: World, neon: NeonKeys, options: dict[str, Any], field: str
) -> None:
    """A bad ttl or base name is refused when the lease is asked for; nothing is sent."""
    base = options.pop("base_name", "job")
    with pytest.raises(InvalidInputError) as caught:
        neon.personal_keys.lease(base, **options)
    assert caught.value.field == field and len(world.log) == 0


def test_a_personal_lease_refuses_a_project(world: World, neon: NeonKeys) -> None:
    """Personal keys have no project: the lease is refused before anything is sent."""
    with (
        pytest.raises(InvalidInputError, match="project"),
        neon.personal_keys.lease("job", project_id=world.seed.project_id),
    ):
        pass
    assert len(world.log) == 0


# -- sweeping ------------------------------------------------------------------------------------


def _issue(world: World, base: str, expires: datetime.datetime, *, org: bool = False) -> int:
    name = LeaseName.new(base, expires).name
    if org:
        token = world.issue_org_key(world.seed.org_id, name, project_id=world.seed.project_id)
    else:
        token = world.issue_personal_key(world.seed.admin_id, name)
    info = world.key_for_token(token)
    assert info is not None
    return info.id


@pytest.fixture
def leases(world: World) -> dict[str, int]:
    """Personal keys: leases expired long ago, just now, in the future; and ordinary keys."""
    ids = {
        "expired": _issue(world, "ci", START - 10 * MINUTE),
        "in_grace": _issue(world, "ci", START - 2 * MINUTE),
        "future": _issue(world, "ci", START + HOUR),
    }
    for name in ("ci", "ci (lease 20200101T000000Z abcdefgh)"):
        token = world.issue_personal_key(world.seed.admin_id, name)
        ids[name] = world.key_for_token(token).id  # type: ignore[union-attr]
    return ids


@pytest.mark.parametrize("client_kind", ["sync", "async"])
def test_sweep_revokes_only_leases_expired_past_the_grace(
    world: World, leases: dict[str, int], client_kind: str
) -> None:
    """Only the lease expired 10 minutes ago (by Neon's clock, grace 5 min) is revoked."""

    async def asweep() -> Any:
        async with _async_client(world) as neon:
            return await neon.personal_keys.sweep()

    if client_kind == "sync":
        transport = EmulatorTransport(world)
        with NeonKeys(
            api_key=world.seed.admin_token,
            base_url=transport.base_url,
            http_client=httpx.Client(transport=transport),
        ) as neon:
            outcomes = neon.personal_keys.sweep()
    else:
        outcomes = anyio.run(asweep)
    assert [(o.key_id, o.status) for o in outcomes] == [(leases["expired"], RevokeStatus.REVOKED)]
    assert outcomes[0].key is not None and outcomes[0].key.base_name == "ci"
    gone = {name for name, key_id in leases.items() if world.key(key_id).revoked}
    assert gone == {"expired"}


def test_sweep_waits_for_the_grace(
    world: World, leases: dict[str, int], neon: NeonKeys, clock: FakeClock
) -> None:
    """A lease is swept once its expiry plus the grace has passed on Neon's clock, not before."""
    assert [o.key_id for o in neon.personal_keys.sweep()] == [leases["expired"]]
    clock.advance(3 * 60 - 1)  # the second lease is now 1 s short of 5 min past its expiry
    assert neon.personal_keys.sweep() == []
    clock.advance(1)
    assert [o.key_id for o in neon.personal_keys.sweep()] == [leases["in_grace"]]
    assert [o.key_id for o in neon.personal_keys.sweep(grace=datetime.timedelta(0))] == []
    clock.advance(HOUR.total_seconds() - 2 * 60)
    assert [o.key_id for o in neon.personal_keys.sweep(grace=datetime.timedelta(0))] == [
        leases["future"]
    ]


def test_a_dry_run_revokes_nothing(world: World, leases: dict[str, int], neon: NeonKeys) -> None:
    """dry_run reports the expired leases, with their keys, and leaves them live."""
    outcomes = neon.personal_keys.sweep(dry_run=True, grace=datetime.timedelta(0))
    assert {o.key_id for o in outcomes} == {leases["expired"], leases["in_grace"]}
    assert all(o.status is RevokeStatus.DRY_RUN and o.ok and o.key is not None for o in outcomes)
    assert world.log.count("revokeApiKey") == 0


def test_a_failed_revoke_is_an_outcome_and_the_sweep_goes_on(
    world: World, leases: dict[str, int], neon: NeonKeys
) -> None:
    """One revoke failing is reported (with the listed key) and the others still happen."""
    world.faults.inject("revokeApiKey", Fault.status(500))
    outcomes = neon.personal_keys.sweep(grace=datetime.timedelta(0))
    assert [o.status for o in outcomes] == [RevokeStatus.FAILED, RevokeStatus.REVOKED]
    assert outcomes[0].key is not None and outcomes[0].key.id == leases["expired"]
    assert outcomes[0].error is not None and not outcomes[0].ok


def test_an_org_sweep_covers_project_scoped_leases(world: World, neon: NeonKeys) -> None:
    """Sweeping an organization revokes its expired project-scoped leases too."""
    expired = _issue(world, "preview", START - HOUR, org=True)
    kept = _issue(world, "preview", START + HOUR, org=True)
    outcomes = neon.org(world.seed.org_id).keys.sweep()
    assert [o.key_id for o in outcomes] == [expired]
    assert outcomes[0].key is not None and outcomes[0].key.kind is KeyKind.PROJECT
    assert world.key(expired).revoked and not world.key(kept).revoked


def test_a_negative_grace_is_refused_before_any_request(world: World, neon: NeonKeys) -> None:
    """grace must be zero or more."""
    with pytest.raises(InvalidInputError, match="grace"):
        neon.personal_keys.sweep(grace=-MINUTE)
    assert len(world.log) == 0


# -- secrets -------------------------------------------------------------------------------------


def test_no_token_in_the_logs_reprs_or_errors_of_a_lease(world: World, neon: NeonKeys) -> None:
    """A lease's life, re-stamp and failed revoke included, shows neither token anywhere."""
    import traceback

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(logging.DEBUG)
    loggers = [logging.getLogger(name) for name in ("neon_keys", "httpx", "httpcore")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    try:
        lease = neon.personal_keys.lease("job")
        with pytest.raises(LeaseRevokeError) as caught, lease as key:
            world.faults.inject("revokeApiKey", Fault.status(500), times=None)
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)
    tokens = [key.secret.reveal(), world.seed.admin_token]  # type: ignore[union-attr]
    shown = [
        repr(lease),
        repr(key),
        str(key),
        str(caught.value),
        "".join(traceback.format_exception(caught.value)),
        *(record.getMessage() for record in records),
        *(str(record.args) for record in records),
    ]
    assert any("making it again" in record.getMessage() for record in records)
    assert sum(record.name == "neon_keys" for record in records) >= 4  # a line per request
    assert not [text for text in shown for token in tokens if token in text]


# -- sweeping, over many worlds ------------------------------------------------------------------

_kinds = st.sampled_from(["lease", "ordinary", "lookalike"])


@settings(max_examples=60, deadline=None)
@given(
    keys=st.lists(st.tuples(_kinds, st.integers(-180, 180)), min_size=1, max_size=8),
    grace=st.integers(0, 15),
    advance=st.integers(0, 240),
)
def test_a_sweep_revokes_exactly_the_expired_leases(
    keys: list[tuple[str, int]], grace: int, advance: int
) -> None:
    """Whatever the keys, expiries, grace and time: a sweep revokes the leases expired by
    Neon's clock (plus grace), nothing else, and a second sweep finds nothing."""
    clock = FakeClock(START)
    world = World.seeded(clock=clock)
    expected, issued = set(), []
    for kind, minutes in keys:
        expiry = START + minutes * MINUTE
        name = LeaseName.new("job", expiry).name
        if kind == "ordinary":
            name = "job"
        elif kind == "lookalike":
            name = name[:-2] + ("x" if name[-2] != "x" else "y") + ")"  # a wrong check
        token = world.issue_personal_key(world.seed.admin_id, name)
        key_id = world.key_for_token(token).id  # type: ignore[union-attr]
        issued.append(key_id)
        if kind == "lease" and expiry + grace * MINUTE <= START + advance * MINUTE:
            expected.add(key_id)
    clock.advance(advance * 60)
    transport = EmulatorTransport(world)
    with NeonKeys(
        api_key=world.seed.admin_token,
        base_url=transport.base_url,
        http_client=httpx.Client(transport=transport),
    ) as neon:
        outcomes = neon.personal_keys.sweep(grace=grace * MINUTE)
        again = neon.personal_keys.sweep(grace=grace * MINUTE)
    assert {o.key_id for o in outcomes} == expected and again == []
    assert all(o.status is RevokeStatus.REVOKED for o in outcomes)
    assert {key_id for key_id in issued if world.key(key_id).revoked} == expected
