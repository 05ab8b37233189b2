"""Every operation, for every key kind, through both clients, against live-service shapes."""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import json
import uuid
from typing import Any

import pytest
from fakes import FAKE_SECRET, ORG_ID, PROJECT_ID, USER_ID, USER_UUID, FakeNeon, run
from neon_keys import (
    AsyncNeonKeys,
    AuthDetails,
    Creator,
    KeyKind,
    NeonKeys,
    Organization,
    OrgKey,
    PersonalKey,
    ProjectKey,
    Secret,
    _operations,
)

UTC = datetime.UTC


def test_list_personal_keys_parses_listing_shapes(client: Any, fake: FakeNeon) -> None:
    """Listed keys carry their creator, last use and addresses as the live API reports them."""
    keys = run(client.personal_keys.list())
    assert [k.id for k in keys] == [165432, 165433, 165434]
    first, never, busy = keys
    assert all(isinstance(k, PersonalKey) and k.kind is KeyKind.PERSONAL for k in keys)
    assert first.created_at == datetime.datetime(2022, 11, 15, 20, 13, 35, tzinfo=UTC)
    assert first.created_by == Creator(id=USER_UUID, name="Alice Example", image=None)
    assert first.last_used_from == (ipaddress.ip_address("192.0.2.255"),)
    assert never.created_by == Creator(id=USER_ID)
    assert never.last_used_at is None
    assert never.last_used_from == ()
    assert busy.last_used_from == (
        ipaddress.ip_address("203.0.113.7"),
        ipaddress.ip_address("2001:db8::1"),
    )
    assert not any(k.revoked for k in keys)
    assert all(k.secret is None for k in keys)
    assert fake.requests[0].method == "GET"


def test_create_personal_key_returns_secret_once(client: Any, fake: FakeNeon) -> None:
    """A created key carries its secret, masked unless revealed, and sends the name as key_name."""
    key = run(client.personal_keys.create("ci"))
    assert isinstance(key, PersonalKey)
    assert key.id == 7 and key.name == "ci"
    assert isinstance(key.secret, Secret)
    assert key.secret.reveal() == FAKE_SECRET
    assert FAKE_SECRET not in repr(key) and FAKE_SECRET not in str(key.secret)
    assert key.created_by is None  # absent from create responses recorded in 2024
    request = fake.requests[-1]
    assert request.method == "POST" and request.url.path == "/api/v2/api_keys"
    assert json.loads(request.content) == {"key_name": "ci"}
    assert request.headers["content-type"] == "application/json"


def test_revoke_personal_key_tolerates_missing_fields(client: Any, fake: FakeNeon) -> None:
    """A revoke answer without created_at/created_by still gives a revoked key."""
    key = run(client.personal_keys.revoke(165432))
    assert key.revoked is True
    assert key.created_at is None and key.created_by is None
    assert fake.requests[-1].method == "DELETE"
    assert fake.requests[-1].url.path == "/api/v2/api_keys/165432"


def test_org_list_separates_org_and_project_keys(client: Any) -> None:
    """An org listing yields OrgKey and ProjectKey objects with their ids."""
    keys = run(client.org(ORG_ID).keys.list())
    org_key, project_key = keys
    assert type(org_key) is OrgKey and org_key.kind is KeyKind.ORG
    assert org_key.org_id == ORG_ID
    assert type(project_key) is ProjectKey and project_key.kind is KeyKind.PROJECT
    assert project_key.project_id == PROJECT_ID and project_key.org_id == ORG_ID


def test_org_create_without_project_gives_org_key(client: Any, fake: FakeNeon) -> None:
    """Creating without project_id gives an OrgKey and sends only key_name."""
    key = run(client.org(ORG_ID).keys.create("deploy"))
    assert type(key) is OrgKey and key.secret is not None
    assert json.loads(fake.requests[-1].content) == {"key_name": "deploy"}


def test_org_create_with_project_gives_project_key(client: Any, fake: FakeNeon) -> None:
    """Creating with project_id gives a ProjectKey scoped to that project."""
    key = run(client.org(ORG_ID).keys.create("preview", project_id=PROJECT_ID))
    assert type(key) is ProjectKey and key.project_id == PROJECT_ID
    assert json.loads(fake.requests[-1].content) == {
        "key_name": "preview",
        "project_id": PROJECT_ID,
    }


def test_org_revoke(client: Any, fake: FakeNeon) -> None:
    """Revoking an org key hits the org's path and returns a revoked key."""
    key = run(client.org(ORG_ID).keys.revoke(200))
    assert key.revoked and key.org_id == ORG_ID
    assert fake.requests[-1].url.path == f"/api/v2/organizations/{ORG_ID}/api_keys/200"


def test_whoami(client: Any) -> None:
    """whoami reports the credential's kind and account."""
    details = run(client.whoami())
    assert details == AuthDetails(account_id=USER_ID, auth_method="api_key_user")
    assert details.key_kind is KeyKind.PERSONAL


def test_whoami_accepts_unknown_auth_method(client: Any, fake: FakeNeon) -> None:
    """A credential kind Neon adds later does not break whoami."""
    from fakes import json_response

    fake.route("GET", "/auth", json_response({"account_id": "x", "auth_method": "magic"}))
    details = run(client.whoami())
    assert details.auth_method == "magic" and details.key_kind is None


def test_organizations(client: Any) -> None:
    """The caller's organizations are listed with ids and timestamps."""
    (org,) = run(client.organizations())
    assert isinstance(org, Organization)
    assert org.id == ORG_ID and org.managed_by == "console"
    assert org.created_at.tzinfo is not None
    assert org.allow_hipaa_projects is None


def test_every_request_carries_request_id_and_user_agent(client: Any, fake: FakeNeon) -> None:
    """Each request sends a uuid4 X-Request-ID, a User-Agent naming the library, and the key."""
    run(client.personal_keys.list())
    run(client.whoami())
    ids = [r.headers["x-request-id"] for r in fake.requests]
    assert len(set(ids)) == 2
    assert all(uuid.UUID(i).version == 4 for i in ids)
    agent = fake.requests[0].headers["user-agent"]
    assert agent.startswith("neon-api-keys/")
    assert fake.requests[0].headers["authorization"] == "Bearer napi_fake_caller_token_for_tests"


@pytest.mark.parametrize("client_class", [NeonKeys, AsyncNeonKeys])
def test_own_pool_sends_the_same_headers(client_class: Any) -> None:
    """A client's own pool sends Accept, User-Agent, the key and a request id, once each."""
    neon = client_class(api_key="napi_own_pool", base_url="https://console.neon.tech/api/v2")
    for each in (neon, neon.with_options(api_key="napi_clone")):
        request = each._build_request(_operations.list_personal_keys(), "id-1")
        pairs = [(k.lower(), v) for k, v in request.headers.multi_items()]
        names = [k for k, _ in pairs]
        assert len(names) == len(set(names))
        headers = dict(pairs)
        assert headers["accept"] == "application/json"
        assert headers["user-agent"].startswith("neon-api-keys/")
        assert headers["authorization"] == f"Bearer {each._api_key.reveal()}"
        assert headers["x-request-id"] == "id-1"
    run(neon.aclose() if client_class is AsyncNeonKeys else neon.close())


@pytest.mark.parametrize(
    "created_by",
    ["user_01h84bfr2npa81rn8h8jzz8mx4", {"id": USER_ID, "name": "", "image": ""}],
)
def test_created_by_as_string_or_object(
    client: Any, fake: FakeNeon, created_by: str | dict[str, str]
) -> None:
    """created_by parses whether Neon sends a bare id or an object, in any response."""
    from fakes import json_response

    item = {"id": 1, "name": "a", "created_at": "2024-01-01T00:00:00Z", "created_by": created_by}
    fake.route("GET", "/api_keys", json_response([{**item, "last_used_from_addr": ""}]))
    fake.route("POST", "/api_keys", json_response({**item, "key": FAKE_SECRET}))
    (listed,) = run(client.personal_keys.list())
    made = run(client.personal_keys.create("a"))
    assert listed.created_by == made.created_by == Creator(id=USER_ID)


def test_gzip_and_charset_responses(client: Any, fake: FakeNeon) -> None:
    """gzip-encoded JSON with a charset in its content type parses."""
    import gzip

    import httpx

    body = gzip.compress(json.dumps([{**_minimal_item(), "last_used_from_addr": ""}]).encode())
    fake.route(
        "GET",
        "/api_keys",
        httpx.Response(
            200,
            content=body,
            headers={
                "content-type": "application/json; charset=utf-8",
                "content-encoding": "gzip",
            },
        ),
    )
    (key,) = run(client.personal_keys.list())
    assert key.id == 1


def _minimal_item() -> dict[str, Any]:
    return {
        "id": 1,
        "name": "a",
        "created_at": "2024-01-01T00:00:00+00:00",
        "created_by": {"id": USER_ID, "name": "", "image": ""},
        "last_used_at": None,
    }


def test_key_objects_are_immutable(client: Any) -> None:
    """Result objects cannot be changed after the fact."""
    import dataclasses

    key = run(client.personal_keys.list())[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        key.name = "other"


ORG_AUTH = {"account_id": ORG_ID, "auth_method": "api_key_org"}


def test_whoami_names_the_organization_of_an_org_key(client: Any, fake: FakeNeon) -> None:
    """With an organization key, whoami also names the organization that owns it."""
    from fakes import json_response

    fake.route("GET", "/auth", json_response(ORG_AUTH))
    details = run(client.whoami())
    assert details.key_kind is KeyKind.ORG and details.account_id == ORG_ID
    assert details.organization is not None
    assert (details.organization.id, details.organization.name) == (ORG_ID, "Cool Breeze")
    assert [r.url.path for r in fake.requests] == ["/api/v2/auth", "/api/v2/users/me/organizations"]


@pytest.mark.parametrize("status", [403, 404])
def test_whoami_works_without_the_organization_on_an_older_service(
    client: Any, fake: FakeNeon, status: int
) -> None:
    """An older service refuses the organization call (403 or 404): whoami answers without it."""
    from fakes import json_response

    fake.route("GET", "/auth", json_response(ORG_AUTH))
    fake.route("GET", "/users/me/organizations", json_response({"message": "no"}, status=status))
    details = run(client.whoami())
    assert details == AuthDetails(account_id=ORG_ID, auth_method="api_key_org")


def test_whoami_of_a_personal_key_asks_once(client: Any, fake: FakeNeon) -> None:
    """A personal key belongs to no organization: one request, organization None."""
    details = run(client.whoami())
    assert details.organization is None and len(fake.requests) == 1


def test_whoami_reports_a_real_failure_of_the_organization_call(
    client: Any, fake: FakeNeon
) -> None:
    """A 401 on the organization call is a failure of the key, not an older service: raised."""
    from fakes import json_response
    from neon_keys import AuthenticationError

    fake.route("GET", "/auth", json_response(ORG_AUTH))
    fake.route("GET", "/users/me/organizations", json_response({"message": "no"}, status=401))
    with pytest.raises(AuthenticationError):
        run(client.whoami())


@pytest.mark.parametrize(
    ("answered", "named"),
    [
        ([ORG_ID, "org-other-1"], ORG_ID),  # the one whose id is the key's account
        (["org-only-1"], "org-only-1"),  # the only one answered
        (["org-a-1", "org-b-1"], None),  # several, none the key's: not guessed
        ([], None),
    ],
)
def test_whoami_takes_the_organization_that_owns_the_key(
    client: Any, fake: FakeNeon, answered: list[str], named: str | None
) -> None:
    """The owner is the organization whose id is the key's account, else the only one answered."""
    from fakes import json_response

    fake.route("GET", "/auth", json_response(ORG_AUTH))
    orgs = [
        {
            "id": org_id,
            "name": org_id.upper(),
            "handle": org_id,
            "plan": "scale",
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
            "managed_by": "console",
        }
        for org_id in answered
    ]
    fake.route("GET", "/users/me/organizations", json_response({"organizations": orgs}))
    organization = run(client.whoami()).organization
    assert (organization.id if organization else None) == named


@pytest.mark.parametrize("flavour", ["sync", "async"])
@pytest.mark.parametrize("scoped", [False, True], ids=["org-key", "project-key"])
def test_whoami_names_the_organization_against_the_emulator(flavour: str, scoped: bool) -> None:
    """Against the emulator, an org or project-scoped key's whoami names its organization."""
    import asyncio

    import httpx
    from neon_keys.testing import AsyncEmulatorTransport, EmulatorTransport, World

    world = World.seeded()
    seed = world.seed
    project = seed.project_id if scoped else None
    token = world.issue_org_key(seed.org_id, "deploy", project_id=project)

    def sync_client(api_key: str) -> NeonKeys:
        transport = EmulatorTransport(world)
        http = httpx.Client(transport=transport)
        return NeonKeys(api_key=api_key, base_url=transport.base_url, http_client=http)

    if flavour == "sync":
        with sync_client(token) as neon:
            details = neon.whoami()
    else:

        async def main() -> AuthDetails:
            transport = AsyncEmulatorTransport(world)
            async with (
                httpx.AsyncClient(transport=transport) as http,
                AsyncNeonKeys(api_key=token, base_url=transport.base_url, http_client=http) as neon,
            ):
                return await neon.whoami()

        details = asyncio.run(main())
    with sync_client(seed.admin_token) as admin:
        (expected,) = [org for org in admin.organizations() if org.id == seed.org_id]
    assert details.key_kind is KeyKind.ORG and details.account_id == seed.org_id
    assert details.organization == expected and details.organization.name


def test_an_operation_cannot_be_changed_once_built() -> None:
    """An operation, shared by the sync and async clients, is a value neither can alter."""
    operation = _operations.create_personal_key("ci")
    with pytest.raises(dataclasses.FrozenInstanceError):
        operation.path = "/elsewhere"  # type: ignore[misc]
    search = operation.orphan_search
    assert search is not None and search.key_name == "ci"
    with pytest.raises(dataclasses.FrozenInstanceError):
        search.key_name = "other"  # type: ignore[misc]
