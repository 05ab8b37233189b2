"""``neon-keys sweep``, ``create --ttl``, and leases in ``list`` and ``audit``."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from cli_support import KEY_FIELDS, START, Neon, lines
from neon_keys import LeaseName
from neon_keys.testing import Fault

MINUTE = datetime.timedelta(minutes=1)
HOUR = datetime.timedelta(hours=1)


def _lease(neon: Neon, base: str, expires: datetime.datetime, *, org: str | None = None) -> int:
    """Issue a lease key directly in the world; its id."""
    name = LeaseName.new(base, expires).name
    world = neon.world
    token = (
        world.issue_org_key(org, name)
        if org
        else world.issue_personal_key(world.seed.admin_id, name)
    )
    info = world.key_for_token(token)
    assert info is not None
    return info.id


@pytest.fixture
def expired(neon: Neon) -> dict[str, int]:
    """Personal leases: expired an hour ago, expired a minute ago, and one still running."""
    return {
        "old": _lease(neon, "ci", START - HOUR),
        "recent": _lease(neon, "ci", START - MINUTE),
        "running": _lease(neon, "ci", START + HOUR),
    }


def test_sweep_revokes_expired_leases_and_prints_a_table(
    neon: Neon, expired: dict[str, int]
) -> None:
    """Only the lease past expiry and grace goes; the table says so; exit 0."""
    result = neon("sweep")
    assert result.exit_code == 0, result.stderr
    header, row = lines(result.stdout)
    assert header.split() == ["ID", "NAME", "EXPIRED", "RESULT"]
    assert row.startswith(str(expired["old"])) and row.endswith("revoked")
    assert "2025-06-01 11:00" in row
    assert result.stderr.strip() == "Swept 1 of 1 expired lease."
    assert [neon.world.key(i).revoked for i in expired.values()] == [True, False, False]


def test_a_dry_run_revokes_nothing(neon: Neon, expired: dict[str, int]) -> None:
    """--dry-run lists what would go and sends no revoke."""
    result = neon("sweep", "--dry-run", "--grace", "0s")
    assert result.exit_code == 0
    assert [line.split()[0] for line in lines(result.stdout)[1:]] == [
        str(expired["old"]),
        str(expired["recent"]),
    ]
    assert "would be revoked (dry run)" in result.stdout
    assert neon.world.log.count("revokeApiKey") == 0


def test_sweep_json_is_one_record_per_lease(neon: Neon, expired: dict[str, int]) -> None:
    """With -o json, each outcome has its key's name, base name, expiry and result."""
    result = neon("-o", "json", "sweep", "--grace", "0s")
    assert result.exit_code == 0
    records = json.loads(result.stdout)
    assert [r["id"] for r in records] == [expired["old"], expired["recent"]]
    assert list(records[0]) == [
        "org_id",
        "id",
        "name",
        "base_name",
        "expires_at",
        "outcome",
        "ok",
        "error",
    ]
    assert records[0]["expires_at"] == "2025-06-01T11:00:00Z" and records[0]["base_name"] == "ci"
    assert records[0]["outcome"] == "revoked" and records[0]["ok"] is True
    assert records[0]["org_id"] is None and records[0]["error"] is None


def test_nothing_to_sweep_is_a_success(neon: Neon) -> None:
    """With no expired lease: nothing on stdout, a line on stderr, exit 0; JSON is []."""
    result = neon("sweep")
    assert result.exit_code == 0 and result.stdout == ""
    assert "No expired leases." in result.stderr
    assert json.loads(neon("-o", "json", "sweep").stdout) == []


def test_a_failed_revoke_exits_1(neon: Neon, expired: dict[str, int]) -> None:
    """A lease that cannot be revoked is reported, the others still go, and the exit is 1."""
    neon.world.faults.inject("revokeApiKey", Fault.status(500))
    result = neon("sweep", "--grace", "0s")
    assert result.exit_code == 1
    first, second = lines(result.stdout)[1:]
    assert "failed" in first and second.endswith("revoked")
    assert "Error: 1 expired lease not revoked" in result.stderr
    assert neon.world.key(expired["recent"]).revoked


def test_sweep_of_an_organization(neon: Neon) -> None:
    """--org sweeps that organization's leases and leaves personal ones alone."""
    org_lease = _lease(neon, "preview", START - HOUR, org=neon.org)
    personal = _lease(neon, "ci", START - HOUR)
    result = neon("sweep", "--org", neon.org)
    assert result.exit_code == 0, result.stderr
    assert neon.world.key(org_lease).revoked and not neon.world.key(personal).revoked


def test_all_orgs_sweeps_each_and_reports_the_ones_it_cannot(neon: Neon) -> None:
    """--all-orgs sweeps the personal keys and every organization; one it may not manage is
    an error, exit 1."""
    world = neon.world
    other = world.add_org("org-second-11111111", admins=[world.seed.admin_id])
    world.add_org("org-foreign-22222222", members=[world.seed.admin_id])  # not an admin there
    swept = [
        _lease(neon, "mine", START - HOUR),
        _lease(neon, "a", START - HOUR, org=neon.org),
        _lease(neon, "b", START - HOUR, org=other),
    ]
    result = neon("sweep", "--all-orgs")
    assert result.exit_code == 1
    assert all(world.key(key_id).revoked for key_id in swept)
    assert "Error: organization org-foreign-22222222" in result.stderr
    table = lines(result.stdout)
    assert table[0].split()[0] == "ORG"
    assert table[1].split()[:2] == ["-", str(swept[0])]  # personal keys first, no org
    assert "in your personal keys and 3 organizations" in result.stderr


def test_all_orgs_with_an_organization_key_sweeps_that_organization(neon: Neon) -> None:
    """With an organization's API key, --all-orgs sweeps the organization that owns it."""
    lease = _lease(neon, "a", START - HOUR, org=neon.org)
    token = neon.world.issue_org_key(neon.org, "admin-bot")
    result = neon("sweep", "--all-orgs", key=token)
    assert result.exit_code == 0, result.stderr
    assert neon.world.key(lease).revoked
    assert "in 1 organization." in result.stderr


@pytest.mark.parametrize(
    "args",
    [["--org", "org-cool-breeze-12345678", "--all-orgs"], ["--grace", "-1m"], ["--grace", "soon"]],
)
def test_bad_options_send_nothing(neon: Neon, args: list[str]) -> None:
    """Contradictory or invalid options exit 2 before any request."""
    result = neon("sweep", *args)
    assert result.exit_code == 2 and len(neon.world.log) == 0


# -- create --ttl --------------------------------------------------------------------------------


def test_create_with_a_ttl_makes_a_lease(neon: Neon, tmp_path: Path) -> None:
    """create NAME --ttl 2h makes a lease named NAME expiring in 2 hours by Neon's clock."""
    result = neon("-o", "json", "create", "ci", "--ttl", "2h", "--save", str(tmp_path / "t"))
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert list(record) == [*KEY_FIELDS, "secret_delivered_to", "deliveries"]
    assert record["base_name"] == "ci" and record["name"].startswith("ci (lease 20250601T1400")
    expires = datetime.datetime.fromisoformat(record["expires_at"])
    assert START + 2 * HOUR <= expires <= START + 2 * HOUR + datetime.timedelta(seconds=3)
    token = (tmp_path / "t").read_text().strip()
    assert neon.world.key_for_token(token).id == record["id"]  # type: ignore[union-attr]


def test_create_with_a_ttl_says_when_it_expires(neon: Neon) -> None:
    """The message of create --ttl names the expiry; the token alone is on stdout."""
    result = neon("create", "ci", "--ttl", "15m")
    assert result.exit_code == 0
    assert result.stdout.startswith("napi_") and len(lines(result.stdout)) == 1
    assert ", expires 2025-06-01T12:15" in result.stderr


@pytest.mark.parametrize(("ttl", "name"), [("0s", "ci"), ("1x", "ci"), ("1h", "x" * 31)])
def test_create_refuses_a_bad_lease_before_any_request(neon: Neon, ttl: str, name: str) -> None:
    """A bad --ttl, or a NAME too long to carry an expiry, exits 2; nothing is sent."""
    result = neon("create", name, "--ttl", ttl)
    assert result.exit_code == 2 and len(neon.world.log) == 0


# -- list and audit -------------------------------------------------------------------------


def test_list_shows_when_leases_expire(neon: Neon, expired: dict[str, int]) -> None:
    """The table has an EXPIRES column: the expiry for leases, '-' for ordinary keys."""
    result = neon("list")
    header, *rows = lines(result.stdout)
    assert "EXPIRES" in header.split()
    expiries = {row.split()[0]: row for row in rows}
    assert "2025-06-01 13:00" in expiries[str(expired["running"])]
    seed_row = expiries[str(neon.world.seed.admin_key_id)]
    assert seed_row.split()[5] == "-"  # ID NAME KIND CREATED(2 cells) EXPIRES


def test_a_listing_without_leases_has_no_expires_column(neon: Neon) -> None:
    """Where no key is a lease, the table keeps its usual columns."""
    header = lines(neon("list").stdout)[0]
    assert header.split() == [
        "ID",
        "NAME",
        "KIND",
        "CREATED",
        "CREATED",
        "BY",
        "LAST",
        "USED",
        "LAST",
        "USED",
        "FROM",
    ]


def test_list_json_has_expiry_and_base_name(neon: Neon, expired: dict[str, int]) -> None:
    """JSON key objects carry expires_at (null for ordinary keys) and base_name."""
    records = {r["id"]: r for r in json.loads(neon("-o", "json", "list").stdout)}
    assert records[expired["old"]]["expires_at"] == "2025-06-01T11:00:00Z"
    assert records[expired["old"]]["base_name"] == "ci"
    seed = records[neon.world.seed.admin_key_id]
    assert seed["expires_at"] is None and seed["base_name"] == seed["name"] == "seed-admin"


def test_audit_flags_an_expired_lease_still_live(neon: Neon, expired: dict[str, int]) -> None:
    """A lease past its expiry is flagged expired_lease; a running one is not."""
    result = neon("-o", "json", "audit")
    findings = {
        r["id"]: [f["code"] for f in r["findings"]] for r in json.loads(result.stdout)["findings"]
    }
    assert "expired_lease" in findings[expired["old"]]
    assert "expired_lease" in findings[expired["recent"]]
    assert "expired_lease" not in findings.get(expired["running"], [])
    table = neon("audit").stdout
    assert "lease expired 1h ago; neon-keys sweep revokes it" in table
    assert neon("audit", "--fail-on-findings").exit_code == 1
