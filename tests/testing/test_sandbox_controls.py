"""The sandbox's control routes (``/_sandbox``), in process: who may use them, and what they do."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from neon_keys.testing import EmulatorTransport, Fault, OffsetClock, World
from neon_keys.testing._control import SandboxApp
from neon_keys.testing._faults import (
    FAULT_NAMES,
    ContentTypeFault,
    DelayFault,
    DisconnectFault,
    ResetFault,
    ResponseFault,
    TruncatedBodyFault,
    build_fault,
)


@pytest.fixture
def sandbox_world() -> World:
    """A seeded world on a clock that follows real time and can be moved."""
    return World.seeded(clock=OffsetClock())


@pytest.fixture
def app(sandbox_world: World) -> SandboxApp:
    """The sandbox's app over that world."""
    return SandboxApp(sandbox_world)


@pytest.fixture
def control(app: SandboxApp, sandbox_world: World) -> Iterator[httpx.Client]:
    """A client of the app, carrying the key the sandbox prints."""
    token = sandbox_world.seed.admin_token
    with httpx.Client(
        transport=EmulatorTransport(app),
        base_url="http://127.0.0.1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ) as client:
        yield client


def _answer(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(
    "credential",
    [None, "Bearer", "Bearer napi_" + "0" * 60, "Basic abc", "member", "org key"],
)
def test_controls_need_the_printed_key(
    control: httpx.Client, sandbox_world: World, credential: str | None
) -> None:
    """Without the admin key the sandbox printed, every control route is 401 and does nothing."""
    tokens = {
        "member": sandbox_world.seed.member_token,
        "org key": sandbox_world.issue_org_key(sandbox_world.seed.org_id, "k"),
    }
    if credential in tokens:
        credential = f"Bearer {tokens[credential]}"
    headers = {"Authorization": credential} if credential is not None else {}
    control.headers.pop("Authorization")
    for method, path, body in [
        ("GET", "/_sandbox", None),
        ("POST", "/_sandbox/clock", {"advance_seconds": 60}),
        ("POST", "/_sandbox/faults", {"operation_id": "*", "fault": "reset"}),
        ("DELETE", "/_sandbox/faults", None),
        ("POST", "/_sandbox/stop", None),
    ]:
        refused = control.request(method, path, json=body, headers=headers)
        assert "NEON_API_KEY" in _answer(refused, 401)["error"]
    clock = sandbox_world.clock
    assert isinstance(clock, OffsetClock) and clock.offset == 0
    assert sandbox_world.faults.pending == []


def test_the_printed_key_opens_the_controls_even_once_revoked(
    control: httpx.Client, sandbox_world: World, app: SandboxApp
) -> None:
    """Revoking the admin key through the API does not lock the controls."""
    sandbox_world.revoke(sandbox_world.seed.admin_key_id)
    _answer(control.post("/_sandbox/stop"))
    assert app.stop_requested.is_set()


def test_status_reports_the_clock_the_faults_and_the_process(
    control: httpx.Client, sandbox_world: World
) -> None:
    """GET /_sandbox answers the clock, the planned faults and the pid; the log ignores it."""
    sandbox_world.faults.inject("createApiKey", Fault.lost_response(), times=2)
    state = _answer(control.get("/_sandbox"))
    assert state["clock_offset_seconds"] == 0
    assert state["faults"] == [
        {"operation_id": "createApiKey", "fault": "disconnect after acting", "remaining": 2}
    ]
    assert isinstance(state["pid"], int)
    assert len(sandbox_world.log) == 0


def test_advance_moves_the_clock_forward(control: httpx.Client, sandbox_world: World) -> None:
    """POST /_sandbox/clock moves the world's clock by exactly the seconds asked."""
    state = _answer(control.post("/_sandbox/clock", json={"advance_seconds": 86_400}))
    assert state["clock_offset_seconds"] == 86_400
    _answer(control.post("/_sandbox/clock", json={"advance_seconds": 0.5}))
    clock = sandbox_world.clock
    assert isinstance(clock, OffsetClock) and clock.offset == 86_400.5


@pytest.mark.parametrize(
    "body",
    [
        b'{"advance_seconds": -1}',
        b'{"advance_seconds": NaN}',
        b'{"advance_seconds": Infinity}',
        b'{"advance_seconds": true}',
        b'{"advance_seconds": "60"}',
        b'{"advance_seconds": 1e300}',
        b"{}",
        b"[60]",
        b"not json",
        b"{" * 100_000,
    ],
)
def test_advance_refuses_what_is_not_a_step_forward(
    control: httpx.Client, sandbox_world: World, body: bytes
) -> None:
    """Negative, infinite, NaN, boolean or missing steps and bad bodies are refused; no move."""
    refused = control.post("/_sandbox/clock", content=body)
    assert refused.status_code in {400, 413}
    assert isinstance(refused.json()["error"], str)
    clock = sandbox_world.clock
    assert isinstance(clock, OffsetClock) and clock.offset == 0


def test_a_clock_that_cannot_move_is_a_conflict() -> None:
    """A sandbox app over a world on the system clock answers 409 to advance."""
    world = World.seeded()
    app = SandboxApp(world)
    with httpx.Client(transport=EmulatorTransport(app), base_url="http://127.0.0.1") as client:
        refused = client.post(
            "/_sandbox/clock",
            json={"advance_seconds": 1},
            headers={"Authorization": f"Bearer {world.seed.admin_token}"},
        )
    assert "cannot be moved" in _answer(refused, 409)["error"]


def test_a_planned_fault_strikes_the_api(control: httpx.Client, sandbox_world: World) -> None:
    """POST /_sandbox/faults plans a fault that the next API request meets, once."""
    plan = {"operation_id": "getAuthDetails", "fault": "status", "status": 503, "times": 1}
    state = _answer(control.post("/_sandbox/faults", json=plan))
    assert state["faults"][0]["fault"] == "response 503 before acting"
    assert control.get("/api/v2/auth").status_code == 503
    assert control.get("/api/v2/auth").status_code == 200
    assert sandbox_world.log.count("getAuthDetails") == 2


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ({"operation_id": "createKey", "fault": "reset"}, "unknown operation"),
        ({"operation_id": "*", "fault": "explode"}, "unknown fault"),
        ({"operation_id": "*", "fault": "reset", "seconds": 2}, "not seconds"),
        ({"operation_id": "*", "fault": "delay"}, "needs seconds"),
        ({"operation_id": "*", "fault": "reset", "times": 0}, "times"),
        ({"operation_id": "*", "fault": "reset", "times": True}, "wrong type"),
        ({"operation_id": "*", "fault": "status", "status": 700}, "HTTP status"),
        ({"operation_id": "*", "fault": "reset", "committed": "yes"}, "wrong type"),
        ({"operation_id": "*", "fault": "reset", "colour": "red"}, "unknown field"),
        ({"fault": "reset"}, "wrong type"),
    ],
)
def test_bad_fault_plans_are_refused(
    control: httpx.Client, sandbox_world: World, plan: dict[str, Any], message: str
) -> None:
    """A plan naming an unknown operation, kind or option, or a wrong type, plans nothing."""
    refused = control.post("/_sandbox/faults", json=plan)
    assert message in _answer(refused, 400)["error"]
    assert sandbox_world.faults.pending == []


def test_clearing_forgets_every_fault(control: httpx.Client, sandbox_world: World) -> None:
    """DELETE /_sandbox/faults forgets the plan."""
    sandbox_world.faults.inject("*", Fault.reset(), times=None)
    assert _answer(control.delete("/_sandbox/faults"))["faults"] == []
    assert control.get("/api/v2/auth").status_code == 200


def test_unknown_control_paths_are_404_and_the_api_is_still_served(
    control: httpx.Client,
) -> None:
    """A path under /_sandbox that is no route is a JSON 404; /api/v2 works as usual."""
    assert "no control route" in _answer(control.get("/_sandbox/nothing"), 404)["error"]
    assert control.get("/api/v2/auth").json()["auth_method"] == "api_key_user"
    assert control.get("/_sandboxes").status_code == 404  # not a control path: the API's 404


# -- faults by name ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "committed"),
    [
        ("status", ResponseFault, False),
        ("html", ResponseFault, False),
        ("disconnect", DisconnectFault, False),
        ("lost-response", DisconnectFault, True),
        ("reset", ResetFault, False),
        ("truncated-body", TruncatedBodyFault, True),
        ("content-type", ContentTypeFault, True),
    ],
)
def test_each_name_builds_its_kind_with_the_documented_default(
    name: str, kind: type[Fault], committed: bool
) -> None:
    """build_fault(name) is the fault the name stands for, striking when the kind does."""
    fault = build_fault(name)
    assert type(fault) is kind and fault.committed is committed


def test_names_cover_every_kind_and_options_reach_the_fault() -> None:
    """Every name builds; status, seconds, committed and content type end up in the fault."""
    assert {
        type(build_fault(n, seconds=1) if n == "delay" else build_fault(n)) for n in FAULT_NAMES
    } == {
        ResponseFault,
        DisconnectFault,
        ResetFault,
        DelayFault,
        TruncatedBodyFault,
        ContentTypeFault,
    }
    html = build_fault("html", status=504, committed=True)
    assert isinstance(html, ResponseFault) and (html.status_code, html.committed) == (504, True)
    delay = build_fault("delay", seconds=2.5, committed=False)
    assert isinstance(delay, DelayFault) and (delay.seconds, delay.committed) == (2.5, False)
    assert build_fault("delay", seconds=1).committed is True
    labelled = build_fault("content-type", content_type="text/html")
    assert isinstance(labelled, ContentTypeFault) and labelled.media_type == "text/html"
    with pytest.raises(ValueError, match="takes no option"):
        build_fault("lost-response", committed=False)


def test_the_fault_kinds_know_when_they_strike() -> None:
    """Kinds carried out first say 'after acting'; the others strike before, by default."""
    assert str(Fault.reset()) == "connection reset before acting"
    assert str(Fault.reset(committed=True)) == "connection reset after acting"
    assert str(Fault.disconnect()) == "disconnect before acting"
    assert str(Fault.delay(1, committed=False)) == "delay 1s before acting"
    assert str(Fault.content_type("text/html")) == "content-type 'text/html'"
