"""Rate limits: off by default; Neon's documented buckets when turned on; 429 + Retry-After."""

from __future__ import annotations

import math

import pytest
from emulator_helpers import ORG_ID, Api, assert_general_error
from neon_keys import RateLimits
from neon_keys._constants import (
    NEON_BURST_PER_ROUTE,
    NEON_ORG_CREATE_PER_SECOND,
    NEON_REQUESTS_PER_MINUTE,
)
from neon_keys.testing import FakeClock, ServerRateLimits, World

NEON = ServerRateLimits()


def test_limits_are_off_by_default(admin: Api, world: World) -> None:
    """Without rate_limits, a burst of 100 requests on one route all succeed."""
    assert world.rate_limits is None
    assert {admin.get("/auth").status_code for _ in range(100)} == {200}


def test_neons_documented_limits_are_the_defaults() -> None:
    """ServerRateLimits() is 700/min per account, 40/s per route, 10 org creations/s."""
    assert (NEON.per_minute, NEON.burst_per_route, NEON.org_create_per_second) == (700, 40, 10)
    assert NEON.scaled(0.5) == ServerRateLimits(350, 20, 5)
    with pytest.raises(ValueError, match="positive"):
        ServerRateLimits(per_minute=0)
    with pytest.raises(ValueError, match="positive"):
        NEON.scaled(-1)


def test_a_route_allows_a_burst_of_40_per_second(
    admin: Api, world: World, clock: FakeClock
) -> None:
    """The 41st request on one route in the same instant gets 429; a second later it passes."""
    world.rate_limits = NEON
    assert {admin.get("/auth").status_code for _ in range(40)} == {200}
    limited = admin.get("/auth")
    assert_general_error(limited, 429)
    assert limited.headers["retry-after"] == "1"
    assert admin.get("/api_keys").status_code == 200  # another route has its own bucket
    clock.advance(1)
    assert admin.get("/auth").status_code == 200
    assert world.log.last.rate_limited is False
    assert world.log.count("getAuthDetails", status=429) == 1


def test_an_account_allows_700_per_minute(admin: Api, world: World, clock: FakeClock) -> None:
    """With route bursts out of the way, the 701st request of a minute gets 429."""
    world.rate_limits = ServerRateLimits(burst_per_route=1000)
    routes = ["/auth", "/api_keys", "/users/me/organizations", f"/organizations/{ORG_ID}/api_keys"]
    statuses = [admin.get(routes[number % 4]).status_code for number in range(700)]
    assert statuses == [200] * 700
    limited = admin.get("/auth")
    assert_general_error(limited, 429)
    assert limited.headers["retry-after"] == "1"
    clock.advance(60)
    assert admin.get("/auth").status_code == 200


def test_the_account_bucket_refills_at_700_per_minute(
    admin: Api, world: World, clock: FakeClock
) -> None:
    """After the minute's budget is spent, about 11.7 requests a second come back."""
    world.rate_limits = ServerRateLimits(burst_per_route=1000)
    for _ in range(700):
        admin.get("/auth")
    clock.advance(3)
    statuses = [admin.get("/auth").status_code for _ in range(36)]
    assert statuses == [200] * 35 + [429]


def test_org_key_creation_is_limited_to_10_per_second(
    admin: Api, world: World, clock: FakeClock
) -> None:
    """The 11th org-key creation in a second gets 429 and creates nothing."""
    world.rate_limits = NEON
    assert [admin.create_org(f"k{i}").status_code for i in range(10)] == [200] * 10
    assert_general_error(admin.create_org("k10"), 429)
    assert len(world.org_keys(ORG_ID)) == 10
    assert world.log.last.rate_limited and not world.log.last.changed
    assert admin.get(f"/organizations/{ORG_ID}/api_keys").status_code == 200
    clock.advance(1)
    assert admin.create_org("k10").status_code == 200


def test_accounts_are_limited_separately(admin: Api, member: Api, world: World) -> None:
    """One user's exhausted bucket does not limit another user."""
    world.rate_limits = ServerRateLimits(per_minute=5, burst_per_route=5)
    assert [admin.get("/auth").status_code for _ in range(6)] == [200] * 5 + [429]
    assert member.get("/auth").status_code == 200


def test_retry_after_says_when_a_token_is_back(admin: Api, world: World) -> None:
    """With 6 requests a minute, the 7th is told to wait 10 seconds."""
    world.rate_limits = ServerRateLimits(per_minute=6)
    for _ in range(6):
        assert admin.get("/auth").status_code == 200
    assert admin.get("/auth").headers["retry-after"] == "10"


def test_limits_can_be_set_at_construction_and_turned_off(clock: FakeClock) -> None:
    """World(rate_limits=...) enforces them; setting None lifts them."""
    world = World.seeded(clock=clock, rate_limits=ServerRateLimits(per_minute=1))
    assert world.rate_limits == ServerRateLimits(per_minute=1)
    world.rate_limits = None
    assert world.rate_limits is None


@pytest.mark.parametrize("limits_class", [ServerRateLimits, RateLimits])
@pytest.mark.parametrize("bad", [0, -1, math.nan, math.inf, True, "10"])
@pytest.mark.parametrize("field", ["per_minute", "burst_per_route", "org_create_per_second"])
def test_server_and_client_limits_refuse_the_same_values(
    limits_class: type[ServerRateLimits | RateLimits], bad: object, field: str
) -> None:
    """The emulator's and the client's limit settings refuse the same unusable values alike."""
    with pytest.raises(ValueError, match=f"{limits_class.__name__}.{field} must be a positive"):
        limits_class(**{field: bad})  # type: ignore[arg-type]


def test_server_and_client_defaults_are_neons_documented_limits() -> None:
    """Both settings default to the one set of figures in neon_keys._constants."""
    figures = (NEON_REQUESTS_PER_MINUTE, NEON_BURST_PER_ROUTE, NEON_ORG_CREATE_PER_SECOND)
    for limits in (ServerRateLimits(), RateLimits()):
        assert (limits.per_minute, limits.burst_per_route, limits.org_create_per_second) == figures
