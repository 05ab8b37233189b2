"""The client's shape: copies, the test mode, pacing switched off, resources, exports."""

from __future__ import annotations

import ast
import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import neon_keys
import pytest
from fakes import API_KEY, BASE_URL, ORG_ID, FakeNeon, json_response, run
from neon_keys import (
    AsyncNeonKeys,
    Backoff,
    ConfigurationError,
    NeonKeys,
    RateLimits,
    SkippedWaits,
    is_testing,
    set_testing,
)

# -- copies ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("max_retries", -1, "max_retries"),
        ("max_retries", True, "max_retries"),
        ("api_key", "napi with space", "spaces"),
        ("api_key", "  ", "empty"),
        ("backoff", 3, "Backoff"),
    ],
)
def test_a_copy_checks_its_settings_as_the_constructor_does(
    make_client: Any, option: str, value: Any, message: str
) -> None:
    """with_options refuses what the constructor refuses, with the same message."""
    with pytest.raises(ConfigurationError, match=message):
        make_client().with_options(**{option: value})


def test_a_copy_shares_the_pool_without_owning_it(make_client: Any, fake: FakeNeon) -> None:
    """Requests of a copy go through the same pool, and closing the copy leaves it open."""
    base = make_client()
    copy = base.with_options(api_key="napi_copy")
    run(copy.whoami())
    run(copy.aclose() if isinstance(copy, AsyncNeonKeys) else copy.close())
    run(base.whoami())
    assert [r.headers["authorization"] for r in fake.requests] == [
        "Bearer napi_copy",
        f"Bearer {API_KEY}",
    ]


def test_a_copys_resources_use_the_copys_settings(make_client: Any, fake: FakeNeon) -> None:
    """personal_keys and org().keys of a copy call with the copy's key, not the original's."""
    base = make_client()
    run(base.personal_keys.list())
    copy = base.with_options(api_key="napi_copy")
    run(copy.personal_keys.list())
    run(copy.org(ORG_ID).keys.list())
    run(base.org(ORG_ID).keys.list())
    assert [r.headers["authorization"].split()[1] for r in fake.requests] == [
        API_KEY,
        "napi_copy",
        "napi_copy",
        API_KEY,
    ]


@pytest.mark.parametrize("client_class", [NeonKeys, AsyncNeonKeys])
def test_making_a_pool_leaves_the_client_settings_alone(client_class: Any) -> None:
    """Its own pool carries the fixed headers; a pool of the caller's gets them per request."""
    own = client_class(api_key="napi_own", base_url=BASE_URL)
    assert own._http.headers["user-agent"].startswith("neon-api-keys/")
    copy = own.with_options(max_retries=1)
    for client in (own, copy):
        request = client._build_request(neon_keys._operations.get_auth_details(), "id")
        assert [k for k, _ in request.headers.multi_items()].count("User-Agent") <= 1
    bare = httpx.Client() if client_class is NeonKeys else httpx.AsyncClient()
    theirs = client_class(api_key="napi_theirs", base_url=BASE_URL, http_client=bare)
    request = theirs._build_request(neon_keys._operations.get_auth_details(), "id")
    assert request.headers["user-agent"].startswith("neon-api-keys/")
    assert request.headers["accept"] == "application/json"
    run(own.aclose() if client_class is AsyncNeonKeys else own.close())
    run(bare.aclose() if isinstance(bare, httpx.AsyncClient) else bare.close())


def test_rate_limits_must_be_rate_limits() -> None:
    """A rate_limits that is not a RateLimits (a dict, say) is a configuration error."""
    with pytest.raises(ConfigurationError, match="rate_limits"):
        NeonKeys(api_key="k", rate_limits={"per_minute": 5})  # type: ignore[arg-type]


# -- the test mode --------------------------------------------------------------------------


def test_set_testing_is_a_context_manager_that_restores() -> None:
    """set_testing(False) inside the suite's test mode turns it off, and the block's end back on."""
    assert is_testing()
    with set_testing(False) as switch:
        assert not is_testing() and not switch.testing
        with set_testing(True):
            assert is_testing()
        assert not is_testing()
    assert is_testing()


def test_without_the_test_mode_a_client_really_waits(fake: FakeNeon) -> None:
    """With the test mode off, a retry waits the Retry-After asked (50 ms here) for real."""
    fake.route(
        "GET",
        "/auth",
        json_response({}, status=503, **{"Retry-After": "0.05"}),
        json_response({"account_id": "u", "auth_method": "api_key_user"}),
    )
    with set_testing(False) as switch:
        neon = fake.sync_client(backoff=Backoff(), rate_limits=None)
        started = time.monotonic()
        neon.whoami()
        assert time.monotonic() - started >= 0.05
    assert switch.waits == []


def test_the_test_mode_skips_every_wait_and_records_it(fake: FakeNeon) -> None:
    """Backoff, Retry-After and pacing waits are all skipped in test mode, each recorded."""
    fake.route(
        "GET",
        "/auth",
        json_response({}, status=503),
        json_response({}, status=503, **{"Retry-After": "7"}),
        json_response({"account_id": "u", "auth_method": "api_key_user"}),
    )
    neon = fake.sync_client(backoff=Backoff(initial=3, jitter=False))
    with set_testing() as skipped:
        started = time.monotonic()
        neon.whoami()
        for _ in range(20):  # a burst of 20 on the route, the last one paced
            neon.whoami()
    assert time.monotonic() - started < 3
    # 3 s of backoff, 7 s asked by Retry-After, then a paced call on the same route.
    assert skipped.waits[:2] == [3, 7]
    assert len(skipped.waits) == 3 and 0 < skipped.waits[2] < 1


def test_on_wait_sees_every_skipped_wait(fake: FakeNeon) -> None:
    """on_wait is called with each skipped wait, in order (to move a shared fake clock)."""
    seen: list[float] = []
    fake.route("GET", "/auth", json_response({}, status=503))
    neon = fake.sync_client(backoff=Backoff(initial=1, jitter=False), rate_limits=None)
    with set_testing(on_wait=seen.append) as skipped, pytest.raises(neon_keys.ServerError):
        neon.whoami()
    assert seen == skipped.waits == [1, 2]


def test_a_switch_shows_its_mode_and_count_of_waits(fake: FakeNeon) -> None:
    """repr of the switch says whether it turned the mode on and how many waits it skipped."""
    fake.route("GET", "/auth", json_response({}, status=503))
    neon = fake.sync_client(backoff=Backoff(), rate_limits=None)
    with set_testing() as skipped, pytest.raises(neon_keys.ServerError):
        neon.whoami()
    assert repr(skipped) == "SkippedWaits(testing=True, waits=2)"
    assert repr(neon_keys._base_client.NOT_GIVEN) == "NOT_GIVEN"


def test_the_test_mode_holds_the_pacing_clock_still() -> None:
    """In test mode the pacing clock moves only by skipped waits, and never goes back after."""
    from neon_keys import _test_mode

    with set_testing():
        start = _test_mode.monotonic()
        time.sleep(0.01)
        assert _test_mode.monotonic() == start
        _test_mode.skip(2.5)
        assert _test_mode.monotonic() == start + 2.5
    with set_testing(False):
        assert _test_mode.monotonic() >= start + 2.5


@pytest.mark.anyio
async def test_an_async_client_in_test_mode_never_sleeps(fake: FakeNeon) -> None:
    """AsyncNeonKeys skips its waits too: 60 calls paced over a second take no time."""
    neon = fake.async_client(backoff=Backoff())
    loop = asyncio.get_running_loop()
    with set_testing() as skipped:
        started = loop.time()
        for _ in range(60):
            await neon.whoami()
    assert sum(skipped.waits) > 1 > loop.time() - started


def test_without_pacing_nothing_waits(fake: FakeNeon, skipped_waits: SkippedWaits) -> None:
    """rate_limits=None: 100 calls on one route, none paced."""
    neon = fake.sync_client(rate_limits=None)
    for _ in range(100):
        neon.whoami()
    assert skipped_waits.waits == []


def test_pacing_survives_a_429_without_pacer(fake: FakeNeon, skipped_waits: SkippedWaits) -> None:
    """Without pacing, a 429's Retry-After is waited by the call itself, once."""
    fake.route(
        "GET",
        "/auth",
        json_response({}, status=429, **{"Retry-After": "3"}),
        json_response({"account_id": "u", "auth_method": "api_key_user"}),
    )
    fake.sync_client(rate_limits=None, backoff=Backoff()).whoami()
    assert skipped_waits.waits == [3]


def test_a_429_pauses_through_the_pacer_once(fake: FakeNeon, skipped_waits: SkippedWaits) -> None:
    """With pacing, a 429's Retry-After is waited once, through the pacer, not twice."""
    fake.route(
        "GET",
        "/auth",
        json_response({}, status=429, **{"Retry-After": "3"}),
        json_response({"account_id": "u", "auth_method": "api_key_user"}),
    )
    fake.sync_client(rate_limits=RateLimits(), backoff=Backoff()).whoami()
    assert skipped_waits.waits == [pytest.approx(3)]


# -- exports --------------------------------------------------------------------------------


@pytest.mark.parametrize("package", ["neon_keys", "neon_keys.testing"])
def test_each_export_is_listed_once_and_seen_by_type_checkers(package: str) -> None:
    """__all__ is the table of lazy names (plus __version__), and type checkers import each."""
    import importlib

    module = importlib.import_module(package)
    table = module._HOMES
    names = {name for names in table.values() for name in names}
    assert set(module.__all__) - {"__version__"} == names
    source = Path(module.__file__ or "").read_text()
    tree = ast.parse(source)
    guarded = next(node for node in tree.body if isinstance(node, ast.If))
    imported = {
        (node.module, alias.name, alias.asname)
        for node in ast.walk(guarded)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert imported == {
        (home.lstrip("."), name, name) for home, names in table.items() for name in names
    }
