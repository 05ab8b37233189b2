"""Reading an answer's body within a bound on its size once decoded, and on the memory it takes.

The clients send each request with ``stream=True`` and read the answer with ``read_answer``
(or ``aread_answer``): the body is taken from the raw stream here, never through httpx's
own reading, and inflated here, in steps of at most ``INFLATE_STEP`` bytes, so that a few
compressed bytes never become a large buffer at once, and reading stops at the bound:

- a success body may hold up to ``SUCCESS_BODY_LIMIT`` bytes once decoded (64 MiB, about
  250,000 keys in a listing); a longer one is not read further and the answer is
  unreadable (``Answer.problem``), as is one that cannot be decoded;
- an error body is read for its code, message and request id, or an excerpt: its first
  ``ERROR_BODY_LIMIT`` bytes (8 KiB) are kept and the rest is never read nor inflated.

A body must also arrive whole within the request's read timeout, counted from its first
byte: httpx applies that timeout to each read, which a body sent a byte at a time would
satisfy for ever. Past it, reading stops with ``httpx.ReadTimeout`` (checked as each piece
arrives, so a body ends at most one read timeout later).

The client asks for ``gzip`` or ``deflate`` only (``ACCEPT_ENCODING``): those are inflated
here with zlib's ``max_length``. Any other content coding (``br``, ``zstd``, stacked
codings) makes a success body unreadable and an error body empty, with the reason in
``Answer.problem``.

The body is the ``Answer``'s, not the response's: httpx's ``Response.read`` (decoders,
chunkers and three context managers a call) costs more than the rest of reading a small
answer, and the response's ``content`` is never set.
"""

from __future__ import annotations

import time
import zlib
from typing import NamedTuple, NoReturn, Protocol

import httpx

__all__ = [
    "ACCEPT_ENCODING",
    "ERROR_BODY_LIMIT",
    "INFLATE_STEP",
    "SUCCESS_BODY_LIMIT",
    "Answer",
    "BodyReader",
    "aread_answer",
    "read_answer",
]

SUCCESS_BODY_LIMIT = 64 * 1024 * 1024
"""Most bytes a successful answer's body may hold once decoded (a listing of 10,000 keys
is about 2.5 MB)."""

ERROR_BODY_LIMIT = 8 * 1024
"""Bytes of an error answer's body read, once decoded; the rest is never read."""

INFLATE_STEP = 1024 * 1024
"""Most bytes one step of inflating produces."""

_INPUT_STEP = 64 * 1024
"""Most compressed bytes handed to zlib at once (what it keeps of them is copied)."""

ACCEPT_ENCODING = "gzip, deflate"
"""The content codings the client asks for, and the only ones it decodes."""

_TRAILING_LIMIT = 64 * 1024
"""Most raw bytes read, and ignored, after the end of a compressed stream."""

# zlib reads a gzip header when 16 is added to the window bits (MAX_WBITS is 15, so 16 and
# 17 give the same 31: the mutant is equivalent).
_GZIP_WBITS = zlib.MAX_WBITS | 16  # pragma: no mutate
_WBITS = {"gzip": _GZIP_WBITS, "x-gzip": _GZIP_WBITS, "deflate": zlib.MAX_WBITS}
_RAW_DEFLATE = -zlib.MAX_WBITS


class _Inflater(Protocol):
    """What a ``zlib.decompressobj`` offers (zlib does not name its type publicly)."""

    @property
    def eof(self) -> bool: ...

    @property
    def unconsumed_tail(self) -> bytes: ...

    def decompress(self, data: memoryview | bytes, max_length: int = ..., /) -> bytes: ...


class BodyReader:
    """Decodes one body from its raw chunks, within ``limit`` bytes. Strictly private.

    Args:
        content_encoding: the answer's ``Content-Encoding`` header ("" for none).
        limit: most decoded bytes kept.
        strict: True for a success body, whose every byte counts: more than ``limit``
            bytes, a coding it cannot decode or a compressed stream that ends early make
            it unreadable. False for an error body: the first ``limit`` bytes are enough.

    ``problem`` says why the body could not be read whole (None when it could); ``done``
    turns True when no more raw input is wanted.
    """

    __slots__ = (
        "_coding",
        "_ended_at",
        "_head",
        "_inflater",
        "_started",
        "done",
        "limit",
        "problem",
        "raw_size",
        "size",
        "strict",
    )

    def __init__(self, content_encoding: str, limit: int, *, strict: bool) -> None:
        self.limit = limit
        self.strict = strict
        self.size = 0
        """Decoded bytes kept so far."""
        self.raw_size = 0
        """Raw bytes taken so far."""
        self.done = False
        self.problem: str | None = None
        self._coding = ""
        self._inflater: _Inflater | None = None
        self._ended_at: int | None = None  # raw_size when the compressed stream ended
        self._started = False
        self._head = b""  # the first byte of a deflate body, until its second arrives
        if not content_encoding:
            return  # the usual answer: nothing to decode
        codings = [
            coding
            for coding in (part.strip().lower() for part in content_encoding.split(","))
            if coding and coding != "identity"
        ]
        if len(codings) > 1 or (codings and codings[0] not in _WBITS):
            self._fail(
                f"its content-encoding {content_encoding.strip()!r} is not one the client "
                f"accepts ({ACCEPT_ENCODING})"
            )
        elif codings:
            self._coding = codings[0]
            self._inflater = zlib.decompressobj(_WBITS[self._coding])

    def feed(self, raw: bytes) -> list[bytes]:
        """The decoded bytes ``raw`` (the next raw chunk) adds, within the limit."""
        if self.done:
            return []
        taken = self.raw_size
        self.raw_size += len(raw)
        if self._inflater is None:
            return self._keep(raw)
        if self._ended_at is not None:
            # Data after the end of the compressed stream is ignored, as httpx does; it is
            # read (so the connection can serve again) up to a small limit.
            self.done = self.raw_size - self._ended_at > _TRAILING_LIMIT
            return []
        # Compressed data that yields next to nothing (empty blocks) is not read forever: at
        # most this many raw bytes are inflated, however they are chunked.
        view = memoryview(raw)[: 2 * self.limit + _TRAILING_LIMIT - taken]
        pieces: list[bytes] = []
        for start in range(0, len(view), _INPUT_STEP):
            pieces += self._inflate(view[start : start + _INPUT_STEP])
            if self.done or self._ended_at is not None:
                return pieces
        if len(view) < len(raw):
            self._too_long()
        return pieces

    def finish(self) -> None:
        """Note the end of the raw stream: a compressed body must have ended by then."""
        if self.done or self._inflater is None:
            return
        if self._ended_at is None:
            self._fail(f"its {self._coding} data ends early")

    def _inflate(self, data: memoryview | bytes) -> list[bytes]:
        assert self._inflater is not None
        pieces: list[bytes] = []
        if self._coding == "deflate" and not self._started:
            # zlib's header is two bytes, and only both tell it from raw deflate data: hold a
            # lone first byte back, or a header split between chunks would read as corrupt.
            data = self._head + bytes(data)
            self._head = data if len(data) < 2 else b""
            if self._head:
                return pieces
        while data and not self.done:
            # One byte past the limit is enough to know a strict body is too long.
            room = self.limit - self.size + (1 if self.strict else 0)
            try:
                piece = self._inflater.decompress(data, min(INFLATE_STEP, room))
            except zlib.error:
                if self._coding == "deflate" and not self._started:
                    # Some servers send raw deflate data without zlib's header.
                    self._inflater = zlib.decompressobj(_RAW_DEFLATE)
                    self._started = True
                    continue
                self._fail(f"its {self._coding} data is corrupt")
                break  # pragma: no mutate (continue ends the loop too: _fail set done)
            self._started = True
            data = self._inflater.unconsumed_tail
            pieces += self._keep(piece)
            if self._inflater.eof:
                self._ended_at = self.raw_size
                break  # pragma: no mutate (continue ends it too: no tail is left at the end)
        return pieces

    def _keep(self, piece: bytes) -> list[bytes]:
        room = self.limit - self.size
        if len(piece) > room:
            piece = piece[:room]
            self._too_long()
        self.size += len(piece)
        if not self.strict and self.size >= self.limit:
            self.done = True
        return [piece] if piece else []

    def _too_long(self) -> None:
        if self.strict:
            self._fail(f"it is larger than {_size(self.limit)} once decoded")
        else:
            self.done = True

    def _fail(self, problem: str) -> None:
        self.problem = problem
        self.done = True


def _size(count: int) -> str:
    return f"{count // (1024 * 1024)} MiB" if count >= 1024 * 1024 else f"{count} bytes"


class Answer(NamedTuple):
    """An HTTP answer whose body was read within its bound. Strictly private.

    ``response`` gives the status and headers; it is closed, and its ``content`` is not
    set (the body is here).
    """

    response: httpx.Response
    body: bytes
    """The decoded body: a success body whole, the first ``ERROR_BODY_LIMIT`` bytes of an
    error body."""
    problem: str | None
    """Why the body is unreadable (too large once decoded, undecodable), or None."""


def read_answer(response: httpx.Response) -> Answer:
    """Read the body of ``response`` (sent with ``stream=True``) within its bound; close it.

    Raises ``httpx.ReadTimeout`` if the body is still arriving a read timeout after its
    reading began, and the transport's ``httpx.RequestError`` if the connection fails. A
    body read already (by an event hook, or a transport that hands over read answers) is
    taken as it is, cut to its bound.
    """
    stream = response.stream
    try:
        if response.is_stream_consumed or not isinstance(stream, httpx.SyncByteStream):
            return _read_already(response, response.read())
        reader, expires = _start(response)
        pieces: list[bytes] = []
        for raw in stream:
            pieces += reader.feed(raw)
            if reader.done:
                break
            if expires is not None and time.monotonic() > expires:
                _too_late(response.request)
        else:
            reader.finish()
    except httpx.RequestError as err:
        _blame(err, response.request)
        raise
    finally:
        response.close()
    return _answer(response, reader, pieces)


async def aread_answer(response: httpx.Response) -> Answer:
    """The async twin of ``read_answer``."""
    stream = response.stream
    try:
        if response.is_stream_consumed or not isinstance(stream, httpx.AsyncByteStream):
            return _read_already(response, await response.aread())
        reader, expires = _start(response)
        pieces: list[bytes] = []
        async for raw in stream:
            pieces += reader.feed(raw)
            if reader.done:
                break
            if expires is not None and time.monotonic() > expires:
                _too_late(response.request)
        else:
            reader.finish()
    except httpx.RequestError as err:
        _blame(err, response.request)
        raise
    finally:
        await response.aclose()
    return _answer(response, reader, pieces)


def _answer(response: httpx.Response, reader: BodyReader, pieces: list[bytes]) -> Answer:
    """The answer read. An unreadable success body is dropped unjoined: nothing reads it,
    and joining what was read of one (up to its limit) would hold it twice."""
    if reader.strict and reader.problem is not None:
        return Answer(response, b"", reader.problem)
    return Answer(response, b"".join(pieces), reader.problem)


def _start(response: httpx.Response) -> tuple[BodyReader, float | None]:
    """The reader of ``response``'s body, and the ``time.monotonic()`` by which it must
    have arrived (None without a read timeout)."""
    success = response.is_success
    headers = response.headers
    # "in" first: a missing header costs Headers.get a KeyError, and most answers have none.
    encoding = headers["Content-Encoding"] if "Content-Encoding" in headers else ""  # noqa: SIM401
    reader = BodyReader(
        encoding, SUCCESS_BODY_LIMIT if success else ERROR_BODY_LIMIT, strict=success
    )
    seconds = _read_timeout(response.request)
    return reader, None if seconds is None else time.monotonic() + seconds


def _read_timeout(request: httpx.Request) -> float | None:
    limits: dict[str, float | None] = request.extensions.get("timeout") or {}
    return limits.get("read")


def _too_late(request: httpx.Request) -> NoReturn:
    raise httpx.ReadTimeout(
        f"the body was still arriving after {_read_timeout(request):g} s", request=request
    )


def _blame(error: httpx.RequestError, request: httpx.Request) -> None:
    """Name ``request`` in a transport error raised while its body was read, as httpx's
    own reading does (the transport raises it without)."""
    try:
        error.request  # noqa: B018  (the property raises when no request is set)
    except RuntimeError:
        error.request = request


def _read_already(response: httpx.Response, content: bytes) -> Answer:
    """The ``Answer`` of a response whose body httpx read whole, decoded and unbounded."""
    if not response.is_success:
        return Answer(response, content[:ERROR_BODY_LIMIT], None)
    if len(content) > SUCCESS_BODY_LIMIT:
        return Answer(response, b"", f"it is larger than {_size(SUCCESS_BODY_LIMIT)} once decoded")
    return Answer(response, content, None)
