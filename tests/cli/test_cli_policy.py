"""``neon-keys plan``, ``apply`` and ``check`` against the emulator, driven by a policy file."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from cli_support import DAY, Neon, lines, mode
from click.testing import CliRunner
from date_rewriting import DateRewriting
from neon_keys import Backoff
from neon_keys.cli import _revoking, cli
from neon_keys.cli._session import Session
from neon_keys.testing import Fault


def write_policy(folder: Path, neon: Neon, *, undeclared: str = "revoke") -> Path:
    """A policy for the admin's personal keys and the seeded organization."""
    path = folder / "neon-keys.toml"
    path.write_text(
        f"""version = 1

[rules]
max_age = "30d"
undeclared = "{undeclared}"

[scopes]
personal = true
orgs = ["{neon.org}"]

[[keys]]
name = "ci"
scope = "personal"
save = "ci.token"

[[keys]]
name = "deploy"
scope = "org:{neon.org}"
rotate_every = "30d"
grace = "1d"
save = "deploy.token"
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def world_to_fix(neon: Neon, tmp_path: Path) -> dict[str, int]:
    """A stray personal key, and a deploy key in use that is 40 days old."""
    world = neon.world
    stray = world.issue_personal_key(world.seed.admin_id, "stray")
    deploy = world.issue_org_key(neon.org, "deploy")
    neon.use(deploy)
    world.clock.advance(40 * DAY)
    write_policy(tmp_path, neon)
    ids = {}
    for name, token in (("stray", stray), ("deploy", deploy)):
        info = world.key_for_token(token)
        assert info is not None
        ids[name] = info.id
    return ids


def test_plan_shows_each_change_with_its_reason_and_exits_4(
    neon: Neon, world_to_fix: dict[str, int]
) -> None:
    """plan lists each create, rotate and revoke per scope with its reason; exits 4."""
    before = neon.changes()
    result = neon("plan")
    assert result.exit_code == 4, result.output
    out = result.stdout
    assert 'create   new "ci"             declared, missing' in out
    assert f'revoke   {world_to_fix["stray"]} "stray"' in out
    assert "rules.undeclared is" in out
    rotate = next(line for line in lines(out) if line.startswith("rotate"))
    assert str(world_to_fix["deploy"]) in rotate and "older than rotate_every (30d)" in rotate
    assert out.index("Personal keys") < out.index(f"Organization {neon.org}")
    assert "1 to create, 1 to rotate, 0 to retire, 1 to revoke" in result.stderr
    assert neon.changes() == before


def test_plan_as_json_is_the_plan_as_data(neon: Neon, world_to_fix: dict[str, int]) -> None:
    """-o json gives every action with its kind, key, declaration and reason."""
    result = neon("plan", "-o", "json")
    assert result.exit_code == 4
    data = json.loads(result.stdout)
    assert data["changes"] is True
    kinds = {(a["action"], a["key"]["id"] if a["key"] else None) for a in data["actions"]}
    assert kinds == {
        ("create", None),
        ("rotate", world_to_fix["deploy"]),
        ("revoke", world_to_fix["stray"]),
    }
    create = next(a for a in data["actions"] if a["action"] == "create")
    assert create["declared"] == {"index": 0, "line": 11, "name": "ci", "scope": "personal"}


def test_apply_makes_the_plan_and_then_plan_shows_nothing(
    neon: Neon, world_to_fix: dict[str, int], tmp_path: Path
) -> None:
    """apply --yes makes the plan, saves secrets 0600 unprinted; then plan exits 0."""
    result = neon("apply", "--yes")
    assert result.exit_code == 0, result.output
    table = [line for line in lines(result.stdout) if line.split()[-0:1] and " done " in line]
    assert len(table) == 3
    ci, deploy = (tmp_path / "ci.token").read_text(), (tmp_path / "deploy.token").read_text()
    assert mode(tmp_path / "ci.token") == 0o600 and mode(tmp_path / "deploy.token") == 0o600
    for token in (ci, deploy):
        assert token.strip() not in result.output
        holder = neon.world.key_for_token(token.strip())
        assert holder is not None and holder.last_used_at is not None  # verified
    assert neon.world.key(world_to_fix["stray"]).revoked
    assert not neon.world.key(world_to_fix["deploy"]).revoked  # kept for its grace period
    assert "Applied 3 of 3 actions." in result.stderr
    again = neon("plan")
    assert again.exit_code == 0, again.output
    assert "No changes" in again.stderr


def test_apply_retires_the_replaced_key_once_its_grace_is_over(
    neon: Neon, world_to_fix: dict[str, int]
) -> None:
    """After the grace period, a second apply retires the old deploy key, and only it."""
    assert neon("apply", "--yes").exit_code == 0
    neon.world.clock.advance(2 * DAY)
    result = neon("apply", "--yes", "-o", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [(o["action"], o["key"]["id"], o["outcome"]) for o in data["outcomes"]] == [
        ("retire", world_to_fix["deploy"], "done")
    ]
    assert neon.world.key(world_to_fix["deploy"]).revoked


def test_apply_asks_and_a_no_changes_nothing(
    neon: Neon, world_to_fix: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a terminal, answering no to the question leaves every key as it was; exit 1."""
    monkeypatch.setattr(_revoking, "stdin_is_terminal", lambda: True)
    before = neon.changes()
    result = neon("apply", input="n\n")
    assert result.exit_code == 1
    assert "Make these 3 changes?" in result.stderr
    assert neon.changes() == before


@pytest.mark.parametrize(
    "date", [None, "Mon, 01 Jan 2300 00:00:00 GMT"], ids=["no-date", "year-2300"]
)
def test_apply_refuses_a_clock_that_is_not_neons_before_asking(
    neon: Neon, world_to_fix: dict[str, int], monkeypatch: pytest.MonkeyPatch, date: str | None
) -> None:
    """Answers without a Date, or with one far past what Neon's records show (a proxy's
    clock): apply exits 1 saying Neon's time is unknown, before it asks, changing nothing;
    ``plan`` still shows the plan."""
    monkeypatch.setattr(_revoking, "stdin_is_terminal", lambda: True)
    before = neon.changes()
    env = {
        "NEON_API_KEY": neon.world.seed.admin_token,
        "NEON_API_HOST": "http://127.0.0.1:9/api/v2",
    }
    results = []
    with httpx.Client(transport=DateRewriting(neon.world, date)) as http:
        session = Session(client_options={"backoff": Backoff.immediate(), "http_client": http})
        for args in (["apply"], ["plan"]):
            results.append(CliRunner().invoke(cli, args, obj=session, env=env, input="y\n"))
    applied, planned = results
    assert applied.exit_code == 1, applied.output
    assert "Neon's clock" in lines(applied.stderr)[-1]
    assert "Make these" not in applied.stderr
    assert neon.changes() == before
    assert planned.exit_code == 4 and "revoke" in planned.stdout


def test_apply_without_yes_off_a_terminal_is_refused(
    neon: Neon, world_to_fix: dict[str, int]
) -> None:
    """Nobody can be asked: apply without --yes exits 2 and changes nothing."""
    before = neon.changes()
    result = neon("apply")
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert neon.changes() == before


def test_a_failed_action_is_reported_and_exits_1(neon: Neon, world_to_fix: dict[str, int]) -> None:
    """A revoke Neon refuses fails alone: its outcome says so, the others are done, exit 1."""
    neon.world.faults.inject("revokeApiKey", Fault.status(500), times=10)
    result = neon("apply", "--yes")
    assert result.exit_code == 1
    failed = [line for line in lines(result.stdout) if " failed " in line]
    assert len(failed) == 1 and str(world_to_fix["stray"]) in failed[0]
    assert not neon.world.key(world_to_fix["stray"]).revoked
    assert "1 action not done" in result.stderr


@pytest.mark.parametrize("command", ["plan", "apply", "check"])
def test_an_invalid_file_is_refused_before_any_request(
    neon: Neon, tmp_path: Path, command: str
) -> None:
    """Each problem of the file is printed as FILE:LINE: field: message; nothing sent; exit 2."""
    (tmp_path / "bad.toml").write_text(
        'version = 1\n[rules]\nmax_age = "ninety days"\n[scopes]\norgs = ["Bad Org!"]\n'
        '[[keys]]\nname = "ci"\nscope = "personal"\ncolour = "blue"\n',
        encoding="utf-8",
    )
    requests = len(neon.world.log)
    result = (
        neon(command, "-f", "bad.toml", "--yes")
        if command == "apply"
        else neon(command, "-f", "bad.toml")
    )
    assert result.exit_code == 2
    err = result.stderr
    assert "bad.toml:3: rules.max_age:" in err
    assert "bad.toml:5: scopes.orgs" in err
    assert "bad.toml:9: keys[0].colour:" in err
    assert "nothing was sent" in err
    assert len(neon.world.log) == requests


def test_a_missing_file_is_a_usage_error(neon: Neon) -> None:
    """plan without ./neon-keys.toml says which file is missing; exit 2."""
    result = neon("plan")
    assert result.exit_code == 2
    assert "neon-keys.toml" in result.stderr


def test_an_unknown_key_is_an_authentication_failure(neon: Neon, tmp_path: Path) -> None:
    """plan with a key Neon does not know exits 3."""
    write_policy(tmp_path, neon)
    result = neon("plan", key="napi_" + "x" * 60)
    assert result.exit_code == 3


def test_check_is_a_gate_with_github_annotations(neon: Neon, world_to_fix: dict[str, int]) -> None:
    """check exits 1 on findings and, with --format github, annotates each at its rule's line."""
    before = neon.changes()
    result = neon("check", "--format", "github")
    assert result.exit_code == 1
    annotations = [line for line in lines(result.stdout) if line.startswith("::error ")]
    assert any(
        "file=neon-keys.toml,line=4,title=max_age" in line and str(world_to_fix["deploy"]) in line
        for line in annotations
    )
    assert any("title=undeclared" in line for line in annotations)
    assert neon.changes() == before


def test_check_passes_once_the_keys_follow_the_rules(neon: Neon, tmp_path: Path) -> None:
    """With nothing breaking a rule, check exits 0 and says how many keys it checked."""
    path = tmp_path / "neon-keys.toml"
    path.write_text(
        'version = 1\n[rules]\nmax_age = "30d"\n[scopes]\npersonal = true\n', encoding="utf-8"
    )
    result = neon("check")
    assert result.exit_code == 0, result.output
    assert "0 findings in 1 key checked." in result.stderr


def test_findings_alone_leave_plan_at_0(neon: Neon, tmp_path: Path) -> None:
    """A policy that only reports (undeclared = report) plans no change: exit 0."""
    neon.world.issue_personal_key(neon.world.seed.admin_id, "stray")
    path = tmp_path / "neon-keys.toml"
    path.write_text(
        'version = 1\n[rules]\nundeclared = "report"\n[scopes]\npersonal = true\n',
        encoding="utf-8",
    )
    result = neon("plan")
    assert result.exit_code == 0, result.output
    assert "undeclared" in result.stdout


def test_a_secret_no_sink_took_is_printed_once_on_stderr(neon: Neon, tmp_path: Path) -> None:
    """A create whose delivery command fails: exit 1, the secret once on stderr, never stdout."""
    (tmp_path / "neon-keys.toml").write_text(
        'version = 1\n[scopes]\npersonal = true\n[[keys]]\nname = "ci"\nscope = "personal"\n'
        "deliver = [\"sh -c 'exit 3'\"]\n",
        encoding="utf-8",
    )
    result = neon("apply", "--yes")
    assert result.exit_code == 1
    (new,) = [k for k in neon.world.personal_keys(neon.world.seed.admin_id) if k.name == "ci"]
    secrets = [line for line in lines(result.stderr) if line.startswith("napi_")]
    assert len(secrets) == 1
    holder = neon.world.key_for_token(secrets[0])
    assert holder is not None and holder.id == new.id
    assert secrets[0] not in result.stdout
    assert f"neon-keys revoke {new.id}" in result.stderr


def test_a_secret_a_saved_file_holds_is_never_printed(neon: Neon, tmp_path: Path) -> None:
    """A create saved to a file whose delivery command fails: exit 1, the file holds the
    secret, stderr names the file and never shows the secret."""
    (tmp_path / "neon-keys.toml").write_text(
        'version = 1\n[scopes]\npersonal = true\n[[keys]]\nname = "ci"\nscope = "personal"\n'
        'save = "ci.token"\ndeliver = ["sh -c \'exit 3\'"]\n',
        encoding="utf-8",
    )
    result = neon("apply", "--yes")
    assert result.exit_code == 1
    token = (tmp_path / "ci.token").read_text(encoding="utf-8").strip()
    holder = neon.world.key_for_token(token)
    assert holder is not None and holder.name == "ci"
    assert token not in result.stdout + result.stderr
    assert f'The secret of new key {holder.id} "ci" is in ' in result.stderr
    assert f"neon-keys revoke {holder.id}" in result.stderr
