"""In-process transports: an ``httpx`` client talks to the emulator without a socket.

    transport = AsyncEmulatorTransport(world)
    async with httpx.AsyncClient(transport=transport, base_url=transport.base_url) as http:
        ...

    neon = NeonKeys(api_key=token, base_url=transport.base_url,
                    http_client=httpx.Client(transport=EmulatorTransport(world)))

Both wrap ``httpx.ASGITransport`` and add what it leaves out: they enforce the request's
read timeout (``httpx.ReadTimeout``, so ``Fault.delay`` works in process) and keep a broken
connection a transport error (``ConnectionDropped`` is an ``httpx.RemoteProtocolError``).
``httpx.ASGITransport`` serves async clients only; ``EmulatorTransport`` serves sync ones
through an anyio blocking portal (an event loop in a daemon thread of its own), started on
first use and stopped by ``close()`` (which ``httpx.Client.close`` calls). Several threads
may share one sync transport: the portal runs their requests side by side.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import threading
import weakref
from typing import Any, cast

import httpx

from ._app import EmulatorApp
from ._world import World

try:
    import anyio
    from anyio.from_thread import BlockingPortal, start_blocking_portal
except ImportError as _err:  # pragma: no cover - anyio comes with httpx
    from ._extras import missing_extra

    raise missing_extra(_err) from _err

__all__ = ["DEFAULT_CLIENT_ADDRESS", "AsyncEmulatorTransport", "EmulatorTransport"]

DEFAULT_CLIENT_ADDRESS = ("127.0.0.1", 50000)
"""The client address the app sees in process (it becomes ``last_used_from_addr``)."""


def _stop_portal(portal: BlockingPortal, stack: contextlib.ExitStack) -> None:
    """Stop a portal and leave its thread (the context manager joins it)."""
    with contextlib.suppress(RuntimeError):  # it has stopped already
        portal.call(portal.stop, True)
    stack.close()


def _stop_abandoned_portal(portal: BlockingPortal, stack: contextlib.ExitStack) -> None:
    """Stop the portal of a transport collected without ``close()``, from a thread of its own.

    The garbage collector may run in any thread, the portal's own included, which cannot
    join itself; a short-lived thread can.
    """
    threading.Thread(target=_stop_portal, args=(portal, stack), daemon=True).start()


def _as_app(target: EmulatorApp | World | None) -> EmulatorApp:
    return target if isinstance(target, EmulatorApp) else EmulatorApp(target)


class AsyncEmulatorTransport(httpx.AsyncBaseTransport):
    """Serves an ``httpx.AsyncClient`` from the emulator in process.

    Args:
        target: the app, or a world to serve with a new app; default ``World.seeded()``.
        client: the (address, port) requests seem to come from.
    """

    def __init__(
        self,
        target: EmulatorApp | World | None = None,
        *,
        client: tuple[str, int] = DEFAULT_CLIENT_ADDRESS,
    ) -> None:
        self.app = _as_app(target)
        self._asgi = httpx.ASGITransport(app=cast(Any, self.app), client=client)

    @property
    def world(self) -> World:
        """The world being served."""
        return self.app.world

    @property
    def base_url(self) -> str:
        """The base URL to give a client: ``http://127.0.0.1/api/v2`` (loopback, no socket)."""
        return "http://127.0.0.1" + self.app.base_path

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` to the app, within the request's read timeout."""
        timeouts = request.extensions.get("timeout") or {}
        limit = timeouts.get("read")
        try:
            with anyio.fail_after(limit):
                return await self._asgi.handle_async_request(request)
        except TimeoutError:
            raise httpx.ReadTimeout(
                f"the Neon emulator did not answer within {limit} s", request=request
            ) from None


class EmulatorTransport(httpx.BaseTransport):
    """Serves an ``httpx.Client`` (sync) from the emulator in process.

    Requests run on an anyio blocking portal (an event loop in a daemon thread), started on
    first use; ``close()`` stops it, cancelling requests still in flight (their callers get
    ``httpx.ReadError``). A transport used again after ``close()`` starts a new portal.

    Args:
        target: the app, or a world to serve with a new app; default ``World.seeded()``.
        client: the (address, port) requests seem to come from.
    """

    def __init__(
        self,
        target: EmulatorApp | World | None = None,
        *,
        client: tuple[str, int] = DEFAULT_CLIENT_ADDRESS,
    ) -> None:
        self._inner = AsyncEmulatorTransport(target, client=client)
        self.app = self._inner.app
        self._lock = threading.Lock()
        self._portal: BlockingPortal | None = None
        self._stack = contextlib.ExitStack()
        self._abandoned: weakref.finalize[..., EmulatorTransport] | None = None

    @property
    def world(self) -> World:
        """The world being served."""
        return self.app.world

    @property
    def base_url(self) -> str:
        """The base URL to give a client: ``http://127.0.0.1/api/v2`` (loopback, no socket)."""
        return self._inner.base_url

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` to the app and wait for the whole response."""
        copy = httpx.Request(
            request.method,
            request.url,
            headers=request.headers,
            content=request.read(),
            extensions=request.extensions,
        )
        try:
            status, headers, content = self._running_portal().call(self._round_trip, copy)
        except (concurrent.futures.CancelledError, RuntimeError) as err:
            # Cancelled by close(), or the portal stopped between lookup and call.
            if isinstance(err, RuntimeError) and "not running" not in str(err):
                raise
            raise httpx.ReadError(
                "the emulator transport was closed while the request was in flight",
                request=request,
            ) from None
        return httpx.Response(status, headers=headers, content=content, request=request)

    async def _round_trip(
        self, request: httpx.Request
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        response = await self._inner.handle_async_request(request)
        content = await response.aread()
        return response.status_code, response.headers.raw, content

    def _running_portal(self) -> BlockingPortal:
        with self._lock:
            if self._portal is None:
                self._portal = self._stack.enter_context(
                    start_blocking_portal(name="neon-emulator-transport")
                )
                self._abandoned = weakref.finalize(
                    self, _stop_abandoned_portal, self._portal, self._stack
                )
            return self._portal

    def close(self) -> None:
        """Stop the portal, if one was started, cancelling the requests still in flight."""
        with self._lock:
            portal, self._portal = self._portal, None
            stack, self._stack = self._stack, contextlib.ExitStack()
            if self._abandoned is not None:
                self._abandoned.detach()
                self._abandoned = None
        if portal is not None:
            _stop_portal(portal, stack)
