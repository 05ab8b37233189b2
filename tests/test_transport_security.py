"""Where the token may travel: never over plain http to another host, never along a redirect,
and only over TLS that is verified (by default, or against the CA the user names).

The TLS tests serve HTTPS on 127.0.0.1 with ``tests/tls/cert.pem``, a self-signed test
certificate for 127.0.0.1 and localhost valid until 2126, made with:

    openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 36500 \\
        -subj "/CN=neon-keys test server (localhost)" \\
        -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \\
        -addext "basicConstraints=critical,CA:TRUE"
"""

from __future__ import annotations

import asyncio
import http.server
import json
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fakes import API_KEY, FakeNeon, json_response, run
from neon_keys import (
    APIConnectionError,
    APIError,
    AsyncNeonKeys,
    Backoff,
    ConfigurationError,
    InsecureTransportError,
    NeonKeys,
)
from neon_keys.testing import EmulatorServer, Fault, World

TLS = Path(__file__).parent / "tls"
CERT, KEY = TLS / "cert.pem", TLS / "key.pem"


def _client(flavour: str, **options: Any) -> Any:
    options.setdefault("backoff", Backoff.immediate())
    return NeonKeys(**options) if flavour == "sync" else AsyncNeonKeys(**options)


async def _close(neon: Any) -> None:
    if isinstance(neon, AsyncNeonKeys):
        await neon.aclose()
    else:
        neon.close()


def _call(flavour: str, make: Callable[[], Any], action: Callable[[Any], Any]) -> Any:
    """Build a client, run ``action`` on it, close it; return the result or the NeonError."""

    async def main() -> Any:
        neon = _client(flavour, **make())
        try:
            value = action(neon)
            return await value if asyncio.iscoroutine(value) else value
        except Exception as err:
            return err
        finally:
            await _close(neon)

    return asyncio.run(main())


# -- plain http ---------------------------------------------------------------------------


@pytest.mark.parametrize("flavour", ["sync", "async"])
@pytest.mark.parametrize(
    "url",
    [
        "http://console.neon.tech/api/v2",
        "http://192.0.2.10:8080/api/v2",
        "http://127.0.0.1.example.test/api/v2",
        "http://localhost.example.test/api/v2",
    ],
)
def test_plain_http_elsewhere_is_refused_before_any_request(flavour: str, url: str) -> None:
    """http:// to a host that is not loopback is refused at construction: nothing is sent."""
    fake = FakeNeon()
    transport = httpx.MockTransport(fake)
    http: Any = httpx.Client(transport=transport) if flavour == "sync" else None
    if http is None:
        http = httpx.AsyncClient(transport=transport)
    with pytest.raises(InsecureTransportError) as caught:
        _client(flavour, api_key=API_KEY, base_url=url, http_client=http)
    assert fake.requests == []
    assert "https" in str(caught.value) and API_KEY not in str(caught.value)
    run(http.close() if flavour == "sync" else http.aclose())


def test_plain_http_from_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """NEON_API_HOST gets the same check as base_url."""
    monkeypatch.setenv("NEON_API_HOST", "http://neon.example.test/api/v2")
    monkeypatch.setenv("NEON_API_KEY", API_KEY)
    with pytest.raises(InsecureTransportError):
        NeonKeys()


# -- redirects ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[EmulatorServer, EmulatorServer]]:
    """Two emulators on two loopback hosts: the API, and somewhere a redirect points to."""
    with (
        EmulatorServer(host="127.0.0.1", startup_timeout=10) as api,
        EmulatorServer(host="127.0.0.2", startup_timeout=10) as elsewhere,
    ):
        yield api, elsewhere


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_plain_http_never_goes_through_a_proxy_from_the_environment(
    servers: tuple[EmulatorServer, EmulatorServer],
    flavour: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With HTTP_PROXY set, a loopback http API is called directly: no proxy sees the token."""
    api, proxy = servers
    api.world, proxy.world = World.seeded(), World.seeded()
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, proxy.url)
    outcome = _call(
        flavour,
        lambda: {"api_key": api.api_key, "base_url": api.base_url},
        lambda n: n.whoami(),
    )
    assert outcome.auth_method == "api_key_user", outcome
    assert api.world.log.count("getAuthDetails") == 1
    assert len(proxy.world.log) == 0


CALLS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "GET": ("listApiKeys", lambda n: n.personal_keys.list()),
    "POST": ("createApiKey", lambda n: n.personal_keys.create("redirected")),
    "DELETE": ("revokeApiKey", lambda n: n.personal_keys.revoke(1)),
}


@pytest.mark.parametrize("flavour", ["sync", "async"])
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("method", sorted(CALLS))
def test_redirect_to_another_host_is_not_followed(
    servers: tuple[EmulatorServer, EmulatorServer], flavour: str, status: int, method: str
) -> None:
    """A 3xx pointing at another host is reported as an error; that host never hears of us."""
    api, elsewhere = servers
    api.world, elsewhere.world = World.seeded(), World.seeded()
    operation_id, action = CALLS[method]
    target = elsewhere.base_url + "/api_keys"
    api.world.faults.inject(
        operation_id, Fault.response(status, b"", headers={"Location": target}), times=None
    )
    outcome = _call(
        flavour,
        lambda: {"api_key": api.api_key, "base_url": api.base_url},
        action,
    )
    assert type(outcome) is APIError, outcome
    assert outcome.status_code == status and outcome.attempts == 1
    assert "redirect not followed" in str(outcome) and api.api_key not in str(outcome)
    assert api.world.log.count(operation_id) == 1
    assert len(elsewhere.world.log) == 0


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_a_client_that_follows_redirects_still_does_not(flavour: str) -> None:
    """Even an http_client built with follow_redirects=True does not carry the token away."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "console.neon.tech":
            return httpx.Response(307, headers={"Location": "https://collector.example.test/k"})
        return json_response([])

    transport = httpx.MockTransport(answer)
    http: Any = (
        httpx.Client(transport=transport, follow_redirects=True)
        if flavour == "sync"
        else httpx.AsyncClient(transport=transport, follow_redirects=True)
    )
    neon = _client(flavour, api_key=API_KEY, http_client=http)
    with pytest.raises(APIError) as caught:
        run(neon.personal_keys.list())
    assert caught.value.status_code == 307
    assert [request.url.host for request in seen] == ["console.neon.tech"]


# -- TLS ------------------------------------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    """Answers GET /api/v2/auth and notes every request it receives."""

    server: _TLSServer

    def do_GET(self) -> None:
        self.server.seen.append((self.path, self.headers.get("Authorization")))
        body = json.dumps({"account_id": "user_tls", "auth_method": "api_key_user"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read ``seen`` instead."""


class _TLSServer(http.server.ThreadingHTTPServer):
    """HTTPS on 127.0.0.1 with the test certificate; a failed handshake is simply dropped."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(CERT, KEY)
        self.socket = context.wrap_socket(self.socket, server_side=True)
        self.seen: list[tuple[str, str | None]] = []

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.server_address[1]}/api/v2"


@pytest.fixture(scope="module")
def tls_server() -> Iterator[_TLSServer]:
    """An HTTPS server whose certificate no public CA vouches for."""
    server = _TLSServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def tls(tls_server: _TLSServer) -> _TLSServer:
    """The HTTPS server, with its record of requests emptied."""
    tls_server.seen.clear()
    return tls_server


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_tls_is_verified_by_default(tls: _TLSServer, flavour: str) -> None:
    """An untrusted certificate fails the connection before the request (and token) leave."""
    outcome = _call(
        flavour,
        lambda: {"api_key": API_KEY, "base_url": tls.base_url, "timeout": 5.0},
        lambda neon: neon.whoami(),
    )
    assert type(outcome) is APIConnectionError, outcome
    assert outcome.request_sent is False
    assert "CERTIFICATE_VERIFY_FAILED" in str(outcome) or "certificate" in str(outcome)
    assert tls.seen == []


@pytest.mark.parametrize("flavour", ["sync", "async"])
@pytest.mark.parametrize("kind", ["path", "str", "ssl-context"])
def test_a_custom_ca_bundle_is_trusted(tls: _TLSServer, flavour: str, kind: str) -> None:
    """verify= a CA bundle path (str or Path) or an SSLContext makes that certificate trusted."""
    verify: Any = {
        "path": CERT,
        "str": str(CERT),
        "ssl-context": ssl.create_default_context(cafile=str(CERT)),
    }[kind]
    outcome = _call(
        flavour,
        lambda: {"api_key": API_KEY, "base_url": tls.base_url, "verify": verify},
        lambda neon: neon.whoami(),
    )
    assert outcome.account_id == "user_tls", outcome
    assert tls.seen == [("/api/v2/auth", f"Bearer {API_KEY}")]


def test_a_file_that_is_not_a_ca_bundle_is_refused(tmp_path: Path) -> None:
    """verify= a file without certificates is a ConfigurationError naming it."""
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate\n")
    with pytest.raises(ConfigurationError, match="cannot load CA bundle"):
        NeonKeys(api_key=API_KEY, verify=str(bogus))


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST", True),
        ("127.0.0.1", True),
        ("127.9.9.9", True),
        ("[::1]", True),
        ("localhost.", False),
        ("192.0.2.10", False),
        ("console.neon.tech", False),
    ],
)
def test_which_hosts_count_as_loopback(host: str, loopback: bool) -> None:
    """Loopback is localhost, 127.0.0.0/8 and ::1, a plain True or False for any host;
    ``localhost.`` (looked up in DNS) is not."""
    from neon_keys._base_client import is_loopback

    assert is_loopback(host) is loopback
