"""``neon-keys whoami`` and ``neon-keys orgs``."""

from __future__ import annotations

import json

from cli_support import Neon, lines


def test_whoami_with_a_personal_key(neon: Neon) -> None:
    """A personal key is described as such, with the user's account id."""
    result = neon("whoami")
    assert result.exit_code == 0
    assert lines(result.stdout) == [
        "credential   personal API key",
        f"account      {neon.world.seed.admin_id}",
        "auth method  api_key_user",
    ]


def test_whoami_with_an_org_key(neon: Neon) -> None:
    """An organization key reports the organization as its account."""
    token = neon.world.issue_org_key(neon.org, "deploy")
    result = neon("-o", "json", "whoami", key=token)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "key_kind": "org",
        "account_id": neon.org,
        "auth_method": "api_key_org",
        "auth_data": None,
    }


def test_whoami_with_a_project_key(neon: Neon) -> None:
    """A project-scoped key authenticates as an organization key of its organization."""
    token = neon.world.issue_org_key(neon.org, "preview", project_id=neon.project)
    result = neon("whoami", key=token)
    assert result.exit_code == 0
    assert lines(result.stdout) == [
        "credential   organization API key (or project-scoped)",
        f"account      {neon.org}",
        "auth method  api_key_org",
    ]
    record = json.loads(neon("-o", "json", "whoami", key=token).stdout)
    assert (record["key_kind"], record["account_id"]) == ("org", neon.org)


def test_orgs_table(neon: Neon) -> None:
    """orgs lists the caller's organizations with their ids."""
    result = neon("orgs")
    assert result.exit_code == 0
    header, row = lines(result.stdout)
    assert header.split() == ["ID", "NAME", "HANDLE", "PLAN"]
    assert row.split()[0] == neon.org


def test_orgs_json(neon: Neon) -> None:
    """orgs --output json gives id, name, handle, plan, managed_by, times and require_mfa."""
    (org,) = json.loads(neon("-o", "json", "orgs").stdout)
    assert org["id"] == neon.org and org["name"] == "Cool Breeze"
    assert set(org) == {
        *("id", "name", "handle", "plan", "managed_by", "created_at", "updated_at", "require_mfa")
    }


def test_orgs_with_an_org_key_names_the_organization_that_owns_it(neon: Neon) -> None:
    """With an organization key, orgs lists the one organization that owns the key."""
    token = neon.world.issue_org_key(neon.org, "deploy")
    result = neon("orgs", key=token)
    assert result.exit_code == 0, result.stderr
    _header, row = lines(result.stdout)
    assert row.split()[0] == neon.org


def test_orgs_none(neon: Neon) -> None:
    """A user in no organization gets a note on stderr and an empty stdout."""
    loner = neon.world.add_user()
    token = neon.world.issue_personal_key(loner, "mine")
    result = neon("orgs", key=token)
    assert result.exit_code == 0 and result.stdout == ""
    assert "no organization" in result.stderr
