"""Authentication, GET /auth, request ids, content type, and key usage tracking."""

from __future__ import annotations

import uuid

import httpx
import pytest
from emulator_helpers import JSON_CONTENT_TYPE, ORG_ID, PROJECT_ID, Api, assert_general_error
from neon_keys.testing import EmulatorTransport, FakeClock, World


def test_missing_authorization_is_401(admin: Api) -> None:
    """A request without a bearer token gets 401 with a GeneralError body."""
    body = assert_general_error(admin.as_(None).get("/api_keys"), 401)
    assert "Bearer" in body["message"]


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "napi_abc"])
def test_malformed_authorization_is_401(admin: Api, header: str) -> None:
    """An Authorization header that is not 'Bearer <token>' gets 401."""
    response = admin.as_(None).get("/auth", headers={"Authorization": header})
    assert_general_error(response, 401)


def test_unknown_token_is_401(admin: Api) -> None:
    """A well-formed token the world never issued gets 401."""
    assert_general_error(admin.as_("napi_" + "a" * 60).get("/auth"), 401)


def test_bearer_scheme_is_case_insensitive(admin: Api, world: World) -> None:
    """'bearer <token>' works like 'Bearer <token>'."""
    headers = {"Authorization": f"bearer {world.seed.admin_token}"}
    assert admin.as_(None).get("/auth", headers=headers).status_code == 200


def test_revoked_key_fails_every_request_with_401(admin: Api, world: World) -> None:
    """Once revoked through the API, a key is refused on every operation."""
    token = admin.create_personal("short-lived").json()["key"]
    key_id = admin.as_(token).get("/api_keys").json()[-1]["id"]
    assert admin.delete(f"/api_keys/{key_id}").status_code == 200
    gone = admin.as_(token)
    for response in (
        gone.get("/auth"),
        gone.get("/api_keys"),
        gone.create_personal("x"),
        gone.get(f"/organizations/{ORG_ID}/api_keys"),
        gone.get("/users/me/organizations"),
    ):
        assert_general_error(response, 401)


def test_auth_details_of_a_personal_key(admin: Api, world: World) -> None:
    """GET /auth with a personal key names the user and api_key_user."""
    response = admin.get("/auth")
    assert response.status_code == 200
    assert response.json() == {"account_id": world.seed.admin_id, "auth_method": "api_key_user"}


@pytest.mark.parametrize("project_id", [None, PROJECT_ID])
def test_auth_details_of_org_and_project_keys(
    admin: Api, world: World, project_id: str | None
) -> None:
    """GET /auth with an organization or project-scoped key names the org and api_key_org."""
    token = world.issue_org_key(ORG_ID, "k", project_id=project_id)
    response = admin.as_(token).get("/auth")
    assert response.json() == {"account_id": ORG_ID, "auth_method": "api_key_org"}


def test_project_key_stops_working_when_its_project_leaves(admin: Api, world: World) -> None:
    """A project-scoped key gets 401 once its project is no longer in the organization."""
    token = world.issue_org_key(ORG_ID, "preview", project_id=PROJECT_ID)
    assert admin.as_(token).get("/auth").status_code == 200
    world.remove_project(ORG_ID, PROJECT_ID)
    assert_general_error(admin.as_(token).get("/auth"), 401)


def test_request_id_is_echoed_in_header_and_error_body(admin: Api) -> None:
    """The client's X-Request-ID comes back in x-neon-ret-request-id and in error bodies."""
    ok = admin.get("/auth", headers={"X-Request-ID": "req-123"})
    assert ok.headers["x-neon-ret-request-id"] == "req-123"
    failed = admin.as_(None).get("/auth", headers={"X-Request-ID": "req-456"})
    assert assert_general_error(failed, 401)["request_id"] == "req-456"


@pytest.mark.parametrize("sent", [None, "", "x" * 201, "caf\u00e9"])
def test_request_id_is_generated_when_absent_or_unusable(admin: Api, sent: str | None) -> None:
    """Without a usable X-Request-ID, each response carries a new uuid4."""
    headers = {} if sent is None else {"X-Request-ID": sent.encode("utf-8")}
    first = admin.get("/auth", headers=headers).headers["x-neon-ret-request-id"]
    second = admin.get("/auth", headers=headers).headers["x-neon-ret-request-id"]
    assert first != second
    assert uuid.UUID(first).version == 4


def test_responses_are_json_with_charset(admin: Api) -> None:
    """Success and error responses say application/json; charset=utf-8."""
    assert admin.get("/api_keys").headers["content-type"] == JSON_CONTENT_TYPE
    assert admin.as_(None).get("/api_keys").headers["content-type"] == JSON_CONTENT_TYPE


def test_a_key_never_used_shows_null_and_empty_address(admin: Api) -> None:
    """A fresh key lists with last_used_at null and last_used_from_addr empty."""
    admin.create_personal("unused")
    [item] = [item for item in admin.get("/api_keys").json() if item["name"] == "unused"]
    assert item["last_used_at"] is None
    assert item["last_used_from_addr"] == ""


def test_using_a_key_records_when_and_from_where(world: World, clock: FakeClock) -> None:
    """Each use updates last_used_at; the last two distinct addresses are kept, newest last."""
    token = world.issue_personal_key(world.seed.admin_id, "roaming")
    key_id = world.key_for_token(token)
    assert key_id is not None

    def call_from(address: str) -> None:
        transport = EmulatorTransport(world, client=(address, 40000))
        with httpx.Client(transport=transport, base_url=transport.base_url) as http:
            assert Api(http, token).get("/auth").status_code == 200

    call_from("203.0.113.5")
    clock.advance(60)
    call_from("198.51.100.7")
    call_from("198.51.100.7")
    assert world.key(key_id.id).last_used_from == ("203.0.113.5", "198.51.100.7")
    clock.advance(60)
    call_from("2001:db8::1")
    info = world.key(key_id.id)
    assert info.last_used_from == ("198.51.100.7", "2001:db8::1")
    assert info.last_used_at == clock.now()
    transport = EmulatorTransport(world)
    with httpx.Client(transport=transport, base_url=transport.base_url) as http:
        listed = Api(http, world.seed.admin_token).get("/api_keys").json()
    [item] = [item for item in listed if item["id"] == key_id.id]
    assert item["last_used_from_addr"] == "198.51.100.7,2001:db8::1"
    assert item["last_used_at"] == "2025-01-01T00:02:00Z"


def test_refused_requests_of_a_valid_key_still_count_as_use(member: Api, world: World) -> None:
    """A valid key that is refused 403 has still been used (it authenticated)."""
    assert member.get(f"/organizations/{ORG_ID}/api_keys").status_code == 403
    info = world.key_for_token(world.seed.member_token)
    assert info is not None and info.last_used_at is not None
