"""Response shapes as the live service sends them, and listings at scale."""

from __future__ import annotations

import httpx
from emulator_helpers import ORG_ID, PROJECT_ID, Api
from neon_keys.testing import EmulatorTransport, FakeClock, World

ORG_KEYS = f"/organizations/{ORG_ID}/api_keys"
TIMESTAMP = "2025-01-01T00:00:00Z"


def test_listing_items_carry_a_creator_object(admin: Api, world: World) -> None:
    """Listed keys have created_by {id, name, image}; name and image may be empty."""
    world.issue_org_key(ORG_ID, "by-member", created_by=world.seed.member_id)
    admin.create_org("by-admin")
    items = {item["name"]: item for item in admin.get(ORG_KEYS).json()}
    assert items["by-member"]["created_by"] == {"id": world.seed.member_id, "name": "", "image": ""}
    assert items["by-admin"]["created_by"] == {
        "id": world.seed.admin_id,
        "name": "Ada Admin",
        "image": "https://avatars.example.com/ada.png",
    }


def test_listing_item_fields(admin: Api, world: World) -> None:
    """A listed key has exactly the fields Neon sends, project_id only when scoped."""
    admin.create_org("plain")
    admin.create_org("scoped", project_id=PROJECT_ID)
    plain, scoped = admin.get(ORG_KEYS).json()
    common = {"id", "name", "created_at", "created_by", "last_used_at", "last_used_from_addr"}
    assert set(plain) == common
    assert set(scoped) == common | {"project_id"}
    assert scoped["project_id"] == PROJECT_ID
    assert plain["created_at"] == TIMESTAMP


def test_create_response_has_the_token_and_a_bare_creator_id(admin: Api, world: World) -> None:
    """Create answers id, key, name, created_at and created_by as a plain user id."""
    created = admin.create_personal("ci").json()
    assert set(created) == {"id", "key", "name", "created_at", "created_by"}
    assert created["created_by"] == world.seed.admin_id
    assert created["created_at"] == TIMESTAMP
    assert created["key"].startswith("napi_")
    scoped = admin.create_org("preview", project_id=PROJECT_ID).json()
    assert scoped["project_id"] == PROJECT_ID
    assert "project_id" not in admin.create_org("deploy").json()


def test_revoke_response_says_revoked(admin: Api, world: World, clock: FakeClock) -> None:
    """Revoke answers the key with revoked true, created_by as a user id, and its usage."""
    token = admin.create_org("preview", project_id=PROJECT_ID).json()["key"]
    clock.advance(30)
    admin.as_(token).get("/auth")
    key_id = admin.get(ORG_KEYS).json()[0]["id"]
    revoked = admin.delete(f"{ORG_KEYS}/{key_id}").json()
    assert revoked == {
        "id": key_id,
        "name": "preview",
        "created_at": TIMESTAMP,
        "created_by": world.seed.admin_id,
        "last_used_at": "2025-01-01T00:00:30Z",
        "last_used_from_addr": "127.0.0.1",
        "revoked": True,
        "project_id": PROJECT_ID,
    }


def test_listings_never_hold_secrets_or_revoked_keys(admin: Api) -> None:
    """No listed item carries a token, and revoked keys disappear from listings."""
    keep = admin.create_personal("keep").json()
    drop = admin.create_personal("drop").json()
    admin.delete(f"/api_keys/{drop['id']}")
    listing = admin.get("/api_keys")
    assert keep["key"] not in listing.text and drop["key"] not in listing.text
    assert "napi_" not in listing.text
    assert [item["name"] for item in listing.json()] == ["seed-admin", "keep"]


def test_legacy_shapes_omit_what_early_2024_responses_lacked(clock: FakeClock) -> None:
    """With legacy_shapes, create lacks created_by and revoke lacks created_at and created_by."""
    world = World.seeded(clock=clock, legacy_shapes=True)
    transport = EmulatorTransport(world)
    with httpx.Client(transport=transport, base_url=transport.base_url) as http:
        admin = Api(http, world.seed.admin_token)
        created = admin.create_personal("ci").json()
        assert set(created) == {"id", "key", "name", "created_at"}
        revoked = admin.delete(f"/api_keys/{created['id']}").json()
        assert set(revoked) == {"id", "name", "last_used_at", "last_used_from_addr", "revoked"}
        assert "created_by" in admin.get("/api_keys").json()[0]


def test_timestamps_follow_the_clock_in_utc_with_z(admin: Api, clock: FakeClock) -> None:
    """created_at is the clock's time, in UTC, to the second, ending in Z."""
    clock.advance(3661.75)
    assert admin.create_personal("later").json()["created_at"] == "2025-01-01T01:01:01Z"


def test_user_organizations_shape(admin: Api) -> None:
    """GET /users/me/organizations answers {organizations: [...]} with the spec's fields."""
    [org] = admin.get("/users/me/organizations").json()["organizations"]
    assert org == {
        "id": ORG_ID,
        "name": "Cool Breeze",
        "handle": "cool-breeze-12345678",
        "plan": "scale",
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
        "managed_by": "console",
        "allow_hipaa_projects": False,
    }


def test_ten_thousand_keys_list_whole_and_revoke_one_by_one(world: World) -> None:
    """A listing of 10,000 keys is complete and in order; revoking 1,000 leaves 9,000."""
    org = world.add_org(admins=[world.seed.admin_id])
    for number in range(10_000):
        world.issue_org_key(org, f"bulk-{number}")
    transport = EmulatorTransport(world)
    with httpx.Client(transport=transport, base_url=transport.base_url, timeout=30) as http:
        admin = Api(http, world.seed.admin_token)
        path = f"/organizations/{org}/api_keys"
        listed = admin.get(path).json()
        assert [item["name"] for item in listed] == [f"bulk-{n}" for n in range(10_000)]
        for item in listed[:1000]:
            assert admin.delete(f"{path}/{item['id']}").status_code == 200
        assert len(admin.get(path).json()) == 9_000
