"""``--output json``: every command prints valid JSON on stdout, as docs/cli.md describes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_support import KEY_FIELDS, Neon
from click.testing import CliRunner
from neon_keys.cli import _sandbox, cli


def _json(neon: Neon, *args: str) -> Any:
    result = neon("-o", "json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_every_api_command_prints_its_documented_json(neon: Neon, tmp_path: Path) -> None:
    """list, create, rotate, revoke, audit, whoami and orgs each print their documented shape."""
    created = _json(neon, "create", "ci", "--save", str(tmp_path / "ci.token"))
    assert list(created) == [*KEY_FIELDS, "secret_delivered_to", "deliveries"]
    assert created["deliveries"] == [
        {"target": str(tmp_path / "ci.token"), "status": "delivered", "error": None}
    ]

    listed = _json(neon, "list")
    assert [list(record) for record in listed] == [KEY_FIELDS, KEY_FIELDS]

    rotated = _json(neon, "rotate", str(created["id"]), "--save", str(tmp_path / "new.token"))
    assert list(rotated) == [
        "old",
        "new",
        "secret_delivered_to",
        "verified",
        "old_revoked",
        "error",
        "interrupted",
        "deliveries",
        "grace",
        "retire_after",
    ]
    assert list(rotated["new"]) == KEY_FIELDS
    assert rotated["grace"] is None and rotated["retire_after"] is None

    neon.world.clock.advance(60)  # the new key was used (verified) a minute before this call
    revoked = _json(neon, "revoke", str(rotated["new"]["id"]), "--yes")
    assert [list(record) for record in revoked] == [["id", "name", "outcome", "ok", "error"]]

    audit = _json(neon, "audit", "--org", neon.org)
    assert list(audit) == ["org_id", "unused_days", "min_age", "checked", "findings", "retiring"]

    assert list(_json(neon, "whoami")) == ["key_kind", "account_id", "auth_method", "auth_data"]
    (org,) = _json(neon, "orgs")
    assert list(org) == [
        *("id", "name", "handle", "plan", "managed_by", "created_at", "updated_at", "require_mfa")
    ]


@pytest.mark.parametrize("command", ["create", "rotate"])
def test_with_the_stdout_sink_json_goes_to_stderr(neon: Neon, command: str) -> None:
    """When stdout carries the secret, it holds only that line and the JSON goes to stderr."""
    neon.world.issue_personal_key(neon.world.seed.admin_id, "ci")
    args = ["create", "ci"] if command == "create" else ["rotate", str(neon.personal_ids()[-1])]
    result = neon("-o", "json", *args)
    assert result.exit_code == 0, result.stderr
    (token,) = result.stdout.splitlines()
    assert token.startswith("napi_")
    assert isinstance(json.loads(result.stderr), dict)


def test_sandbox_prints_one_json_object(monkeypatch: pytest.MonkeyPatch) -> None:
    """sandbox -o json prints its four settings as one JSON object before serving."""
    monkeypatch.setattr(_sandbox, "wait_for_stop", lambda _running: True)
    result = CliRunner().invoke(cli, ["-o", "json", "sandbox"])
    assert result.exit_code == 0, result.stderr
    assert list(json.loads(result.stdout)) == [
        "NEON_API_HOST",
        "NEON_API_KEY",
        "NEON_ORG_ID",
        "NEON_PROJECT_ID",
    ]


def test_failures_keep_stdout_free_of_anything_but_json(neon: Neon) -> None:
    """A failing JSON command prints JSON or nothing on stdout; the error is one line on stderr."""
    result = neon("-o", "json", "revoke", "999999", "--yes")
    assert result.exit_code == 1
    assert json.loads(result.stdout)[0]["ok"] is False
    result = neon("-o", "json", "list", key="napi_" + "w" * 60)
    assert result.exit_code == 3
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
