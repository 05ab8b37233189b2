"""In-process transports for sync and async httpx clients, and the app's own surface."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
import pytest
from neon_keys.testing import (
    AsyncEmulatorTransport,
    EmulatorApp,
    EmulatorTransport,
    Fault,
    World,
    create_app,
)


def _auth(world: World) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.seed.admin_token}"}


def test_sync_transport_serves_a_sync_client(world: World) -> None:
    """EmulatorTransport lets httpx.Client reach the emulator without a socket."""
    transport = EmulatorTransport(world)
    assert transport.base_url == "http://127.0.0.1/api/v2"
    with httpx.Client(transport=transport, base_url=transport.base_url) as http:
        response = http.post("api_keys", json={"key_name": "ci"}, headers=_auth(world))
    assert response.status_code == 200
    assert transport.world is world
    assert world.log.last.operation_id == "createApiKey"


def test_sync_transport_thread_starts_on_use_and_stops_on_close(world: World) -> None:
    """The transport's loop thread exists only between the first request and close()."""
    before = set(threading.enumerate())
    transport = EmulatorTransport(world)
    assert set(threading.enumerate()) == before
    with httpx.Client(transport=transport, base_url=transport.base_url) as http:
        http.get("auth", headers=_auth(world))
        assert len(set(threading.enumerate()) - before) == 1
    assert set(threading.enumerate()) == before


def test_a_transport_dropped_without_close_stops_its_thread_quietly(world: World) -> None:
    """A transport left unclosed, in a reference cycle, and collected by the garbage
    collector running in the transport's own loop thread stops that thread without an
    error (a thread cannot join itself; the transport has another one do it)."""
    import gc
    import sys

    ignored: list[BaseException | None] = []
    hook, sys.unraisablehook = sys.unraisablehook, lambda raised: ignored.append(raised.exc_value)
    collecting = gc.isenabled()
    gc.disable()  # collect only when the test says so, in the loop thread
    try:
        before = set(threading.enumerate())  # other tests' transports may still be running
        transport = EmulatorTransport(world)
        http = httpx.Client(transport=transport, base_url=transport.base_url)
        assert http.get("auth", headers=_auth(world)).status_code == 200
        portal = transport._running_portal()
        loop_threads = set(threading.enumerate()) - before
        transport.cycle = transport  # type: ignore[attr-defined]
        del http, transport
        portal.call(gc.collect)
        deadline = time.monotonic() + 10
        while any(t.is_alive() for t in loop_threads) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        sys.unraisablehook = hook
        if collecting:
            gc.enable()
    assert ignored == []
    assert loop_threads and not any(t.is_alive() for t in loop_threads)


def test_many_threads_share_one_sync_client(world: World) -> None:
    """Sixteen threads sending on one client all get their own answers, in any order."""
    transport = EmulatorTransport(world)
    created: list[int] = []
    failures: list[BaseException] = []
    start = threading.Barrier(16)

    def work(number: int) -> None:
        try:
            start.wait(timeout=10)
            for round_ in range(5):
                name = f"t{number}-{round_}"
                response = http.post("api_keys", json={"key_name": name}, headers=_auth(world))
                assert response.json()["name"] == name
                created.append(response.json()["id"])
        except BaseException as err:  # reported below, in the test's thread
            failures.append(err)

    with httpx.Client(transport=transport, base_url=transport.base_url, timeout=10) as http:
        threads = [threading.Thread(target=work, args=(n,)) for n in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert failures == []
    assert len(set(created)) == 80
    assert world.log.count("createApiKey", status=200) == 80


def test_close_cancels_a_request_in_flight_with_a_transport_error(world: World) -> None:
    """close() while a request is held ends it at once with httpx.ReadError, not a hang."""
    world.faults.inject("getAuthDetails", Fault.delay(60))
    transport = EmulatorTransport(world)
    http = httpx.Client(transport=transport, base_url=transport.base_url, timeout=120)
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            http.get("auth", headers=_auth(world))
        except BaseException as err:  # reported below, in the test's thread
            outcome.append(err)

    caller = threading.Thread(target=call)
    caller.start()
    assert _wait_for(lambda: world.log.in_flight == 1)
    transport.close()
    caller.join(timeout=10)
    assert not caller.is_alive()
    [error] = outcome
    assert isinstance(error, httpx.ReadError) and "closed" in str(error)
    transport.close()  # a second close does nothing
    assert http.get("auth", headers=_auth(world)).status_code == 200  # a new portal
    http.close()


def _wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll ``condition`` until it holds, for at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.mark.anyio
async def test_async_transport_serves_an_async_client(world: World) -> None:
    """AsyncEmulatorTransport lets httpx.AsyncClient reach the emulator in process."""
    transport = AsyncEmulatorTransport(world, client=("198.51.100.7", 1234))
    async with httpx.AsyncClient(transport=transport, base_url=transport.base_url) as http:
        response = await http.get("auth", headers=_auth(world))
    assert response.json()["auth_method"] == "api_key_user"
    assert transport.world is world
    info = world.key(world.seed.admin_key_id)
    assert info.last_used_from == ("198.51.100.7",)


@pytest.mark.anyio
async def test_plain_asgi_transport_works_too(world: World) -> None:
    """httpx.ASGITransport can serve the app directly to an async client."""
    transport = httpx.ASGITransport(app=create_app(world))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1/api/v2/") as http:
        response = await http.get("users/me/organizations", headers=_auth(world))
    assert response.json()["organizations"][0]["id"] == world.seed.org_id


def test_transports_share_an_app_and_its_world(world: World) -> None:
    """A transport built on an EmulatorApp serves that app's world."""
    app = EmulatorApp(world)
    assert EmulatorTransport(app).app is app
    assert AsyncEmulatorTransport(app).world is world


def test_default_app_serves_a_seeded_world_under_api_v2() -> None:
    """create_app() with no world serves a fresh World.seeded() at /api/v2."""
    app = create_app()
    assert app.base_path == "/api/v2"
    assert app.world.seed.org_id == "org-cool-breeze-12345678"
    assert "/api/v2" in repr(app)


@pytest.mark.parametrize(("base_path", "expected"), [("/", ""), ("custom/v9/", "/custom/v9")])
def test_base_path_is_configurable(world: World, base_path: str, expected: str) -> None:
    """The operations can be mounted elsewhere, or at the root."""
    transport = EmulatorTransport(create_app(world, base_path=base_path))
    assert transport.base_url == "http://127.0.0.1" + expected
    with httpx.Client(transport=transport) as http:
        assert http.get(f"{transport.base_url}/auth", headers=_auth(world)).status_code == 200
        assert http.get("http://127.0.0.1/api/v2/auth").status_code == 404


def test_read_timeout_applies_in_process(world: World) -> None:
    """The sync transport honours the client's read timeout as httpx.ReadTimeout."""
    world.faults.inject("getAuthDetails", Fault.delay(30))
    transport = EmulatorTransport(world)
    with httpx.Client(transport=transport, base_url=transport.base_url, timeout=0.05) as http:
        with pytest.raises(httpx.ReadTimeout):
            http.get("auth", headers=_auth(world))
        # The next request answers (with time to, on a busy machine).
        assert http.get("auth", headers=_auth(world), timeout=10).status_code == 200


def _request_scope(world: World, method: str, path: str) -> dict[str, object]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"authorization", f"Bearer {world.seed.admin_token}".encode())],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 80),
    }


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/api/v2/auth", 200), ("GET", "/api/v2/nowhere", 404)],
)
async def test_a_request_is_logged_before_its_answer_is_complete(
    world: World, method: str, path: str, status: int
) -> None:
    """A client that has its whole answer finds its request in the log (the server is threaded)."""
    seen: list[int] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body"):
            seen.append(len(world.log))

    await create_app(world)(_request_scope(world, method, path), receive, send)  # type: ignore[arg-type]
    assert seen == [1]
    assert world.log.last.status == status
