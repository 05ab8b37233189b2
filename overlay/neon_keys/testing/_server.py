"""``EmulatorServer``: the emulator on a loopback port, served by uvicorn in a thread.

    with EmulatorServer(World.seeded()) as server:
        neon = NeonKeys(api_key=server.api_key, base_url=server.base_url)
        ...

The socket is bound before the thread starts (port 0: an ephemeral port the system picks),
so ``base_url`` is known at once; ``start`` returns when uvicorn accepts connections, or
fails after ``startup_timeout`` seconds. ``stop`` asks uvicorn to finish, waits up to
``shutdown_timeout`` seconds for requests in flight, then forces it.

It binds loopback addresses only: the emulator speaks plain http and hands out working
tokens to anyone who asks, so it must not be reachable from other machines.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import struct
import threading
from types import TracebackType
from typing import Self

from ._app import EmulatorApp
from ._extras import missing_extra
from ._faults import RESET_HOOK, ConnectionDropped
from ._world import World

try:
    import uvicorn
    from uvicorn.protocols.http.h11_impl import H11Protocol
except ImportError as _err:  # pragma: no cover - depends on the environment
    raise missing_extra(_err) from _err

__all__ = ["EmulatorServer"]

_UVICORN_LOGGER = "uvicorn.error"


class _DropFilter(logging.Filter):
    """Hides uvicorn's traceback for connections the emulator drops on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, ConnectionDropped)


def _abort(transport: asyncio.BaseTransport) -> None:
    """Close a connection with a TCP reset (RST) rather than an orderly close (FIN)."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        # A zero linger time makes close() discard the connection and send RST.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    if isinstance(transport, asyncio.Transport):
        transport.abort()
    else:  # pragma: no cover - uvicorn always hands a full transport
        transport.close()


class _ResettableH11(H11Protocol):
    """uvicorn's h11 protocol, giving each request a hook to reset its connection.

    ``Fault.reset`` needs to abort the socket under the app, which ASGI does not expose:
    the hook travels in the request's ``state`` (``RESET_HOOK``). Strictly private.
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.app_state = {**self.app_state, RESET_HOOK: lambda: _abort(transport)}


class _Uvicorn(uvicorn.Server):
    """A uvicorn server that says when it is ready. Strictly private."""

    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        finally:
            self._ready.set()


class EmulatorServer:
    """Serves the emulator on a loopback address until stopped; a context manager.

    Args:
        target: the world to serve (or an ``EmulatorApp``); default ``World.seeded()``.
        host: a loopback address; default ``127.0.0.1``.
        port: the port; default 0, an ephemeral one.
        startup_timeout: seconds ``start`` waits for the server to accept connections.
        shutdown_timeout: seconds ``stop`` waits for requests in flight before forcing.
    """

    def __init__(
        self,
        target: World | EmulatorApp | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        startup_timeout: float = 10.0,
        shutdown_timeout: float = 3.0,
    ) -> None:
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ValueError(f"the emulator binds loopback addresses only, not {host!r}")
        self.app = target if isinstance(target, EmulatorApp) else EmulatorApp(target)
        self.host = host
        self._requested_port = port
        self.startup_timeout = startup_timeout
        self.shutdown_timeout = shutdown_timeout
        self._socket: socket.socket | None = None
        self._server: _Uvicorn | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None
        self._filter = _DropFilter()

    # -- addresses --------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port (known once started)."""
        if self._socket is None:
            raise RuntimeError("the emulator server is not running; call start()")
        port: int = self._socket.getsockname()[1]
        return port

    @property
    def url(self) -> str:
        """The server's root, e.g. ``http://127.0.0.1:54321``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The API's base URL, e.g. ``http://127.0.0.1:54321/api/v2``."""
        return self.url + self.app.base_path

    # -- the world and its seeded credentials ---------------------------------------------

    @property
    def world(self) -> World:
        """The world being served; assign another to serve it from the next request on."""
        return self.app.world

    @world.setter
    def world(self, world: World) -> None:
        self.app.world = world

    @property
    def api_key(self) -> str:
        """The seeded admin's personal token (the world must come from ``World.seeded()``)."""
        return self.world.seed.admin_token

    @property
    def org_id(self) -> str:
        """The seeded organization's id."""
        return self.world.seed.org_id

    @property
    def project_id(self) -> str:
        """The seeded project's id."""
        return self.world.seed.project_id

    # -- life -----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the server thread is serving."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Self:
        """Bind, start uvicorn in a daemon thread and wait until it accepts connections."""
        if self._thread is not None:
            raise RuntimeError("the emulator server is already started")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # proto=IPPROTO_TCP lets asyncio turn Nagle off on accepted connections (it checks
        # the proto); without it every keep-alive response waits ~40 ms for a delayed ACK.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self._requested_port))
            sock.listen(128)
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        self._socket = sock
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            http=_ResettableH11,
            ws="none",
            log_config=None,
            access_log=False,
            date_header=False,  # the app dates its answers by the world's clock
            timeout_graceful_shutdown=max(1, round(self.shutdown_timeout)),
        )
        ready = threading.Event()
        self._server = _Uvicorn(config, ready)
        logging.getLogger(_UVICORN_LOGGER).addFilter(self._filter)
        self._thread = threading.Thread(
            target=self._run, name=f"neon-emulator:{self.port}", daemon=True
        )
        self._thread.start()
        if not ready.wait(self.startup_timeout) or not self._server.started:
            failure = self._failure
            self.stop()
            raise RuntimeError(
                f"the Neon emulator did not start within {self.startup_timeout} s"
                + (f": {failure!r}" if failure is not None else "")
            )
        return self

    def _run(self) -> None:
        assert self._server is not None and self._socket is not None
        try:
            self._server.run(sockets=[self._socket])
        except BaseException as err:  # reported by start()
            self._failure = err

    def stop(self) -> None:
        """Stop serving and release the port; does nothing if not started."""
        server, thread, sock = self._server, self._thread, self._socket
        self._server = self._thread = None
        if server is not None and thread is not None:
            server.should_exit = True
            thread.join(self.shutdown_timeout + 2)
            if thread.is_alive():
                server.force_exit = True
                thread.join(5)
        if sock is not None:
            sock.close()
        self._socket = None
        logging.getLogger(_UVICORN_LOGGER).removeFilter(self._filter)

    def __enter__(self) -> Self:
        """Start the server, unless ``start()`` already did; ``__exit__`` stops it."""
        return self if self._thread is not None else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.base_url if self._socket is not None else "not running"
        return f"<EmulatorServer {where}>"
