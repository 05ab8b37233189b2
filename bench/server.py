"""A minimal fixed-response HTTP/1.1 server, run in its own process.

It answers ``GET /k<N>/api/v2/api_keys`` with a precomputed listing of N keys (see
``payloads``) and keeps connections alive, so every client under test reuses one
connection and the server costs next to nothing: what is measured is the client. Bodies,
headers and the whole response are built once, before the server accepts anything.

Run as a script it binds 127.0.0.1 on an ephemeral port, prints ``READY <port>`` and
serves until its standard input closes (the parent ended) or ``--lifetime`` seconds pass.
``FixedServer`` does all that from the parent, as a context manager.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import threading
from pathlib import Path
from typing import IO, Self

from child import Child

MAX_HEAD = 64 * 1024
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"


def path_for(count: int) -> str:
    """The URL path of the listing of ``count`` keys."""
    return f"/k{count}/api/v2/api_keys"


def base_path(count: int) -> str:
    """The API base path under which a client finds the listing of ``count`` keys."""
    return f"/k{count}/api/v2"


def _response(body: bytes) -> bytes:
    head = (
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "x-neon-ret-request-id: 3f1c0e52-bench-fixed\r\n"
        "\r\n"
    )
    return head.encode("ascii") + body


class _Connection(asyncio.Protocol):
    """One keep-alive connection: answers each request head as it completes."""

    def __init__(self, responses: dict[bytes, bytes]) -> None:
        self._responses = responses
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        assert self._transport is not None
        self._buffer += data
        while (end := self._buffer.find(b"\r\n\r\n")) >= 0:
            head, self._buffer = self._buffer[:end], self._buffer[end + 4 :]
            target = head.split(b"\r\n", 1)[0].split(b" ")
            path = target[1].split(b"?", 1)[0] if len(target) == 3 else b""
            self._transport.write(self._responses.get(path, NOT_FOUND))
        if len(self._buffer) > MAX_HEAD:
            self._transport.close()


def serve(counts: list[int], lifetime: float) -> None:
    """Serve listings of each of ``counts`` keys on 127.0.0.1 until stdin closes."""
    from payloads import api_keys_body

    responses = {path_for(n).encode(): _response(api_keys_body(n)) for n in counts}

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        server = await loop.create_server(
            lambda: _Connection(responses), "127.0.0.1", 0, reuse_address=True
        )
        port = server.sockets[0].getsockname()[1]
        print(f"READY {port}", flush=True)

        def wait_for_eof() -> None:
            sys.stdin.read()
            loop.call_soon_threadsafe(stop.set)

        threading.Thread(target=wait_for_eof, daemon=True).start()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), lifetime)
        server.close()
        await server.wait_closed()

    asyncio.run(main())


class FixedServer(Child):
    """The fixed-response server in a child process; a context manager.

    Args:
        counts: the listing sizes to serve.
        python: the interpreter that runs it (this one by default).
        lifetime: seconds after which the server stops on its own.
    """

    def __init__(self, counts: list[int], *, python: str = sys.executable, lifetime: float = 900):
        command = [python, str(Path(__file__).resolve()), "--lifetime", str(lifetime)]
        super().__init__([*command, *map(str, counts)], "fixed-response server")
        self.counts = counts
        self.port = 0

    def url(self, count: int) -> str:
        """The full URL of the listing of ``count`` keys."""
        return f"http://127.0.0.1:{self.port}{path_for(count)}"

    def base_url(self, count: int) -> str:
        """The API base URL whose ``/api_keys`` lists ``count`` keys."""
        return f"http://127.0.0.1:{self.port}{base_path(count)}"

    def __enter__(self) -> Self:
        super().__enter__()
        assert self._process is not None and self._process.stdout is not None
        line = _readline_within(self._process.stdout, 60.0)
        if not line.startswith("READY "):
            self.__exit__(None, None, None)
            raise RuntimeError(f"the fixed-response server did not start: {line!r}")
        self.port = int(line.split()[1])
        return self


def _readline_within(stream: IO[str], seconds: float) -> str:
    """The next line of a child's output, or "" if none comes within ``seconds``."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(seconds)
    return lines[0].strip() if lines else ""


def main() -> None:
    """``python bench/server.py [--lifetime S] N [N ...]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("counts", nargs="+", type=int)
    parser.add_argument("--lifetime", type=float, default=900.0)
    args = parser.parse_args()
    serve(args.counts, args.lifetime)


if __name__ == "__main__":
    main()
