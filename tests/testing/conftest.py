"""Fixtures for the emulator's tests: a seeded world on a fake clock, reached in process."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from emulator_helpers import Api
from neon_keys.testing import EmulatorServer, EmulatorTransport, FakeClock, World


@pytest.fixture
def clock() -> FakeClock:
    """A clock that moves only when the test says so."""
    return FakeClock()


@pytest.fixture
def world(clock: FakeClock) -> World:
    """A seeded world on the fake clock."""
    return World.seeded(clock=clock)


@pytest.fixture
def http(world: World) -> Iterator[httpx.Client]:
    """A sync httpx client on ``world`` in process (no socket)."""
    transport = EmulatorTransport(world)
    with httpx.Client(transport=transport, base_url=transport.base_url + "/", timeout=5) as client:
        yield client


@pytest.fixture
def admin(http: httpx.Client, world: World) -> Api:
    """Calls as the seeded org admin's personal key."""
    return Api(http, world.seed.admin_token)


@pytest.fixture
def member(http: httpx.Client, world: World) -> Api:
    """Calls as the seeded plain member's personal key."""
    return Api(http, world.seed.member_token)


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    """One loopback server per module; tests put their own world in it."""
    with EmulatorServer(startup_timeout=10) as running:
        yield running


@pytest.fixture
def served(server: EmulatorServer, world: World) -> EmulatorServer:
    """The module's loopback server, serving this test's world."""
    server.world = world
    return server
