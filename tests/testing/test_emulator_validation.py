"""Input checks: names, bodies, ids, projects, unknown paths and methods."""

from __future__ import annotations

from typing import Any

import pytest
from emulator_helpers import ORG_ID, PROJECT_ID, Api, assert_general_error
from neon_keys.testing import World

ORG_KEYS = f"/organizations/{ORG_ID}/api_keys"


@pytest.mark.parametrize("path", ["/api_keys", ORG_KEYS])
@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({}, "required"),
        ({"key_name": None}, "string"),
        ({"key_name": 42}, "string"),
        ({"key_name": ["ci"]}, "string"),
        ({"key_name": ""}, "empty"),
        ({"key_name": "x" * 65}, "64"),
    ],
)
def test_bad_key_names_are_400(
    admin: Api, world: World, path: str, body: dict[str, Any], words: str
) -> None:
    """A key_name that is missing, not a string, empty or over 64 characters is refused."""
    before = len(world.personal_keys(world.seed.admin_id)) + len(world.org_keys(ORG_ID))
    message = assert_general_error(admin.post(path, json=body), 400)["message"]
    assert "key_name" in message and words in message
    assert len(world.personal_keys(world.seed.admin_id)) + len(world.org_keys(ORG_ID)) == before


@pytest.mark.parametrize("name", ["x" * 64, "a", "déploiement ✓", "with spaces and / slashes"])
def test_names_up_to_64_characters_are_accepted(admin: Api, name: str) -> None:
    """Any non-empty name of at most 64 characters, Unicode included, is stored as given."""
    created = admin.create_personal(name)
    assert created.status_code == 200
    assert created.json()["name"] == name
    assert name in [item["name"] for item in admin.get("/api_keys").json()]


@pytest.mark.parametrize("path", ["/api_keys", ORG_KEYS])
@pytest.mark.parametrize(
    "content", [b"", b"{", b'{"key_name": "ci"', b"not json", b"[]", b'"ci"', b"\xff\xfe"]
)
def test_malformed_bodies_are_400(admin: Api, path: str, content: bytes) -> None:
    """A body that is empty, not JSON, or not a JSON object is refused with 400."""
    headers = {"Content-Type": "application/json"}
    assert_general_error(admin.post(path, content=content, headers=headers), 400)


def test_names_that_are_not_valid_unicode_are_400(admin: Api) -> None:
    """A key_name holding a lone surrogate (valid JSON, not valid text) is refused."""
    response = admin.post("/api_keys", content=b'{"key_name": "a\\ud800b"}')
    assert "key_name" in assert_general_error(response, 400)["message"]


def test_unknown_body_fields_are_ignored(admin: Api) -> None:
    """Extra fields next to key_name do not matter."""
    assert admin.post("/api_keys", json={"key_name": "ci", "extra": 1}).status_code == 200


@pytest.mark.parametrize(
    "org_id", ["Org-Upper", "org_underscore", "o" * 61, "org%20space", "%C3%A9t%C3%A9"]
)
def test_org_ids_breaking_the_pattern_are_400(admin: Api, org_id: str) -> None:
    """An org_id that does not match ^[a-z0-9-]{1,60}$ is refused before anything else."""
    path = f"/organizations/{org_id}/api_keys"
    assert_general_error(admin.get(path), 400)
    assert_general_error(admin.create_org("x", org_id=org_id), 400)
    assert_general_error(admin.delete(f"{path}/1"), 400)


@pytest.mark.parametrize("key_id", ["abc", "1.5", "1e3", "+5", " 7", "0x10", str(2**63)])
def test_non_integer_key_ids_are_400(admin: Api, key_id: str) -> None:
    """A key_id that is not a 64-bit integer is refused on both revoke routes."""
    assert_general_error(admin.delete(f"/api_keys/{key_id}"), 400)
    assert_general_error(admin.delete(f"{ORG_KEYS}/{key_id}"), 400)


@pytest.mark.parametrize("key_id", ["0", "-1", "99999999", str(2**63 - 1)])
def test_unknown_key_ids_are_404(admin: Api, key_id: str) -> None:
    """A well-formed key id that names no key of the caller is 404."""
    assert_general_error(admin.delete(f"/api_keys/{key_id}"), 404)
    assert_general_error(admin.delete(f"{ORG_KEYS}/{key_id}"), 404)


def test_revoking_twice_is_404(admin: Api) -> None:
    """A key that is already revoked is not found the second time."""
    key_id = admin.create_personal("once").json()["id"]
    assert admin.delete(f"/api_keys/{key_id}").status_code == 200
    assert_general_error(admin.delete(f"/api_keys/{key_id}"), 404)


@pytest.mark.parametrize("project_id", ["Upper", "under_score", "p" * 61, 42, ["p"]])
def test_project_ids_breaking_the_pattern_are_400(admin: Api, project_id: object) -> None:
    """A project_id that is not a string matching the pattern is refused with 400."""
    response = admin.post(ORG_KEYS, json={"key_name": "x", "project_id": project_id})
    assert "project_id" in assert_general_error(response, 400)["message"]


def test_projects_outside_the_org_are_404(admin: Api, world: World) -> None:
    """A project_id that is unknown, or belongs to another org, is 404; nothing is created."""
    other = world.add_org(admins=[world.seed.admin_id])
    foreign = world.add_project(other)
    for project_id in ("no-such-project", foreign):
        assert_general_error(admin.create_org("x", project_id=project_id), 404)
    assert world.org_keys(ORG_ID) == []


def test_null_project_id_means_an_org_key(admin: Api) -> None:
    """project_id: null creates a plain organization key."""
    created = admin.post(ORG_KEYS, json={"key_name": "x", "project_id": None}).json()
    assert "project_id" not in created
    assert admin.create_org("y", project_id=PROJECT_ID).json()["project_id"] == PROJECT_ID


@pytest.mark.parametrize(
    "path", ["/nope", "/api_keys/1/extra", "/organizations", "/api_keys/", "/../api_keys"]
)
def test_unknown_paths_are_404_json(admin: Api, path: str) -> None:
    """Paths outside the eight operations get a JSON 404 with a request id."""
    assert_general_error(admin.get(path), 404)


def test_paths_outside_the_base_path_are_404_json(admin: Api) -> None:
    """Requests that miss /api/v2 altogether also get a JSON 404."""
    response = admin.http.get("http://127.0.0.1/v1/api_keys")
    assert_general_error(response, 404)


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/api_keys", "GET, POST"),
        ("DELETE", "/api_keys", "GET, POST"),
        ("GET", "/api_keys/1", "DELETE"),
        ("PATCH", ORG_KEYS, "GET, POST"),
        ("POST", "/auth", "GET"),
    ],
)
def test_wrong_methods_are_405_with_allow(admin: Api, method: str, path: str, allow: str) -> None:
    """A known path with another method gets 405, an Allow header and a JSON body."""
    response = admin.request(method, path)
    assert_general_error(response, 405)
    assert response.headers["allow"] == allow


def test_oversized_bodies_are_refused(admin: Api) -> None:
    """A body over 1 MiB is refused with 413 instead of being parsed."""
    content = b'{"key_name": "' + b"x" * (1 << 20) + b'"}'
    assert_general_error(admin.post("/api_keys", content=content), 413)
