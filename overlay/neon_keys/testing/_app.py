"""The ASGI app that serves a ``World`` as Neon's API-key operations.

Built on Starlette's router: it is small, typed and well kept, and the same app runs in
process (``httpx.ASGITransport``, ``AsyncEmulatorTransport``, ``EmulatorTransport``) and on
uvicorn (``EmulatorServer``). Only routing comes from Starlette; each operation sends its
response through raw ASGI messages, which is what lets a fault cut a body short or drop
the connection after the state has changed.

A request goes through these steps; the first that answers ends it:

1. a path or method outside the eight operations: 404 or 405;
2. an injected fault that strikes before acting (``committed=False``);
3. authentication (``Authorization: Bearer <token>``): 401 for a missing, unknown or
   revoked key, or a project key whose project left the organization. A key that passes
   counts as used (``last_used_at``, ``last_used_from_addr``), whatever follows;
4. the rate limits, if the world has any: 429 with ``Retry-After``;
5. the operation itself (see ``_handlers``): 400, 403, 404 or success;
6. an injected fault that strikes after acting (``committed=True``).

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
import json
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, NoReturn

from ._extras import missing_extra
from ._faults import RESET_HOOK, ConnectionDropped, ConnectionReset, Fault
from ._handlers import HANDLERS, Call, Refused, Reply
from ._log import RequestRecord
from ._world import World

try:
    import anyio
    from starlette.routing import Mount, Route, Router
except ImportError as _err:  # pragma: no cover - depends on the environment
    raise missing_extra(_err) from _err

__all__ = ["BASE_PATH", "JSON_CONTENT_TYPE", "EmulatorApp", "create_app"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

BASE_PATH = "/api/v2"
"""Where the operations live, as on ``https://console.neon.tech/api/v2``."""

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
"""The ``Content-Type`` of every regular response."""

REQUEST_ID_HEADER = "x-request-id"
RESPONSE_REQUEST_ID_HEADER = "x-neon-ret-request-id"
MAX_REQUEST_ID_LENGTH = 200
MAX_BODY_BYTES = 1 << 20
_RESET_GRACE = 5.0  # seconds to wait for the server to see a connection it reset go away

_PATHS: tuple[tuple[str, dict[str, str]], ...] = (
    ("/api_keys", {"GET": "listApiKeys", "POST": "createApiKey"}),
    ("/api_keys/{key_id}", {"DELETE": "revokeApiKey"}),
    ("/organizations/{org_id}/api_keys", {"GET": "listOrgApiKeys", "POST": "createOrgApiKey"}),
    ("/organizations/{org_id}/api_keys/{key_id}", {"DELETE": "revokeOrgApiKey"}),
    ("/auth", {"GET": "getAuthDetails"}),
    ("/users/me/organizations", {"GET": "getCurrentUserOrganizations"}),
)


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
            Route(path, endpoint=_Operations(self, operations)) for path, operations in _PATHS
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
        await self._refuse(scope, send, None, Refused(404, f"no such path: {scope['path']}"))

    async def _refuse(
        self,
        scope: Scope,
        send: Send,
        operation_id: str | None,
        refusal: Refused,
        headers: dict[str, str] | None = None,
    ) -> None:
        request_id = _request_id(scope)
        body = _error_body(refusal, request_id)
        # Logged before it is answered: a client that has its answer finds it in the log.
        self.world.log.append(
            RequestRecord(
                scope["method"], scope["path"], operation_id, refusal.status, False, request_id
            )
        )
        await _send(send, refusal.status, _headers(body, request_id, headers), body)

    async def _serve(
        self, scope: Scope, receive: Receive, send: Send, operations: dict[str, str]
    ) -> None:
        """Serve a request to one of the operation paths (``operations``: method -> id)."""
        operation_id = operations.get(scope["method"])
        if operation_id is None:
            allow = ", ".join(operations)
            refusal = Refused(405, f"method {scope['method']} not allowed; use {allow}")
            await self._refuse(scope, send, None, refusal, {"allow": allow})
            return
        world = self.world
        request_id = _request_id(scope)
        body = await _read_body(receive)
        # Filled in as the request goes; logged however it ends (a drop, a cancellation).
        outcome: dict[str, Any] = {"fault": world.faults.take(operation_id)}
        logged = False

        def log() -> None:
            """Append the request's record, once."""
            nonlocal logged
            if not logged:
                logged = True
                world.log.append(
                    RequestRecord(
                        scope["method"],
                        scope["path"],
                        operation_id,
                        request_id=request_id,
                        **outcome,
                    )
                )

        async def send_logged(message: Message) -> None:
            # The record goes in before the response starts to leave (with an empty body, its
            # start is all of it), so a client that has its answer finds the request logged.
            if message["type"] == "http.response.start":
                fault: Fault | None = outcome["fault"]
                if fault is None or fault.kind != "disconnect":
                    outcome["status"] = message["status"]  # a cut response has none
                log()
            await send(message)

        world.log._begin()
        try:
            await self._run(
                world,
                scope,
                receive,
                send_logged,
                operation_id=operation_id,
                body=body,
                request_id=request_id,
                outcome=outcome,
                log=log,
            )
        finally:
            try:
                log()
            finally:
                world.log._end()

    async def _run(
        self,
        world: World,
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        operation_id: str,
        body: bytes | None,
        request_id: str,
        outcome: dict[str, Any],
        log: Callable[[], None],
    ) -> None:
        fault: Fault | None = outcome["fault"]
        if fault is not None and not fault.committed:
            if fault.kind == "reset":
                await _reset(scope, receive, log)
                return
            if fault.kind != "delay":
                await _strike(fault, send, request_id)
                return
            await _hold(fault.seconds, receive)
        if body is None:
            refusal = Refused(413, "request body too large")
            status, content, extra, changed = _failure(refusal, request_id)
        else:
            status, content, extra, changed = _process(world, scope, operation_id, body, request_id)
        outcome["changed"] = changed
        outcome["rate_limited"] = status == 429
        headers = _headers(content, request_id, extra)
        if fault is not None and fault.kind == "reset":
            await _reset(scope, receive, log)
        elif fault is not None and fault.committed:
            await _strike_after(
                fault,
                send,
                receive,
                request_id=request_id,
                status=status,
                headers=headers,
                content=content,
            )
        else:
            await _send(send, status, headers, content)


class _Operations:
    """The ASGI endpoint of one path: hands its requests to the app. Strictly private."""

    def __init__(self, app: EmulatorApp, operations: dict[str, str]) -> None:
        self.app = app
        self.operations = operations

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app._serve(scope, receive, send, self.operations)


# -- one request ---------------------------------------------------------------------------


def _process(
    world: World, scope: Scope, operation_id: str, body: bytes, request_id: str
) -> tuple[int, bytes, dict[str, str], bool]:
    """Authenticate, rate-limit and run the operation; (status, body, headers, changed)."""
    with world._lock:
        try:
            caller = world._authenticate(_bearer_token(scope))
            if caller is None:
                raise Refused(401, "authentication failed: unknown or revoked API key")
            client = scope.get("client")
            world._touch(caller, client[0] if client else None)
            params: dict[str, str] = dict(scope.get("path_params", {}))
            limiter = world._limiter
            if limiter is not None:
                wait = limiter.acquire(
                    caller.owner, operation_id, params.get("org_id"), world.clock.monotonic()
                )
                if wait is not None:
                    refusal = Refused(429, f"rate limit exceeded; retry in {wait} s")
                    return _failure(refusal, request_id, {"retry-after": str(wait)})
            reply: Reply = HANDLERS[operation_id](world, Call(caller, params, body))
        except Refused as refusal:
            return _failure(refusal, request_id)
    content = json.dumps(reply.payload, ensure_ascii=False, separators=(",", ":")).encode()
    return reply.status, content, dict(reply.headers), reply.changed


def _failure(
    refusal: Refused, request_id: str, headers: dict[str, str] | None = None
) -> tuple[int, bytes, dict[str, str], bool]:
    return refusal.status, _error_body(refusal, request_id), dict(headers or {}), False


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
        if name == b"x-request-id":
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


def _error_body(refusal: Refused, request_id: str) -> bytes:
    body = {"code": refusal.code, "message": refusal.message, "request_id": request_id}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def _headers(
    body: bytes, request_id: str, extra: dict[str, str] | None = None
) -> list[tuple[str, str]]:
    headers = [
        ("content-type", JSON_CONTENT_TYPE),
        ("content-length", str(len(body))),
        (RESPONSE_REQUEST_ID_HEADER, request_id),
    ]
    headers.extend((name.lower(), value) for name, value in (extra or {}).items())
    return headers


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


async def _send(
    send: Send, status: int, headers: list[tuple[str, str]], body: bytes, *, more: bool = False
) -> None:
    raw = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body, "more_body": more})


def _set(headers: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    return [(key, value if key == name else old) for key, old in headers]


# -- faults ----------------------------------------------------------------------------------


async def _strike(fault: Fault, send: Send, request_id: str) -> None:
    """Apply a fault in place of the operation (a drop raises)."""
    if fault.kind == "response":
        body, headers = _fault_response(fault, request_id)
        await _send(send, fault.status_code, headers, body)
        return
    # A disconnect before acting: what the client half-receives does not matter.
    body = _error_body(Refused(502, "Bad Gateway"), request_id)
    await _drop(send, 502, _headers(body, request_id), body)


async def _strike_after(
    fault: Fault,
    send: Send,
    receive: Receive,
    *,
    request_id: str,
    status: int,
    headers: list[tuple[str, str]],
    content: bytes,
) -> None:
    """Apply a fault to the real response of an operation that has run."""
    if fault.kind == "response":
        body, replaced = _fault_response(fault, request_id)
        await _send(send, fault.status_code, replaced, body)
        return
    if fault.kind == "delay":
        if not await _hold(fault.seconds, receive):
            return  # the client has gone: nothing to send to
    elif fault.kind == "disconnect":
        await _drop(send, status, headers, content)
    elif fault.kind == "truncated_body":
        content = content[: len(content) // 2]
        headers = _set(headers, "content-length", str(len(content)))
    elif fault.kind == "content_type":
        headers = _set(headers, "content-type", fault.media_type)
    await _send(send, status, headers, content)


def _fault_response(fault: Fault, request_id: str) -> tuple[bytes, list[tuple[str, str]]]:
    if fault.body is None:
        body = _error_body(Refused(fault.status_code, fault.message, fault.code), request_id)
    else:
        body = fault.body
    headers = _set(
        _headers(body, request_id, dict(fault.headers)), "content-type", fault.media_type
    )
    return body, headers


async def _drop(send: Send, status: int, headers: list[tuple[str, str]], body: bytes) -> NoReturn:
    """Announce the whole body, send half of it, and break the connection."""
    await _send(send, status, headers, body[: len(body) // 2], more=True)
    raise ConnectionDropped("connection dropped by the Neon emulator (an injected fault)")


async def _reset(scope: Scope, receive: Receive, log: Callable[[], None]) -> None:
    """Abort the connection before any response: a TCP reset on a socket, else raise.

    The request is logged first, so the log is complete by the time the client sees the
    reset. ``EmulatorServer`` hands each request a hook that aborts its connection
    (``RESET_HOOK`` in the request's ``state``); after using it, wait for the server to
    notice the connection is gone, so that it does not try to answer for the app. In
    process there is no connection: raise ``ConnectionReset``, the transport error the
    client would see.
    """
    log()
    abort = (scope.get("state") or {}).get(RESET_HOOK)
    if abort is None:
        raise ConnectionReset("connection reset by the Neon emulator (an injected fault)")
    abort()
    with anyio.move_on_after(_RESET_GRACE):
        while (await receive())["type"] != "http.disconnect":
            pass


async def _hold(seconds: float, receive: Receive) -> bool:
    """Wait ``seconds``, or until the client goes away; False if it went away."""
    with anyio.move_on_after(seconds):
        while (await receive())["type"] != "http.disconnect":
            pass
        return False
    return True
