"""``neon-keys list``: personal and organization keys, filters, table and JSON output."""

from __future__ import annotations

import json

from cli_support import DAY, KEY_FIELDS, Neon, lines
from neon_keys.testing import FakeClock


def _org_keys(neon: Neon) -> None:
    neon.world.issue_org_key(neon.org, "deploy")
    neon.world.issue_org_key(neon.org, "preview", project_id=neon.project)


def test_lists_personal_keys_by_default(neon: Neon) -> None:
    """Without --org, the caller's personal keys are listed in a table under a header."""
    neon.world.issue_personal_key(neon.world.seed.admin_id, "ci")
    result = neon("list")
    assert result.exit_code == 0
    header, *rows = lines(result.stdout)
    assert header.split()[:3] == ["ID", "NAME", "KIND"]
    assert [row.split()[1] for row in rows] == ["seed-admin", "ci"]
    assert all(row.split()[2] == "personal" for row in rows)
    assert result.stderr == ""


def test_lists_org_keys_with_kind_and_project_columns(neon: Neon) -> None:
    """With --org, org and project-scoped keys are told apart, with the project's id."""
    _org_keys(neon)
    result = neon("list", "--org", neon.org)
    assert result.exit_code == 0
    header, deploy, preview = lines(result.stdout)
    assert header.split()[:4] == ["ID", "NAME", "KIND", "PROJECT"]
    assert deploy.split()[1:4] == ["deploy", "org", "-"]
    assert preview.split()[1:4] == ["preview", "project", neon.project]


def test_json_output_is_an_array_of_key_objects(neon: Neon, clock: FakeClock) -> None:
    """--output json prints one object per key with the documented fields and types."""
    _org_keys(neon)
    result = neon("--output", "json", "list", "--org", neon.org)
    assert result.exit_code == 0
    records = json.loads(result.stdout)
    assert [list(record) for record in records] == [KEY_FIELDS, KEY_FIELDS]
    deploy, preview = records
    assert deploy["kind"] == "org" and deploy["project_id"] is None
    assert deploy["org_id"] == neon.org
    assert preview["kind"] == "project" and preview["project_id"] == neon.project
    assert deploy["created_at"] == "2025-06-01T12:00:00Z"
    assert deploy["created_by"]["id"] == neon.world.seed.admin_id
    assert deploy["last_used_at"] is None and deploy["last_used_from"] == []
    assert deploy["revoked"] is False
    assert isinstance(deploy["id"], int)


def test_json_output_shows_usage(neon: Neon) -> None:
    """A used key has its last use time and addresses in the JSON output."""
    neon("list")
    (record,) = json.loads(neon("-o", "json", "list").stdout)
    assert record["last_used_at"] == "2025-06-01T12:00:00Z"
    assert record["last_used_from"] == ["127.0.0.1"]


def test_filters_by_kind(neon: Neon) -> None:
    """--kind project keeps only project-scoped keys of the organization."""
    _org_keys(neon)
    records = json.loads(neon("-o", "json", "list", "--org", neon.org, "--kind", "project").stdout)
    assert [r["name"] for r in records] == ["preview"]


def test_filters_by_name_glob(neon: Neon) -> None:
    """--name matches names with a shell-style pattern."""
    for name in ("ci-main", "ci-nightly", "deploy"):
        neon.world.issue_personal_key(neon.world.seed.admin_id, name)
    records = json.loads(neon("-o", "json", "list", "--name", "ci-*").stdout)
    assert [r["name"] for r in records] == ["ci-main", "ci-nightly"]


def test_filters_keys_unused_for_n_days(neon: Neon, clock: FakeClock) -> None:
    """--unused-days N keeps keys never used or last used more than N days ago."""
    stale = neon.world.issue_personal_key(neon.world.seed.admin_id, "stale")
    neon.use(stale)
    neon.world.issue_personal_key(neon.world.seed.admin_id, "never")
    clock.advance(100 * DAY)
    fresh = neon.world.issue_personal_key(neon.world.seed.admin_id, "fresh")
    neon.use(fresh)
    records = json.loads(neon("-o", "json", "list", "--unused-days", "90").stdout)
    assert sorted(r["name"] for r in records) == ["never", "stale"]


def test_org_kinds_need_org(neon: Neon) -> None:
    """--kind org without --org is a usage error, refused before any request."""
    result = neon("list", "--kind", "org")
    assert result.exit_code == 2
    assert "--org" in result.stderr
    assert len(neon.world.log) == 0


def test_personal_kind_with_org_is_refused(neon: Neon) -> None:
    """--kind personal with --org is a usage error."""
    assert neon("list", "--org", neon.org, "--kind", "personal").exit_code == 2


def test_empty_listing_says_so_on_stderr(neon: Neon) -> None:
    """An empty table prints nothing on stdout and a note on stderr."""
    result = neon("list", "--org", neon.org)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "No keys" in result.stderr


def test_empty_json_listing_is_an_empty_array(neon: Neon) -> None:
    """An empty JSON listing is ``[]``."""
    assert json.loads(neon("-o", "json", "list", "--org", neon.org).stdout) == []


def test_control_characters_in_names_are_not_sent_to_the_terminal(neon: Neon) -> None:
    """A key name holding an escape sequence is shown with the control characters replaced."""
    neon.world.issue_personal_key(neon.world.seed.admin_id, "evil\x1b[2Jname")
    result = neon("list")
    assert "\x1b" not in result.stdout
    assert "evil?[2Jname" in result.stdout
