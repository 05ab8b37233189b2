"""The ASGI app that serves a ``World`` as Neon's API-key operations.

Built on Starlette's router: it is small, typed and well kept, and the same app runs in
process (``httpx.ASGITransport``, ``AsyncEmulatorTransport``, ``EmulatorTransport``) and on
uvicorn (``EmulatorServer``). Only routing comes from Starlette; each operation sends its
response through raw ASGI messages, which is what lets a fault cut a body short or drop
the connection after the state has changed.

A request goes through these steps; the first that answers ends it:

1. a path or method outside the eight operations: 404 or 405;
2. an injected fault that strikes before acting (``Fault.before``: a fault that is not
   ``committed``);
3. authentication (``Authorization: Bearer <token>``): 401 for a missing, unknown or
   revoked key, or a project key whose project left the organization. A key that passes
   counts as used (``last_used_at``, ``last_used_from_addr``), whatever follows;
4. the rate limits, if the world has any: 429 with ``Retry-After``;
5. the operation itself (see ``_handlers``): 400, 403, 404 or success;
6. an injected fault that strikes after acting (``Fault.after``: a ``committed`` fault),
   or the response as it is.

Steps 3 to 5 run in one transaction of the world's ``Store``, which the app and the
handlers use through its public methods; the app reaches the connection only through the
``Exchange`` it hands a fault.

Every response is JSON (``application/json; charset=utf-8``) unless a fault says otherwise
and carries ``x-neon-ret-request-id``: the request's ``X-Request-ID`` when it sent a sane
one, else a new uuid4. Error bodies are ``{"code": "", "message": ..., "request_id": ...}``.
Each request is appended to ``world.log`` before its response starts to leave, so a client
that has its answer always finds it logged.

Where the emulator departs from ``openapi.yaml``, it does so on purpose, to answer as the
live service does:

- ``created_by`` (in create and revoke responses) and ``created_by.id`` (in listings) are
  user ids that need not be UUIDs (``user_01h...``), although the spec says
  ``format: uuid``;
- with ``World(legacy_shapes=True)``, create responses lack ``created_by`` and revoke
  responses lack ``created_at`` and ``created_by``, as recorded in early 2024, although the
  spec lists them as required.

Everything else validates against the spec (``tests/testing/test_emulator_conformance.py``).
"""

from __future__ import annotations

import email.utils
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, NoReturn

from .._constants import ENDPOINTS, REQUEST_ID_HEADER
from ._extras import missing_extra
from ._faults import RESET_HOOK, ConnectionDropped, ConnectionReset, Fault
from ._handlers import HANDLERS, Call, Refused
from ._log import RequestLog, RequestRecord
from ._responses import JSON_CONTENT_TYPE, Response, error_response, json_response
from ._store import Store
from ._world import World

try:
    import anyio
    from starlette.routing import Mount, Route, Router
except ImportError as _err:  # pragma: no cover - depends on the environment
    raise missing_extra(_err) from _err

__all__ = [
    "BASE_PATH",
    "JSON_CONTENT_TYPE",
    "EmulatorApp",
    "Receive",
    "Scope",
    "Send",
    "create_app",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

BASE_PATH = "/api/v2"
"""Where the operations live, as on ``https://console.neon.tech/api/v2``."""

MAX_REQUEST_ID_LENGTH = 200
MAX_BODY_BYTES = 1 << 20
_REQUEST_ID_HEADER = REQUEST_ID_HEADER.lower().encode("latin-1")
_RESET_GRACE = 5.0  # seconds to wait for the server to see a connection it reset go away


def _operations_by_path() -> dict[str, dict[str, str]]:
    """``ENDPOINTS`` grouped by path template: ``{path: {method: operation id}}``."""
    paths: dict[str, dict[str, str]] = {}
    for operation_id, method, path in ENDPOINTS:
        paths.setdefault(path, {})[method] = operation_id
    return paths


def create_app(world: World | None = None, *, base_path: str = BASE_PATH) -> EmulatorApp:
    """An ASGI app serving ``world`` (default ``World.seeded()``) under ``base_path``."""
    return EmulatorApp(world, base_path=base_path)


class EmulatorApp:
    """The emulator as an ASGI application.

    Args:
        world: the state to serve; default ``World.seeded()``.
        base_path: the path prefix of every operation; default ``/api/v2``.

    Attributes:
        world: the world being served. It may be replaced between requests (the pytest
            plugin gives each test a fresh one on a shared server).
    """

    def __init__(self, world: World | None = None, *, base_path: str = BASE_PATH) -> None:
        self.world = world if world is not None else World.seeded()
        self.base_path = "/" + base_path.strip("/") if base_path.strip("/") else ""
        routes = [
            Route(path, endpoint=_Operations(self._serve, operations))
            for path, operations in _operations_by_path().items()
        ]
        inner = Router(routes=routes, redirect_slashes=False, default=self._unknown_path)
        mounted = [Mount(self.base_path, app=inner)] if self.base_path else routes
        self._router = Router(routes=mounted, redirect_slashes=False, default=self._unknown_path)

    def __repr__(self) -> str:
        return f"<EmulatorApp at {self.base_path or '/'} serving {self.world!r}>"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection (``http``, or ``lifespan`` from a server)."""
        if scope["type"] == "http":
            send = _dated(send, self.world)
        await self._router(scope, receive, send)

    async def _unknown_path(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await self._refuse(scope, send, Refused(404, f"no such path: {scope['path']}"))

    async def _refuse(
        self, scope: Scope, send: Send, refusal: Refused, headers: dict[str, str] | None = None
    ) -> None:
        """Answer a request outside the eight operations (logged without an operation id)."""
        request_id = _request_id(scope)
        response = _refusal(refusal, request_id, headers)
        # Logged before it is answered: a client that has its answer finds it in the log.
        self.world.log.append(
            RequestRecord(scope["method"], scope["path"], None, response.status, False, request_id)
        )
        await _send(send, response)

    async def _serve(
        self, scope: Scope, receive: Receive, send: Send, operations: dict[str, str]
    ) -> None:
        """Serve a request to one of the operation paths (``operations``: method -> id)."""
        operation_id = operations.get(scope["method"])
        if operation_id is None:
            allow = ", ".join(operations)
            refusal = Refused(405, f"method {scope['method']} not allowed; use {allow}")
            await self._refuse(scope, send, refusal, {"allow": allow})
            return
        world = self.world
        body = await _read_body(receive)
        exchange = _Exchange(
            scope,
            receive,
            send,
            world.log,
            operation_id=operation_id,
            fault=world.faults.take(operation_id),
        )
        with world.log.serving():
            try:
                await _run(world.store, exchange, body)
            finally:
                exchange.log()  # however it ended: a drop, a reset, a cancellation


class _Operations:
    """The ASGI endpoint of one path: hands its requests to the app. Strictly private."""

    def __init__(
        self,
        serve: Callable[[Scope, Receive, Send, dict[str, str]], Awaitable[None]],
        operations: dict[str, str],
    ) -> None:
        self.serve = serve
        self.operations = operations

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.serve(scope, receive, send, self.operations)


class _Exchange:
    """One request of an operation, and what a fault may do to its connection.

    It records the outcome (status, change, rate limiting) and appends it to the log once,
    before the response starts to leave, so a client that has its answer finds the request
    logged. Strictly private.
    """

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        log: RequestLog,
        *,
        operation_id: str,
        fault: Fault | None,
    ) -> None:
        self.scope = scope
        self.receive = receive
        self.transmit = send
        self.journal = log
        self.operation_id = operation_id
        self.fault = fault
        self.request_id = _request_id(scope)
        self.status: int | None = None
        self.changed = False
        self.rate_limited = False
        self.logged = False

    def log(self) -> None:
        """Append the request's record, once."""
        if self.logged:
            return
        self.logged = True
        self.journal.append(
            RequestRecord(
                self.scope["method"],
                self.scope["path"],
                self.operation_id,
                status=self.status,
                changed=self.changed,
                request_id=self.request_id,
                fault=self.fault,
                rate_limited=self.rate_limited,
            )
        )

    async def send(self, response: Response) -> None:
        """Send a whole response."""
        self.status = response.status
        self.log()
        await _send(self.transmit, response)

    async def drop(self, response: Response) -> NoReturn:
        """Announce the whole body, send half of it, and break the connection."""
        self.log()  # a cut response has no status
        half = Response(response.status, response.headers, response.body[: len(response.body) // 2])
        await _send(self.transmit, half, more=True)
        raise ConnectionDropped("connection dropped by the Neon emulator (an injected fault)")

    async def reset(self) -> None:
        """Abort the connection before any response: a TCP reset on a socket, else raise.

        The request is logged first, so the log is complete by the time the client sees the
        reset. ``EmulatorServer`` hands each request a hook that aborts its connection
        (``RESET_HOOK`` in the request's ``state``); after using it, wait for the server to
        notice the connection is gone, so that it does not try to answer for the app. In
        process there is no connection: raise ``ConnectionReset``, the transport error the
        client would see.
        """
        self.log()
        abort = (self.scope.get("state") or {}).get(RESET_HOOK)
        if abort is None:
            raise ConnectionReset("connection reset by the Neon emulator (an injected fault)")
        abort()
        with anyio.move_on_after(_RESET_GRACE):
            while (await self.receive())["type"] != "http.disconnect":
                pass

    async def hold(self, seconds: float) -> bool:
        """Wait ``seconds``, or until the client goes away; False if it went away."""
        with anyio.move_on_after(seconds):
            while (await self.receive())["type"] != "http.disconnect":
                pass
            return False
        return True


# -- one request ---------------------------------------------------------------------------


async def _run(store: Store, exchange: _Exchange, body: bytes | None) -> None:
    """Let the fault strike first, carry the request out, then deliver the answer."""
    fault = exchange.fault
    if fault is not None and await fault.before(exchange):
        return
    if body is None:
        response = _refusal(Refused(413, "request body too large"), exchange.request_id)
    else:
        response = _process(store, exchange, body)
    exchange.rate_limited = response.status == 429
    if fault is None:
        await exchange.send(response)
    else:
        await fault.after(exchange, response)


def _process(store: Store, exchange: _Exchange, body: bytes) -> Response:
    """Authenticate, rate-limit and run the operation, as one transaction of the store."""
    scope, request_id = exchange.scope, exchange.request_id
    operation_id = exchange.operation_id
    with store.transaction():
        try:
            caller = store.authenticate(_bearer_token(scope))
            if caller is None:
                raise Refused(401, "authentication failed: unknown or revoked API key")
            client = scope.get("client")
            store.touch(caller, client[0] if client else None)
            params: dict[str, str] = dict(scope.get("path_params", {}))
            wait = store.admit(caller.owner, operation_id, params.get("org_id"))
            if wait is not None:
                refusal = Refused(429, f"rate limit exceeded; retry in {wait} s")
                return _refusal(refusal, request_id, {"retry-after": str(wait)})
            reply = HANDLERS[operation_id](store, Call(caller, params, body))
        except Refused as refusal:
            return _refusal(refusal, request_id)
    exchange.changed = reply.changed
    return json_response(reply.status, reply.payload, request_id, reply.headers)


def _refusal(refusal: Refused, request_id: str, headers: dict[str, str] | None = None) -> Response:
    return error_response(
        refusal.status, refusal.message, request_id, code=refusal.code, headers=headers
    )


def _bearer_token(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"authorization":
            text: str = value.decode("latin-1")
            scheme, _, token = text.strip().partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Refused(401, "the Authorization header must be 'Bearer <API key>'")
            return token.strip()
    raise Refused(401, "authentication required: send 'Authorization: Bearer <API key>'")


def _request_id(scope: Scope) -> str:
    """The client's ``X-Request-ID`` if it is sane, else a new uuid4."""
    for name, value in scope["headers"]:
        if name == _REQUEST_ID_HEADER:
            text: str = value.decode("latin-1").strip()
            if 0 < len(text) <= MAX_REQUEST_ID_LENGTH and text.isascii() and text.isprintable():
                return text
            break
    return str(uuid.uuid4())


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body; None if it is larger than ``MAX_BODY_BYTES``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= MAX_BODY_BYTES:
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks) if size <= MAX_BODY_BYTES else None


def _dated(send: Send, world: World) -> Send:
    """``send``, with a ``Date`` header from the world's clock on every response.

    Neon dates its answers by the clock its ``created_at`` values come from; so does the
    emulator, fake clock included (the loopback server leaves out uvicorn's own header).
    """

    async def send_dated(message: Message) -> None:
        if message["type"] == "http.response.start":
            date = email.utils.format_datetime(world.clock.now(), usegmt=True)
            message = {**message, "headers": [*message["headers"], (b"date", date.encode())]}
        await send(message)

    return send_dated


async def _send(send: Send, response: Response, *, more: bool = False) -> None:
    raw = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in response.headers]
    await send({"type": "http.response.start", "status": response.status, "headers": raw})
    await send({"type": "http.response.body", "body": response.body, "more_body": more})
