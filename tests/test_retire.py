"""``keys.retire()`` and the rotation of leases in the library, sync and async.

The emulator's clock starts in 2025 while this machine's is elsewhere, so a test passes only
if grace and quiet periods, and a rotated lease's expiry, are judged on Neon's clock (the
``Date`` of its answers), never on the local one.
"""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx
import pytest
from date_rewriting import DateRewriting
from neon_keys import (
    AsyncNeonKeys,
    Backoff,
    InvalidInputError,
    LeaseName,
    NeonKeys,
    RetireReason,
    RetireStatus,
    RotationError,
    Secret,
    ServerTimeUnknownError,
)
from neon_keys.testing import AsyncEmulatorTransport, EmulatorTransport, FakeClock, Fault, World

UTC = datetime.UTC
START = datetime.datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
MINUTE = datetime.timedelta(minutes=1)
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


class MemorySink:
    """Keeps the secrets it is given; fails instead while ``fail`` is set."""

    def __init__(self, target: str = "memory") -> None:
        self.target = target
        self.fail = False
        self.received: list[str] = []

    def check(self) -> None:
        """Nothing to check."""

    def deliver(self, secret: Secret) -> None:
        if self.fail:
            raise OSError(28, "No space left on device")
        self.received.append(secret.reveal())


Action = Callable[[Any], Any]


@pytest.fixture
def world() -> World:
    """A seeded world whose clock starts in 2025 and moves only when told."""
    return World.seeded(clock=FakeClock(START))


@pytest.fixture(params=["sync", "async"])
def call(request: pytest.FixtureRequest, world: World) -> Callable[..., Any]:
    """``call(lambda neon: neon.personal_keys.retire())``: run it with a fresh sync or async
    client as the seeded admin (the ``await`` is added for async); ``strip_date`` serves
    the answers without their ``Date``, ``date`` with this one instead; ``api_key`` calls
    with another key than the admin's."""

    def run(
        action: Action, *, strip_date: bool = False, date: str | None = None, api_key: str = ""
    ) -> Any:
        rewrite = strip_date or date is not None
        if request.param == "sync":
            sync_transport = DateRewriting(world, date) if rewrite else EmulatorTransport(world)
            with (
                httpx.Client(transport=sync_transport) as http,
                NeonKeys(
                    api_key=api_key or world.seed.admin_token,
                    base_url="http://127.0.0.1:9/api/v2",
                    http_client=http,
                    backoff=Backoff.immediate(),
                ) as neon,
            ):
                return action(neon)

        async def main() -> Any:
            async_transport = (
                DateRewriting(world, date) if rewrite else AsyncEmulatorTransport(world)
            )
            async with (
                httpx.AsyncClient(transport=async_transport) as http,
                AsyncNeonKeys(
                    api_key=api_key or world.seed.admin_token,
                    base_url="http://127.0.0.1:9/api/v2",
                    http_client=http,
                    backoff=Backoff.immediate(),
                ) as neon,
            ):
                pending: Awaitable[Any] = action(neon)
                return await pending

        return anyio.run(main)

    return run


SCOPES = ["personal", "org", "project"]


def _keys(neon: Any, world: World, scope: str) -> Any:
    return neon.personal_keys if scope == "personal" else neon.org(world.seed.org_id).keys


def _issue(world: World, scope: str, name: str) -> tuple[int, str]:
    """A key of ``scope`` named ``name``, made now on the world's clock: (id, token)."""
    if scope == "personal":
        token = world.issue_personal_key(world.seed.admin_id, name)
    else:
        project = world.seed.project_id if scope == "project" else None
        token = world.issue_org_key(world.seed.org_id, name, project_id=project)
    info = world.key_for_token(token)
    assert info is not None
    return info.id, token


def _use(world: World, token: str) -> None:
    """One request with ``token``, so the emulator records its use now."""
    transport = EmulatorTransport(world)
    with NeonKeys(
        api_key=token,
        base_url="http://127.0.0.1:9/api/v2",
        http_client=httpx.Client(transport=transport),
    ) as neon:
        neon.whoami()


def _live(world: World, key_id: int) -> bool:
    return not world.key(key_id).revoked


# -- the grace period and the quiet period ----------------------------------------------------


@pytest.mark.parametrize("scope", SCOPES)
def test_a_replaced_key_is_kept_through_the_grace_period_then_revoked(
    world: World, call: Callable[..., Any], scope: str
) -> None:
    """A key a staged rotation replaced is kept until the grace period has passed on Neon's
    clock, then revoked; the replacement stays, and a second retire finds nothing."""
    old, _ = _issue(world, scope, "deploy")
    rotation = call(
        lambda neon: _keys(neon, world, scope).rotate(old, grace=DAY, deliver=MemorySink())
    )
    assert rotation.new is not None and rotation.new.created_at == START
    new = rotation.new.id

    world.advance_clock((DAY - MINUTE).total_seconds())
    (kept,) = call(lambda neon: _keys(neon, world, scope).retire(grace=DAY))
    assert (kept.key.id, kept.status, kept.reason) == (
        old,
        RetireStatus.KEPT,
        RetireReason.IN_GRACE,
    )
    assert kept.replacement is not None and kept.replacement.id == new
    assert kept.grace_ends == START + DAY
    assert _live(world, old)

    world.advance_clock(MINUTE.total_seconds())
    (done,) = call(lambda neon: _keys(neon, world, scope).retire(grace=DAY))
    assert (done.key.id, done.status, done.reason) == (
        old,
        RetireStatus.REVOKED,
        RetireReason.GRACE_OVER,
    )
    assert not _live(world, old) and _live(world, new)
    assert call(lambda neon: _keys(neon, world, scope).retire(grace=DAY)) == []


def test_a_consumer_that_switched_lets_the_old_key_go_after_the_quiet_period(
    world: World, call: Callable[..., Any]
) -> None:
    """Not used since its replacement appeared, the old key is revoked once the quiet
    period has passed, long before the grace period ends."""
    old, token = _issue(world, "personal", "deploy")
    _use(world, token)
    rotation = call(lambda neon: neon.personal_keys.rotate(old, grace=DAY, deliver=MemorySink()))
    world.advance_clock((HOUR - MINUTE).total_seconds())
    (kept,) = call(lambda neon: neon.personal_keys.retire(grace=DAY, quiet=HOUR))
    assert (kept.status, kept.reason) == (RetireStatus.KEPT, RetireReason.IN_GRACE)
    world.advance_clock(MINUTE.total_seconds())
    (done,) = call(lambda neon: neon.personal_keys.retire(grace=DAY, quiet=HOUR))
    assert (done.status, done.reason) == (RetireStatus.REVOKED, RetireReason.QUIET)
    assert not _live(world, old) and _live(world, rotation.new.id)


def test_a_consumer_still_using_the_old_key_keeps_it_until_the_grace_period_ends(
    world: World, call: Callable[..., Any]
) -> None:
    """Used every 45 minutes, the old key never goes quiet for an hour: it is kept until the
    grace period ends, then revoked for that reason."""
    old, token = _issue(world, "personal", "deploy")
    call(lambda neon: neon.personal_keys.rotate(old, grace=4 * HOUR, deliver=MemorySink()))
    for _ in range(5):  # up to 3h45m after the rotation
        world.advance_clock(45 * 60)
        _use(world, token)
        (kept,) = call(lambda neon: neon.personal_keys.retire(grace=4 * HOUR, quiet=HOUR))
        assert (kept.status, kept.reason) == (RetireStatus.KEPT, RetireReason.IN_GRACE)
        assert "last used" in kept.message
    world.advance_clock(15 * 60)
    (done,) = call(lambda neon: neon.personal_keys.retire(grace=4 * HOUR, quiet=HOUR))
    assert (done.status, done.reason) == (RetireStatus.REVOKED, RetireReason.GRACE_OVER)


def test_a_dry_run_revokes_nothing(world: World, call: Callable[..., Any]) -> None:
    """With dry_run the due key is reported due and stays live; no revoke is sent."""
    old, _ = _issue(world, "personal", "deploy")
    call(lambda neon: neon.personal_keys.rotate(old, grace=HOUR, deliver=MemorySink()))
    world.advance_clock(HOUR.total_seconds())
    world.log.clear()
    (due,) = call(lambda neon: neon.personal_keys.retire(grace=HOUR, dry_run=True))
    assert (due.status, due.reason) == (RetireStatus.DUE, RetireReason.GRACE_OVER)
    assert _live(world, old) and world.log.count("revokeApiKey") == 0


def test_the_calling_key_is_never_retired(world: World, call: Callable[..., Any]) -> None:
    """The key making the call, replaced and due, is kept (reason ``calling``)."""
    newer, newer_token = _issue(world, "personal", "seed-admin")  # the caller's name
    world.advance_clock(60)
    _use(world, newer_token)  # in service
    world.advance_clock(HOUR.total_seconds())
    outcomes = call(lambda neon: neon.personal_keys.retire(grace=datetime.timedelta(0)))
    caller = world.seed.admin_key_id
    assert [(o.key.id, o.status, o.reason) for o in outcomes] == [
        (caller, RetireStatus.KEPT, RetireReason.CALLING)
    ]
    assert _live(world, caller) and _live(world, newer)


def test_a_replacement_never_used_keeps_the_old_key(world: World, call: Callable[..., Any]) -> None:
    """A newer key that was never used (its rotation did not finish) takes over from nothing."""
    old, _ = _issue(world, "personal", "deploy")
    world.advance_clock(60)
    newer, _ = _issue(world, "personal", "deploy")
    world.advance_clock(30 * DAY.total_seconds())
    (kept,) = call(lambda neon: neon.personal_keys.retire(grace=HOUR, quiet=HOUR))
    assert (kept.status, kept.reason, kept.newer.id) == (
        RetireStatus.KEPT,
        RetireReason.NO_REPLACEMENT_IN_SERVICE,
        newer,
    )
    assert _live(world, old)


@pytest.mark.parametrize("at", ["create", "delivery", "verify"])
def test_after_a_failed_step_retire_waits_and_a_second_rotation_converges(
    world: World, call: Callable[..., Any], at: str
) -> None:
    """Whatever step of a staged rotation failed, retire revokes nothing (no newer key is in
    service); rotating again gives every sink one working key, after which retire revokes
    every older key of the name, the failed attempt's too, and never the one in service."""
    old, old_token = _issue(world, "personal", "deploy")
    _use(world, old_token)
    sinks = [MemorySink("a"), MemorySink("b")]
    if at == "create":
        world.faults.inject("createApiKey", Fault.lost_response())
    elif at == "delivery":
        sinks[1].fail = True
    else:
        world.faults.inject("getAuthDetails", Fault.status(500), times=None)
    with pytest.raises(RotationError):
        call(lambda neon: neon.personal_keys.rotate(old, grace=HOUR, deliver=sinks))
    world.faults.clear()
    sinks[1].fail = False
    attempts = [k.id for k in world.personal_keys(world.seed.admin_id) if k.name == "deploy"]
    assert len(attempts) == 2  # the old key and the failed attempt's

    world.advance_clock(DAY.total_seconds())
    (waiting,) = call(lambda neon: neon.personal_keys.retire(grace=HOUR))
    assert (waiting.key.id, waiting.reason) == (old, RetireReason.NO_REPLACEMENT_IN_SERVICE)
    assert _live(world, old)

    rotation = call(lambda neon: neon.personal_keys.rotate(old, grace=HOUR, deliver=sinks))
    token = rotation.new.secret.reveal()
    assert [sink.received[-1] for sink in sinks] == [token, token]
    world.advance_clock(HOUR.total_seconds())
    outcomes = call(lambda neon: neon.personal_keys.retire(grace=HOUR))
    assert sorted(o.key.id for o in outcomes if o.status is RetireStatus.REVOKED) == attempts
    live = [k.id for k in world.personal_keys(world.seed.admin_id) if k.name == "deploy"]
    assert live == [rotation.new.id]
    assert call(lambda neon: neon.personal_keys.retire(grace=HOUR)) == []


# -- Neon's clock, or nothing -------------------------------------------------------------------


def test_without_neons_clock_retire_revokes_nothing(world: World, call: Callable[..., Any]) -> None:
    """Answers without a Date leave Neon's time unknown: retire raises ServerTimeUnknownError
    and revokes nothing, although by this machine's clock the key is long past its grace."""
    old, _ = _issue(world, "personal", "deploy")
    world.advance_clock(60)
    _newer, newer_token = _issue(world, "personal", "deploy")
    _use(world, newer_token)
    world.log.clear()
    with pytest.raises(ServerTimeUnknownError, match="Date"):
        call(lambda neon: neon.personal_keys.retire(grace=HOUR), strip_date=True)
    assert world.log.count("revokeApiKey") == 0 and _live(world, old)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"grace": datetime.timedelta(seconds=-1)}, "grace"),
        ({"grace": 3600}, "grace"),
        ({"quiet": "1h"}, "quiet"),
        ({"quiet": datetime.timedelta(days=40_000)}, "quiet"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_input_is_refused_before_any_request(
    world: World, call: Callable[..., Any], options: dict[str, Any], field: str
) -> None:
    """A bad grace, quiet or name is refused, naming it, with nothing sent."""
    world.log.clear()
    with pytest.raises(InvalidInputError) as refused:
        call(lambda neon: neon.personal_keys.retire(**options))
    assert refused.value.field == field and len(world.log) == 0


# -- leases ----------------------------------------------------------------------------------


def _lease(world: World, scope: str, base: str, ttl: datetime.timedelta) -> tuple[int, str]:
    """A lease of ``base`` made now, expiring ``ttl`` from now on the world's clock."""
    return _issue(world, scope, LeaseName.new(base, world.clock.now() + ttl).name)


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("grace", [None, HOUR])
def test_a_rotated_lease_stays_a_lease_with_a_fresh_expiry(
    world: World, call: Callable[..., Any], scope: str, grace: datetime.timedelta | None
) -> None:
    """The replacement of a lease is a lease of the same base name and lifetime, its expiry
    counted from the rotation on Neon's clock, with a new random part."""
    old, _ = _lease(world, scope, "preview-42", 2 * HOUR)
    old_name = LeaseName.parse(world.key(old).name)
    assert old_name is not None
    world.advance_clock(30 * 60)
    rotated_at = world.clock.now()
    rotation = call(
        lambda neon: _keys(neon, world, scope).rotate(old, grace=grace, deliver=MemorySink())
    )
    assert rotation.new is not None
    new_name = LeaseName.parse(rotation.new.name)
    assert new_name is not None and new_name.base_name == "preview-42"
    assert rotated_at + 2 * HOUR <= new_name.expires_at <= rotated_at + 2 * HOUR + 2 * SECOND
    assert new_name.token != old_name.token
    new = world.key(rotation.new.id)
    assert new_name.expires_at - rotation.new.created_at == 2 * HOUR  # the same lifetime
    assert (new.kind, new.project_id) == (world.key(old).kind, world.key(old).project_id)
    assert rotation.old_revoked is (grace is None)


def test_a_lease_rotated_again_and_again_keeps_its_lifetime(
    world: World, call: Callable[..., Any]
) -> None:
    """Each generation of a lease rotated five times is listed with the first one's
    lifetime, to the second: no second gained or lost per rotation."""
    key_id, _ = _lease(world, "org", "preview-42", 90 * MINUTE)
    for _ in range(5):
        world.advance_clock(7 * 60 + 0.5)
        rotation = call(
            lambda neon, k=key_id: neon.org(world.seed.org_id).keys.rotate(k, grace=HOUR)
        )
        key_id = rotation.new.id
        lease = LeaseName.parse(rotation.new.name)  # as Neon answered: whole seconds
        assert lease is not None and lease.expires_at - rotation.new.created_at == 90 * MINUTE


SECOND = datetime.timedelta(seconds=1)


def test_a_lease_rotated_with_grace_is_retired_with_its_own_generation_only(
    world: World, call: Callable[..., Any]
) -> None:
    """Retire groups a lease with the leases of its base name, never with an ordinary key
    of that name: the old lease goes once its grace is over, the ordinary key stays."""
    ordinary, ordinary_token = _issue(world, "personal", "preview-42")
    _use(world, ordinary_token)
    world.advance_clock(60)
    old, _ = _lease(world, "personal", "preview-42", 2 * HOUR)
    world.advance_clock(60)
    rotation = call(
        lambda neon: neon.personal_keys.rotate(old, grace=10 * MINUTE, deliver=MemorySink())
    )
    world.advance_clock((10 * MINUTE).total_seconds())
    outcomes = call(lambda neon: neon.personal_keys.retire(grace=10 * MINUTE, name="preview-42"))
    assert [(o.key.id, o.status, o.replacement.id) for o in outcomes] == [
        (old, RetireStatus.REVOKED, rotation.new.id)
    ]
    assert not _live(world, old)
    assert _live(world, ordinary) and _live(world, rotation.new.id)


# -- Neon's clock, checked against Neon's records ---------------------------------------------


def _http_date(moment: datetime.datetime) -> str:
    return moment.strftime("%a, %d %b %Y %H:%M:%S GMT")


def _rotated_within_grace(world: World, scope: str, call: Callable[..., Any]) -> tuple[int, int]:
    """A key of ``scope`` rotated with a day's grace an hour ago: (old id, new id)."""
    old, _ = _issue(world, scope, "deploy")
    rotation = call(
        lambda neon: _keys(neon, world, scope).rotate(old, grace=DAY, deliver=MemorySink())
    )
    world.advance_clock(HOUR.total_seconds())
    return old, rotation.new.id


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("dry_run", [False, True])
def test_a_date_centuries_ahead_revokes_nothing(
    world: World, call: Callable[..., Any], scope: str, dry_run: bool
) -> None:
    """A valid Date from year 2300 (a proxy's clock) would make every grace period look
    over: retire refuses, naming both times, and revokes nothing, whether or not the key
    making the call is among the keys."""
    old, new = _rotated_within_grace(world, scope, call)
    world.log.clear()
    future = _http_date(datetime.datetime(2300, 1, 1, tzinfo=UTC))
    with pytest.raises(ServerTimeUnknownError, match=r"2300-01-01 00:00:00 UTC.*2025-06-01"):
        call(lambda neon: _keys(neon, world, scope).retire(grace=DAY, dry_run=dry_run), date=future)
    assert world.log.count("revokeApiKey") == 0 and _live(world, old) and _live(world, new)


@pytest.mark.parametrize("scope", ["personal", "org"])
def test_a_date_a_month_ahead_is_caught_by_the_calling_keys_own_use(
    world: World, call: Callable[..., Any], scope: str
) -> None:
    """When the caller's keys are listed, the calling key's use that Neon just recorded is
    Neon's now: a Date a month beyond it is refused although it is a plausible date."""
    caller = world.seed.admin_token
    if scope == "org":
        _, caller = _issue(world, "org", "ci")
    old, new = _rotated_within_grace(world, scope, call)
    world.log.clear()
    ahead = _http_date(START + 30 * DAY)
    with pytest.raises(ServerTimeUnknownError, match="the key making this call was last used"):
        call(lambda neon: _keys(neon, world, scope).retire(grace=DAY), date=ahead, api_key=caller)
    assert world.log.count("revokeApiKey") == 0 and _live(world, old) and _live(world, new)


@pytest.mark.parametrize("scope", SCOPES)
def test_keys_idle_for_months_are_retired_on_a_true_clock(
    world: World, call: Callable[..., Any], scope: str
) -> None:
    """No false alarm: 120 days after a rotation, with nothing created or used since (a
    personal key retiring an organization's keys sees no fresh record), the old key is
    revoked."""
    old, new = _rotated_within_grace(world, scope, call)
    world.advance_clock(120 * DAY.total_seconds())
    (done,) = call(lambda neon: _keys(neon, world, scope).retire(grace=DAY))
    assert (done.key.id, done.status) == (old, RetireStatus.REVOKED)
    assert _live(world, new)


def test_a_lease_made_under_a_wrong_date_expires_by_neons_record(
    world: World, call: Callable[..., Any]
) -> None:
    """A lease made while every Date reads 2300 is stamped from Neon's created_at, not the
    Date: it expires an hour after it was made, so a sweep can remove it."""

    def make(neon: Any) -> Any:
        lease = neon.personal_keys.lease("job", ttl=HOUR)
        if isinstance(neon, NeonKeys):
            with lease as key:
                return key

        async def held() -> Any:
            async with lease as key:
                return key

        return held()

    key = call(make, date=_http_date(datetime.datetime(2300, 1, 1, tzinfo=UTC)))
    name = LeaseName.parse(key.name)
    assert name is not None and key.created_at is not None
    assert abs(name.expires_at - (key.created_at + HOUR)) <= 5 * MINUTE


@pytest.mark.parametrize("scope", SCOPES)
def test_a_sweep_under_a_date_centuries_ahead_revokes_nothing(
    world: World, call: Callable[..., Any], scope: str
) -> None:
    """A lease with an hour to live looks long expired by a Date of 2300: sweep refuses,
    naming both times, and the lease stays; on Neon's true clock, once it has expired,
    the same sweep removes it."""
    lease, _ = _issue(world, scope, LeaseName.new("job", START + HOUR).name)
    world.log.clear()
    future = _http_date(datetime.datetime(2300, 1, 1, tzinfo=UTC))
    with pytest.raises(ServerTimeUnknownError, match=r"2300-01-01 00:00:00 UTC.*2025-06-01"):
        call(lambda neon: _keys(neon, world, scope).sweep(), date=future)
    assert world.log.count("revokeApiKey") == 0 and _live(world, lease)

    world.advance_clock(120 * DAY.total_seconds())
    (swept,) = call(lambda neon: _keys(neon, world, scope).sweep())
    assert swept.key_id == lease and not _live(world, lease)
