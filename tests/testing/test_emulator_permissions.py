"""Who may do what: personal, organization and project-scoped keys, admins and members."""

from __future__ import annotations

import pytest
from emulator_helpers import ORG_ID, PROJECT_ID, Api, assert_general_error
from neon_keys.testing import World

ORG_KEYS = f"/organizations/{ORG_ID}/api_keys"


def _org_key_id(world: World, name: str = "victim") -> int:
    token = world.issue_org_key(ORG_ID, name)
    info = world.key_for_token(token)
    assert info is not None
    return info.id


def test_personal_key_manages_its_owners_personal_keys(admin: Api, world: World) -> None:
    """A personal key lists, creates and revokes its own user's personal keys."""
    created = admin.create_personal("ci")
    assert created.status_code == 200
    key_id = created.json()["id"]
    assert key_id in [item["id"] for item in admin.get("/api_keys").json()]
    assert admin.delete(f"/api_keys/{key_id}").json()["revoked"] is True
    assert key_id not in [item["id"] for item in admin.get("/api_keys").json()]
    assert world.key(key_id).revoked


def test_personal_listing_shows_only_the_callers_keys(admin: Api, member: Api) -> None:
    """Each user sees only their own personal keys."""
    assert [item["name"] for item in admin.get("/api_keys").json()] == ["seed-admin"]
    assert [item["name"] for item in member.get("/api_keys").json()] == ["seed-member"]


def test_another_users_personal_key_cannot_be_revoked(
    admin: Api, member: Api, world: World
) -> None:
    """Revoking someone else's personal key is 404, and the key keeps working."""
    assert_general_error(member.delete(f"/api_keys/{world.seed.admin_key_id}"), 404)
    assert not world.key(world.seed.admin_key_id).revoked
    assert admin.get("/auth").status_code == 200


def test_org_admin_manages_the_orgs_keys(admin: Api, world: World) -> None:
    """An org admin's personal key lists, creates and revokes the organization's keys."""
    created = admin.create_org("deploy")
    assert created.status_code == 200
    key_id = created.json()["id"]
    assert [item["id"] for item in admin.get(ORG_KEYS).json()] == [key_id]
    assert admin.delete(f"{ORG_KEYS}/{key_id}").json()["revoked"] is True
    assert admin.get(ORG_KEYS).json() == []


@pytest.mark.parametrize("operation", ["list", "create", "revoke"])
def test_plain_member_is_refused_with_403(member: Api, world: World, operation: str) -> None:
    """A member who is not an admin may not list, create or revoke org keys."""
    key_id = _org_key_id(world)
    response = {
        "list": lambda: member.get(ORG_KEYS),
        "create": lambda: member.create_org("mine"),
        "revoke": lambda: member.delete(f"{ORG_KEYS}/{key_id}"),
    }[operation]()
    assert_general_error(response, 403)
    assert [key.id for key in world.org_keys(ORG_ID)] == [key_id]


@pytest.mark.parametrize("operation", ["list", "create", "revoke"])
def test_org_the_caller_cannot_see_is_404(admin: Api, world: World, operation: str) -> None:
    """An org the user is not in, or one that does not exist, is 404 (existence not revealed)."""
    other = world.add_org("org-elsewhere-00000001", admins=[world.add_user()])
    key_id = world.key_for_token(world.issue_org_key(other, "theirs"))
    assert key_id is not None
    for org_id in (other, "org-does-not-exist"):
        path = f"/organizations/{org_id}/api_keys"
        response = {
            "list": lambda path=path: admin.get(path),
            "create": lambda org_id=org_id: admin.create_org("x", org_id=org_id),
            "revoke": lambda path=path: admin.delete(f"{path}/{key_id.id}"),
        }[operation]()
        assert_general_error(response, 404)
    assert not world.key(key_id.id).revoked


def test_org_key_manages_its_own_orgs_keys(admin: Api, world: World) -> None:
    """An organization key lists, creates (org and project keys) and revokes its org's keys."""
    org_key = admin.as_(world.issue_org_key(ORG_ID, "automation"))
    plain = org_key.create_org("deploy").json()
    scoped = org_key.create_org("preview", project_id=PROJECT_ID).json()
    assert scoped["project_id"] == PROJECT_ID
    listed = [item["name"] for item in org_key.get(ORG_KEYS).json()]
    assert listed == ["automation", "deploy", "preview"]
    assert org_key.delete(f"{ORG_KEYS}/{plain['id']}").status_code == 200
    assert org_key.delete(f"{ORG_KEYS}/{scoped['id']}").status_code == 200


def test_keys_made_by_an_org_key_are_credited_to_its_creator(admin: Api, world: World) -> None:
    """A key created with an org key has the org key's creator as created_by."""
    token = world.issue_org_key(ORG_ID, "automation", created_by=world.seed.member_id)
    created = admin.as_(token).create_org("child").json()
    assert created["created_by"] == world.seed.member_id


def test_org_key_cannot_reach_another_org(admin: Api, world: World) -> None:
    """An organization key gets 404 on another organization's keys."""
    other = world.add_org(admins=[world.seed.admin_id])
    org_key = admin.as_(world.issue_org_key(ORG_ID, "automation"))
    assert_general_error(org_key.get(f"/organizations/{other}/api_keys"), 404)
    assert_general_error(org_key.create_org("x", org_id=other), 404)


def test_org_key_can_revoke_itself_and_then_gets_401(admin: Api, world: World) -> None:
    """An org key may revoke itself; afterwards it is refused."""
    token = world.issue_org_key(ORG_ID, "self")
    info = world.key_for_token(token)
    assert info is not None
    assert admin.as_(token).delete(f"{ORG_KEYS}/{info.id}").status_code == 200
    assert_general_error(admin.as_(token).get(ORG_KEYS), 401)


@pytest.mark.parametrize("operation", ["list", "create", "revoke"])
def test_project_key_cannot_manage_org_keys(admin: Api, world: World, operation: str) -> None:
    """A project-scoped key gets 403 on listing, creating and revoking org keys."""
    project_key = admin.as_(world.issue_org_key(ORG_ID, "preview", project_id=PROJECT_ID))
    key_id = _org_key_id(world)
    response = {
        "list": lambda: project_key.get(ORG_KEYS),
        "create": lambda: project_key.create_org("more", project_id=PROJECT_ID),
        "revoke": lambda: project_key.delete(f"{ORG_KEYS}/{key_id}"),
    }[operation]()
    assert_general_error(response, 403)
    assert len(world.org_keys(ORG_ID)) == 2


@pytest.mark.parametrize("project_id", [None, PROJECT_ID])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api_keys"),
        ("POST", "/api_keys"),
        ("DELETE", "/api_keys/100001"),
    ],
)
def test_org_and_project_keys_are_refused_on_user_routes(
    admin: Api, world: World, project_id: str | None, method: str, path: str
) -> None:
    """Organization and project keys get 403 on the personal-key routes."""
    token = world.issue_org_key(ORG_ID, "k", project_id=project_id)
    response = admin.as_(token).request(method, path, json={"key_name": "x"})
    assert_general_error(response, 403)
    assert not world.key(world.seed.admin_key_id).revoked


def test_admin_cannot_revoke_a_personal_key_through_the_org_route(admin: Api, world: World) -> None:
    """The org route only reaches org and project keys of that org: a personal id is 404."""
    assert_general_error(admin.delete(f"{ORG_KEYS}/{world.seed.admin_key_id}"), 404)


def test_user_organizations_lists_the_callers_memberships(
    admin: Api, member: Api, world: World
) -> None:
    """GET /users/me/organizations lists the orgs the user belongs to, admin or not."""
    world.add_org("org-admins-only-1", admins=[world.seed.admin_id])
    admin_orgs = [org["id"] for org in admin.get("/users/me/organizations").json()["organizations"]]
    member_orgs = [
        org["id"] for org in member.get("/users/me/organizations").json()["organizations"]
    ]
    assert admin_orgs == [ORG_ID, "org-admins-only-1"]
    assert member_orgs == [ORG_ID]


@pytest.mark.parametrize("project_id", [None, PROJECT_ID])
def test_org_and_project_keys_see_the_one_organization_that_owns_them(
    admin: Api, world: World, project_id: str | None
) -> None:
    """GET /users/me/organizations with an org or project key answers its owning org only."""
    other = world.add_org("org-other-2", admins=[world.seed.admin_id])
    world.add_project(other, "other-project-2")
    token = world.issue_org_key(other, "k", project_id="other-project-2" if project_id else None)
    response = admin.as_(token).get("/users/me/organizations")
    assert response.status_code == 200
    assert [org["id"] for org in response.json()["organizations"]] == [other]
    seeded = admin.as_(world.issue_org_key(ORG_ID, "s", project_id=project_id))
    [org] = seeded.get("/users/me/organizations").json()["organizations"]
    assert (org["id"], org["name"]) == (ORG_ID, "Cool Breeze")
