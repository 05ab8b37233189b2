"""pytest fixtures that give each test an emulated Neon on a loopback port.

This plugin is registered (entry point ``pytest11``) wherever neon-api-keys is installed,
so it is imported by every pytest run there: it imports only pytest and the standard
library. The fixtures load the emulator when a test asks for one; without the ``sandbox``
extra they fail that test with a message saying to ``pip install 'neon-api-keys[sandbox]'``.

Fixtures:

``neon_world``
    a fresh ``World.seeded()`` for each test: organization ``org-cool-breeze-12345678``,
    project ``summer-haze-17190561``, an admin and a plain member with personal keys
    (``neon_world.seed``). Configure it further, inject faults, read its request log.
``neon_emulator``
    an ``EmulatorServer`` serving ``neon_world``, with ``base_url``, ``api_key`` (the
    admin's personal key), ``org_id`` and ``project_id``. One server runs per session;
    each test's world is swapped in.
``neon_client``
    a ``neon_keys.NeonKeys`` on ``neon_emulator``, acting as the admin; closed afterwards.
``async_neon_client``
    the ``neon_keys.AsyncNeonKeys`` twin, for async tests run by anyio
    (``@pytest.mark.anyio``).

    def test_create(neon_client, neon_world):
        key = neon_client.personal_keys.create("ci")
        assert neon_world.key(key.id).name == "ci"
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from neon_keys import AsyncNeonKeys, NeonKeys
    from neon_keys.testing import EmulatorServer, World

__all__ = ["async_neon_client", "neon_client", "neon_emulator", "neon_world"]


def _server_class() -> type[EmulatorServer]:
    try:
        from neon_keys.testing import EmulatorServer  # noqa: PLC0415 - only when used
    except ImportError as err:
        pytest.fail(f"neon_keys fixtures: {err}", pytrace=False)
    return EmulatorServer


@pytest.fixture
def neon_world() -> World:
    """A fresh seeded ``World`` (see ``World.seeded``) for this test."""
    from neon_keys.testing import World  # noqa: PLC0415 - only when used

    return World.seeded()


@pytest.fixture(scope="session")
def _neon_emulator_server() -> Iterator[EmulatorServer]:
    """One loopback emulator for the whole session; tests swap their world in."""
    with _server_class()() as server:
        yield server


@pytest.fixture
def neon_emulator(_neon_emulator_server: EmulatorServer, neon_world: World) -> EmulatorServer:
    """A running loopback emulator serving this test's ``neon_world``."""
    _neon_emulator_server.world = neon_world
    return _neon_emulator_server


@pytest.fixture
def neon_client(neon_emulator: EmulatorServer) -> Iterator[NeonKeys]:
    """A ``NeonKeys`` client on the emulator, using the seeded admin's personal key."""
    from neon_keys import NeonKeys  # noqa: PLC0415 - only when used

    with NeonKeys(api_key=neon_emulator.api_key, base_url=neon_emulator.base_url) as client:
        yield client


@pytest.fixture
async def async_neon_client(
    neon_emulator: EmulatorServer, anyio_backend: object
) -> AsyncIterator[AsyncNeonKeys]:
    """An ``AsyncNeonKeys`` client on the emulator, using the seeded admin's personal key."""
    from neon_keys import AsyncNeonKeys  # noqa: PLC0415 - only when used

    async with AsyncNeonKeys(
        api_key=neon_emulator.api_key, base_url=neon_emulator.base_url
    ) as client:
        yield client
