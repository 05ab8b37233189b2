"""EmulatorServer: uvicorn on a loopback port in a thread, started and stopped cleanly."""

from __future__ import annotations

import re
import socket
import time

import httpx
import pytest
from neon_keys.testing import EmulatorServer, Fault, World


def test_serves_on_an_ephemeral_loopback_port() -> None:
    """The server binds 127.0.0.1 on a port the system picks and answers at base_url."""
    world = World.seeded()
    with EmulatorServer(world) as server:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/v2", server.base_url)
        assert server.port > 0 and server.running
        assert (server.api_key, server.org_id) == (world.seed.admin_token, world.seed.org_id)
        assert server.project_id == world.seed.project_id
        headers = {"Authorization": f"Bearer {server.api_key}"}
        response = httpx.get(server.base_url + "/auth", headers=headers, timeout=5)
        assert response.json()["account_id"] == world.seed.admin_id


def test_stop_releases_the_port() -> None:
    """After the with block, nothing listens on the port any more."""
    with EmulatorServer() as server:
        port = server.port
    assert not server.running
    with socket.socket() as probe:
        probe.settimeout(2)
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_two_servers_run_side_by_side_on_their_own_worlds() -> None:
    """Each server serves its own world on its own port."""
    first, second = World.seeded(), World.seeded()
    with EmulatorServer(first) as one, EmulatorServer(second) as two:
        assert one.port != two.port
        for server, world in ((one, first), (two, second)):
            headers = {"Authorization": f"Bearer {world.seed.admin_token}"}
            assert httpx.get(server.base_url + "/auth", headers=headers).status_code == 200
            other = second if world is first else first
            headers = {"Authorization": f"Bearer {other.seed.admin_token}"}
            assert httpx.get(server.base_url + "/auth", headers=headers).status_code == 401


def test_world_can_be_swapped_while_running(server: EmulatorServer) -> None:
    """Assigning server.world serves the new world from the next request on."""
    fresh = World.seeded()
    server.world = fresh
    headers = {"Authorization": f"Bearer {fresh.seed.admin_token}"}
    assert httpx.get(server.base_url + "/auth", headers=headers).status_code == 200
    assert fresh.log.count("getAuthDetails") == 1


def test_keep_alive_requests_are_quick(served: EmulatorServer) -> None:
    """Requests on one kept-alive connection are not held back by Nagle's algorithm."""
    headers = {"Authorization": f"Bearer {served.api_key}"}
    with httpx.Client(base_url=served.base_url, headers=headers, timeout=5) as http:
        http.get("/auth")
        started = time.perf_counter()
        for _ in range(20):
            assert http.get("/auth").status_code == 200
        assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1", "example.com", "::"])
def test_refuses_addresses_other_machines_could_reach(host: str) -> None:
    """Only loopback addresses may be bound: the emulator hands out working tokens."""
    with pytest.raises(ValueError, match="loopback"):
        EmulatorServer(host=host)


def test_ipv6_loopback_works() -> None:
    """The server can bind ::1 and brackets the address in its URL."""
    if not socket.has_ipv6:
        pytest.skip("no IPv6 here")
    try:
        server = EmulatorServer(host="::1").start()
    except OSError:
        pytest.skip("::1 cannot be bound here")
    with server:
        assert server.base_url.startswith("http://[::1]:")
        assert httpx.get(server.base_url + "/auth").status_code == 401


def test_misuse_is_reported() -> None:
    """Asking for the port before start, or starting twice, raises RuntimeError."""
    server = EmulatorServer()
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.base_url
    assert "not running" in repr(server)
    with server:
        assert server.base_url in repr(server)
        with pytest.raises(RuntimeError, match="already"):
            server.start()
    server.stop()


def test_a_busy_port_fails_fast() -> None:
    """Starting on a port that is taken raises OSError instead of hanging."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError):
            EmulatorServer(port=port).start()


def test_an_answered_request_is_already_in_the_log(served: EmulatorServer) -> None:
    """Once a client has its response, the request log holds it (no race with the server)."""
    world = served.world
    auth = {"Authorization": f"Bearer {served.api_key}"}
    with httpx.Client(base_url=served.base_url + "/", timeout=5) as http:
        for sent in range(1, 201):
            fault = sent % 2 == 0
            if fault:
                world.faults.inject("listApiKeys", Fault.status(503))
            status = http.get("api_keys", headers=auth).status_code
            assert (status, len(world.log)) == (503 if fault else 200, sent)
            assert world.log.last.status == status
