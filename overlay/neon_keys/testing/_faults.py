"""Injectable faults: make the next requests of an operation fail the way networks do.

    world.faults.inject("createApiKey", Fault.status(500))                 # once
    world.faults.inject("listApiKeys", Fault.html(502), times=3)          # a proxy's page
    world.faults.inject("createOrgApiKey", Fault.lost_response())          # created, never told
    world.faults.inject("revokeApiKey", Fault.reset(committed=True))       # revoked, then RST
    world.faults.inject("*", Fault.status(503, headers={"Retry-After": "1"}), times=None)

A fault applies to the next ``times`` requests of that operation (``"*"``: of any of the
eight operations; ``times=None``: until ``clear``). Rules are tried in the order they were
injected and the first one with uses left wins.

Each kind of fault is a small type that knows when it strikes: before the request is
carried out (``before``), or on the response of a request that was (``after``). Every
fault says whether the server *acts* before it strikes (``committed``):

- ``committed=False`` (the default for replacement responses, disconnects and resets): the fault
  sits in front of the service, like a failing proxy. The request is not authenticated,
  not rate-limited and changes nothing (``Fault.delay(s, committed=False)`` is the
  exception: it waits, then lets the request through).
- ``committed=True``: the request is carried out in full (a key may be created or revoked),
  then its response is replaced, cut, or delayed. This is how a client meets a create whose
  outcome it cannot know.

The kinds:

``Fault.status(code)`` / ``Fault.html(code)`` / ``Fault.response(code, body)``
    answer with that status and a ``GeneralError`` JSON body, an HTML page, or any body.
``Fault.disconnect()`` / ``Fault.lost_response()``
    send the status line and headers, part of the body, then close the connection: the
    client sees a transport error (``httpx.RemoteProtocolError``), never a status. In
    process, the app raises ``ConnectionDropped`` (itself an ``httpx.RemoteProtocolError``).
``Fault.reset()``
    abort the connection before a single byte of the response: over ``EmulatorServer`` a
    TCP reset (the client's read fails with ``ECONNRESET``: ``httpx.ReadError``); in
    process, the app raises ``ConnectionReset`` (itself an ``httpx.ReadError``).
``Fault.delay(seconds)``
    hold the response back (after acting, by default), for client timeouts; the wait ends
    early when the client goes away.
``Fault.truncated_body()``
    the real status and headers, but only the first half of the body (with a matching
    ``Content-Length``): for a 200, JSON that does not parse.
``Fault.content_type(value)``
    the real response under another ``Content-Type``.
"""

from __future__ import annotations

import http
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NoReturn, Protocol

import httpx

from .._constants import OPERATION_IDS
from ._responses import JSON_CONTENT_TYPE, Response, error_response

__all__ = [
    "ANY_OPERATION",
    "FAULT_NAMES",
    "RESET_HOOK",
    "ConnectionDropped",
    "ConnectionReset",
    "ContentTypeFault",
    "DelayFault",
    "DisconnectFault",
    "Exchange",
    "Fault",
    "Faults",
    "InjectedFault",
    "ResetFault",
    "ResponseFault",
    "TruncatedBodyFault",
    "build_fault",
]

ANY_OPERATION = "*"
"""The operation id that makes a fault apply to every operation."""


class ConnectionDropped(httpx.RemoteProtocolError):
    """The emulator broke a connection on purpose (``Fault.disconnect``).

    The app raises it after sending part of a response. A server (uvicorn) then closes the
    socket, so its client sees ``httpx.RemoteProtocolError``; in process, through
    ``httpx.ASGITransport`` or the emulator's transports, the client gets this exception
    itself, which is that same transport error.
    """


class ConnectionReset(httpx.ReadError):
    """The emulator reset a connection on purpose (``Fault.reset``), before any response.

    Over ``EmulatorServer`` the socket is aborted with a TCP reset, so its client's read
    fails with ``httpx.ReadError``; in process the client gets this exception itself, which
    is that same transport error.
    """


RESET_HOOK = "neon_keys.testing.reset"
"""Key, in an ASGI request's ``state``, of the server's callable that resets its connection.

``EmulatorServer`` puts it there for every connection; where it is missing (in process),
``Fault.reset`` raises ``ConnectionReset`` instead.
"""

_PROXY_PAGE = (
    "<html>\r\n<head><title>{status} Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>{status} Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
_HTML = "text/html; charset=utf-8"


class Exchange(Protocol):
    """What a fault can do to the request it strikes (the app provides it)."""

    @property
    def request_id(self) -> str:
        """The id of the request, as its response carries it."""
        ...

    async def send(self, response: Response) -> None:
        """Send a whole response."""
        ...

    async def drop(self, response: Response) -> NoReturn:
        """Announce ``response``, send half of its body, then break the connection."""
        ...

    async def reset(self) -> None:
        """Abort the connection before any byte of a response."""
        ...

    async def hold(self, seconds: float) -> bool:
        """Wait ``seconds``, or until the client goes away; False if it went away."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Fault:
    """One way for a request to go wrong; build it with the class methods, not directly.

    Each kind is a subclass that knows when it strikes: ``before`` the request is carried
    out (it may answer in its place), or ``after``, on the response of a request that was.

    Attributes:
        committed: whether the server carries out the request before the fault strikes.
    """

    committed: bool = False

    @classmethod
    def status(
        cls,
        status_code: int,
        *,
        message: str | None = None,
        code: str = "",
        headers: Mapping[str, str] | None = None,
        committed: bool = False,
    ) -> Fault:
        """Answer ``status_code`` with a ``GeneralError`` JSON body (and the request id).

        Args:
            status_code: the status, 100-599.
            message: the error message; default the status's reason phrase.
            code: the error code (Neon's is often empty).
            headers: extra headers, e.g. ``{"Retry-After": "2"}``.
            committed: carry the request out first (a 500 after the key was created).
        """
        _check_status(status_code)
        return ResponseFault(
            committed=committed,
            status_code=status_code,
            message=message if message is not None else _reason(status_code),
            code=code,
            headers=_pairs(headers),
        )

    @classmethod
    def html(
        cls,
        status_code: int = 502,
        *,
        page: str | None = None,
        headers: Mapping[str, str] | None = None,
        committed: bool = False,
    ) -> Fault:
        """Answer ``status_code`` with an HTML page, as a load balancer or proxy does.

        Args:
            status_code: the status; default 502.
            page: the HTML; default a short nginx-style error page.
            headers: extra headers.
            committed: carry the request out first.
        """
        _check_status(status_code)
        text = page if page is not None else _PROXY_PAGE.format(status=status_code)
        return cls.response(
            status_code, text, media_type=_HTML, headers=headers, committed=committed
        )

    @classmethod
    def response(
        cls,
        status_code: int,
        body: bytes | str,
        *,
        media_type: str = JSON_CONTENT_TYPE,
        headers: Mapping[str, str] | None = None,
        committed: bool = False,
    ) -> Fault:
        """Answer ``status_code`` with exactly ``body`` (str is sent as UTF-8).

        Args:
            status_code: the status.
            body: the body, verbatim.
            media_type: its ``Content-Type``.
            headers: extra headers.
            committed: carry the request out first.
        """
        _check_status(status_code)
        return ResponseFault(
            committed=committed,
            status_code=status_code,
            body=body.encode() if isinstance(body, str) else bytes(body),
            media_type=media_type,
            headers=_pairs(headers),
        )

    @classmethod
    def disconnect(cls, *, committed: bool = False) -> Fault:
        """Break the connection mid-response; the client gets a transport error.

        Args:
            committed: carry the request out first (see ``lost_response``).
        """
        return DisconnectFault(committed=committed)

    @classmethod
    def lost_response(cls) -> Fault:
        """Carry the request out, then break the connection: it happened, the client can't know."""
        return DisconnectFault(committed=True)

    @classmethod
    def reset(cls, *, committed: bool = False) -> Fault:
        """Reset the connection without sending any of the response.

        Args:
            committed: carry the request out first: the key is created or revoked, and the
                client hears nothing but the reset.
        """
        return ResetFault(committed=committed)

    @classmethod
    def delay(cls, seconds: float, *, committed: bool = True) -> Fault:
        """Hold the response back ``seconds`` (real time), e.g. past a client's timeout.

        Args:
            seconds: how long, in seconds.
            committed: True (default): act first, then wait, so a client that gives up
                has still caused the change; False: wait, then act.
        """
        if isinstance(seconds, bool) or not 0 <= seconds < float("inf"):
            raise ValueError(f"a delay must be a finite, non-negative number, not {seconds!r}")
        return DelayFault(committed=committed, seconds=float(seconds))

    @classmethod
    def truncated_body(cls) -> Fault:
        """Send the real response with only the first half of its body (request carried out)."""
        return TruncatedBodyFault()

    @classmethod
    def content_type(cls, value: str = "text/plain; charset=utf-8") -> Fault:
        """Send the real response labelled with another ``Content-Type`` (request carried out)."""
        return ContentTypeFault(media_type=value)

    async def before(self, exchange: Exchange) -> bool:
        """Strike before the request is carried out; True when the request ends here.

        The base fault does nothing here; kinds that strike first override it.
        """
        return False

    async def after(self, exchange: Exchange, response: Response) -> None:
        """Deliver ``response``, the answer of the request carried out, as this fault has it.

        Runs only when ``before`` let the request through. The base fault sends it as it is.
        """
        await exchange.send(response)

    @property
    def _when(self) -> str:
        return "after acting" if self.committed else "before acting"


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseFault(Fault):
    """Answer with another response (``Fault.status``, ``Fault.html``, ``Fault.response``).

    Attributes:
        status_code: the status of the replacement.
        body: the replacement body; None for a ``GeneralError`` carrying ``message``,
            ``code`` and the request id.
        message: the ``GeneralError`` message, when ``body`` is None.
        code: the ``GeneralError`` code, when ``body`` is None.
        media_type: the replacement's ``Content-Type``.
        headers: extra response headers (``Retry-After`` ...).
    """

    status_code: int
    body: bytes | None = None
    message: str = ""
    code: str = ""
    media_type: str = JSON_CONTENT_TYPE
    headers: tuple[tuple[str, str], ...] = field(default=())

    def replacement(self, request_id: str) -> Response:
        """The response sent in place of the real one."""
        extra = dict(self.headers)
        if self.body is None:
            error = error_response(
                self.status_code, self.message, request_id, code=self.code, headers=extra
            )
            return error.with_header("content-type", self.media_type)
        response = Response.build(
            self.status_code, self.body, request_id, media_type=self.media_type, headers=extra
        )
        return response.with_header("content-type", self.media_type)

    async def before(self, exchange: Exchange) -> bool:
        """Answer in place of the service, unless committed."""
        if self.committed:
            return False
        await exchange.send(self.replacement(exchange.request_id))
        return True

    async def after(self, exchange: Exchange, response: Response) -> None:
        """Answer in place of the real response of the request carried out."""
        await exchange.send(self.replacement(exchange.request_id))

    def __str__(self) -> str:
        return f"response {self.status_code} {self._when}"


@dataclass(frozen=True, slots=True, kw_only=True)
class DisconnectFault(Fault):
    """Send the status, headers and half the body, then break the connection."""

    async def before(self, exchange: Exchange) -> bool:
        """Break a proxy's 502 half way, unless committed; what the client gets does not matter."""
        if self.committed:
            return False
        await exchange.drop(error_response(502, "Bad Gateway", exchange.request_id))

    async def after(self, exchange: Exchange, response: Response) -> None:
        """Break the real response half way."""
        await exchange.drop(response)

    def __str__(self) -> str:
        return f"disconnect {self._when}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ResetFault(Fault):
    """Abort the connection before any byte of a response."""

    async def before(self, exchange: Exchange) -> bool:
        """Reset at once, unless committed."""
        if self.committed:
            return False
        await exchange.reset()
        return True

    async def after(self, exchange: Exchange, response: Response) -> None:
        """Reset instead of answering the request carried out."""
        await exchange.reset()

    def __str__(self) -> str:
        return f"connection reset {self._when}"


@dataclass(frozen=True, slots=True, kw_only=True)
class DelayFault(Fault):
    """Hold the request (``committed=False``) or its response (``committed=True``) back.

    Attributes:
        seconds: how long, in real seconds.
    """

    committed: bool = True
    seconds: float

    async def before(self, exchange: Exchange) -> bool:
        """Wait first when not committed; the request goes on either way."""
        if not self.committed:
            await exchange.hold(self.seconds)
        return False

    async def after(self, exchange: Exchange, response: Response) -> None:
        """Wait (when committed), then answer, unless the client has gone."""
        if self.committed and not await exchange.hold(self.seconds):
            return  # the client has gone: nothing to send to
        await exchange.send(response)

    def __str__(self) -> str:
        return f"delay {self.seconds:g}s {self._when}"


@dataclass(frozen=True, slots=True, kw_only=True)
class TruncatedBodyFault(Fault):
    """Send the real response with the first half of its body (and a matching length)."""

    committed: bool = True

    async def after(self, exchange: Exchange, response: Response) -> None:
        """Cut the body in half."""
        await exchange.send(response.with_body(response.body[: len(response.body) // 2]))

    def __str__(self) -> str:
        return f"truncated body {self._when}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ContentTypeFault(Fault):
    """Send the real response under another ``Content-Type``.

    Attributes:
        media_type: the ``Content-Type`` it is sent with.
    """

    committed: bool = True
    media_type: str

    async def after(self, exchange: Exchange, response: Response) -> None:
        """Relabel the body."""
        await exchange.send(response.with_header("content-type", self.media_type))

    def __str__(self) -> str:
        return f"content-type {self.media_type!r}"


class InjectedFault:
    """A fault waiting in a ``Faults`` plan: which operation, how many uses are left."""

    def __init__(self, operation_id: str, fault: Fault, times: int | None) -> None:
        self.operation_id = operation_id
        self.fault = fault
        self.times = times
        self.hits = 0
        """How many requests this fault has struck so far."""

    @property
    def remaining(self) -> int | None:
        """Uses left; None for a fault without a limit."""
        return None if self.times is None else self.times - self.hits

    @property
    def exhausted(self) -> bool:
        """True once it has struck ``times`` requests."""
        return self.times is not None and self.hits >= self.times

    def __repr__(self) -> str:
        times = "always" if self.times is None else f"{self.hits}/{self.times} used"
        return f"<InjectedFault {self.operation_id} {self.fault} ({times})>"


class Faults:
    """The faults planned for a world's next requests (``world.faults``); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._planned: list[InjectedFault] = []

    def inject(self, operation_id: str, fault: Fault, *, times: int | None = 1) -> InjectedFault:
        """Make the next ``times`` requests of ``operation_id`` meet ``fault``.

        Args:
            operation_id: an operationId of the spec (``"createApiKey"`` ...) or ``"*"``.
            fault: what happens to them.
            times: how many requests it strikes; None for all of them until ``clear``.

        Returns:
            The planned fault, whose ``hits`` counts the requests it struck.
        """
        if operation_id != ANY_OPERATION and operation_id not in OPERATION_IDS:
            known = ", ".join(sorted(OPERATION_IDS))
            raise ValueError(f"unknown operation {operation_id!r}; use one of {known} or '*'")
        if not isinstance(fault, Fault):
            raise TypeError("fault must be a Fault (Fault.status(500), Fault.disconnect(), ...)")
        if times is not None and (isinstance(times, bool) or times < 1):
            raise ValueError("times must be a positive integer or None")
        planned = InjectedFault(operation_id, fault, times)
        with self._lock:
            self._planned.append(planned)
        return planned

    def clear(self) -> None:
        """Forget every planned fault."""
        with self._lock:
            self._planned.clear()

    @property
    def pending(self) -> list[InjectedFault]:
        """The planned faults that still have uses left, in the order they are tried."""
        with self._lock:
            return [planned for planned in self._planned if not planned.exhausted]

    def take(self, operation_id: str | None) -> Fault | None:
        """Use up the fault for a request of ``operation_id``, if one is planned."""
        if operation_id is None:
            return None
        with self._lock:
            for planned in self._planned:
                if planned.exhausted:
                    continue
                if planned.operation_id in (operation_id, ANY_OPERATION):
                    planned.hits += 1
                    return planned.fault
        return None

    def __repr__(self) -> str:
        return f"<Faults pending={self.pending!r}>"


FAULT_NAMES = (
    "status",
    "html",
    "disconnect",
    "lost-response",
    "reset",
    "delay",
    "truncated-body",
    "content-type",
)
"""The kinds of fault by name, as ``neon-keys sandbox fault`` takes them."""

_OPTIONS_OF = {
    "status": {"status", "committed"},
    "html": {"status", "committed"},
    "disconnect": {"committed"},
    "lost-response": set(),
    "reset": {"committed"},
    "delay": {"seconds", "committed"},
    "truncated-body": set(),
    "content-type": {"content_type"},
}


def build_fault(
    name: str,
    *,
    status: int | None = None,
    seconds: float | None = None,
    committed: bool | None = None,
    content_type: str | None = None,
) -> Fault:
    """The fault a name in ``FAULT_NAMES`` and its options describe; ``ValueError`` otherwise.

    Args:
        name: the kind, e.g. ``"lost-response"`` (see ``FAULT_NAMES``).
        status: the status of ``status`` (default 500) or ``html`` (default 502).
        seconds: how long ``delay`` holds the response (required for ``delay``).
        committed: whether the request is carried out first; None for the kind's default.
        content_type: the ``Content-Type`` of ``content-type`` (default text/plain).

    An option the kind does not take is refused, so that nothing given is silently ignored.
    """
    allowed = _OPTIONS_OF.get(name)
    if allowed is None:
        raise ValueError(f"unknown fault {name!r}; use one of {', '.join(FAULT_NAMES)}")
    given = {
        option
        for option, value in (
            ("status", status),
            ("seconds", seconds),
            ("committed", committed),
            ("content_type", content_type),
        )
        if value is not None
    }
    extra = sorted(given - allowed)
    if extra:
        taken = f"takes only {', '.join(sorted(allowed))}" if allowed else "takes no option"
        raise ValueError(f"the {name} fault {taken}, not {', '.join(extra)}")
    first = bool(committed)  # the kinds that may strike first do so by default
    if name == "status":
        return Fault.status(500 if status is None else status, committed=first)
    if name == "html":
        return Fault.html(502 if status is None else status, committed=first)
    if name == "disconnect":
        return Fault.disconnect(committed=first)
    if name == "lost-response":
        return Fault.lost_response()
    if name == "reset":
        return Fault.reset(committed=first)
    if name == "delay":
        if seconds is None:
            raise ValueError("the delay fault needs seconds")
        return Fault.delay(seconds, committed=True if committed is None else committed)
    if name == "truncated-body":
        return Fault.truncated_body()
    return Fault.content_type("text/plain; charset=utf-8" if content_type is None else content_type)


def _check_status(status_code: int) -> None:
    if isinstance(status_code, bool) or not 100 <= status_code <= 599:
        raise ValueError(f"not an HTTP status: {status_code!r}")


def _reason(status_code: int) -> str:
    try:
        return http.HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"


def _pairs(headers: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    return tuple((str(name), str(value)) for name, value in (headers or {}).items())
