"""The sandbox's control routes: move its clock, plan faults and stop it from another process.

``neon-keys sandbox`` serves a ``SandboxApp``: the emulator, plus a few routes under
``/_sandbox``, a path Neon's API never has, for the ``neon-keys sandbox status``,
``advance``, ``fault`` and ``stop`` commands:

    GET    /_sandbox           the clock, the planned faults and the server's process id
    POST   /_sandbox/clock     {"advance_seconds": 86400}: move the clock forward
    POST   /_sandbox/faults    {"operation_id": "createApiKey", "fault": "lost-response",
                                "times": 1, ...}: plan a fault (see ``build_fault``)
    DELETE /_sandbox/faults    forget every planned fault
    POST   /_sandbox/stop      ask the sandbox to stop

They answer only requests that carry the key the sandbox printed when it started (its
``NEON_API_KEY``, as ``Authorization: Bearer ...``), revoked or not, with JSON; errors are
``{"error": message}``. They are not API requests: the request log does not hold them.
"""

from __future__ import annotations

import hmac
import json
import math
import os
import threading
from typing import Any

from ._app import BASE_PATH, EmulatorApp, Receive, Scope, Send
from ._clock import OffsetClock
from ._extras import missing_extra
from ._faults import build_fault
from ._protocol import CONTROL_PATH
from ._store import hash_token, iso
from ._world import World

try:
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route, Router
except ImportError as _err:  # pragma: no cover - depends on the environment
    raise missing_extra(_err) from _err

__all__ = ["CONTROL_PATH", "SandboxApp"]

MAX_CONTROL_BODY = 4096
"""The largest control request body read, in bytes."""


class SandboxApp(EmulatorApp):
    """The emulator with the sandbox's control routes (see the module docstring).

    Args:
        world: the world to serve; it must be seeded (its admin's key opens the controls).
        base_path: the path prefix of the API's operations.

    Attributes:
        stop_requested: set when a client asked the sandbox to stop.
    """

    def __init__(self, world: World, *, base_path: str = BASE_PATH) -> None:
        super().__init__(world, base_path=base_path)
        self.stop_requested = threading.Event()
        self._credential = hash_token(world.seed.admin_token)
        self._controls = Router(
            routes=[
                Route(CONTROL_PATH, self._status, methods=["GET"]),
                Route(f"{CONTROL_PATH}/clock", self._advance, methods=["POST"]),
                Route(f"{CONTROL_PATH}/faults", self._plan_fault, methods=["POST"]),
                Route(f"{CONTROL_PATH}/faults", self._clear_faults, methods=["DELETE"]),
                Route(f"{CONTROL_PATH}/stop", self._stop, methods=["POST"]),
            ],
            redirect_slashes=False,
            default=self._no_control,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a control route, or pass the request to the emulator."""
        path = scope.get("path", "")
        if scope["type"] == "http" and (
            path == CONTROL_PATH or path.startswith(CONTROL_PATH + "/")
        ):
            await self._controls(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    # -- the routes -------------------------------------------------------------------------

    async def _status(self, request: Request) -> Response:
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        return JSONResponse(self._state())

    async def _advance(self, request: Request) -> Response:
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        body = await _json_object(request)
        if isinstance(body, Response):
            return body
        seconds = body.get("advance_seconds")
        if not isinstance(seconds, int | float) or isinstance(seconds, bool):
            return _error(400, "advance_seconds must be a number of seconds")
        if not 0 <= seconds < math.inf:
            return _error(400, "advance_seconds must be finite and not negative")
        try:
            self.world.advance_clock(seconds)
        except TypeError as err:
            return _error(409, str(err))
        except ValueError as err:
            return _error(400, str(err))
        return JSONResponse(self._state())

    async def _plan_fault(self, request: Request) -> Response:
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        body = await _json_object(request)
        if isinstance(body, Response):
            return body
        unknown = sorted(set(body) - set(_FAULT_FIELDS))
        if unknown:
            return _error(400, f"unknown field {unknown[0]!r}")
        wrong = [name for name, kinds in _FAULT_FIELDS.items() if not _fits(body.get(name), kinds)]
        if wrong:
            return _error(400, f"{wrong[0]} has the wrong type")
        try:
            fault = build_fault(
                body["fault"],
                status=body.get("status"),
                seconds=body.get("seconds"),
                committed=body.get("committed"),
                content_type=body.get("content_type"),
            )
            self.world.faults.inject(body["operation_id"], fault, times=body.get("times", 1))
        except ValueError as err:
            return _error(400, str(err))
        return JSONResponse(self._state())

    async def _clear_faults(self, request: Request) -> Response:
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        self.world.faults.clear()
        return JSONResponse(self._state())

    async def _stop(self, request: Request) -> Response:
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        self.stop_requested.set()
        return JSONResponse({**self._state(), "stopping": True})

    async def _no_control(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _error(404, f"no control route {scope['path']}")(scope, receive, send)

    # -- helpers ----------------------------------------------------------------------------

    def _refusal(self, request: Request) -> Response | None:
        """None when the request carries the sandbox's key, else a 401 to send."""
        scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() == "bearer" and token and self._opens(token):
            return None
        return _error(401, "the sandbox's controls need the key it printed (NEON_API_KEY)")

    def _opens(self, token: str) -> bool:
        """Whether ``token`` is the key the sandbox printed (compared in constant time)."""
        return hmac.compare_digest(hash_token(token), self._credential)

    def _state(self) -> dict[str, Any]:
        """What the status route answers: the clock, the planned faults, the process id."""
        clock = self.world.clock
        offset = clock.offset if isinstance(clock, OffsetClock) else None
        return {
            "now": iso(clock.now()),
            "clock_offset_seconds": offset,
            "faults": [
                {
                    "operation_id": planned.operation_id,
                    "fault": str(planned.fault),
                    "remaining": planned.remaining,
                }
                for planned in self.world.faults.pending
            ],
            "pid": os.getpid(),
        }


async def _json_object(request: Request) -> dict[str, Any] | Response:
    """The request's body as a JSON object, or the 400 to send instead."""
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_CONTROL_BODY:
            return _error(413, "request body too large")
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return _error(400, "the body must be a JSON object")
    if not isinstance(value, dict):
        return _error(400, "the body must be a JSON object")
    return value


_FAULT_FIELDS: dict[str, tuple[type, ...]] = {
    "operation_id": (str,),
    "fault": (str,),
    "times": (int, type(None)),
    "status": (int, type(None)),
    "seconds": (int, float, type(None)),
    "committed": (bool, type(None)),
    "content_type": (str, type(None)),
}
"""The fields of a fault plan and the types each takes (None: the default)."""


def _fits(value: object, kinds: tuple[type, ...]) -> bool:
    """Whether ``value`` is of one of ``kinds``, a bool counting as a number for none."""
    if isinstance(value, bool) and bool not in kinds:
        return False
    return isinstance(value, kinds)


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)
