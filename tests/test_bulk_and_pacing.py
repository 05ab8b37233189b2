"""Bulk revocation reports every id; pacing keeps a client under Neon's limits."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx
import pytest
from fakes import ORG_ID, FakeNeon, json_response, run
from hypothesis import given, settings
from hypothesis import strategies as st
from neon_keys import (
    AsyncNeonKeys,
    Backoff,
    InvalidInputError,
    NeonKeys,
    RateLimitError,
    RateLimits,
    RevokeOutcome,
    RevokeStatus,
    SkippedWaits,
    set_testing,
)
from neon_keys._pacing import Pace, Pacer, Plan, plan
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

    client = AsyncNeonKeys(
        api_key="napi_test",
        base_url="https://console.neon.tech/api/v2",
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(slow_revoke)),
    )
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


ROUTES = ("listApiKeys", "revokeApiKey", "createOrgApiKey", "getAuthDetails")


def _send_times(pacer: Pacer, clock: FakeClock, route: str, count: int) -> list[float]:
    """One caller sending ``count`` requests on ``route`` back to back, each after its wait."""
    times = []
    for _ in range(count):
        clock.now += pacer.reserve(route)
        times.append(clock.now)
    return times


def _reserved_at_once(pacer: Pacer, clock: FakeClock, routes: Sequence[str]) -> list[float]:
    """Send times of requests reserved by concurrent callers at the same instant."""
    return [clock.now + pacer.reserve(route) for route in routes]


def _most_in_window(times: Sequence[float], seconds: float, *, closed: bool = True) -> int:
    """The most of ``times`` that any window of ``seconds`` holds (half-open if not closed)."""
    ordered = sorted(times)
    most = start = 0
    for end, last in enumerate(ordered):
        while ordered[start] < last - seconds or (not closed and ordered[start] == last - seconds):
            start += 1
        most = max(most, end - start + 1)
    return most


def _seconds_until(pace: Pace, count: int) -> float:
    """How long after the first of ``count`` requests sent back to back ``pace`` sends the
    last: its burst at the start of each window, the rest of the window's share at its rate."""
    period, rest = divmod(count - 1, pace.most)
    return period * pace.seconds + max(0, rest - pace.burst + 1) / pace.rate


def _as_window(limit: float, seconds: float) -> tuple[float, float]:
    """A limit of ``limit`` per ``seconds`` as a count per window; under 1, as one per longer."""
    return (limit, seconds) if limit >= 1 else (1.0, seconds / limit)


def _assert_within_limits(limits: RateLimits, sent: Sequence[tuple[str, float]]) -> None:
    """No window of a limit's length holds more of ``sent`` than that limit allows."""
    checks = [(_as_window(limits.per_minute, 60.0), [t for _, t in sent])]
    for route in {route for route, _ in sent}:
        times = [t for r, t in sent if r == route]
        checks.append((_as_window(limits.burst_per_route, 1.0), times))
        if route == "createOrgApiKey":
            checks.append((_as_window(limits.org_create_per_second, 1.0), times))
    for (allowed, seconds), times in checks:
        assert _most_in_window(times, seconds) <= allowed, (allowed, seconds)


def test_plan_for_neons_documented_limits() -> None:
    """Neon's limits give 39/s per route in bursts of 20, 9/s org-key creations in bursts of 5,
    and 699/min per account in bursts of 70."""
    assert plan(RateLimits()) == Plan(
        account=Pace(rate=699 / 60, burst=70, most=699, seconds=60.0),
        route=Pace(rate=39, burst=20, most=39, seconds=1.0),
        org_create=Pace(rate=9, burst=5, most=9, seconds=1.0),
    )


@settings(max_examples=300, deadline=None)
@given(
    per_minute=st.integers(1, 5000) | st.floats(0.1, 5000),
    per_route=st.integers(1, 200) | st.floats(0.1, 200),
    org_create=st.integers(1, 50) | st.floats(0.1, 50),
)
def test_plan_fits_any_limits(per_minute: float, per_route: float, org_create: float) -> None:
    """For any limits, each pace keeps a window under the limit, uses all of it but one
    request, and bursts at most half of a second's limit (a tenth of a minute's)."""
    limits = RateLimits(per_minute, per_route, org_create)
    derived = plan(limits)
    for pace, limit, seconds, share in [
        (derived.account, per_minute, 60.0, 0.1),
        (derived.route, per_route, 1.0, 0.5),
        (derived.org_create, min(org_create, per_route), 1.0, 0.5),
    ]:
        assert pace.burst >= 1 and pace.rate > 0 and pace.seconds == seconds
        whole = math.floor(limit)
        if whole >= 2:
            assert pace.most == whole - 1 and pace.rate * seconds == pytest.approx(whole - 1)
            assert pace.burst == max(1, math.floor(whole * share))
        else:  # no room for a burst: the rate alone keeps one request a window
            allowed, window = _as_window(limit, seconds)
            assert pace.most == 0 and pace.burst == 1
            assert math.floor(pace.burst + pace.rate * window) <= allowed


@pytest.mark.parametrize(
    ("limits", "bucket"),
    [
        (RateLimits(per_minute=1e9, burst_per_route=5), "route"),  # 2 at once, 4 a second
        (RateLimits(per_minute=250, burst_per_route=1e6), "account"),  # 25, 249 a minute
    ],
)
def test_a_saturated_bucket_fills_each_window_but_one(limits: RateLimits, bucket: str) -> None:
    """Saturated, a bucket sends its burst at once and then exactly N - 1 requests in every
    window of its limit's length, closed at both ends or not."""
    clock = FakeClock()
    pacer = Pacer(limits, clock)
    pace: Pace = getattr(pacer.plan, bucket)
    routes = ["listApiKeys"] * 400 if bucket == "route" else [f"op{n}" for n in range(1000)]
    times = _reserved_at_once(pacer, clock, routes)
    assert times[: pace.burst] == [clock.now] * pace.burst and times[pace.burst] > clock.now
    assert _most_in_window(times, pace.seconds) == pace.most
    assert _most_in_window(times, pace.seconds, closed=False) == pace.most
    for request, sent in enumerate(times):
        assert sent - clock.now == pytest.approx(_seconds_until(pace, request + 1), abs=1e-9)


def test_a_request_a_whole_window_after_the_last_allowed_one_waits() -> None:
    """At 2 a second (one request a window, one of margin), a request exactly one second
    after the previous one still waits: a window closed at both ends would hold both."""
    clock = FakeClock()
    pacer = Pacer(RateLimits(per_minute=1e9, burst_per_route=2), clock)
    assert pacer.reserve("listApiKeys") == 0.0
    clock.now += 1.0
    assert 0 < pacer.reserve("listApiKeys") < 1e-9


def test_reservations_keep_their_order() -> None:
    """A call on an idle route does not overtake a call reserved earlier that waits on a busy
    one: the account's requests go in the order they were reserved."""
    clock = FakeClock()
    pacer = Pacer(RateLimits(), clock)
    busy = [clock.now + pacer.reserve("listOrgApiKeys") for _ in range(25)]
    idle = clock.now + pacer.reserve("getCurrentUserInfo")
    assert busy[-1] > clock.now and idle == busy[-1]


def test_a_plans_listings_of_twenty_organizations_go_out_at_once() -> None:
    """The calling key's check and one listing for each of 20 organizations all go at once:
    Neon allows them (fewer than 40 on the route, 700 a minute), so nothing waits."""
    clock = FakeClock()
    pacer = Pacer(RateLimits(), clock)
    waits = [pacer.reserve("getCurrentUserInfo")]
    waits += [pacer.reserve("listOrgApiKeys") for _ in range(20)]
    assert waits == [0.0] * 21
    assert pacer.reserve("listOrgApiKeys") > 0  # the 21st listing is paced


@pytest.mark.parametrize("count", [30, 120])
def test_requests_slow_then_fast_are_never_refused(count: int) -> None:
    """The worst jitter: requests sent before some moment take half a second longer than
    those sent after it, so two bursts reach the server together. Paced for Neon's limits,
    none is refused by a token bucket of 40 a second, wherever that moment falls."""
    from neon_keys.testing._ratelimit import RateLimiter

    clock = FakeClock()
    sent = _reserved_at_once(Pacer(RateLimits(), clock), clock, ["revokeApiKey"] * count)
    for step in range(int((sent[-1] - clock.now) / 0.01) + 2):
        switch = clock.now + step * 0.01
        arrivals = sorted(at + (0.5 if at < switch else 0.0) for at in sent)
        server = RateLimiter(ServerRateLimits())
        refused = [at for at in arrivals if server.acquire("user", "revokeApiKey", None, at)]
        assert refused == [], (switch - clock.now, len(refused))


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    batches=st.lists(st.tuples(st.integers(1, 60), st.floats(0.0, 2.0)), min_size=1, max_size=8),
)
def test_bursts_leave_half_a_second_for_latency_jitter(
    seed: int, batches: list[tuple[int, float]]
) -> None:
    """Against a server counting with token buckets (40 a second on a route), requests paced
    for Neon's limits are never refused, however their latencies vary within half a second:
    the client never spends more than half of a route's tokens at once."""
    from neon_keys.testing._ratelimit import RateLimiter

    clock = FakeClock()
    pacer = Pacer(RateLimits(), clock)
    server = RateLimiter(ServerRateLimits())
    jitter = random.Random(seed)
    arrivals = []
    for count, gap in batches:  # concurrent callers, then a pause
        for sent in _reserved_at_once(pacer, clock, ["revokeApiKey"] * count):
            arrivals.append(sent + jitter.uniform(0.0, 0.5))
        clock.now = max(clock.now, *arrivals) + gap
    assert [server.acquire("user", "revokeApiKey", None, at) for at in sorted(arrivals)] == [
        None
    ] * len(arrivals)


@pytest.mark.parametrize("at_once", [False, True], ids=["back-to-back", "at-once"])
@pytest.mark.parametrize(
    ("route", "seconds", "allowed"),
    [("revokeApiKey", 60.0, 700), ("listApiKeys", 1.0, 40), ("createOrgApiKey", 1.0, 10)],
)
def test_neons_limits_hold_in_every_window(
    route: str, seconds: float, allowed: int, at_once: bool
) -> None:
    """Bulk work on one route never puts more than Neon allows in any window of its limit."""
    clock = FakeClock()
    pacer = Pacer(RateLimits(), clock)
    count = 2000 if seconds == 60.0 else 400
    if at_once:
        times = _reserved_at_once(pacer, clock, [route] * count)
    else:
        times = _send_times(pacer, clock, route, count)
    assert _most_in_window(times, seconds) <= allowed


step = (
    st.tuples(st.just("calls"), st.sampled_from(ROUTES), st.integers(1, 60), st.booleans())
    | st.tuples(st.just("gap"), st.floats(0.0, 90.0))
    | st.tuples(st.just("429"), st.floats(0.0, 5.0))
    | st.tuples(st.just("ok"), st.integers(1, 100))
)


@settings(max_examples=200, deadline=None)
@given(
    per_minute=st.integers(1, 1500) | st.floats(0.5, 1500),
    per_route=st.integers(1, 80) | st.floats(0.5, 80),
    org_create=st.integers(1, 20) | st.floats(0.5, 20),
    steps=st.lists(step, max_size=25),
)
def test_no_window_ever_exceeds_a_limit(
    per_minute: float, per_route: float, org_create: float, steps: list[tuple[Any, ...]]
) -> None:
    """Whatever the limits and arrivals (bursts, concurrency, gaps, 429s), no limit is exceeded."""
    limits = RateLimits(per_minute, per_route, org_create)
    clock = FakeClock()
    pacer = Pacer(limits, clock)
    sent: list[tuple[str, float]] = []
    for kind, *args in steps:
        if kind == "calls":
            route, count, at_once = args
            if at_once:  # concurrent callers, each reserving its slot at the same instant
                sent += [(route, t) for t in _reserved_at_once(pacer, clock, [route] * count)]
            else:  # one caller, back to back
                sent += [(route, t) for t in _send_times(pacer, clock, route, count)]
        elif kind == "gap":
            clock.now += args[0]
        elif kind == "429":
            pacer.backoff(args[0])
        else:
            for _ in range(args[0]):
                pacer.recovered()
    _assert_within_limits(limits, sent)


@pytest.mark.parametrize(
    ("route", "bucket"), [("listApiKeys", "route"), ("createOrgApiKey", "org_create")]
)
def test_sustained_rate_per_route_is_the_planned_one(route: str, bucket: str) -> None:
    """Bulk work on one route runs at its planned rate: 39 of 40 a second, 9 of 10 for creations."""
    clock = FakeClock()
    pacer = Pacer(RateLimits(per_minute=1e9), clock)
    pace: Pace = getattr(pacer.plan, bucket)
    times = _send_times(pacer, clock, route, 400)
    assert sum(sent < times[0] + 10.0 for sent in times) == 10 * pace.most
    limit = (
        RateLimits().burst_per_route if bucket == "route" else RateLimits().org_create_per_second
    )
    assert pace.rate == limit - 1


def test_sustained_rate_per_account_is_the_planned_one() -> None:
    """Bulk work over several routes runs at the planned account rate, 699 of 700 a minute."""
    clock = FakeClock()
    pacer = Pacer(RateLimits(), clock)
    pace = pacer.plan.account
    times = []
    for number in range(1500):  # one caller, taking turns on three routes
        times += _send_times(pacer, clock, ROUTES[number % 3], 1)
    assert sum(sent < times[0] + 120.0 for sent in times) == 2 * pace.most == 2 * 699


def test_single_calls_never_wait() -> None:
    """A lone call, calls on different routes at once, and calls a second apart are not paced."""
    clock = FakeClock()
    pacer = Pacer(RateLimits(), clock)
    assert [pacer.reserve(route) for route in ROUTES] == [0.0] * len(ROUTES)
    for _ in range(100):
        clock.now += 1.0
        assert pacer.reserve("listApiKeys") == 0.0


def test_429_pauses_and_slows_down() -> None:
    """After a 429 every route waits out the pause, then runs slower for a while."""
    clock = FakeClock()
    pacer = Pacer(RateLimits(per_minute=600, burst_per_route=20), clock)
    rate = pacer.plan.account.rate
    assert rate < pacer.plan.route.rate  # the account's pace is the one a 429 slows
    _send_times(pacer, clock, "revokeApiKey", 20)
    pacer.backoff(3.0)
    assert pacer.reserve("listApiKeys") >= 3.0 - 1e-9
    times = _send_times(pacer, clock, "revokeApiKey", 30)
    assert (len(times) - 1) / (times[-1] - times[0]) == pytest.approx(rate / 1.5)
    for _ in range(500):
        pacer.recovered()
    times = _send_times(pacer, clock, "revokeApiKey", 60)
    assert (len(times) - 1) / (times[-1] - times[0]) == pytest.approx(rate)


def test_a_pause_never_lets_queued_work_exceed_a_limit() -> None:
    """A 429 while many calls are queued slows the rest without widening the account's burst."""
    clock = FakeClock()
    pacer = Pacer(RateLimits(), clock)
    routes = [ROUTES[n % 4] for n in range(900)]
    times = _reserved_at_once(pacer, clock, routes)
    clock.now += 1.0
    pacer.backoff(1.0)
    times += _reserved_at_once(pacer, clock, routes)
    assert min(times[900:]) >= max(times[:900])
    assert _most_in_window(times, 60.0) <= 700


def test_a_retry_after_left_to_the_caller_holds_later_calls_no_longer_than_the_cap(
    fake: FakeNeon, skipped_waits: SkippedWaits
) -> None:
    """After a 429 asking for an hour, the client's next calls wait at most max_retry_after."""
    fake.route(
        "GET",
        "/api_keys",
        json_response({"message": "slow"}, status=429, **{"Retry-After": "3600"}),
    )
    neon = fake.sync_client(backoff=Backoff(max_retry_after=5.0))
    waits = skipped_waits.waits
    with pytest.raises(RateLimitError) as caught:
        neon.personal_keys.list()
    assert caught.value.retry_after == 3600 and waits == []
    neon.with_options(max_retries=0).whoami()  # copies share the pacer, and its pause
    neon.whoami()
    assert waits[0] == pytest.approx(5.0) and max(waits) <= 5.0


def test_pacing_survives_latency_jitter() -> None:
    """Paced under the server's limit, requests whose latency varies by 0.5 s are not refused."""
    from neon_keys.testing._ratelimit import RateLimiter, ServerRateLimits

    clock = FakeClock()
    pacer = Pacer(RateLimits(per_minute=1e9, burst_per_route=40), clock)
    server = RateLimiter(ServerRateLimits(per_minute=1e9, burst_per_route=40))
    jitter = random.Random(7)
    for number in range(400):
        clock.now += pacer.reserve("revokeApiKey")
        # The first request also opens the connection; later ones are up to 0.5 s quicker.
        latency = 0.5 if number == 0 else jitter.uniform(0.0, 0.5)
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
            rate_limits=RateLimits(),
        )
        self.plan = plan(RateLimits())
        # Every wait the client skips moves the emulator's clock on by as much.
        self.testing = set_testing(on_wait=self.clock.advance)

    def personal_keys(self, count: int) -> list[int]:
        """Issue ``count`` personal keys to the admin (not through the API); their ids."""
        admin = self.world.seed.admin_id
        for number in range(count):
            self.world.issue_personal_key(admin, f"bulk-{number}")
        return [key.id for key in self.world.personal_keys(admin)[1:]]

    def seconds_for(self, count: int, *paces: Pace) -> float:
        """How long ``count`` calls take, back to back, at the slowest of ``paces``."""
        return max(_seconds_until(pace, count) for pace in paces)

    def refused(self) -> int:
        """Requests the emulator refused with 429."""
        return sum(record.rate_limited for record in self.world.log)

    def close(self) -> None:
        self.testing.restore()
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
    paces = setup.plan
    assert setup.clock.monotonic() == pytest.approx(
        setup.seconds_for(150, paces.account, paces.route), rel=0.01
    )


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
    paces = setup.plan
    assert setup.clock.monotonic() == pytest.approx(
        setup.seconds_for(800, paces.account, paces.route), rel=0.01
    )


def test_org_key_creation_stays_under_10_per_second(
    paced: Callable[[ServerRateLimits], Paced],
) -> None:
    """Creating 40 organization keys in a loop meets no 429 from the 10/s limit."""
    setup = paced(ServerRateLimits())
    keys = setup.neon.org(setup.world.seed.org_id).keys
    created = [keys.create(f"deploy-{number}") for number in range(40)]
    assert len({key.id for key in created}) == 40
    assert setup.refused() == 0
    paces = setup.plan
    assert setup.clock.monotonic() == pytest.approx(
        setup.seconds_for(40, paces.account, paces.org_create), rel=0.01
    )


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


@pytest.mark.anyio
@pytest.mark.parametrize("concurrency", [0, -1, True, 2.0, "2"])
async def test_async_revoke_many_refuses_a_concurrency_that_is_not_a_positive_int(
    concurrency: object,
) -> None:
    """concurrency must be an int of at least 1: anything else is refused before any request."""
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return json_response({"id": 1, "name": "k", "revoked": True})

    client = AsyncNeonKeys(
        api_key="napi_test",
        base_url="https://console.neon.tech/api/v2",
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(record)),
    )
    with pytest.raises(
        ValueError, match=f"concurrency must be a positive integer, got {concurrency!r}"
    ):
        await client.personal_keys.revoke_many([1, 2], concurrency=concurrency)  # type: ignore[arg-type]
    assert sent == []


@pytest.mark.anyio
async def test_async_revoke_many_with_concurrency_one_revokes_one_at_a_time() -> None:
    """concurrency=1 is allowed and revokes every id, one after another, in order."""
    order: list[int] = []

    def record(request: httpx.Request) -> httpx.Response:
        key_id = int(request.url.path.rsplit("/", 1)[1])
        order.append(key_id)
        return json_response({"id": key_id, "name": "k", "revoked": True})

    client = AsyncNeonKeys(
        api_key="napi_test",
        base_url="https://console.neon.tech/api/v2",
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(record)),
    )
    outcomes = await client.personal_keys.revoke_many([3, 1, 2], concurrency=1)
    assert [o.key_id for o in outcomes] == [3, 1, 2] == order
    assert all(o.ok for o in outcomes)


def test_a_revoke_outcome_cannot_be_changed() -> None:
    """Outcomes handed to callers and to on_outcome are immutable."""
    import dataclasses

    outcome: RevokeOutcome[Any] = RevokeOutcome(7, RevokeStatus.REVOKED)
    with pytest.raises(dataclasses.FrozenInstanceError):
        outcome.status = RevokeStatus.FAILED  # type: ignore[misc]
    assert outcome.ok and outcome.status is RevokeStatus.REVOKED


def test_a_limit_under_two_is_paced_at_half_of_it_one_at_a_time() -> None:
    """A limit below two requests per window paces at half of it (at most one a window), one
    request at a time: 1.5/s gives 0.5/s, 0.4/s gives 0.2/s, one a minute gives one in 120 s."""
    one_second = {"burst": 1, "most": 0, "seconds": 1.0}
    assert plan(RateLimits(org_create_per_second=1.5)).org_create == Pace(0.5, **one_second)
    assert plan(RateLimits(org_create_per_second=0.4)).org_create == Pace(0.2, **one_second)
    assert plan(RateLimits(per_minute=1)).account == Pace(1 / 120, 1, 0, 60.0)


def test_limits_and_their_plan_cannot_be_changed() -> None:
    """RateLimits, and the Plan and Paces made from them, are immutable once made."""
    import dataclasses

    limits = RateLimits()
    made = plan(limits)
    for obj, field in ((limits, "per_minute"), (made, "account"), (made.account, "rate")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, field, 1)


def test_the_account_burst_is_at_most_a_tenth_of_the_limit_in_whole_requests() -> None:
    """A small per-minute limit bursts a tenth of it, rounded down: 60 gives 6, 55 gives 5."""
    assert plan(RateLimits(per_minute=60)).account == Pace(59 / 60, 6, 59, 60.0)
    assert plan(RateLimits(per_minute=55)).account == Pace(54 / 60, 5, 54, 60.0)


def test_org_key_creation_bursts_half_of_its_own_limit() -> None:
    """Organization-key creation bursts half of its own limit, not of the route's."""
    limits = RateLimits(org_create_per_second=30, burst_per_route=40)
    assert plan(limits).org_create == Pace(29.0, 15, 29, 1.0)


def test_a_429_pause_holds_the_next_request_and_a_negative_one_holds_nothing() -> None:
    """backoff(pause) makes the next reservation wait the pause (and says so by returning
    True, so the caller does not wait twice); a negative pause is no pause."""
    clock = FakeClock()
    pacer = Pacer(RateLimits(), clock)
    assert pacer.backoff(2.5) is True
    assert pacer.reserve("listApiKeys") == pytest.approx(2.5)
    calm = Pacer(RateLimits(), clock)
    assert calm.backoff(-3.0) is True
    assert calm.reserve("listApiKeys") == 0.0


def test_a_client_without_pacing_never_waits_and_leaves_a_429_pause_to_its_caller() -> None:
    """NoPacing (rate_limits=None) reserves with no wait and answers backoff with False."""
    from neon_keys._pacing import NoPacing

    pacer = NoPacing()
    assert pacer.reserve("createApiKey") == 0.0
    assert pacer.backoff(3.0) is False
