"""Reading an answer's body within a bound on its size once decoded, and on the memory it takes.

The clients send each request with ``stream=True`` and read the answer through
``read_body`` (or ``aread_body``): the body is taken from the raw stream and inflated here,
in steps of at most ``INFLATE_STEP`` bytes, so that a few compressed bytes never become a
large buffer at once, and reading stops at the bound:

- a success body may hold up to ``SUCCESS_BODY_LIMIT`` bytes once decoded (64 MiB, about
  250,000 keys in a listing); a longer one is not read further and the answer is
  unreadable (``body_problem``), as is one that cannot be decoded;
- an error body is read for its code, message and request id, or an excerpt: its first
  ``ERROR_BODY_LIMIT`` bytes (8 KiB) are kept and the rest is never read nor inflated.

A body must also arrive whole within the request's read timeout, counted from its first
byte: httpx applies that timeout to each read, which a body sent a byte at a time would
satisfy for ever. Past it, reading stops with ``httpx.ReadTimeout`` (checked as each piece
arrives, so a body ends at most one read timeout later).

The client asks for ``gzip`` or ``deflate`` only (``ACCEPT_ENCODING``): those are inflated
here with zlib's ``max_length``. Any other content coding (``br``, ``zstd``, stacked
codings) makes a success body unreadable and an error body empty, with the reason in
``body_problem``.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import AsyncIterator, Iterator
from typing import Protocol

import httpx

__all__ = [
    "ACCEPT_ENCODING",
    "ERROR_BODY_LIMIT",
    "INFLATE_STEP",
    "SUCCESS_BODY_LIMIT",
    "BodyReader",
    "aread_body",
    "body_problem",
    "error_body",
    "read_body",
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
        self._started = False
        self._head = b""  # the first byte of a deflate body, until its second arrives

    def feed(self, raw: bytes) -> list[bytes]:
        """The decoded bytes ``raw`` (the next raw chunk) adds, within the limit."""
        if self.done:
            return []
        self.raw_size += len(raw)
        if self._inflater is None:
            return self._keep(raw)
        if self._ended_at is not None:
            # Data after the end of the compressed stream is ignored, as httpx does; it is
            # read (so the connection can serve again) up to a small limit.
            self.done = self.raw_size - self._ended_at > _TRAILING_LIMIT
            return []
        if self.raw_size > 2 * self.limit + _TRAILING_LIMIT:
            # Compressed data that yields next to nothing (empty blocks) is not read forever.
            self._too_long()
            return []
        pieces: list[bytes] = []
        view = memoryview(raw)
        for start in range(0, len(view), _INPUT_STEP):
            pieces += self._inflate(view[start : start + _INPUT_STEP])
            if self.done or self._ended_at is not None:
                break
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
                break
            self._started = True
            data = self._inflater.unconsumed_tail
            pieces += self._keep(piece)
            if self._inflater.eof:
                self._ended_at = self.raw_size
                break
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


class _Deadline:
    """When the body of ``request``'s answer must have arrived: its read timeout from now."""

    def __init__(self, request: httpx.Request) -> None:
        limits: dict[str, float | None] = request.extensions.get("timeout") or {}
        self.seconds = limits.get("read")
        self.request = request
        self._at = None if self.seconds is None else time.monotonic() + self.seconds

    def check(self) -> None:
        """Raise ``httpx.ReadTimeout`` if the body is still arriving past the deadline."""
        if self._at is not None and time.monotonic() > self._at:
            raise httpx.ReadTimeout(
                f"the body was still arriving after {self.seconds:g} s", request=self.request
            )


class _BoundedStream(httpx.SyncByteStream):
    """An answer's raw stream, decoded by a ``BodyReader`` before a deadline."""

    def __init__(self, raw: httpx.SyncByteStream, reader: BodyReader, deadline: _Deadline) -> None:
        self.raw = raw
        self.reader = reader
        self.deadline = deadline

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.raw:
            yield from self.reader.feed(chunk)
            if self.reader.done:
                return
            self.deadline.check()
        self.reader.finish()

    def close(self) -> None:
        self.raw.close()


class _AsyncBoundedStream(httpx.AsyncByteStream):
    """The async twin of ``_BoundedStream``."""

    def __init__(self, raw: httpx.AsyncByteStream, reader: BodyReader, deadline: _Deadline) -> None:
        self.raw = raw
        self.reader = reader
        self.deadline = deadline

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.raw:
            for piece in self.reader.feed(chunk):
                yield piece
            if self.reader.done:
                return
            self.deadline.check()
        self.reader.finish()

    async def aclose(self) -> None:
        await self.raw.aclose()


def _reader_for(response: httpx.Response) -> BodyReader:
    """The reader of ``response``'s body; the response stops announcing its coding, since
    the reader decodes it."""
    encoding = response.headers.get("Content-Encoding", "")
    if encoding:
        del response.headers["Content-Encoding"]
    if response.is_success:
        return BodyReader(encoding, SUCCESS_BODY_LIMIT, strict=True)
    return BodyReader(encoding, ERROR_BODY_LIMIT, strict=False)


def read_body(response: httpx.Response) -> None:
    """Read the body of ``response`` (sent with ``stream=True``) within its bound.

    A body read already (by an event hook, or a transport that hands over read answers)
    is left as it is; ``body_problem`` still checks its size.
    """
    if not response.is_stream_consumed and isinstance(response.stream, httpx.SyncByteStream):
        deadline = _Deadline(response.request)
        response.stream = _BoundedStream(response.stream, _reader_for(response), deadline)
    response.read()


async def aread_body(response: httpx.Response) -> None:
    """The async twin of ``read_body``."""
    if not response.is_stream_consumed and isinstance(response.stream, httpx.AsyncByteStream):
        deadline = _Deadline(response.request)
        response.stream = _AsyncBoundedStream(response.stream, _reader_for(response), deadline)
    await response.aread()


def body_problem(response: httpx.Response) -> str | None:
    """Why the body of a read answer is unreadable, or None (an error body is never too
    long: it was cut to its first ``ERROR_BODY_LIMIT`` bytes)."""
    stream = response.stream
    if isinstance(stream, _BoundedStream | _AsyncBoundedStream):
        return stream.reader.problem
    if response.is_success and len(response.content) > SUCCESS_BODY_LIMIT:
        return f"it is larger than {_size(SUCCESS_BODY_LIMIT)} once decoded"
    return None


def error_body(response: httpx.Response) -> bytes:
    """The first ``ERROR_BODY_LIMIT`` bytes of a read error answer's body."""
    return response.content[:ERROR_BODY_LIMIT]
