"""neon_keys.testing: an emulator of Neon's API-key operations, for tests, demos and offline use.

    from neon_keys import NeonKeys
    from neon_keys.testing import EmulatorServer, Fault, World

    world = World.seeded()                    # an org, a project, an admin and a member
    with EmulatorServer(world) as server:     # uvicorn on 127.0.0.1, an ephemeral port
        with NeonKeys(api_key=server.api_key, base_url=server.base_url) as neon:
            world.faults.inject("createApiKey", Fault.lost_response())
            ...
        assert world.log.count("createApiKey") == 1

The pieces:

- ``World``: users, organizations, projects and keys in memory, configured from Python
  (``add_user``, ``add_org``, ``add_project``, ``issue_personal_key``, ``issue_org_key``),
  with a ``Clock`` (``FakeClock`` in tests; ``OffsetClock``, real time that
  ``world.advance_clock`` moves forward), optional ``ServerRateLimits``, planned
  ``faults`` (``Fault``) and a request ``log``. Its records live in a ``Store``
  (``world.store``), which the app and its handlers use.
- ``EmulatorApp`` / ``create_app``: the ASGI app serving a world under ``/api/v2``; its
  docstring lists the request steps and the deliberate departures from ``openapi.yaml``.
- ``EmulatorServer``: the app on a loopback port, in a background thread.
- ``AsyncEmulatorTransport`` / ``EmulatorTransport``: the app in process, for
  ``httpx.AsyncClient`` and ``httpx.Client``.
- ``neon_keys.testing.pytest_plugin``: the ``neon_world``, ``neon_emulator``,
  ``neon_client`` and ``async_neon_client`` fixtures.

The app, server and transports need the ``sandbox`` extra (starlette, uvicorn):
``pip install 'neon-api-keys[sandbox]'``. Importing this package does not load them; the
names that need them do, on first use, and fail with that advice if they are missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_names

# The names of _HOMES, for type checkers (``import X as X`` marks a re-export).
if TYPE_CHECKING:
    from ._app import (  # noqa: I001
        EmulatorApp as EmulatorApp,
        create_app as create_app,
    )
    from ._clock import (
        Clock as Clock,
        FakeClock as FakeClock,
        OffsetClock as OffsetClock,
        SystemClock as SystemClock,
    )
    from ._faults import (
        ConnectionDropped as ConnectionDropped,
        ConnectionReset as ConnectionReset,
        Fault as Fault,
        Faults as Faults,
        InjectedFault as InjectedFault,
    )
    from ._log import (
        RequestLog as RequestLog,
        RequestRecord as RequestRecord,
    )
    from ._ratelimit import (
        ServerRateLimits as ServerRateLimits,
    )
    from ._server import (
        EmulatorServer as EmulatorServer,
    )
    from ._transport import (
        AsyncEmulatorTransport as AsyncEmulatorTransport,
        EmulatorTransport as EmulatorTransport,
    )
    from ._world import (
        KeyInfo as KeyInfo,
        Seed as Seed,
        World as World,
    )

_HOMES = {
    "._app": ("EmulatorApp", "create_app"),
    "._clock": ("Clock", "FakeClock", "OffsetClock", "SystemClock"),
    "._faults": ("ConnectionDropped", "ConnectionReset", "Fault", "Faults", "InjectedFault"),
    "._log": ("RequestLog", "RequestRecord"),
    "._ratelimit": ("ServerRateLimits",),
    "._server": ("EmulatorServer",),
    "._transport": ("AsyncEmulatorTransport", "EmulatorTransport"),
    "._world": ("KeyInfo", "Seed", "World"),
}
__all__ = sorted(name for names in _HOMES.values() for name in names)  # noqa: PLE0605
__getattr__, __dir__ = lazy_names(__name__, globals(), _HOMES)
