"""Injected faults: replacement statuses, broken connections, delays, cut and mislabelled bodies.

Most tests run in process; the transport-level ones also run over uvicorn on loopback,
where a client must see the same kind of failure.
"""

from __future__ import annotations

import httpx
import pytest
from emulator_helpers import ORG_ID, Api, assert_general_error
from neon_keys.testing import (
    ConnectionDropped,
    ConnectionReset,
    EmulatorServer,
    Fault,
    World,
    create_app,
)

ORG_KEYS = f"/organizations/{ORG_ID}/api_keys"


def names(world: World) -> list[str]:
    """The names of the seeded admin's live personal keys."""
    return [key.name for key in world.personal_keys(world.seed.admin_id)]


# -- replacement responses -----------------------------------------------------------------


def test_status_fault_answers_once_then_service_resumes(admin: Api, world: World) -> None:
    """Fault.status(500) fails the next create without creating; the retry succeeds."""
    world.faults.inject("createApiKey", Fault.status(500))
    failed = admin.create_personal("ci")
    body = assert_general_error(failed, 500)
    assert body["message"] == "Internal Server Error"
    assert names(world) == ["seed-admin"]
    assert admin.create_personal("ci").status_code == 200
    assert names(world) == ["seed-admin", "ci"]
    attempts = world.log.of("createApiKey")
    assert [(r.status, r.changed) for r in attempts] == [(500, False), (200, True)]
    assert attempts[0].fault == Fault.status(500)


def test_faults_strike_only_their_operation(admin: Api, world: World) -> None:
    """A fault for one operation leaves the others alone until it is used."""
    world.faults.inject("revokeApiKey", Fault.status(503))
    assert admin.get("/api_keys").status_code == 200
    assert admin.create_personal("x").status_code == 200
    assert world.faults.pending[0].hits == 0
    assert_general_error(admin.delete("/api_keys/1"), 503)
    assert world.faults.pending == []


def test_status_fault_with_retry_after_and_custom_message(admin: Api, world: World) -> None:
    """A status fault carries the given headers, code and message."""
    fault = Fault.status(
        503, message="maintenance", code="UNAVAILABLE", headers={"Retry-After": "7"}
    )
    world.faults.inject("listApiKeys", fault)
    response = admin.get("/api_keys")
    body = assert_general_error(response, 503)
    assert (body["code"], body["message"]) == ("UNAVAILABLE", "maintenance")
    assert response.headers["retry-after"] == "7"


def test_committed_status_fault_changes_state_but_reports_failure(admin: Api, world: World) -> None:
    """Fault.status(500, committed=True) creates the key, then answers 500."""
    world.faults.inject("createOrgApiKey", Fault.status(500, committed=True))
    assert_general_error(admin.create_org("deploy"), 500)
    assert [key.name for key in world.org_keys(ORG_ID)] == ["deploy"]
    assert world.log.last.changed and world.log.last.status == 500


def test_html_fault_looks_like_a_proxy_page(admin: Api, world: World) -> None:
    """Fault.html(502) answers an HTML page, not JSON, and acts on nothing."""
    world.faults.inject("createApiKey", Fault.html(502))
    response = admin.create_personal("ci")
    assert response.status_code == 502
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>502 Bad Gateway</h1>" in response.text
    assert names(world) == ["seed-admin"]


def test_response_fault_sends_any_body(admin: Api, world: World) -> None:
    """Fault.response sends exactly the given status, body and content type."""
    world.faults.inject("getAuthDetails", Fault.response(200, b'{"surprise": true}'))
    response = admin.get("/auth")
    assert (response.status_code, response.json()) == (200, {"surprise": True})


def test_faults_before_acting_skip_authentication(admin: Api, world: World) -> None:
    """A fault in front of the service answers even a request without credentials."""
    world.faults.inject("listApiKeys", Fault.status(429, headers={"Retry-After": "1"}))
    assert admin.as_(None).get("/api_keys").status_code == 429


# -- planning ----------------------------------------------------------------------------------


def test_times_counts_requests_and_none_means_until_cleared(admin: Api, world: World) -> None:
    """times=2 strikes twice; times=None strikes until clear()."""
    planned = world.faults.inject("getAuthDetails", Fault.status(500), times=2)
    assert [admin.get("/auth").status_code for _ in range(3)] == [500, 500, 200]
    assert (planned.hits, planned.remaining, planned.exhausted) == (2, 0, True)
    forever = world.faults.inject("getAuthDetails", Fault.status(502), times=None)
    assert [admin.get("/auth").status_code for _ in range(4)] == [502] * 4
    assert forever.remaining is None and forever.hits == 4
    world.faults.clear()
    assert admin.get("/auth").status_code == 200


def test_star_matches_every_operation_in_injection_order(admin: Api, world: World) -> None:
    """'*' strikes any operation; earlier rules win over later ones."""
    world.faults.inject("*", Fault.status(503), times=2)
    world.faults.inject("listApiKeys", Fault.status(500))
    assert admin.get("/auth").status_code == 503
    assert admin.get("/api_keys").status_code == 503
    assert admin.get("/api_keys").status_code == 500
    assert admin.get("/api_keys").status_code == 200


def test_bad_plans_are_refused_at_once() -> None:
    """Unknown operations, non-positive times and impossible statuses raise immediately."""
    world = World()
    with pytest.raises(ValueError, match="unknown operation"):
        world.faults.inject("createKey", Fault.status(500))
    with pytest.raises(ValueError, match="times"):
        world.faults.inject("createApiKey", Fault.status(500), times=0)
    with pytest.raises(TypeError):
        world.faults.inject("createApiKey", 500)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="HTTP status"):
        Fault.status(99)
    with pytest.raises(ValueError, match="negative"):
        Fault.delay(-1)
    assert world.faults.pending == []


def test_faults_describe_themselves() -> None:
    """A fault's str says what it does and when."""
    assert str(Fault.status(500)) == "response 500 before acting"
    assert str(Fault.lost_response()) == "disconnect after acting"
    assert str(Fault.delay(2.5)) == "delay 2.5s after acting"
    assert str(Fault.truncated_body()) == "truncated body after acting"
    assert str(Fault.reset()) == "connection reset before acting"
    assert str(Fault.reset(committed=True)) == "connection reset after acting"
    assert "text/html" in str(Fault.content_type("text/html"))


# -- bodies -------------------------------------------------------------------------------------


def test_truncated_body_is_a_200_with_broken_json(admin: Api, world: World) -> None:
    """Fault.truncated_body sends half the JSON with a matching length; the key exists."""
    world.faults.inject("createApiKey", Fault.truncated_body())
    response = admin.create_personal("ci")
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(response.content)
    with pytest.raises(ValueError):
        response.json()
    assert names(world) == ["seed-admin", "ci"]


def test_content_type_fault_relabels_a_real_response(admin: Api, world: World) -> None:
    """Fault.content_type keeps the JSON body but sends another Content-Type."""
    world.faults.inject("listApiKeys", Fault.content_type("text/plain"))
    response = admin.get("/api_keys")
    assert response.headers["content-type"] == "text/plain"
    assert response.json()[0]["name"] == "seed-admin"


# -- broken connections and delays, in process ----------------------------------------------


def test_disconnect_before_acting_is_a_transport_error(admin: Api, world: World) -> None:
    """Fault.disconnect() raises a transport error in the client and creates nothing."""
    world.faults.inject("createApiKey", Fault.disconnect())
    with pytest.raises(httpx.RemoteProtocolError):
        admin.create_personal("ci")
    assert names(world) == ["seed-admin"]
    record = world.log.last
    assert (record.operation_id, record.status, record.changed) == ("createApiKey", None, False)


def test_lost_response_creates_the_key_exactly_once(admin: Api, world: World) -> None:
    """Fault.lost_response(): the server creates the key, the client only sees an error."""
    world.faults.inject("createOrgApiKey", Fault.lost_response())
    with pytest.raises(httpx.TransportError):
        admin.create_org("deploy")
    assert [key.name for key in world.org_keys(ORG_ID)] == ["deploy"]
    assert world.log.count("createOrgApiKey") == 1
    assert world.log.last.changed and world.log.last.status is None


def test_reset_before_acting_is_a_read_error(admin: Api, world: World) -> None:
    """Fault.reset() fails the request with httpx.ReadError, no response, nothing created."""
    world.faults.inject("createApiKey", Fault.reset())
    with pytest.raises(httpx.ReadError) as caught:
        admin.create_personal("ci")
    assert isinstance(caught.value, ConnectionReset)
    assert names(world) == ["seed-admin"]
    record = world.log.last
    assert (record.operation_id, record.status, record.changed) == ("createApiKey", None, False)
    assert admin.create_personal("ci").status_code == 200


def test_committed_reset_revokes_then_resets(admin: Api, world: World) -> None:
    """Fault.reset(committed=True) carries the revoke out, then resets the connection."""
    key_id = world.seed.admin_key_id
    token = world.issue_personal_key(world.seed.admin_id, "spare")
    world.faults.inject("revokeApiKey", Fault.reset(committed=True))
    with pytest.raises(httpx.ReadError):
        admin.as_(token).delete(f"/api_keys/{key_id}")
    assert world.key(key_id).revoked
    assert (world.log.last.status, world.log.last.changed) == (None, True)


def test_delay_past_the_client_timeout_still_acts(admin: Api, world: World) -> None:
    """Fault.delay (committed) makes the client time out after the key was created."""
    world.faults.inject("createApiKey", Fault.delay(30))
    with pytest.raises(httpx.ReadTimeout):
        admin.post("/api_keys", json={"key_name": "slow"}, timeout=0.05)
    assert names(world) == ["seed-admin", "slow"]


def test_delay_before_acting_acts_after_the_wait(admin: Api, world: World) -> None:
    """Fault.delay(committed=False) waits, then answers normally."""
    world.faults.inject("createApiKey", Fault.delay(0.01, committed=False))
    assert admin.create_personal("late").status_code == 200
    assert names(world) == ["seed-admin", "late"]


@pytest.mark.anyio
async def test_plain_asgi_transport_sees_a_transport_error(world: World) -> None:
    """Through httpx.ASGITransport, a dropped connection is an httpx transport error too."""
    transport = httpx.ASGITransport(app=create_app(world))
    world.faults.inject("listApiKeys", Fault.disconnect())
    headers = {"Authorization": f"Bearer {world.seed.admin_token}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1/api/v2") as http:
        with pytest.raises(httpx.TransportError) as caught:
            await http.get("/api_keys", headers=headers)
    assert isinstance(caught.value, ConnectionDropped)


# -- the same over uvicorn --------------------------------------------------------------------


def test_disconnect_over_loopback_is_a_transport_error(served: EmulatorServer) -> None:
    """Over a real socket, a dropped connection reaches a sync client as a protocol error."""
    world = served.world
    world.faults.inject("createApiKey", Fault.disconnect())
    with httpx.Client(base_url=served.base_url, timeout=5) as http:
        api = Api(http, world.seed.admin_token)
        with pytest.raises(httpx.RemoteProtocolError):
            api.create_personal("ci")
        assert api.get("/api_keys").status_code == 200
    assert names(world) == ["seed-admin"]


@pytest.mark.anyio
async def test_lost_response_over_loopback_async(served: EmulatorServer) -> None:
    """An async client over loopback gets a transport error while the key is created."""
    world = served.world
    world.faults.inject("createApiKey", Fault.lost_response())
    headers = {"Authorization": f"Bearer {world.seed.admin_token}"}
    async with httpx.AsyncClient(base_url=served.base_url, timeout=5) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post("api_keys", json={"key_name": "ci"}, headers=headers)
    assert names(world) == ["seed-admin", "ci"]


def test_delay_over_loopback_times_the_client_out(served: EmulatorServer) -> None:
    """A delayed response over loopback makes the client time out; the key was created."""
    world = served.world
    world.faults.inject("createApiKey", Fault.delay(30))
    with (
        httpx.Client(base_url=served.base_url, timeout=0.1) as http,
        pytest.raises(httpx.ReadTimeout),
    ):
        Api(http, world.seed.admin_token).create_personal("slow")
    assert names(world) == ["seed-admin", "slow"]


def test_reset_over_loopback_is_a_tcp_reset(served: EmulatorServer) -> None:
    """Over a socket, Fault.reset() sends RST before any byte: the client's read fails."""
    world = served.world
    world.faults.inject("listApiKeys", Fault.reset())
    with httpx.Client(base_url=served.base_url, timeout=5) as http:
        api = Api(http, world.seed.admin_token)
        with pytest.raises(httpx.ReadError) as caught:
            api.get("/api_keys")
        assert not isinstance(caught.value, ConnectionReset)  # a real socket error
        # Logged before the reset, so the log is complete when the client sees it.
        assert [(r.status, r.changed) for r in world.log.of("listApiKeys")] == [(None, False)]
        assert api.get("/api_keys").status_code == 200


@pytest.mark.anyio
async def test_committed_reset_over_loopback_async(served: EmulatorServer) -> None:
    """An async client over loopback sees the reset while its key is created."""
    world = served.world
    world.faults.inject("createOrgApiKey", Fault.reset(committed=True))
    headers = {"Authorization": f"Bearer {world.seed.admin_token}"}
    async with httpx.AsyncClient(base_url=served.base_url, timeout=5) as http:
        with pytest.raises(httpx.ReadError):
            await http.post(ORG_KEYS.lstrip("/"), json={"key_name": "deploy"}, headers=headers)
    assert [key.name for key in world.org_keys(ORG_ID)] == ["deploy"]
    assert world.log.count("createOrgApiKey") == 1


def test_settle_waits_for_requests_the_client_abandoned(served: EmulatorServer) -> None:
    """After a client timeout, settle() returns once the server has logged the request."""
    world = served.world
    world.faults.inject("getAuthDetails", Fault.delay(30))
    with (
        httpx.Client(base_url=served.base_url, timeout=0.1) as http,
        pytest.raises(httpx.ReadTimeout),
    ):
        Api(http, world.seed.admin_token).get("/auth")
    assert world.log.settle(timeout=5)
    assert world.log.in_flight == 0
    assert [r.status for r in world.log.of("getAuthDetails")] == [None]


@pytest.mark.anyio
async def test_settle_reports_a_request_still_in_flight(world: World) -> None:
    """settle() returns False while a request is being served, True once it has ended."""
    import functools

    import anyio
    from neon_keys.testing import AsyncEmulatorTransport

    world.faults.inject("getAuthDetails", Fault.delay(30, committed=False))
    transport = AsyncEmulatorTransport(world)
    headers = {"Authorization": f"Bearer {world.seed.admin_token}"}
    async with (
        httpx.AsyncClient(transport=transport, base_url=transport.base_url + "/") as http,
        anyio.create_task_group() as group,
    ):
        group.start_soon(functools.partial(http.get, "auth", headers=headers))
        await anyio.wait_all_tasks_blocked()  # the request is held by the delay
        assert world.log.in_flight == 1
        assert world.log.settle(timeout=0) is False
        group.cancel_scope.cancel()
    assert world.log.settle(timeout=0) and world.log.in_flight == 0
    assert [r.status for r in world.log.of("getAuthDetails")] == [None]


def test_html_and_truncated_faults_over_loopback(served: EmulatorServer) -> None:
    """An HTML 502 and a truncated 200 arrive over a socket as they do in process."""
    world = served.world
    world.faults.inject("listApiKeys", Fault.html(502))
    world.faults.inject("getAuthDetails", Fault.truncated_body())
    with httpx.Client(base_url=served.base_url, timeout=5) as http:
        api = Api(http, world.seed.admin_token)
        proxy = api.get("/api_keys")
        assert (proxy.status_code, proxy.headers["content-type"]) == (
            502,
            "text/html; charset=utf-8",
        )
        cut = api.get("/auth")
        assert cut.status_code == 200 and cut.content.startswith(b'{"account_id"')
        with pytest.raises(ValueError):
            cut.json()


def test_a_client_with_its_answer_finds_the_request_logged(served: EmulatorServer) -> None:
    """Over a socket, every request is in the log by the time its client has the response."""
    world = served.world
    world.faults.inject("getAuthDetails", Fault.status(503), times=30)
    world.faults.inject("getAuthDetails", Fault.response(307, b""), times=40)
    world.faults.inject("getAuthDetails", Fault.truncated_body(), times=30)
    with httpx.Client(base_url=served.base_url, timeout=5) as http:
        api = Api(http, world.seed.admin_token)
        for sent in range(1, 201):
            api.get("/auth" if sent % 2 else "/no-such-path")
            assert len(world.log) == sent
