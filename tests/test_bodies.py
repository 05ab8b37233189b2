"""Any answer gives a result or a NeonError, in bounded memory.

Bodies are read within a bound on their decoded size (64 MiB for a success, the first 8 KiB
of an error) and inflated in capped steps, so a gzip or deflate bomb costs little memory; an
oversized or undecodable create answer goes to the orphan search like any unreadable one.
Peak memory is measured with tracemalloc (Python's own allocations, which is where the bytes
of a body live), never with a clock.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import json
import random
import struct
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpx
import pytest
from fakes import API_KEY, BASE_URL, FakeNeon, json_response, run
from hypothesis import given, settings
from hypothesis import strategies as st
from neon_keys import (
    APIConnectionError,
    APITimeoutError,
    AsyncNeonKeys,
    AuthenticationError,
    Backoff,
    CreateOutcomeUnknownError,
    NeonKeys,
    NotFoundError,
    ServerError,
    UnexpectedResponseError,
    _body,
)
from neon_keys._body import BodyReader
from rawhttp import RawServer, chunked, response_head

MiB = 1024 * 1024
GiB = 1024 * MiB
LISTING = [
    {
        "id": 1,
        "name": "ci",
        "created_at": "2024-05-01T10:00:00Z",
        "created_by": {"id": "user_x", "name": "", "image": ""},
        "last_used_at": None,
        "last_used_from_addr": "",
    }
]


# -- bodies ------------------------------------------------------------------------------------

_ZEROS = bytes(MiB)
_CRC32_OF_1_GIB_OF_ZEROS = 0x5B64C2B0  # zlib.crc32(bytes(1 << 30)), which takes seconds


def _bomb_parts(wbits: int) -> tuple[bytes, bytes, bytes]:
    """Compressed first MiB of zeros, each further MiB (all alike), and the end."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    first = compressor.compress(_ZEROS) + compressor.flush(zlib.Z_FULL_FLUSH)
    middle = compressor.compress(_ZEROS) + compressor.flush(zlib.Z_FULL_FLUSH)
    return first, middle, compressor.flush(zlib.Z_FINISH)


def gzip_bomb() -> bytes:
    """A valid gzip stream of 1 MiB that inflates to 1 GiB of zeros."""
    first, middle, end = _bomb_parts(zlib.MAX_WBITS | 16)
    trailer = struct.pack("<II", _CRC32_OF_1_GIB_OF_ZEROS, GiB & 0xFFFFFFFF)
    return first + middle * 1023 + end[:-8] + trailer


def deflate_bomb() -> bytes:
    """Raw deflate data of 1 MiB that inflates to 1 GiB of zeros (no checksum to forge)."""
    first, middle, end = _bomb_parts(-zlib.MAX_WBITS)
    return first + middle * 1023 + end


_BOMBS: dict[str, bytes] = {}


def bomb(encoding: str) -> bytes:
    """The compressed 1 GiB body for ``encoding`` (built once per session)."""
    if encoding not in _BOMBS:
        _BOMBS[encoding] = gzip_bomb() if encoding == "gzip" else deflate_bomb()
    return _BOMBS[encoding]


class Chunks(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response stream from an iterable of chunks, counting the bytes handed out."""

    def __init__(self, chunks: Callable[[], Iterable[bytes]]) -> None:
        self.chunks = chunks
        self.sent = 0
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks():
            self.sent += len(chunk)
            yield chunk

    async def __aiter__(self) -> Any:
        for chunk in self.chunks():
            self.sent += len(chunk)
            yield chunk

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


def pieces(data: bytes, size: int = 64 * 1024) -> Callable[[], Iterator[bytes]]:
    """``data`` as a network would deliver it, ``size`` bytes at a time."""
    return lambda: (data[start : start + size] for start in range(0, len(data), size))


def endless_zeros(total: int = GiB) -> Callable[[], Iterator[bytes]]:
    """``total`` bytes of zeros, 64 KiB at a time, without holding them."""
    block = bytes(64 * 1024)
    return lambda: (block for _ in range(total // len(block)))


def streamed(status: int, stream: Chunks, **headers: str) -> httpx.Response:
    """An answer whose body is read from ``stream`` only when the client reads it."""
    return httpx.Response(
        status, headers={"content-type": "application/json", **headers}, stream=stream
    )


def peak_memory(call: Callable[[], object]) -> int:
    """The most memory Python held at once during ``call()``, above what it held before."""
    assert not tracemalloc.is_tracing()
    tracemalloc.start()
    try:
        call()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def _raises(exception: type[Exception], thunk: Callable[[], Any]) -> Exception:
    with pytest.raises(exception) as caught:
        run(thunk())
    return caught.value


# -- the reader, without I/O -------------------------------------------------------------------


def test_the_documented_bounds() -> None:
    """64 MiB for a success, 8 KiB of an error, 1 MiB per inflating step, gzip and deflate."""
    documented = (64 * MiB, 8 * 1024, MiB, "gzip, deflate")
    assert documented == (
        _body.SUCCESS_BODY_LIMIT,
        _body.ERROR_BODY_LIMIT,
        _body.INFLATE_STEP,
        _body.ACCEPT_ENCODING,
    )


def _read(reader: BodyReader, raw: Iterable[bytes]) -> bytes:
    decoded = b""
    for chunk in raw:
        decoded += b"".join(reader.feed(chunk))
        if reader.done:
            return decoded
    reader.finish()
    return decoded


def _compress(data: bytes, encoding: str) -> bytes:
    if encoding in ("gzip", "x-gzip"):
        return zlib.compress(data, wbits=zlib.MAX_WBITS | 16)
    if encoding == "deflate":
        return zlib.compress(data)
    if encoding == "raw-deflate":
        return zlib.compress(data, wbits=-zlib.MAX_WBITS)
    return data


@settings(max_examples=80, deadline=None)
@given(
    data=st.binary(max_size=3000) | st.text(max_size=500).map(str.encode),
    encoding=st.sampled_from(["", "identity", "gzip", "x-gzip", "deflate", "raw-deflate"]),
    cuts=st.lists(st.integers(min_value=1, max_value=200), max_size=8),
)
def test_any_body_split_anywhere_reads_back_whole(
    data: bytes, encoding: str, cuts: list[int]
) -> None:
    """A body in any accepted coding, cut into raw chunks anywhere, decodes to itself."""
    raw = _compress(data, encoding)
    chunks, start = [], 0
    for cut in cuts:
        chunks.append(raw[start : start + cut])
        start += cut
    chunks.append(raw[start:])
    header = "deflate" if encoding == "raw-deflate" else encoding.upper()
    reader = BodyReader(header, 10_000, strict=True)
    assert _read(reader, chunks) == data
    assert reader.problem is None and reader.size == len(data)


@pytest.mark.parametrize("encoding", ["", "gzip", "deflate"])
def test_the_limit_is_exact(encoding: str) -> None:
    """A success body of exactly the limit reads; one byte more is too long."""
    body = b"x" * 1000
    exact = BodyReader(encoding, 1000, strict=True)
    assert _read(exact, [_compress(body, encoding)]) == body and exact.problem is None
    over = BodyReader(encoding, 999, strict=True)
    assert len(_read(over, [_compress(body, encoding)])) == 999
    assert over.problem == "it is larger than 999 bytes once decoded" and over.done


@pytest.mark.parametrize("encoding", ["", "gzip", "deflate"])
def test_an_error_body_is_cut_quietly(encoding: str) -> None:
    """An error body is read up to its limit, without a problem, and no further."""
    reader = BodyReader(encoding, 100, strict=False)
    raw = _compress(b"y" * 5000, encoding)
    assert _read(reader, [raw[:10], raw[10:], b"more"]) == b"y" * 100
    assert reader.done and reader.problem is None and reader.size == 100
    assert reader.feed(b"anything") == []


@pytest.mark.parametrize(
    ("encoding", "raw", "problem"),
    [
        ("gzip", b"\x1f\x8b not gzip at all", "its gzip data is corrupt"),
        ("deflate", b"\xff\xff\xff", "its deflate data is corrupt"),
        ("gzip", zlib.compress(b"[1, 2, 3]", wbits=31)[:-6], "its gzip data ends early"),
        ("gzip", b"", "its gzip data ends early"),
        (
            "br",
            b"\x0b\x02\x80[]\x03",
            "its content-encoding 'br' is not one the client accepts (gzip, deflate)",
        ),
        (
            "zstd",
            b"(\xb5/\xfd",
            "its content-encoding 'zstd' is not one the client accepts (gzip, deflate)",
        ),
        (
            "gzip, gzip",
            b"",
            "its content-encoding 'gzip, gzip' is not one the client accepts (gzip, deflate)",
        ),
    ],
    # Named, since ids made of raw bytes are escaped, and cannot be asked for again by id.
    ids=["corrupt-gzip", "corrupt-deflate", "gzip-cut", "gzip-empty", "br", "zstd", "gzip-twice"],
)
def test_undecodable_bodies_say_why(encoding: str, raw: bytes, problem: str) -> None:
    """A body the client cannot decode gets a problem saying why, strict or not."""
    for strict in (True, False):
        reader = BodyReader(encoding, 1000, strict=strict)
        _read(reader, [raw])
        assert reader.problem == problem and reader.done


def test_data_after_a_compressed_stream_is_ignored_and_not_read_forever() -> None:
    """Bytes after the end of a gzip stream are ignored; past 64 KiB of them reading stops."""
    reader = BodyReader("gzip", 1000, strict=True)
    decoded = _read(reader, [zlib.compress(b"[]", wbits=31) + b"junk", *([b"z" * 1024] * 63)])
    assert decoded == b"[]" and reader.problem is None and not reader.done
    reader.feed(b"z" * 2048)
    assert reader.done and reader.problem is None


def test_compressed_data_that_yields_nothing_is_not_read_forever() -> None:
    """Empty deflate blocks without end are read up to twice the limit plus 64 KiB."""
    empty_blocks = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    block = empty_blocks.flush(zlib.Z_FULL_FLUSH) or b"\x00\x00\x00\xff\xff"
    reader = BodyReader("deflate", 1000, strict=True)
    fed = 0
    while not reader.done:
        assert fed < 200_000
        reader.feed(block * 1000)
        fed += len(block) * 1000
    assert reader.problem == "it is larger than 1000 bytes once decoded"
    assert 2 * 1000 + 64 * 1024 < fed <= 2 * 1000 + 64 * 1024 + len(block) * 1000


def test_one_step_never_inflates_more_than_a_mebibyte() -> None:
    """Inflating is done in steps of at most 1 MiB, however much one raw chunk holds."""
    reader = BodyReader("gzip", 64 * MiB, strict=True)
    sizes = [len(piece) for piece in reader.feed(bomb("gzip")[:200_000])]
    assert sizes and max(sizes) <= _body.INFLATE_STEP == MiB
    assert sum(sizes) == reader.size


# -- through the clients -----------------------------------------------------------------------


def _client(
    flavour: str, handler: Callable[[httpx.Request], httpx.Response], **options: Any
) -> Any:
    options = {"backoff": Backoff.immediate(), "max_retries": 0, "rate_limits": None, **options}
    transport = httpx.MockTransport(handler)
    if flavour == "sync":
        return NeonKeys(
            api_key=API_KEY,
            base_url=BASE_URL,
            http_client=httpx.Client(transport=transport),
            **options,
        )
    return AsyncNeonKeys(
        api_key=API_KEY,
        base_url=BASE_URL,
        http_client=httpx.AsyncClient(transport=transport),
        **options,
    )


FLAVOURS = pytest.mark.parametrize("flavour", ["sync", "async"])


@FLAVOURS
@pytest.mark.parametrize("encoding", ["gzip", "deflate", "identity"])
def test_a_gigabyte_error_body_costs_a_few_kilobytes(flavour: str, encoding: str) -> None:
    """A 401 whose body decodes to 1 GiB gives AuthenticationError; the client reads one raw
    chunk of it and holds well under 16 MiB at its peak."""
    stream = Chunks(endless_zeros() if encoding == "identity" else pieces(bomb(encoding)))
    headers = {} if encoding == "identity" else {"content-encoding": encoding}
    neon = _client(flavour, lambda request: streamed(401, stream, **headers))
    error: list[Exception] = []
    peak = peak_memory(lambda: error.append(_raises(AuthenticationError, neon.whoami)))
    assert peak < 16 * MiB, f"{peak / MiB:.1f} MiB"
    assert stream.sent <= 64 * 1024
    assert error[0].status_code == 401


@FLAVOURS
@pytest.mark.parametrize("encoding", ["gzip", "deflate", "identity"])
def test_a_gigabyte_success_body_is_unreadable_within_bounded_memory(
    flavour: str, encoding: str
) -> None:
    """A listing that decodes to 1 GiB is refused as larger than 64 MiB, read no further, and
    the client's peak stays about the limit (what was read is never joined into a copy)."""
    stream = Chunks(endless_zeros() if encoding == "identity" else pieces(bomb(encoding)))
    headers = {} if encoding == "identity" else {"content-encoding": encoding}
    neon = _client(flavour, lambda request: streamed(200, stream, **headers))
    errors: list[Exception] = []
    peak = peak_memory(
        lambda: errors.append(_raises(UnexpectedResponseError, neon.personal_keys.list))
    )
    assert peak < 80 * MiB, f"{peak / MiB:.1f} MiB"
    assert "the body cannot be read: it is larger than 64 MiB once decoded" in str(errors[0])
    assert stream.sent < (64 * MiB if encoding == "identity" else MiB) + 128 * 1024


@FLAVOURS
@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"content-encoding": "gzip"}, "bomb"),
        ({"content-encoding": "gzip"}, b"\x1f\x8b\x08 corrupt"),
        ({"content-encoding": "br"}, b"\x0b\x02\x80{}\x03"),
        ({}, b"[" * 200_000 + b"]" * 200_000),
        ({}, b'{"id": 7, "key": "napi_x", "name": "ci", "created_at": "2024-05-01T10:00:00Z"'),
    ],
    ids=["gzip-bomb", "corrupt-gzip", "brotli", "deeply-nested", "cut-short"],
)
def test_an_unreadable_create_answer_goes_to_the_orphan_search(
    flavour: str, headers: dict[str, str], body: bytes | str
) -> None:
    """A 201 too large, undecodable, nested too deeply or cut short is a create whose outcome
    is unknown: the keys are listed and the new one is named."""
    fake = FakeNeon()
    raw = bomb("gzip") if body == "bomb" else body
    assert isinstance(raw, bytes)
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    fake.route("POST", "/api_keys", lambda request: streamed(201, Chunks(pieces(raw)), **headers))
    fake.route("GET", "/api_keys", json_response([{**LISTING[0], "id": 42, "created_at": now}]))
    neon = fake.sync_client() if flavour == "sync" else fake.async_client()
    with pytest.raises(CreateOutcomeUnknownError) as caught:
        run(neon.personal_keys.create("ci"))
    error = caught.value
    assert [key.id for key in error.candidates or ()] == [42]
    assert isinstance(error.cause, UnexpectedResponseError)
    assert "unexpected response" in str(error.cause)


@FLAVOURS
def test_deeply_nested_json_under_any_status_is_a_neon_error(flavour: str) -> None:
    """JSON nested past Python's recursion limit is unreadable, not a RecursionError."""
    nested = b"[" * 100_000 + b"]" * 100_000
    for status, expected in [
        (200, UnexpectedResponseError),
        (404, NotFoundError),
        (500, ServerError),
    ]:
        neon = _client(flavour, lambda request, s=status: httpx.Response(s, content=nested))
        error = _raises(expected, neon.personal_keys.list)
        if status == 200:
            assert "nested too deeply" in str(error)


@FLAVOURS
@pytest.mark.parametrize("encoding", ["gzip", "x-gzip", "deflate", "raw-deflate", "identity"])
def test_compressed_answers_read_as_plain_ones(flavour: str, encoding: str) -> None:
    """Listings in every accepted coding, delivered in small pieces, read to the same keys."""
    raw = _compress(json.dumps(LISTING).encode(), encoding)
    header = {"content-encoding": "deflate" if encoding == "raw-deflate" else encoding}
    neon = _client(flavour, lambda request: streamed(200, Chunks(pieces(raw, 7)), **header))
    (key,) = run(neon.personal_keys.list())
    assert (key.id, key.name) == (1, "ci")


@FLAVOURS
@pytest.mark.parametrize("encoding", ["br", "zstd", "compress", "gzip, gzip"])
def test_codings_the_client_does_not_accept_are_refused_clearly(
    flavour: str, encoding: str
) -> None:
    """An answer in a coding the client did not ask for is unreadable, saying which coding."""
    body = json.dumps(LISTING).encode()
    neon = _client(
        flavour,
        lambda request: streamed(200, Chunks(pieces(body)), **{"content-encoding": encoding}),
    )
    error = _raises(UnexpectedResponseError, neon.personal_keys.list)
    assert (
        f"its content-encoding {encoding!r} is not one the client accepts (gzip, deflate)"
        in str(error)
    )
    failed = _client(
        flavour,
        lambda request: streamed(403, Chunks(pieces(b"x")), **{"content-encoding": encoding}),
    )
    denied = _raises(Exception, failed.whoami)
    assert "body unreadable: its content-encoding" in str(denied)


@FLAVOURS
def test_the_client_asks_for_gzip_and_deflate_only(flavour: str) -> None:
    """Every request says Accept-Encoding: gzip, deflate, whoever made the connection pool."""
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["accept-encoding"])
        return json_response({"account_id": "u", "auth_method": "api_key_user"})

    run(_client(flavour, answer).whoami())
    assert seen == ["gzip, deflate"]


def test_a_body_read_by_an_event_hook_is_still_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A caller's response hook may read the body first; the limit still applies to it."""
    monkeypatch.setattr(_body, "SUCCESS_BODY_LIMIT", 100)
    body = json.dumps(LISTING * 3).encode()
    http = httpx.Client(
        transport=httpx.MockTransport(lambda request: httpx.Response(200, content=body)),
        event_hooks={"response": [lambda response: response.read()]},
    )
    neon = NeonKeys(api_key=API_KEY, base_url=BASE_URL, http_client=http, max_retries=0)
    with pytest.raises(UnexpectedResponseError, match="larger than 100 bytes"):
        neon.personal_keys.list()
    monkeypatch.setattr(_body, "SUCCESS_BODY_LIMIT", len(body))
    assert len(neon.personal_keys.list()) == 3


def test_an_error_excerpt_comes_from_the_first_kilobytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """An error page is excerpted from its first ERROR_BODY_LIMIT bytes only."""
    page = b"<html><body>" + b"Bad Gateway " * 10 + b"</body></html>" + b"tail" * 100_000
    stream = Chunks(pieces(page, 1024))
    neon = _client("sync", lambda request: streamed(502, stream))
    error = _raises(ServerError, neon.whoami)
    assert error.message.startswith("Bad Gateway: Bad Gateway Bad Gateway")
    assert error.message.endswith("...")
    assert stream.sent <= _body.ERROR_BODY_LIMIT + 1024


# -- over a socket: what only a real connection can send -------------------------------------


def _socket_client(flavour: str, server: RawServer, timeout: float = 5.0) -> Any:
    options: dict[str, Any] = {
        "api_key": API_KEY,
        "base_url": server.base_url,
        "backoff": Backoff.immediate(),
        "max_retries": 0,
        "rate_limits": None,
        "timeout": timeout,
    }
    return NeonKeys(**options) if flavour == "sync" else AsyncNeonKeys(**options)


def _closing(neon: Any, thunk: Callable[[Any], Any]) -> Any:
    async def main() -> Any:
        async with neon:
            return await thunk(neon)

    if isinstance(neon, AsyncNeonKeys):
        return asyncio.run(main())
    with neon:
        return thunk(neon)


@FLAVOURS
def test_a_chunked_gzip_bomb_over_a_socket(flavour: str) -> None:
    """A chunked, gzip-encoded 1 GiB error body over a real connection costs little memory."""
    head = response_head(
        "401 Unauthorized",
        {"Content-Type": "text/plain", "Content-Encoding": "gzip", "Transfer-Encoding": "chunked"},
    )
    answer = lambda request: [head, *chunked(pieces(bomb("gzip"))())]  # noqa: E731
    with RawServer(answer) as server:
        neon = _socket_client(flavour, server)
        errors: list[Exception] = []

        def call() -> None:
            with pytest.raises(AuthenticationError) as caught:
                _closing(neon, lambda n: n.whoami())
            errors.append(caught.value)

        peak = peak_memory(call)
    assert peak < 16 * MiB, f"{peak / MiB:.1f} MiB"
    assert "401" in str(errors[0])


@FLAVOURS
def test_a_body_without_content_length_is_read_to_the_close(flavour: str) -> None:
    """A close-delimited success body (no Content-Length, no chunks) is read whole."""
    head = response_head("200 OK", {"Content-Type": "application/json", "Connection": "close"})
    answer = lambda request: [head, json.dumps(LISTING).encode()]  # noqa: E731
    with RawServer(answer) as server:
        keys = _closing(_socket_client(flavour, server), lambda n: n.personal_keys.list())
    assert [key.id for key in keys] == [1]


@FLAVOURS
def test_a_lying_content_length(flavour: str) -> None:
    """A Content-Length longer than the body is a dropped connection; a shorter one cuts the
    body, which is then unreadable; a create answered either way goes to the orphan search."""
    body = json.dumps(LISTING).encode()
    longer = response_head(
        "200 OK", {"Content-Type": "application/json", "Content-Length": str(len(body) + 100)}
    )
    shorter = response_head(
        "200 OK", {"Content-Type": "application/json", "Content-Length": str(len(body) - 5)}
    )
    with RawServer(lambda request: [longer, body]) as server:
        with pytest.raises(APIConnectionError) as caught:
            _closing(_socket_client(flavour, server), lambda n: n.personal_keys.list())
        assert caught.value.request_sent is True
    with (
        RawServer(lambda request: [shorter, body]) as server,
        pytest.raises(UnexpectedResponseError, match="body is not JSON"),
    ):
        _closing(_socket_client(flavour, server), lambda n: n.personal_keys.list())

    def create_then_list(request: bytes) -> list[bytes]:
        if request.startswith(b"POST"):
            return [longer, b'{"id": 9, "key": "napi_x", "name": "ci"}']
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        listing = json.dumps([{**LISTING[0], "id": 9, "created_at": now}]).encode()
        return [response_head("200 OK", {"Content-Length": str(len(listing))}), listing]

    with (
        RawServer(create_then_list) as server,
        pytest.raises(CreateOutcomeUnknownError) as lost,
    ):
        _closing(_socket_client(flavour, server), lambda n: n.personal_keys.create("ci"))
    assert [key.id for key in lost.value.candidates or ()] == [9]
    assert all(b"\r\naccept-encoding: gzip, deflate\r\n" in r.lower() for r in server.requests)


@FLAVOURS
def test_a_connection_lost_mid_body_names_its_request(flavour: str) -> None:
    """A connection dropped while the body arrives is an APIConnectionError whose chained
    httpx error names the request that was cut off, as httpx's own reading does."""
    body = json.dumps(LISTING).encode()
    head = response_head(
        "200 OK", {"Content-Type": "application/json", "Content-Length": str(len(body) + 100)}
    )
    with RawServer(lambda request: [head, body]) as server:
        with pytest.raises(APIConnectionError) as caught:
            _closing(_socket_client(flavour, server), lambda n: n.personal_keys.list())
        cause = caught.value.__cause__
        assert isinstance(cause, httpx.RemoteProtocolError)
        assert str(cause.request.url) == f"{server.base_url}/api_keys"


def _trickle(head: bytes, body: bytes) -> Callable[[bytes], Iterator[bytes]]:
    """An answer whose body comes a byte every 50 ms, as from a slowloris proxy."""

    def answer(request: bytes) -> Iterator[bytes]:
        yield head
        for byte in body:
            time.sleep(0.05)
            yield bytes([byte])

    return answer


@FLAVOURS
def test_a_body_that_trickles_in_ends_the_call_within_the_timeout(flavour: str) -> None:
    """A body sent a byte at a time is given up once the read timeout has passed since it
    began (each byte would satisfy a per-read timeout for ever), as a read timeout."""
    body = json.dumps(LISTING).encode()
    head = response_head(
        "200 OK", {"Content-Type": "application/json", "Content-Length": str(len(body))}
    )
    with RawServer(_trickle(head, body)) as server:
        neon = _socket_client(flavour, server, timeout=0.3)
        started = time.monotonic()
        with pytest.raises(APITimeoutError, match=r"timed out after 0\.3 s") as caught:
            _closing(neon, lambda n: n.personal_keys.list())
        took = time.monotonic() - started
    assert caught.value.request_sent is True
    # Long before the whole body would have come (0.05 s a byte), with slack for a busy
    # machine: about 0.35 s is usual.
    assert took < len(body) * 0.05 / 2


@FLAVOURS
def test_a_create_answer_that_trickles_in_goes_to_the_orphan_search(flavour: str) -> None:
    """A 201 whose body trickles in is abandoned in time and the key looked for, like a lost
    answer."""
    created = json.dumps({"id": 9, "key": "napi_trickled", "name": "ci"}).encode()
    slow = _trickle(response_head("201 Created", {"Content-Length": str(len(created))}), created)

    def create_then_list(request: bytes) -> Iterator[bytes]:
        if request.startswith(b"POST"):
            yield from slow(request)
            return
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        listing = json.dumps([{**LISTING[0], "id": 9, "created_at": now}]).encode()
        yield response_head("200 OK", {"Content-Length": str(len(listing))}) + listing

    with (
        RawServer(create_then_list) as server,
        pytest.raises(CreateOutcomeUnknownError) as lost,
    ):
        _closing(
            _socket_client(flavour, server, timeout=0.3), lambda n: n.personal_keys.create("ci")
        )
    assert [key.id for key in lost.value.candidates or ()] == [9]
    assert "timed out" in str(lost.value.cause)


@pytest.mark.parametrize("wrapped", [True, False], ids=["zlib", "raw"])
def test_a_deflate_header_split_after_its_first_byte_still_reads(wrapped: bool) -> None:
    """Deflate data whose first chunk is one byte is told zlib-wrapped or raw all the same."""
    data = b"\x00"
    raw = zlib.compress(data) if wrapped else zlib.compress(data, wbits=-zlib.MAX_WBITS)
    reader = BodyReader("deflate", 10_000, strict=True)
    assert _read(reader, [raw[:1], raw[1:]]) == data
    assert reader.problem is None


# -- the exact bounds a hostile server probes --------------------------------------------------

_EMPTY_BLOCK = b"\x00\x00\x00\xff\xff"  # a stored deflate block of no bytes, not the last
_GZIP_HEADER = zlib.compressobj(wbits=zlib.MAX_WBITS | 16).compress(b"")


def _incompressible(size: int) -> bytes:
    """``size`` bytes that deflate cannot shrink (the same ones every run)."""
    return random.Random(size).randbytes(size)


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_exactly_the_trailing_limit_after_a_compressed_stream_is_read_on(encoding: str) -> None:
    """After a compressed stream ends, reading goes on through exactly 64 KiB of further raw
    bytes and stops at the next one, the body intact and without a problem."""
    reader = BodyReader(encoding, 1000, strict=True)
    assert b"".join(reader.feed(_compress(b"[1]", encoding))) == b"[1]"
    assert reader.feed(b"z" * (64 * 1024 - 1)) == [] and reader.feed(b"z") == []
    assert not reader.done
    assert reader.feed(b"z") == [] and reader.done
    reader.finish()
    assert reader.problem is None and reader.size == 3


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compressed_data_yielding_nothing_is_read_to_exactly_twice_the_limit_and_64_kib(
    encoding: str,
) -> None:
    """Compressed data that decodes to nothing is read on through exactly twice the limit
    plus 64 KiB of raw bytes; the next byte makes the body too long, and is not inflated."""
    bound = 2 * 1000 + 64 * 1024
    head = _GZIP_HEADER if encoding == "gzip" else b""
    blocks, rest = divmod(bound - len(head), len(_EMPTY_BLOCK))
    raw = head + _EMPTY_BLOCK * blocks + _EMPTY_BLOCK[:rest]
    assert len(raw) == bound
    reader = BodyReader(encoding, 1000, strict=True)
    assert reader.feed(raw[:1]) == [] and reader.feed(raw[1:]) == []
    assert not reader.done and reader.problem is None
    assert reader.feed(b"\xff") == []  # corrupt data, never inflated: the bound comes first
    assert reader.done and reader.problem == "it is larger than 1000 bytes once decoded"


@FLAVOURS
def test_a_success_answer_of_empty_blocks_for_ever_is_refused_as_too_long(
    flavour: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A listing whose gzip data never yields a byte is refused as larger than the limit, its
    raw bytes read up to twice the limit plus 64 KiB and one chunk."""
    monkeypatch.setattr(_body, "SUCCESS_BODY_LIMIT", 1000)
    chunk = _EMPTY_BLOCK * (4096 // len(_EMPTY_BLOCK))
    stream = Chunks(lambda: [_GZIP_HEADER, *([chunk] * 1000)])
    neon = _client(flavour, lambda request: streamed(200, stream, **{"content-encoding": "gzip"}))
    error = _raises(UnexpectedResponseError, neon.personal_keys.list)
    assert "the body cannot be read: it is larger than 1000 bytes once decoded" in str(error)
    assert 2 * 1000 + 64 * 1024 < stream.sent <= 2 * 1000 + 64 * 1024 + len(chunk)


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate"])
def test_a_compressed_chunk_far_larger_than_an_input_step_reads_whole(encoding: str) -> None:
    """A compressed body handed over as one raw chunk of several input steps (a transport
    that reads whole bodies) decodes whole, every step of it."""
    data = _incompressible(5 * 64 * 1024 + 17)
    raw = _compress(data, encoding)
    reader = BodyReader("deflate" if encoding == "raw-deflate" else encoding, MiB, strict=True)
    assert _read(reader, [raw]) == data
    assert reader.problem is None


def test_bytes_after_a_compressed_stream_in_the_same_chunk_are_not_copied() -> None:
    """Megabytes that follow the end of a gzip stream in the same raw chunk are ignored
    without being copied: reading them costs a few kilobytes."""
    chunk = _compress(b"[1]", "gzip") + bytes(8 * MiB)
    reader = BodyReader("gzip", 64 * MiB, strict=True)
    decoded: list[bytes] = []
    peak = peak_memory(lambda: decoded.extend(reader.feed(chunk)))
    assert decoded == [b"[1]"] and reader.problem is None
    assert peak < 256 * 1024, f"{peak / 1024:.0f} KiB"


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate"])
def test_a_compressed_body_arriving_a_byte_at_a_time_reads_whole(encoding: str) -> None:
    """A compressed body sent one byte per chunk (a trickle, or a last chunk of one byte)
    decodes to itself, whether deflate data has zlib's header or not."""
    data = json.dumps(LISTING).encode()
    raw = _compress(data, encoding)
    header = "deflate" if encoding == "raw-deflate" else encoding
    for chunks in ([raw[i : i + 1] for i in range(len(raw))], [raw[:-1], raw[-1:]]):
        reader = BodyReader(header, 10_000, strict=True)
        assert _read(reader, chunks) == data
        assert reader.problem is None


def test_the_shortest_raw_deflate_stream_reads_as_an_empty_body() -> None:
    """Raw deflate data of two bytes, the whole of an empty body, reads as empty (two bytes
    are enough to tell raw deflate from zlib's header)."""
    raw = zlib.compress(b"", wbits=-zlib.MAX_WBITS)
    assert len(raw) == 2
    reader = BodyReader("deflate", 1000, strict=True)
    assert _read(reader, [raw]) == b""
    assert reader.problem is None


def test_the_last_step_inflates_only_what_is_left_of_the_limit() -> None:
    """Once most of the limit is decoded, a bomb's next step inflates what is left of the
    limit and a byte, not a whole step: reading it costs kilobytes, not a mebibyte."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    first = compressor.compress(bytes(500 * 1024)) + compressor.flush(zlib.Z_FULL_FLUSH)
    rest = compressor.compress(bytes(4 * MiB)) + compressor.flush()
    reader = BodyReader("gzip", 512 * 1024, strict=True)
    assert sum(map(len, reader.feed(first))) == 500 * 1024 and not reader.done
    kept: list[bytes] = []
    peak = peak_memory(lambda: kept.extend(reader.feed(rest)))
    assert sum(map(len, kept)) == 12 * 1024
    assert reader.problem == "it is larger than 524288 bytes once decoded"
    assert peak < 128 * 1024, f"{peak / 1024:.0f} KiB"


@pytest.mark.parametrize(
    ("encoding", "wbits"), [("", 0), ("gzip", zlib.MAX_WBITS | 16), ("deflate", zlib.MAX_WBITS)]
)
def test_one_byte_past_the_limit_in_its_own_chunk_is_too_long(encoding: str, wbits: int) -> None:
    """A success body whose first chunk decodes to exactly its limit and whose next one adds a
    byte is too long: reaching the limit does not end a success body's reading."""
    first, last = b"x" * 1000, b"x"
    if encoding:
        compressor = zlib.compressobj(wbits=wbits)
        first = compressor.compress(first) + compressor.flush(zlib.Z_FULL_FLUSH)
        last = compressor.compress(last) + compressor.flush()
    reader = BodyReader(encoding, 1000, strict=True)
    assert b"".join(reader.feed(first)) == b"x" * 1000 and not reader.done
    _read(reader, [last])
    assert reader.problem == "it is larger than 1000 bytes once decoded"


@pytest.mark.parametrize("encoding", ["", "gzip", "deflate"])
def test_an_error_body_stops_being_read_at_its_limit(encoding: str) -> None:
    """An error body whose first chunk decodes to exactly the limit asks for no more."""
    raw = _compress(b"y" * 100, encoding)
    reader = BodyReader(encoding, 100, strict=False)
    assert b"".join(reader.feed(raw)) == b"y" * 100
    assert reader.done and reader.problem is None


@pytest.mark.parametrize(("limit", "named"), [(MiB, "1 MiB"), (MiB - 1, "1048575 bytes")])
def test_the_limit_is_named_in_mebibytes_from_one_mebibyte(limit: int, named: str) -> None:
    """A body over a limit of a whole mebibyte or more names it in MiB, a smaller one in bytes."""
    reader = BodyReader("", limit, strict=True)
    _read(reader, [bytes(limit + 1)])
    assert reader.problem == f"it is larger than {named} once decoded"


@FLAVOURS
def test_a_gzip_listing_without_its_checksum_is_refused(flavour: str) -> None:
    """A gzip listing that decodes whole but lacks its trailer (CRC and length) was cut short:
    it is unreadable, saying so, not taken unchecked."""
    raw = _compress(json.dumps(LISTING).encode(), "gzip")[:-8]
    neon = _client(
        flavour, lambda request: streamed(200, Chunks(pieces(raw)), **{"content-encoding": "gzip"})
    )
    error = _raises(UnexpectedResponseError, neon.personal_keys.list)
    assert "the body cannot be read: its gzip data ends early" in str(error)


@FLAVOURS
@pytest.mark.parametrize("size", [100, 10 * 1024 * 1024])
def test_the_answer_is_closed_once_its_body_is_read(flavour: str, size: int) -> None:
    """The answer's stream is closed once read, whether its body was read whole or reading
    stopped at the limit (a connection is never left half read)."""
    stream = Chunks(endless_zeros(size))
    neon = _client(flavour, lambda request: streamed(500, stream))
    _raises(ServerError, neon.whoami)
    assert stream.closed


@FLAVOURS
def test_an_error_body_read_by_an_event_hook_is_excerpted_from_its_first_kilobytes(
    flavour: str,
) -> None:
    """An error page a response hook read whole is still taken from its first 8 KiB only."""
    page = b"Bad Gateway " * 10 + b"<b>tail</b>" * 100_000
    hook_read: list[int] = []

    def read(response: httpx.Response) -> None:
        hook_read.append(len(response.read()))

    async def aread(response: httpx.Response) -> None:
        hook_read.append(len(await response.aread()))

    transport = httpx.MockTransport(lambda request: httpx.Response(502, content=page))
    options: dict[str, Any] = {"api_key": API_KEY, "base_url": BASE_URL, "max_retries": 0}
    if flavour == "sync":
        neon: Any = NeonKeys(
            http_client=httpx.Client(transport=transport, event_hooks={"response": [read]}),
            **options,
        )
    else:
        neon = AsyncNeonKeys(
            http_client=httpx.AsyncClient(transport=transport, event_hooks={"response": [aread]}),
            **options,
        )
    error = _raises(ServerError, neon.whoami)
    assert hook_read == [len(page)]
    assert error.message.startswith("Bad Gateway: Bad Gateway Bad Gateway")


@FLAVOURS
@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_large_compressed_error_page_in_one_chunk_is_excerpted(
    flavour: str, encoding: str
) -> None:
    """An error page whose compressed body (over 80 KiB) comes as one raw chunk, as an ASGI
    app behind a gzip middleware sends it, is excerpted from its first kilobytes."""
    noise = base64.b64encode(_incompressible(120 * 1024))
    page = b"<h1>Bad Gateway</h1><p>upstream failed</p><pre>" + noise + b"</pre>"
    raw = _compress(page, encoding)
    assert len(raw) > 2 * _body.ERROR_BODY_LIMIT + 64 * 1024
    stream = Chunks(lambda: [raw])
    neon = _client(flavour, lambda request: streamed(502, stream, **{"content-encoding": encoding}))
    error = _raises(ServerError, neon.whoami)
    assert error.message.startswith("Bad Gateway: Bad Gateway upstream failed")


@FLAVOURS
def test_an_error_page_cut_short_is_excerpted_from_what_arrived(flavour: str) -> None:
    """A gzip error page that ends early (its trailer lost on the way) is excerpted from the
    text that did arrive; only a success body that cannot be read whole is dropped."""
    raw = _compress(b"<h1>Bad Gateway</h1><p>upstream failed</p>", "gzip")[:-8]
    neon = _client(
        flavour, lambda request: streamed(502, Chunks(pieces(raw)), **{"content-encoding": "gzip"})
    )
    error = _raises(ServerError, neon.whoami)
    assert error.message == "Bad Gateway: Bad Gateway upstream failed"


@FLAVOURS
def test_a_body_read_by_an_event_hook_over_a_socket_is_not_read_twice(flavour: str) -> None:
    """A response hook that reads the body over a real connection leaves the client the body
    it read, decoded once: the listing reads, gzip-encoded or not."""
    body = json.dumps(LISTING).encode()
    raw = _compress(body, "gzip")
    head = response_head(
        "200 OK",
        {
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
            "Content-Length": str(len(raw)),
        },
    )
    read: list[bytes] = []

    def hook(response: httpx.Response) -> None:
        read.append(response.read())

    async def ahook(response: httpx.Response) -> None:
        read.append(await response.aread())

    async def alisted(base_url: str) -> Any:
        async with (
            httpx.AsyncClient(event_hooks={"response": [ahook]}) as http,
            AsyncNeonKeys(api_key=API_KEY, base_url=base_url, http_client=http) as neon,
        ):
            return await neon.personal_keys.list()

    with RawServer(lambda request: [head, raw]) as server:
        if flavour == "sync":
            with (
                httpx.Client(event_hooks={"response": [hook]}) as http,
                NeonKeys(api_key=API_KEY, base_url=server.base_url, http_client=http) as neon,
            ):
                keys = neon.personal_keys.list()
        else:
            keys = asyncio.run(alisted(server.base_url))
    assert [key.id for key in keys] == [1] and read == [body]


def test_an_error_body_yielding_nothing_stops_being_read_at_the_same_bound() -> None:
    """An error body of gzip data that decodes to nothing is read through twice its limit plus
    64 KiB of raw bytes and no further, quietly (no problem: an error body needs none)."""
    bound = 2 * 1000 + 64 * 1024
    blocks = _EMPTY_BLOCK * (bound // len(_EMPTY_BLOCK))
    reader = BodyReader("gzip", 1000, strict=False)
    assert reader.feed(_GZIP_HEADER + blocks) == [] and reader.done
    assert reader.feed(_EMPTY_BLOCK) == [] and reader.problem is None and reader.size == 0
