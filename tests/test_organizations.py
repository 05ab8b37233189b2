"""``Organization`` carries every fact of Neon's description, ``require_mfa`` (new in 2026) too."""

from __future__ import annotations

from typing import Any

import pytest
from fakes import ORG_ID, FakeNeon, json_response, run
from neon_keys import Organization
from neon_keys.cli._output import org_record

ORG = {
    "id": ORG_ID,
    "name": "Cool Breeze",
    "handle": "cool-breeze",
    "plan": "scale",
    "created_at": "2024-01-01T00:00:00Z",
    "updated_at": "2024-02-01T00:00:00Z",
    "managed_by": "console",
}


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"require_mfa": True}, True),
        ({"require_mfa": False}, False),
        ({}, None),
    ],
    ids=["required", "not-required", "absent"],
)
def test_require_mfa_is_read_and_none_when_absent(
    client: Any, fake: FakeNeon, extra: dict[str, Any], expected: bool | None
) -> None:
    """``require_mfa`` is Neon's boolean when given and None when the answer leaves it out."""
    fake.route("GET", "/users/me/organizations", json_response({"organizations": [ORG | extra]}))
    (org,) = run(client.organizations())
    assert isinstance(org, Organization)
    assert org.require_mfa is expected
    assert org_record(org)["require_mfa"] is expected


def test_organization_json_names_require_mfa_last() -> None:
    """``neon-keys orgs -o json`` records end with ``require_mfa`` (true, false or null)."""
    (org,) = _organizations({"require_mfa": True})
    assert list(org_record(org)) == [
        "id",
        "name",
        "handle",
        "plan",
        "managed_by",
        "created_at",
        "updated_at",
        "require_mfa",
    ]
    assert org_record(org)["require_mfa"] is True


def _organizations(extra: dict[str, Any]) -> list[Organization]:
    """The organizations read from an answer holding one, with ``extra`` fields."""
    fake = FakeNeon()
    fake.route("GET", "/users/me/organizations", json_response({"organizations": [ORG | extra]}))
    with fake.sync_client() as neon:
        return neon.organizations()
