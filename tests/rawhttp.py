"""A loopback HTTP/1.1 server that answers with exactly the bytes a test gives it.

For what a well-behaved server never sends: a lying ``Content-Length``, a body cut short, a
chunked or close-delimited stream of any length, a reason phrase or header of the test's
choosing. Each connection gets one answer and is closed. Binds 127.0.0.1 only; every wait
is bounded.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType

Answer = Callable[[bytes], Iterable[bytes]]
"""Given the request (head and body), the chunks of bytes to send back."""


class RawServer:
    """Serves ``answer`` on 127.0.0.1 until the ``with`` block ends."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests: list[bytes] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def base_url(self) -> str:
        """The API root to give a client: ``http://127.0.0.1:PORT/api/v2``."""
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}/api/v2"

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping.set()
        self._thread.join(timeout=10)
        self._listener.close()

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with connection:
                connection.settimeout(5)
                try:
                    request = _read_request(connection)
                    self.requests.append(request)
                    for chunk in self.answer(request):
                        connection.sendall(chunk)
                except OSError:  # the client hung up before the answer was whole
                    continue


def _read_request(connection: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def response_head(status: str, headers: dict[str, str]) -> bytes:
    """``HTTP/1.1 <status>`` and the headers, as bytes, up to the blank line."""
    lines = [f"HTTP/1.1 {status}", *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def chunked(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """``pieces`` in HTTP/1.1 chunked transfer coding, ending with the last chunk."""
    for piece in pieces:
        if piece:
            yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    yield b"0\r\n\r\n"
