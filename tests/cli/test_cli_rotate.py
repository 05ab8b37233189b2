"""``neon-keys rotate``: the happy path, and what it says when each step fails."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from cli_support import Neon, lines, mode
from neon_keys import _sinks
from neon_keys.testing import Fault


def _personal(neon: Neon, name: str = "ci") -> int:
    neon.world.issue_personal_key(neon.world.seed.admin_id, name)
    return neon.personal_ids()[-1]


def _project_key(neon: Neon) -> int:
    neon.world.issue_org_key(neon.org, "preview", project_id=neon.project)
    return neon.org_ids()[-1]


def _new_id(neon: Neon, old: int) -> int:
    (new,) = [k for k in neon.personal_ids() if k not in (old, neon.world.seed.admin_key_id)]
    return new


def test_rotates_a_personal_key_to_stdout(neon: Neon) -> None:
    """The new key gets the old name, its token goes to stdout, the old key is revoked."""
    old = _personal(neon)
    result = neon("rotate", str(old))
    assert result.exit_code == 0, result.stderr
    token = result.stdout.removesuffix("\n")
    new = neon.world.key_for_token(token)
    assert new is not None and new.name == "ci" and new.id != old
    assert neon.world.key(old).revoked
    assert f"old key {old} revoked" in result.stderr
    assert token not in result.stderr


def test_steps_happen_in_order(neon: Neon) -> None:
    """List, create, verify with the new key, and only then revoke the old key."""
    old = _personal(neon)
    assert neon("rotate", str(old)).exit_code == 0
    operations = [record.operation_id for record in neon.world.log]
    assert operations == ["listApiKeys", "createApiKey", "getAuthDetails", "revokeApiKey"]
    new = neon.world.key(_new_id(neon, old))
    assert new.last_used_at is not None


def test_rotates_a_project_key_keeping_its_scope(neon: Neon, tmp_path: Path) -> None:
    """A project key is replaced by a key of the same project, saved 0600, renamed with --name."""
    old = _project_key(neon)
    target = tmp_path / "preview.token"
    result = neon(
        "rotate", str(old), "--org", neon.org, "--name", "preview-2", "--save", str(target)
    )
    assert result.exit_code == 0, result.stderr
    new = neon.world.key_for_token(target.read_text().strip())
    assert new is not None
    assert (new.kind, new.project_id, new.name) == ("project", neon.project, "preview-2")
    assert mode(target) == 0o600
    assert neon.world.key(old).revoked
    assert f"saved to {target}" in result.stdout


def test_json_report(neon: Neon, tmp_path: Path) -> None:
    """--output json prints the old and new keys and the state of each step."""
    old = _personal(neon)
    result = neon("-o", "json", "rotate", str(old), "--save", str(tmp_path / "k"))
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["old"]["id"] == old and report["new"]["name"] == "ci"
    assert report["secret_delivered_to"] == str(tmp_path / "k")
    assert report["verified"] is True and report["old_revoked"] is True
    assert report["error"] is None


def test_unknown_key_changes_nothing(neon: Neon) -> None:
    """A key id that is not in the listing exits 1 and creates nothing."""
    result = neon("rotate", "424242")
    assert result.exit_code == 1
    assert "key 424242 not found" in result.stderr and "nothing changed" in result.stderr
    assert "--org" in result.stderr
    assert neon.world.log.count("createApiKey") == 0


def test_sink_refusal_happens_before_anything(neon: Neon, tmp_path: Path) -> None:
    """An existing --save file without --force exits 2 before any request."""
    old = _personal(neon)
    (tmp_path / "k").write_text("x")
    assert neon("rotate", str(old), "--save", str(tmp_path / "k")).exit_code == 2
    assert len(neon.world.log) == 0


def test_invalid_id_is_refused_before_any_request(neon: Neon) -> None:
    """rotate abc exits 2 and sends nothing."""
    assert neon("rotate", "abc").exit_code == 2
    assert len(neon.world.log) == 0


def test_failed_creation_keeps_the_old_key(neon: Neon) -> None:
    """If the replacement cannot be created, the old key stays and the exit code is 1."""
    old = _personal(neon)
    neon.world.faults.inject("createApiKey", Fault.status(403, message="not allowed"))
    result = neon("rotate", str(old))
    assert result.exit_code == 1
    assert "could not create the replacement" in result.stderr
    assert f"old key {old} NOT revoked" in result.stderr
    assert not neon.world.key(old).revoked
    assert neon.personal_ids() == [neon.world.seed.admin_key_id, old]
    assert result.stdout == ""


def test_failed_verification_keeps_the_old_key(neon: Neon, tmp_path: Path) -> None:
    """If the new secret fails verification, both keys exist and the message says so."""
    old = _personal(neon)
    target = tmp_path / "k"
    neon.world.faults.inject("getAuthDetails", Fault.status(401, message="who are you"))
    result = neon("rotate", str(old), "--save", str(target))
    assert result.exit_code == 1
    new = _new_id(neon, old)
    assert (
        f'new personal key {new} "ci" created and its secret saved to {target} (mode 0600), '
        "but it failed verification"
    ) in result.stderr
    assert f"old key {old} NOT revoked" in result.stderr
    assert "NEON_API_KEY" not in result.stderr  # the caller's own key is not at fault
    assert not neon.world.key(old).revoked and not neon.world.key(new).revoked
    assert neon.world.key_for_token(target.read_text().strip()).id == new  # type: ignore[union-attr]
    assert neon.world.log.count("revokeApiKey") == 0


def test_failed_verification_json_report(neon: Neon, tmp_path: Path) -> None:
    """On failure with --output json, the report says which steps were done."""
    old = _personal(neon)
    neon.world.faults.inject("getAuthDetails", Fault.status(401))
    result = neon("-o", "json", "rotate", str(old), "--save", str(tmp_path / "k"))
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["new"] is not None and report["secret_delivered_to"] == str(tmp_path / "k")
    assert report["verified"] is False and report["old_revoked"] is False
    assert "verification" in report["error"]


def test_failed_revocation_leaves_both_keys_working(neon: Neon) -> None:
    """If revoking the old key fails, the new key is delivered and verified and the user is told."""
    old = _personal(neon)
    neon.world.faults.inject("revokeApiKey", Fault.status(500, message="boom"))
    result = neon("rotate", str(old))
    assert result.exit_code == 1
    new = _new_id(neon, old)
    assert neon.world.key_for_token(result.stdout.strip()).id == new  # type: ignore[union-attr]
    assert f"printed to stdout and verified, but revoking old key {old} failed" in result.stderr
    assert f"revoke it with: neon-keys revoke {old}" in result.stderr
    assert not neon.world.key(old).revoked


def test_failed_revocation_of_an_org_key_gives_the_org_command(neon: Neon) -> None:
    """The advice to revoke an organization key by hand names the organization."""
    old = _project_key(neon)
    neon.world.faults.inject("revokeOrgApiKey", Fault.status(500))
    result = neon("rotate", str(old), "--org", neon.org)
    assert result.exit_code == 1
    assert f"neon-keys revoke {old} --org {neon.org}" in result.stderr


def test_failed_delivery_shows_the_secret_and_keeps_the_old_key(
    neon: Neon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the secret cannot be saved, it is shown once on stderr and nothing is revoked."""

    def fail(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(_sinks, "write_private", fail)
    old = _personal(neon)
    result = neon("rotate", str(old), "--save", str(tmp_path / "k"))
    assert result.exit_code == 1
    new = _new_id(neon, old)
    token = result.stderr.splitlines()[2]
    assert neon.world.key_for_token(token).id == new  # type: ignore[union-attr]
    assert f"old key {old} NOT revoked" in result.stderr
    assert neon.world.log.count("getAuthDetails") == 0
    assert not neon.world.key(old).revoked


def test_a_new_key_of_the_wrong_kind_fails_verification(neon: Neon) -> None:
    """A new secret that authenticates as another kind of key is not accepted."""
    body = json.dumps({"account_id": "user_x", "auth_method": "api_key_user"})
    neon.world.faults.inject("getAuthDetails", Fault.response(200, body))
    old = _project_key(neon)
    result = neon("rotate", str(old), "--org", neon.org)
    assert result.exit_code == 1
    assert "authenticates as 'api_key_user'" in result.stderr
    assert not neon.world.key(old).revoked


def test_a_new_key_of_another_organization_fails_verification(neon: Neon) -> None:
    """A new organization key that answers for another organization is not accepted."""
    body = json.dumps({"account_id": "org-elsewhere-1", "auth_method": "api_key_org"})
    neon.world.faults.inject("getAuthDetails", Fault.response(200, body))
    old = _project_key(neon)
    result = neon("rotate", str(old), "--org", neon.org)
    assert result.exit_code == 1
    assert "not organization" in result.stderr
    assert not neon.world.key(old).revoked


def test_list_failure_changes_nothing(neon: Neon) -> None:
    """If the keys cannot be listed, nothing is created."""
    neon.world.faults.inject("listApiKeys", Fault.status(500), times=None)
    result = neon("rotate", "5")
    assert result.exit_code == 1
    assert "could not list keys" in result.stderr and "nothing changed" in result.stderr
    assert neon.world.log.count("createApiKey") == 0
    assert lines(result.stdout) == []


# -- JSON errors (--output json) ---------------------------------------------------------------


def _json_error(result_stderr: str) -> dict[str, object]:
    """The JSON error ending a run's stderr (its last line), which holds no prose before it."""
    assert "Error:" not in result_stderr
    error: dict[str, object] = json.loads(lines(result_stderr)[-1])["error"]
    return error


def test_a_rotation_that_changed_nothing_is_a_json_error_of_its_cause(neon: Neon) -> None:
    """-o json, the listing failing: one JSON error whose kind and library_error are Neon's
    500 (nothing changed, so not partial)."""
    neon.world.faults.inject("listApiKeys", Fault.status(500), times=None)
    result = neon("-o", "json", "rotate", "5")
    assert result.exit_code == 1
    error = _json_error(result.stderr)
    assert error["kind"] == "api" and "nothing changed" in str(error["message"])
    cause = error["library_error"]
    assert isinstance(cause, dict)
    assert (cause["type"], cause["status_code"], cause["path"]) == ("ServerError", 500, "/api_keys")


def test_a_rotation_stopped_after_the_create_is_a_partial_json_error(
    neon: Neon, tmp_path: Path
) -> None:
    """-o json, the old key's revoke failing: the report on stdout, then one JSON error of
    kind partial carrying Neon's 500, the new secret nowhere in it."""
    old = _personal(neon)
    neon.world.faults.inject("revokeApiKey", Fault.status(500, message="boom"))
    target = tmp_path / "k"
    result = neon("-o", "json", "rotate", str(old), "--save", str(target))
    assert result.exit_code == 1
    assert json.loads(result.stdout)["old_revoked"] is False
    error = _json_error(result.stderr)
    assert error["kind"] == "partial"
    assert f"revoke it with: neon-keys revoke {old}" in str(error["message"])
    cause = error["library_error"]
    assert isinstance(cause, dict) and cause["status_code"] == 500
    assert cause["method"] == "DELETE"
    assert target.read_text().strip() not in result.stdout + result.stderr


def test_an_undelivered_rotation_is_a_partial_json_error_after_the_secret(
    neon: Neon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """-o json, the secret not saved: it is shown once in plain text (the last resort), then
    one JSON error of kind partial that does not hold it."""

    def fail(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(_sinks, "write_private", fail)
    old = _personal(neon)
    result = neon("-o", "json", "rotate", str(old), "--save", str(tmp_path / "k"))
    assert result.exit_code == 1
    new = _new_id(neon, old)
    (token,) = [line for line in lines(result.stderr) if line.startswith("napi_")]
    assert neon.world.key_for_token(token).id == new  # type: ignore[union-attr]
    error = json.loads(lines(result.stderr)[-1])["error"]
    assert error["kind"] == "partial" and "it was shown above, once" in error["message"]
    assert token not in lines(result.stderr)[-1]


def test_an_undelivered_rotation_gives_the_command_that_repeats_it_with_every_sink(
    neon: Neon, tmp_path: Path
) -> None:
    """A failed delivery's error ends with the rotate command to run again: the same key,
    name and sinks (--save with --force, since the file now exists), quoted for a shell."""
    old = _personal(neon)
    saved, dotenv, env_file = tmp_path / "ci key", tmp_path / ".env", tmp_path / "github_env"
    failing = "sh -c 'cat >/dev/null; exit 3'"
    result = neon(
        "rotate",
        str(old),
        "--name",
        "ci 2",
        "--save",
        str(saved),
        "--dotenv",
        str(dotenv),
        "--var",
        "MY_KEY",
        "--github-env",
        "--deliver-cmd",
        failing,
        "--deliver-timeout",
        "30",
        env={"GITHUB_ENV": str(env_file)},
    )
    assert result.exit_code == 1, result.stderr
    again = shlex.join(
        [
            "neon-keys", "rotate", str(old), "--name", "ci 2",
            "--save", str(saved), "--force", "--dotenv", str(dotenv), "--github-env",
            "--var", "MY_KEY", "--deliver-cmd", failing, "--deliver-timeout", "30",
        ]
    )  # fmt: skip
    assert f"to finish, rotate again: {again} (then revoke key" in result.stderr
    assert not neon.world.key(old).revoked
