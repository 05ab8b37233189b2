"""``list --all-orgs`` (every scope in one listing) and ``list --quiet`` (ids only)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import Neon, lines, write_config

OTHER_ORG = "org-other-42"


@pytest.fixture
def two_orgs(neon: Neon) -> dict[str, int]:
    """Personal keys, a key of each kind in the seeded organization, one in another."""
    world = neon.world
    world.issue_personal_key(world.seed.admin_id, "laptop")
    world.issue_org_key(neon.org, "deploy")
    world.issue_org_key(neon.org, "preview", project_id=neon.project)
    world.add_org(OTHER_ORG, admins=[world.seed.admin_id])
    world.issue_org_key(OTHER_ORG, "billing")
    keys = world.personal_keys(world.seed.admin_id)
    keys += world.org_keys(neon.org) + world.org_keys(OTHER_ORG)
    return {key.name: key.id for key in keys}


def test_all_orgs_lists_every_scope_with_an_org_column(
    neon: Neon, two_orgs: dict[str, int]
) -> None:
    """--all-orgs shows personal keys, then each organization's, with ORG and PROJECT."""
    result = neon("list", "--all-orgs")
    assert result.exit_code == 0, result.stderr
    header, *rows = lines(result.stdout)
    assert header.split()[:5] == ["ID", "NAME", "KIND", "ORG", "PROJECT"]
    cells = [row.split()[:5] for row in rows]
    assert cells == [
        [str(two_orgs["seed-admin"]), "seed-admin", "personal", "-", "-"],
        [str(two_orgs["laptop"]), "laptop", "personal", "-", "-"],
        [str(two_orgs["deploy"]), "deploy", "org", neon.org, "-"],
        [str(two_orgs["preview"]), "preview", "project", neon.org, neon.project],
        [str(two_orgs["billing"]), "billing", "org", OTHER_ORG, "-"],
    ]


def test_all_orgs_json_has_every_key_with_its_org(neon: Neon, two_orgs: dict[str, int]) -> None:
    """In JSON, --all-orgs is one array of key objects, each with its org_id."""
    result = neon("-o", "json", "list", "--all-orgs")
    assert result.exit_code == 0, result.stderr
    records = json.loads(result.stdout)
    assert [(r["name"], r["kind"], r["org_id"]) for r in records] == [
        ("seed-admin", "personal", None),
        ("laptop", "personal", None),
        ("deploy", "org", neon.org),
        ("preview", "project", neon.org),
        ("billing", "org", OTHER_ORG),
    ]


def test_all_orgs_takes_the_filters(neon: Neon, two_orgs: dict[str, int]) -> None:
    """--kind and --name filter across all scopes."""
    result = neon("-o", "json", "list", "--all-orgs", "--kind", "org")
    assert [r["name"] for r in json.loads(result.stdout)] == ["deploy", "billing"]
    result = neon("-o", "json", "list", "--all-orgs", "--name", "*e*")
    assert [r["name"] for r in json.loads(result.stdout)] == [
        "seed-admin",
        "deploy",
        "preview",
    ]


def test_an_organization_that_cannot_be_listed_fails_the_run(neon: Neon) -> None:
    """The keys that could be listed are shown; the organization that could not is named,
    with Neon's reason, and the run exits 1."""
    world = neon.world
    world.add_org(OTHER_ORG, admins=[world.seed.admin_id], members=[world.seed.member_id])
    world.issue_org_key(OTHER_ORG, "billing")
    result = neon("list", "--all-orgs", key=world.seed.member_token)
    assert result.exit_code == 1
    assert [row.split()[1] for row in lines(result.stdout)[1:]] == ["seed-member"]
    (error,) = lines(result.stderr)
    assert error.startswith("Error: could not list the keys of 2 organizations: ")
    assert f"{neon.org}: " in error and f"{OTHER_ORG}: " in error and "HTTP 403" in error


def test_all_orgs_with_an_organization_key_lists_its_organization(
    neon: Neon, two_orgs: dict[str, int]
) -> None:
    """An organization key has no personal keys and sees its own organization only."""
    token = neon.world.issue_org_key(neon.org, "admin-bot")
    result = neon("-o", "json", "list", "--all-orgs", key=token)
    assert result.exit_code == 0, result.stderr
    assert {r["org_id"] for r in json.loads(result.stdout)} == {neon.org}


def test_all_orgs_is_not_narrowed_by_a_profiles_org(
    neon: Neon, two_orgs: dict[str, int], tmp_path: Path
) -> None:
    """A profile's default organization does not hide the other scopes from --all-orgs."""
    write_config(tmp_path, f'[profiles.work]\norg = "{neon.org}"\n')
    env: dict[str, str | None] = {"XDG_CONFIG_HOME": str(tmp_path)}
    result = neon("--profile", "work", "-o", "json", "list", "--all-orgs", env=env)
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)) == 5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--all-orgs", "--org", "org-x"], "--all-orgs lists every organization"),
        (["--all-orgs", "--quiet"], "--quiet prints bare ids"),
        (["--quiet", "-o", "json"], "--quiet prints bare ids: leave out --output json"),
    ],
)
def test_contradictory_list_options_are_refused(neon: Neon, args: list[str], message: str) -> None:
    """Options that cannot go together exit 2 before any request."""
    result = neon("list", *args)
    assert result.exit_code == 2 and message in result.stderr
    assert len(neon.world.log) == 0


def test_quiet_prints_only_the_ids(neon: Neon, two_orgs: dict[str, int]) -> None:
    """--quiet prints each id on a line of its own, after the filters, and nothing else."""
    result = neon("list", "--org", neon.org, "--quiet", "--kind", "project")
    assert result.exit_code == 0
    assert result.stdout == f"{two_orgs['preview']}\n" and result.stderr == ""


def test_quiet_with_nothing_found_prints_nothing(neon: Neon) -> None:
    """An empty --quiet listing prints nothing at all (a pipeline gets no line)."""
    result = neon("list", "--quiet", "--name", "nothing-*")
    assert result.exit_code == 0
    assert result.stdout == "" and result.stderr == ""


def test_kind_org_needs_an_org_or_all_orgs(neon: Neon) -> None:
    """--kind org is refused without --org or --all-orgs, with a hint."""
    result = neon("list", "--kind", "org")
    assert result.exit_code == 2 and "add --org ORG" in result.stderr
