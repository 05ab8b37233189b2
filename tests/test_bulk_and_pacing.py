"""Bulk revocation reports every id; pacing keeps a client under Neon's limits."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fakes import ORG_ID, FakeNeon, json_response, run
from neon_keys import (
    Backoff,
    InvalidInputError,
    NeonKeys,
    RateLimits,
    RevokeOutcome,
    RevokeStatus,
)
from neon_keys._pacing import Pacer
from neon_keys.testing import EmulatorTransport, ServerRateLimits, World
from neon_keys.testing import FakeClock as EmulatorClock


def test_revoke_many_reports_each_id(make_client: Any, fake: FakeNeon) -> None:
    """Revoked, already gone and failed ids each get their outcome, in order."""
    fake.route("DELETE", "/api_keys/2", json_response({"message": "no such key"}, status=404))
    fake.route("DELETE", "/api_keys/3", json_response({"message": "denied"}, status=403))
    seen: list[RevokeOutcome[Any]] = []
    outcomes = run(make_client().personal_keys.revoke_many([1, 2, 3, 4, 1], on_outcome=seen.append))
    assert [(o.key_id, o.status) for o in outcomes] == [
        (1, RevokeStatus.REVOKED),
        (2, RevokeStatus.ALREADY_GONE),
        (3, RevokeStatus.FAILED),
        (4, RevokeStatus.REVOKED),
    ]
    assert outcomes[0].key is not None and outcomes[0].key.revoked
    assert outcomes[2].error is not None and outcomes[2].error.status_code == 403
    assert [o.ok for o in outcomes] == [True, True, False, True]
    assert sorted(o.key_id for o in seen) == [1, 2, 3, 4]
    assert len(fake.requests) == 4


def test_revoke_many_checks_every_id_first(make_client: Any, fake: FakeNeon) -> None:
    """One bad id refuses the whole batch before anything is revoked."""
    with pytest.raises(InvalidInputError):
        run(make_client().org(ORG_ID).keys.revoke_many([1, 2, "3"]))
    assert fake.requests == []


def test_revoke_many_survives_transport_failures(make_client: Any, fake: FakeNeon) -> None:
    """A dropped connection on one id is a failed outcome; the others go on."""

    def drop(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("peer closed connection", request=request)

    fake.route("DELETE", f"/organizations/{ORG_ID}/api_keys/5", drop)
    outcomes = run(make_client().org(ORG_ID).keys.revoke_many([4, 5, 6]))
    assert [o.status for o in outcomes] == [
        RevokeStatus.REVOKED,
        RevokeStatus.FAILED,
        RevokeStatus.REVOKED,
    ]
    assert len(fake.requests) == 3  # a DELETE with an unknown outcome is not resent


@pytest.mark.anyio
async def test_async_revoke_many_bounds_concurrency(fake: FakeNeon) -> None:
    """No more than `concurrency` revocations are in flight at once."""
    import anyio

    in_flight = peak = 0

    async def slow_revoke(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await anyio.lowlevel.checkpoint()
        await anyio.lowlevel.checkpoint()
        in_flight -= 1
        key_id = int(request.url.path.rsplit("/", 1)[1])
        return json_response({"id": key_id, "name": "k", "revoked": True})

    client = fake.async_client()
    client._http = httpx.AsyncClient(transport=httpx.MockTransport(slow_revoke))
    outcomes = await client.personal_keys.revoke_many(range(1, 51), concurrency=4)
    assert [o.key_id for o in outcomes] == list(range(1, 51))
    assert all(o.status is RevokeStatus.REVOKED for o in outcomes)
    assert 1 < peak <= 4


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _send_times(pacer: Pacer, clock: FakeClock, route: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        clock.now += pacer.reserve(route)
        times.append(clock.now)
    return times


def test_single_calls_never_wait() -> None:
    """A burst within the limits is sent at once."""
    clock = FakeClock()
    pacer = Pacer(RateLimits(), clock)
    assert [pacer.reserve("listApiKeys") for _ in range(10)] == [0.0] * 10


def test_sustained_rate_stays_under_per_minute_limit() -> None:
    """Past the first burst, no 60 s window holds more than the per-minute limit."""
    clock = FakeClock()
    pacer = Pacer(RateLimits(per_minute=700, burst_per_route=40), clock)
    times = _send_times(pacer, clock, "revokeApiKey", 2000)
    start = 0
    for end, t in enumerate(times):
        while times[start] <= t - 60.0:
            start += 1
        assert end - start + 1 <= 700 + 40
    rate = (len(times) - 40) / (times[-1] - times[0])
    assert rate == pytest.approx(700 / 60, rel=0.02)


def test_route_bursts_stay_under_per_second_limit() -> None:
    """No one-second window on a route holds more than the burst limit."""
    clock = FakeClock()
    pacer = Pacer(RateLimits(per_minute=100_000, burst_per_route=40), clock)
    times = _send_times(pacer, clock, "listApiKeys", 400)
    for i in range(len(times) - 80):
        window = [t for t in times[i:] if t < times[i] + 1.0]
        assert len(window) <= 80  # burst plus one second's worth
    assert (len(times) - 40) / (times[-1] - times[0]) == pytest.approx(40, rel=0.02)


def test_org_key_creation_is_slower() -> None:
    """Organization-key creation is paced at its own, lower limit."""
    clock = FakeClock()
    pacer = Pacer(RateLimits(per_minute=100_000), clock)
    times = _send_times(pacer, clock, "createOrgApiKey", 100)
    assert (len(times) - 10) / (times[-1] - times[0]) == pytest.approx(10, rel=0.05)


def test_429_pauses_and_slows_down() -> None:
    """After a 429 every route waits out the pause, then runs slower for a while."""
    clock = FakeClock()
    limits = RateLimits(per_minute=600, burst_per_route=20)
    pacer = Pacer(limits, clock)
    _send_times(pacer, clock, "revokeApiKey", 20)
    pacer.backoff(3.0)
    assert pacer.reserve("listApiKeys") >= 3.0 - 1e-9
    times = _send_times(pacer, clock, "revokeApiKey", 30)
    assert (len(times) - 1) / (times[-1] - times[0]) < 10
    for _ in range(500):
        pacer.recovered()
    times = _send_times(pacer, clock, "revokeApiKey", 60)
    assert (len(times) - 1) / (times[-1] - times[0]) == pytest.approx(10, rel=0.05)


def test_pacing_at_the_limit_survives_latency_jitter() -> None:
    """Paced at exactly the server's limit, requests whose latency varies are not refused."""
    from neon_keys.testing._ratelimit import RateLimiter, ServerRateLimits

    clock = FakeClock()
    pacer = Pacer(RateLimits(per_minute=1e9, burst_per_route=40), clock)
    server = RateLimiter(ServerRateLimits(per_minute=1e9, burst_per_route=40))
    jitter = random.Random(7)
    for number in range(400):
        clock.now += pacer.reserve("revokeApiKey")
        # The first request also opens the connection; later ones are up to 20 ms quicker.
        latency = 0.02 if number == 0 else jitter.uniform(0.0, 0.02)
        assert server.acquire("user", "revokeApiKey", None, clock.now + latency) is None


def test_rate_limits_must_be_positive() -> None:
    """A zero or negative limit is refused."""
    with pytest.raises(ValueError, match="per_minute"):
        RateLimits(per_minute=0)


# -- against the emulator's rate limits, on a shared fake clock --------------------------------


class Paced:
    """A NeonKeys on an emulated Neon that enforces rate limits, both on one fake clock.

    The client's pacer reads the emulator's clock and its waits move that clock on, so a
    minute of traffic takes no real time and both sides agree on what time it is.
    """

    def __init__(self, limits: ServerRateLimits) -> None:
        self.clock = EmulatorClock()
        self.world = World.seeded(clock=self.clock, rate_limits=limits)
        self.http = httpx.Client(transport=EmulatorTransport(self.world))
        self.neon = NeonKeys(
            api_key=self.world.seed.admin_token,
            base_url="http://127.0.0.1/api/v2",
            http_client=self.http,
            backoff=Backoff(jitter=False),
        )
        self.neon._pacer = Pacer(RateLimits(), clock=self.clock.monotonic)
        self.neon._sleep = self.clock.advance  # type: ignore[method-assign]

    def personal_keys(self, count: int) -> list[int]:
        """Issue ``count`` personal keys to the admin (not through the API); their ids."""
        admin = self.world.seed.admin_id
        for number in range(count):
            self.world.issue_personal_key(admin, f"bulk-{number}")
        return [key.id for key in self.world.personal_keys(admin)[1:]]

    def refused(self) -> int:
        """Requests the emulator refused with 429."""
        return sum(record.rate_limited for record in self.world.log)

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def paced() -> Iterator[Callable[[ServerRateLimits], Paced]]:
    """Build ``Paced`` setups; closed afterwards."""
    made: list[Paced] = []

    def build(limits: ServerRateLimits) -> Paced:
        made.append(Paced(limits))
        return made[-1]

    yield build
    for setup in made:
        setup.close()


def test_bulk_revoke_stays_under_neons_limits(paced: Callable[[ServerRateLimits], Paced]) -> None:
    """Revoking 150 keys at once meets no 429 from Neon's documented limits: they are paced."""
    setup = paced(ServerRateLimits())
    ids = setup.personal_keys(150)
    outcomes = setup.neon.personal_keys.revoke_many(ids)
    assert [o.status for o in outcomes] == [RevokeStatus.REVOKED] * 150
    assert setup.refused() == 0
    assert setup.clock.monotonic() >= (150 - 40) / 40  # the route's 40/s, after a burst of 40


def test_a_minute_of_traffic_stays_under_700_per_minute(
    paced: Callable[[ServerRateLimits], Paced],
) -> None:
    """800 calls over four routes meet no 429: the client spreads them past the minute."""
    setup = paced(ServerRateLimits())
    org = setup.neon.org(setup.world.seed.org_id)
    calls = [setup.neon.whoami, setup.neon.personal_keys.list, org.keys.list]
    calls.append(setup.neon.organizations)
    for number in range(800):
        calls[number % 4]()
    assert setup.refused() == 0 and len(setup.world.log) == 800
    assert setup.clock.monotonic() >= (800 - 700) / 700 * 60


def test_org_key_creation_stays_under_10_per_second(
    paced: Callable[[ServerRateLimits], Paced],
) -> None:
    """Creating 40 organization keys in a loop meets no 429 from the 10/s limit."""
    setup = paced(ServerRateLimits())
    keys = setup.neon.org(setup.world.seed.org_id).keys
    created = [keys.create(f"deploy-{number}") for number in range(40)]
    assert len({key.id for key in created}) == 40
    assert setup.refused() == 0
    assert setup.clock.monotonic() >= (40 - 10) / 10


def test_bulk_revoke_adapts_when_neon_is_stricter(
    paced: Callable[[ServerRateLimits], Paced],
) -> None:
    """Against limits tighter than Neon's documented ones, 429s stay rare and no id fails."""
    setup = paced(ServerRateLimits(per_minute=120, burst_per_route=5))
    ids = setup.personal_keys(100)
    outcomes = setup.neon.personal_keys.revoke_many(ids)
    assert [o.status for o in outcomes] == [RevokeStatus.REVOKED] * 100
    refused = setup.refused()
    assert 0 < refused <= 15, refused  # it met the limit, and slowed down instead of hammering
    assert len(setup.world.log) == 100 + refused
