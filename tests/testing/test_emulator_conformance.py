"""Every emulator response, success or error, for all eight operations, fits openapi.yaml.

The emulator departs from the spec in exactly the ways the live service does (see the
docstring of ``neon_keys.testing._app``), and these tests allow exactly those:

- user ids are not UUIDs, so the ``uuid`` format is not checked;
- with ``legacy_shapes``, the create response may lack ``created_by`` and the revoke
  response ``created_at`` and ``created_by`` (checked against a copy of the spec with just
  those names taken out of ``required``).

Both allowances are shown to be needed: the unrelaxed spec rejects those responses.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from emulator_helpers import ORG_ID, PROJECT_ID, Api
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from neon_keys.testing import EmulatorTransport, FakeClock, Fault, ServerRateLimits, World
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"
SPEC_HOST = "https://console.neon.tech"
ORG_KEYS = f"/organizations/{ORG_ID}/api_keys"
OPERATIONS = {
    ("GET", "/api_keys"): "listApiKeys",
    ("POST", "/api_keys"): "createApiKey",
    ("DELETE", "/api_keys/{key_id}"): "revokeApiKey",
    ("GET", "/organizations/{org_id}/api_keys"): "listOrgApiKeys",
    ("POST", "/organizations/{org_id}/api_keys"): "createOrgApiKey",
    ("DELETE", "/organizations/{org_id}/api_keys/{key_id}"): "revokeOrgApiKey",
    ("GET", "/auth"): "getAuthDetails",
    ("GET", "/users/me/organizations"): "getCurrentUserOrganizations",
}
LEGACY_OMISSIONS = {
    "ApiKeyCreateResponse": {"created_by"},
    "ApiKeyRevokeResponse": {"created_at", "created_by"},
}


def _spec(*, legacy: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    if legacy:
        spec = copy.deepcopy(spec)
        schemas = spec["components"]["schemas"]
        for name, omitted in LEGACY_OMISSIONS.items():
            required = schemas[name]["required"]
            assert omitted <= set(required), (name, omitted)
            schemas[name]["required"] = [field for field in required if field not in omitted]
    return spec


def _any_user_id(value: object) -> bool:
    return True


RELAXED_FORMATS = Config(extra_format_validators={"uuid": _any_user_id})
CURRENT = OpenAPI.from_dict(_spec(), config=RELAXED_FORMATS)
LEGACY = OpenAPI.from_dict(_spec(legacy=True), config=RELAXED_FORMATS)
STRICT = OpenAPI.from_dict(_spec())


def validate(spec: OpenAPI, response: httpx.Response) -> None:
    """Validate one emulator response against ``spec`` (raises on any mismatch)."""
    request = response.request
    spec.validate_response(
        MockRequest(SPEC_HOST, request.method, request.url.path, data=request.content),
        MockResponse(
            response.content,
            response.status_code,
            dict(response.headers),
            response.headers["content-type"],
        ),
    )


def operation_of(response: httpx.Response) -> str:
    """The operationId the emulator logged for ``response``'s request."""
    path = response.request.url.path.removeprefix("/api/v2")
    parts = path.split("/")
    if len(parts) > 3 and parts[1] == "organizations":
        parts[2] = "{org_id}"
    if parts[-2:-1] == ["api_keys"]:
        parts[-1] = "{key_id}"
    return OPERATIONS[(response.request.method, "/".join(parts))]


class Recorder:
    """Collects every response an httpx client receives."""

    def __init__(self) -> None:
        self.responses: list[httpx.Response] = []

    def __call__(self, response: httpx.Response) -> None:
        response.read()
        self.responses.append(response)


def recording_client(world: World, recorder: Recorder) -> httpx.Client:
    """A sync client on ``world`` in process that hands each response to ``recorder``."""
    transport = EmulatorTransport(world)
    return httpx.Client(
        transport=transport,
        base_url=transport.base_url + "/",
        event_hooks={"response": [recorder]},
        timeout=5,
    )


def exercise(api: Api, world: World, clock: FakeClock) -> None:
    """Drive every operation to success and to each error it can answer."""
    org_token = world.issue_org_key(ORG_ID, "automation")
    project_token = world.issue_org_key(ORG_ID, "scoped", project_id=PROJECT_ID)
    nobody = api.as_(None)
    member = api.as_(world.seed.member_token)
    org_key, project_key = api.as_(org_token), api.as_(project_token)

    # personal keys
    api.get("/api_keys")
    created = api.create_personal("ci").json()
    api.delete(f"/api_keys/{created['id']}")
    for bad in ({}, {"key_name": ""}, {"key_name": "x" * 65}, {"key_name": 7}):
        api.post("/api_keys", json=bad)
    api.post("/api_keys", content=b"{nope")
    api.delete("/api_keys/not-a-number")
    api.delete(f"/api_keys/{created['id']}")
    for route in (nobody, org_key, project_key):
        route.get("/api_keys")
        route.create_personal("x")
        route.delete(f"/api_keys/{world.seed.admin_key_id}")

    # organization keys
    plain = api.create_org("deploy").json()
    scoped = api.create_org("preview", project_id=PROJECT_ID).json()
    api.get(ORG_KEYS)
    api.delete(f"{ORG_KEYS}/{plain['id']}")
    api.delete(f"{ORG_KEYS}/{scoped['id']}")
    api.delete(f"{ORG_KEYS}/{scoped['id']}")
    api.delete(f"{ORG_KEYS}/x1")
    api.create_org("")
    api.create_org("x", project_id="Not_Valid")
    api.create_org("x", project_id="no-such-project")
    for org_id in ("Bad_Org", "org-unknown-1"):
        api.get(f"/organizations/{org_id}/api_keys")
        api.create_org("x", org_id=org_id)
        api.delete(f"/organizations/{org_id}/api_keys/1")
    for route in (nobody, member, project_key):
        route.get(ORG_KEYS)
        route.create_org("x")
        route.delete(f"{ORG_KEYS}/1")
    org_key.get(ORG_KEYS)
    org_key.create_org("by-org-key")

    # who is calling
    for route in (api, org_key, project_key, nobody):
        route.get("/auth")
        route.get("/users/me/organizations")

    # rate limits and injected error statuses
    world.rate_limits = ServerRateLimits(per_minute=1000, burst_per_route=1000)
    for number in range(11):
        api.create_org(f"burst-{number}")
    world.rate_limits = ServerRateLimits(per_minute=1)
    api.get("/auth")
    api.get("/auth")
    world.rate_limits = None
    clock.advance(60)
    for operation, request in (
        ("listApiKeys", lambda: api.get("/api_keys")),
        ("revokeOrgApiKey", lambda: api.delete(f"{ORG_KEYS}/1")),
        ("getCurrentUserOrganizations", lambda: api.get("/users/me/organizations")),
    ):
        world.faults.inject(operation, Fault.status(503, headers={"Retry-After": "1"}))
        request()


@pytest.fixture
def recorded(world: World, clock: FakeClock) -> Iterator[list[httpx.Response]]:
    """The responses of ``exercise`` on a fresh seeded world."""
    recorder = Recorder()
    with recording_client(world, recorder) as http:
        exercise(Api(http, world.seed.admin_token), world, clock)
    yield recorder.responses


def test_every_response_fits_the_spec(recorded: list[httpx.Response]) -> None:
    """Each recorded response validates against openapi.yaml (uuid format aside)."""
    for response in recorded:
        try:
            validate(CURRENT, response)
        except Exception as err:  # pragma: no cover - the message is the point
            pytest.fail(
                f"{response.request.method} {response.request.url.path} -> "
                f"{response.status_code} {response.text[:300]}: {err!r}"
            )


def test_the_exercise_covers_every_operation_and_outcome(recorded: list[httpx.Response]) -> None:
    """Each operation was seen succeeding and failing, with every status the emulator uses."""
    seen: dict[str, set[int]] = {}
    for response in recorded:
        seen.setdefault(operation_of(response), set()).add(response.status_code)
    assert set(seen) == set(OPERATIONS.values())
    for operation, statuses in seen.items():
        assert 200 in statuses and statuses - {200}, operation
    every = set().union(*seen.values())
    assert every == {200, 400, 401, 403, 404, 429, 503}
    assert 429 in seen["createOrgApiKey"]


def test_the_uuid_allowance_is_needed(recorded: list[httpx.Response]) -> None:
    """With uuid checked, listings and create responses naming user_... ids are rejected."""
    listing = next(r for r in recorded if operation_of(r) == "listApiKeys" and r.is_success)
    created = next(r for r in recorded if operation_of(r) == "createApiKey" and r.is_success)
    for response in (listing, created):
        with pytest.raises(Exception, match="uuid"):
            validate(STRICT, response)


def test_uuid_user_ids_fit_even_the_strict_spec(world: World) -> None:
    """For a user whose id is a UUID, the responses fit the spec without any allowance."""
    recorder = Recorder()
    with recording_client(world, recorder) as http:
        member = Api(http, world.seed.member_token)
        created = member.create_personal("uuid-owner").json()
        member.get("/api_keys")
        member.delete(f"/api_keys/{created['id']}")
    for response in recorder.responses:
        assert response.is_success
        validate(STRICT, response)


@pytest.mark.parametrize("project_id", [None, PROJECT_ID])
def test_organizations_of_an_org_or_project_key_fit_the_spec(
    world: World, project_id: str | None
) -> None:
    """GET /users/me/organizations with an org or project key: 200, the owning org, spec-shaped."""
    token = world.issue_org_key(ORG_ID, "automation", project_id=project_id)
    recorder = Recorder()
    with recording_client(world, recorder) as http:
        Api(http, token).get("/users/me/organizations")
    [response] = recorder.responses
    assert response.status_code == 200
    assert [org["id"] for org in response.json()["organizations"]] == [ORG_ID]
    validate(STRICT, response)


def test_legacy_shapes_fit_only_with_their_documented_omissions(clock: FakeClock) -> None:
    """Early-2024 shapes validate once exactly the omitted fields are optional, not before."""
    world = World.seeded(clock=clock, legacy_shapes=True)
    recorder = Recorder()
    with recording_client(world, recorder) as http:
        api = Api(http, world.seed.admin_token)
        personal = api.create_personal("ci").json()
        api.delete(f"/api_keys/{personal['id']}")
        scoped = api.create_org("preview", project_id=PROJECT_ID).json()
        api.delete(f"{ORG_KEYS}/{scoped['id']}")
    assert [r.status_code for r in recorder.responses] == [200] * 4
    for response in recorder.responses:
        validate(LEGACY, response)
        with pytest.raises(Exception, match="required"):
            validate(CURRENT, response)


ACTIONS = st.sampled_from(
    ["list", "create", "revoke", "list_org", "create_org", "revoke_org", "auth", "orgs"]
)
CALLERS = st.sampled_from(["admin", "member", "org", "project", "revoked", "none"])
NAMES = st.one_of(st.text(max_size=70), st.integers(), st.none(), st.just("x" * 64))
KEY_IDS = st.one_of(
    st.integers(min_value=100_000, max_value=100_020).map(str),
    st.sampled_from(["abc", "-1", "9" * 20, "1.0"]),
)
ORG_IDS = st.sampled_from([ORG_ID, "org-elsewhere-1", "Bad_Org"])
PROJECTS = st.sampled_from([None, PROJECT_ID, "nope-1", "Bad_Project"])
STEPS = st.lists(st.tuples(ACTIONS, CALLERS, NAMES, KEY_IDS, ORG_IDS, PROJECTS), max_size=12)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS)
def test_any_sequence_of_requests_gets_spec_shaped_answers(
    steps: list[tuple[str, str, object, str, str, str | None]],
) -> None:
    """Whatever is asked, by whichever credential, every answer fits the spec."""
    world = World.seeded(clock=FakeClock())
    world.add_org("org-elsewhere-1", admins=[world.add_user()])
    revoked = world.issue_personal_key(world.seed.admin_id, "gone")
    info = world.key_for_token(revoked)
    assert info is not None
    world.revoke(info.id)
    tokens: dict[str, str | None] = {
        "admin": world.seed.admin_token,
        "member": world.seed.member_token,
        "org": world.issue_org_key(ORG_ID, "org"),
        "project": world.issue_org_key(ORG_ID, "project", project_id=PROJECT_ID),
        "revoked": revoked,
        "none": None,
    }
    recorder = Recorder()
    with recording_client(world, recorder) as http:
        base = Api(http, None)
        for action, caller, name, key_id, org_id, project_id in steps:
            org_path = f"/organizations/{org_id}/api_keys"
            body: dict[str, object] = {"key_name": name}
            if project_id is not None:
                body["project_id"] = project_id
            method, path, payload = {
                "list": ("GET", "/api_keys", None),
                "create": ("POST", "/api_keys", body),
                "revoke": ("DELETE", f"/api_keys/{key_id}", None),
                "list_org": ("GET", org_path, None),
                "create_org": ("POST", org_path, body),
                "revoke_org": ("DELETE", f"{org_path}/{key_id}", None),
                "auth": ("GET", "/auth", None),
                "orgs": ("GET", "/users/me/organizations", None),
            }[action]
            base.as_(tokens[caller]).request(method, path, json=payload)
    for response in recorder.responses:
        assert response.status_code in {200, 400, 401, 403, 404}
        validate(CURRENT, response)
