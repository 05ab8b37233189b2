"""A create interrupted from outside is not silent: a bounded search, a log line, a note."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest
from fakes import API_KEY, BASE_URL, FAKE_SECRET, ORG_ID, created, json_response
from neon_keys import (
    AsyncNeonKeys,
    Backoff,
    InterruptedCreate,
    NeonKeys,
    _operations,
    interrupted_create,
    set_testing,
)

NAME = "ci"


class Neon:
    """A fake Neon whose creates happen, and whose answers a test decides."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = [self.key(41, "2000-01-01T00:00:00Z")]
        self.requests: list[str] = []

    @staticmethod
    def key(key_id: int, created_at: str = "2099-01-01T00:00:00Z") -> dict[str, Any]:
        return {
            "id": key_id,
            "name": NAME,
            "created_at": created_at,
            "created_by": {"id": "u", "name": "", "image": ""},
            "last_used_at": None,
            "last_used_from_addr": "",
        }

    def create(self) -> None:
        self.keys.append(self.key(42))

    def listing(self) -> httpx.Response:
        return json_response(self.keys)


def _sync_client(handler: Callable[[httpx.Request], httpx.Response], **options: Any) -> NeonKeys:
    return NeonKeys(
        api_key=API_KEY,
        base_url=BASE_URL,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        **options,
    )


def _async_client(handler: Callable[[httpx.Request], Any], **options: Any) -> AsyncNeonKeys:
    return AsyncNeonKeys(
        api_key=API_KEY,
        base_url=BASE_URL,
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        **options,
    )


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


# -- sync: KeyboardInterrupt (or any other exception) while the call waits --------------------


@pytest.mark.parametrize("org", [False, True], ids=["personal", "org"])
def test_ctrl_c_after_the_create_left_finds_the_key(
    org: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """Ctrl-C while waiting for a create's answer: the key is found, logged, noted, re-raised."""
    neon_state = Neon()
    interruption = KeyboardInterrupt()

    def handler(request: httpx.Request) -> httpx.Response:
        neon_state.requests.append(request.method)
        if request.method == "POST":
            neon_state.create()
            raise interruption
        return neon_state.listing()

    neon = _sync_client(handler)
    create = neon.org(ORG_ID).keys.create if org else neon.personal_keys.create
    with caplog.at_level(logging.WARNING, "neon_keys"), pytest.raises(KeyboardInterrupt) as caught:
        create(NAME)
    assert caught.value is interruption  # the same exception, unchanged
    found = interrupted_create(caught.value)
    assert isinstance(found, InterruptedCreate) and found.request_sent
    assert found.key_name == NAME and [key.id for key in found.candidates or ()] == [42]
    assert ("--org " + ORG_ID in found.revoke_hint) is org
    assert neon_state.requests == ["POST", "GET"]
    (line,) = _warnings(caplog)
    assert "42" in line and "41" not in line and "revoke" in line and API_KEY not in line
    assert any("42" in note and "revoke" in note for note in caught.value.__notes__)


def test_any_exception_from_outside_is_treated_alike() -> None:
    """An exception of the caller's (a signal handler's, say) also triggers the search."""

    class Stop(Exception):
        pass

    neon_state = Neon()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            neon_state.create()
            raise Stop
        return neon_state.listing()

    with pytest.raises(Stop) as caught:
        _sync_client(handler).personal_keys.create(NAME)
    found = interrupted_create(caught.value)
    assert found is not None and [key.id for key in found.candidates or ()] == [42]


def test_a_create_interrupted_before_its_request_left_lists_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Ctrl-C during the wait after a 429 (Neon made nothing): no search, and it says so."""
    requests: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request.method)
        return json_response({"message": "slow down"}, status=429, **{"Retry-After": "3"})

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    neon = _sync_client(handler, backoff=Backoff(), rate_limits=None)
    with (
        caplog.at_level(logging.WARNING, "neon_keys"),
        set_testing(on_wait=interrupt),
        pytest.raises(KeyboardInterrupt) as caught,
    ):
        neon.personal_keys.create(NAME)
    found = interrupted_create(caught.value)
    assert found is not None and not found.request_sent and found.candidates == ()
    assert requests == ["POST"]  # nothing listed
    (line,) = _warnings(caplog)
    assert "before its request was sent: no key was created" in line


def test_a_second_ctrl_c_skips_the_search(caplog: pytest.LogCaptureFixture) -> None:
    """Ctrl-C again during the search ends it: candidates None, and the first Ctrl-C raised."""
    first = KeyboardInterrupt("first")

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            raise first
        raise KeyboardInterrupt("second")

    with caplog.at_level(logging.WARNING, "neon_keys"), pytest.raises(KeyboardInterrupt) as caught:
        _sync_client(handler).personal_keys.create(NAME)
    assert caught.value is first
    found = interrupted_create(first)
    assert found is not None and found.candidates is None
    assert found.failure is not None and "skipped" in found.failure
    (line,) = _warnings(caplog)
    assert f"list the keys named {NAME!r}" in line


def test_a_failed_search_says_why() -> None:
    """A listing that fails after the interruption: candidates None, and the error named."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            raise KeyboardInterrupt
        return json_response({"message": "no"}, status=403)

    with pytest.raises(KeyboardInterrupt) as caught:
        _sync_client(handler).personal_keys.create(NAME)
    found = interrupted_create(caught.value)
    assert found is not None and found.candidates is None
    assert found.failure is not None and "could not be listed" in found.failure
    assert "403" in found.failure


def test_the_search_is_bounded_by_a_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """A listing that never answers is given up at the search's deadline, not waited for."""
    from neon_keys import _base_client
    from neon_keys.testing import EmulatorServer, Fault, World

    monkeypatch.setattr(_base_client, "INTERRUPTED_SEARCH_SECONDS", 0.5)

    class InterruptAfterSending(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = super().handle_request(request)
            if request.method == "POST":
                response.close()
                raise KeyboardInterrupt
            return response

    world = World.seeded()
    world.faults.inject("listApiKeys", Fault.delay(30))
    with (
        EmulatorServer(world) as server,
        httpx.Client(transport=InterruptAfterSending()) as http,
        NeonKeys(api_key=server.api_key, base_url=server.base_url, http_client=http) as neon,
    ):
        with pytest.raises(KeyboardInterrupt) as caught:
            neon.personal_keys.create(NAME)
        found = interrupted_create(caught.value)
        assert found is not None and found.candidates is None
        assert found.failure is not None and "timed out after 0." in found.failure
        world.faults.clear()


def test_ctrl_c_once_the_answer_was_read_hands_the_key_back(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Ctrl-C landing after Neon's answer was read but before create returned: the key is
    on the interruption with its secret, and named, never called "not created"."""
    neon_state = Neon()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            neon_state.create()
            return json_response(created(42, NAME), status=201)
        return neon_state.listing()

    remember = _operations.DeliveredKeys.add

    def remember_then_interrupt(self: _operations.DeliveredKeys, key_id: int) -> None:
        remember(self, key_id)
        raise KeyboardInterrupt  # as a signal does when it lands on the next instruction

    monkeypatch.setattr(_operations.DeliveredKeys, "add", remember_then_interrupt)
    with caplog.at_level(logging.WARNING, "neon_keys"), pytest.raises(KeyboardInterrupt) as caught:
        _sync_client(handler).personal_keys.create(NAME)
    found = interrupted_create(caught.value)
    assert found is not None and found.created is not None
    assert found.created.id == 42 and found.created.secret is not None
    assert found.created.secret.reveal() == FAKE_SECRET
    assert [key.id for key in found.candidates or ()] == [42]
    (line,) = _warnings(caplog)
    assert "42" in line and "interrupted_create" in line and FAKE_SECRET not in line


def test_a_pool_left_locked_by_ctrl_c_never_holds_up_the_search_or_later_calls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ctrl-C inside httpcore can leave a connection's lock held for ever: the search and
    the client's later calls go through a new pool instead of waiting on it."""
    import threading

    import httpcore._synchronization
    from neon_keys.testing import EmulatorServer, World

    take = httpcore._synchronization.Lock.__enter__
    armed = threading.Event()

    def take_then_interrupt(lock: httpcore._synchronization.Lock) -> Any:
        taken = take(lock)
        if armed.is_set():
            armed.clear()
            raise KeyboardInterrupt  # after acquire, before the with block: never released
        return taken

    monkeypatch.setattr(httpcore._synchronization.Lock, "__enter__", take_then_interrupt)
    outcome: list[object] = []
    with EmulatorServer(World.seeded()) as server:
        neon = NeonKeys(api_key=server.api_key, base_url=server.base_url)

        def run() -> None:
            neon.personal_keys.list()  # a connection in the pool, to be left locked
            armed.set()
            try:
                neon.personal_keys.create(NAME)
            except KeyboardInterrupt as interrupt:
                outcome.append(interrupted_create(interrupt))
            outcome.append(len(neon.personal_keys.list()))

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(15)
        assert not worker.is_alive(), "the client waited on a lock the interruption left held"
        neon.close()
    found, keys = outcome
    assert isinstance(found, InterruptedCreate) and found.candidates == ()
    assert keys == 1  # the seeded admin's key: the create never reached the emulator


def test_a_spoilt_pool_that_never_closes_never_keeps_the_program_alive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ctrl-C inside a request spoils the client's pool; closing it may hang on a lock the
    interruption left held, so it is closed on a daemon thread while the client moves on."""
    import threading

    closing = threading.Event()
    release = threading.Event()
    close = httpx.Client.close

    def interrupted_send(client: httpx.Client, *args: Any, **kwargs: Any) -> httpx.Response:
        raise KeyboardInterrupt

    def hanging_close(client: httpx.Client) -> None:
        closing.set()
        release.wait(10)
        close(client)

    neon = NeonKeys(api_key=API_KEY, base_url=BASE_URL)
    monkeypatch.setattr(httpx.Client, "send", interrupted_send)
    monkeypatch.setattr(httpx.Client, "close", hanging_close)
    try:
        with pytest.raises(KeyboardInterrupt):
            neon.whoami()
        assert closing.wait(10)
        closers = [t for t in threading.enumerate() if t.name == "neon-keys-close"]
        assert closers and all(t.daemon and t.is_alive() for t in closers)
    finally:
        release.set()


def test_the_search_gets_out_in_time_whatever_holds_it_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A search held up where no timeout reaches (a lock, a name lookup) is given up at its
    deadline: the interruption is re-raised in time, saying so."""
    import threading
    import time

    from neon_keys import _base_client, _client

    monkeypatch.setattr(_base_client, "INTERRUPTED_SEARCH_SECONDS", 0.3)
    monkeypatch.setattr(_client, "INTERRUPTED_SEARCH_SECONDS", 0.3)
    stuck = threading.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            raise KeyboardInterrupt
        stuck.wait(10)  # no timeout of the request applies here
        return json_response([])

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt) as caught:
        _sync_client(handler).personal_keys.create(NAME)
    took = time.monotonic() - started
    # The search still waits, on a daemon thread: it never keeps the program from exiting.
    searches = [t for t in threading.enumerate() if t.name == "neon-keys-search"]
    stuck.set()
    found = interrupted_create(caught.value)
    assert found is not None and found.candidates is None
    assert found.failure is not None and "ran out of time" in found.failure
    assert took < 5
    assert searches and all(t.daemon for t in searches)


def test_a_second_ctrl_c_while_waiting_for_the_search_skips_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The second Ctrl-C reaches the main thread while it waits for the search: the wait
    ends at once, the first Ctrl-C is raised, and the warning says what to look for."""
    import os
    import signal
    import threading

    first = KeyboardInterrupt("first")
    release = threading.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            raise first
        os.kill(os.getpid(), signal.SIGINT)  # the user presses Ctrl-C again
        release.wait(10)
        return json_response([])

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with (
            caplog.at_level(logging.WARNING, "neon_keys"),
            pytest.raises(KeyboardInterrupt) as caught,
        ):
            _sync_client(handler).personal_keys.create(NAME)
    finally:
        release.set()
        signal.signal(signal.SIGINT, previous)
    assert caught.value is first
    found = interrupted_create(first)
    assert found is not None and found.candidates is None
    assert found.failure is not None and "skipped" in found.failure
    (line,) = _warnings(caplog)
    assert f"list the keys named {NAME!r}" in line


def test_a_call_that_creates_nothing_carries_nothing() -> None:
    """Ctrl-C during a listing or a revoke is re-raised as it is: there is no key to look for."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise KeyboardInterrupt

    neon = _sync_client(handler)
    for call in (neon.personal_keys.list, lambda: neon.personal_keys.revoke(5), neon.whoami):
        with pytest.raises(KeyboardInterrupt) as caught:
            call()
        assert interrupted_create(caught.value) is None
        assert not getattr(caught.value, "__notes__", [])


def test_interrupted_create_looks_through_chains_and_groups() -> None:
    """The result is found on a wrapped exception: raised from, during, or in a group."""
    result = InterruptedCreate(NAME, (), "hint")
    inner = KeyboardInterrupt()
    result.attach(inner, "note")
    try:
        try:
            raise inner
        except KeyboardInterrupt as err:
            raise TimeoutError from err
    except TimeoutError as outer:
        assert interrupted_create(outer) is result
    group = BaseExceptionGroup("many", [ValueError(), inner])
    assert interrupted_create(group) is result
    assert interrupted_create(ValueError()) is None
    # Exceptions that name each other (a cycle of contexts) are each looked at once.
    first, second = ValueError("a"), ValueError("b")
    first.__context__, second.__context__ = second, first
    assert interrupted_create(first) is None
    third = KeyboardInterrupt()
    result.attach(third, "note")
    first.__cause__ = third
    assert interrupted_create(first) is result


def test_a_search_that_pacing_would_delay_past_its_deadline_gives_up() -> None:
    """A listing its pacing holds for longer than the deadline is not waited for."""
    from neon_keys import RateLimits

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            raise KeyboardInterrupt
        return json_response([])

    # One listing every 20 s: the search, right after a listing, would wait 20 s.
    neon = _sync_client(handler, rate_limits=RateLimits(burst_per_route=0.1))
    neon.personal_keys.list()
    with pytest.raises(KeyboardInterrupt) as caught:
        neon.personal_keys.create(NAME)
    found = interrupted_create(caught.value)
    assert found is not None and found.candidates is None
    assert "no time left to wait" in (found.failure or "")


# -- async: cancellation ---------------------------------------------------------------------


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """These tests run on asyncio and on trio."""
    if request.param == "trio":
        pytest.importorskip("trio")
    return str(request.param)


class AsyncNeon(Neon):
    """The fake Neon for AsyncNeonKeys: its create never answers; its listing checkpoints."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = anyio.Event()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request.method)
        if request.method == "POST":
            self.create()
            self.arrived.set()
            await anyio.sleep_forever()
        await anyio.lowlevel.checkpoint()  # a cancelled, unshielded search would stop here
        return self.listing()


@pytest.mark.anyio
async def test_a_cancelled_scope_still_finds_the_key(caplog: pytest.LogCaptureFixture) -> None:
    """A create cancelled (anyio or trio cancel scope) finds its key, shielded, then re-raises."""
    neon_state = AsyncNeon()
    neon = _async_client(neon_state)
    caught: list[BaseException] = []

    async def create() -> None:
        try:
            await neon.personal_keys.create(NAME)
        except BaseException as err:
            caught.append(err)
            raise

    with caplog.at_level(logging.WARNING, "neon_keys"):
        async with anyio.create_task_group() as group:
            group.start_soon(create)
            await neon_state.arrived.wait()
            group.cancel_scope.cancel()
    (cancelled,) = caught
    assert isinstance(cancelled, anyio.get_cancelled_exc_class())
    found = interrupted_create(cancelled)
    assert found is not None and [key.id for key in found.candidates or ()] == [42]
    assert neon_state.requests == ["POST", "GET"]
    assert any("42" in line for line in _warnings(caplog))


@pytest.mark.anyio
async def test_an_async_search_interrupted_again_is_skipped(anyio_backend: str) -> None:
    """AsyncNeonKeys: Ctrl-C again during the search (raised inside it) ends the search:
    candidates None, the failure says it was skipped, and the first Ctrl-C is raised."""
    first = KeyboardInterrupt("first")

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            raise first
        raise KeyboardInterrupt("second")

    with pytest.raises(KeyboardInterrupt) as caught:
        await _async_client(handler).personal_keys.create(NAME)
    assert caught.value is first
    found = interrupted_create(first)
    assert found is not None and found.candidates is None
    assert found.failure is not None and "skipped" in found.failure


@pytest.mark.anyio
async def test_a_cancel_before_the_request_left_lists_nothing(anyio_backend: str) -> None:
    """Cancelled while waiting out a 429 (Neon made nothing): no search, and it says so."""
    requests: list[str] = []
    refused = anyio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request.method)
        refused.set()
        return json_response({"message": "slow down"}, status=429, **{"Retry-After": "30"})

    neon = _async_client(handler, backoff=Backoff(), rate_limits=None)
    caught: list[BaseException] = []

    async def create() -> None:
        try:
            await neon.personal_keys.create(NAME)
        except BaseException as err:
            caught.append(err)
            raise

    with set_testing(False):  # the wait is real here, and cancelled
        async with anyio.create_task_group() as group:
            group.start_soon(create)
            await refused.wait()
            await anyio.sleep(0.01)
            group.cancel_scope.cancel()
    found = interrupted_create(caught[0])
    assert found is not None and not found.request_sent and found.candidates == ()
    assert requests == ["POST"]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_task_cancel_finds_the_key(anyio_backend: str) -> None:
    """asyncio: Task.cancel() during a create finds the key and re-raises CancelledError."""
    neon_state = AsyncNeon()
    task = asyncio.ensure_future(_async_client(neon_state).personal_keys.create(NAME))
    await neon_state.arrived.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError) as caught:
        await task
    found = interrupted_create(caught.value)
    assert found is not None and [key.id for key in found.candidates or ()] == [42]
    assert neon_state.requests == ["POST", "GET"]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_asyncio_timeout_finds_the_key(anyio_backend: str) -> None:
    """asyncio.timeout expiring during a create: its TimeoutError leads to the result."""
    neon_state = AsyncNeon()
    neon = _async_client(neon_state)

    async def expire_once_sent(deadline: asyncio.Timeout) -> None:
        # Armed when the request has arrived: a busy machine may take longer to send it.
        await neon_state.arrived.wait()
        deadline.reschedule(asyncio.get_running_loop().time() + 0.01)

    with pytest.raises(TimeoutError) as caught:
        async with asyncio.timeout(None) as deadline:
            arming = asyncio.ensure_future(expire_once_sent(deadline))
            await neon.personal_keys.create(NAME)
    await arming
    found = interrupted_create(caught.value)
    assert found is not None and [key.id for key in found.candidates or ()] == [42]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_a_second_task_cancel_skips_the_search(anyio_backend: str) -> None:
    """asyncio: cancelling the task again during the search ends it, as a second Ctrl-C does."""
    posted, listing = anyio.Event(), anyio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        (listing if request.method == "GET" else posted).set()
        await anyio.sleep_forever()
        raise AssertionError

    task = asyncio.ensure_future(_async_client(handler).personal_keys.create(NAME))
    await posted.wait()
    task.cancel()
    await listing.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError) as caught:
        await task
    found = interrupted_create(caught.value)
    assert found is not None and found.candidates is None
    assert found.failure is not None and "skipped" in found.failure


@pytest.mark.anyio
async def test_the_async_search_is_bounded_by_a_deadline(
    monkeypatch: pytest.MonkeyPatch, anyio_backend: str
) -> None:
    """A listing that never answers is given up at the deadline, even shielded."""
    from neon_keys import _base_client, _client

    monkeypatch.setattr(_base_client, "INTERRUPTED_SEARCH_SECONDS", 0.2)
    monkeypatch.setattr(_client, "INTERRUPTED_SEARCH_SECONDS", 0.2)
    arrived = anyio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        arrived.set()
        await anyio.sleep_forever()
        raise AssertionError

    neon = _async_client(handler)
    caught: list[BaseException] = []

    async def create() -> None:
        try:
            await neon.personal_keys.create(NAME)
        except BaseException as err:
            caught.append(err)
            raise

    started = anyio.current_time()
    async with anyio.create_task_group() as group:
        group.start_soon(create)
        await arrived.wait()
        group.cancel_scope.cancel()
    assert anyio.current_time() - started < 5
    found = interrupted_create(caught[0])
    assert found is not None and found.candidates is None
    assert found.failure == "the search ran out of time (0.2 s)"
