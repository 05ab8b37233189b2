"""``neon-keys retire``: replaced keys revoked once due, on Neon's clock, and why.

The emulator's clock starts in 2025 and moves only when a test moves it; the CLI reads
Neon's time from the ``Date`` of the emulator's answers, so each step below happens at a
known moment of Neon's clock, whatever this machine's says.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_support import DAY, START, Neon, lines, write_config
from click.testing import CliRunner
from date_rewriting import DateRewriting
from neon_keys import Backoff, LeaseName
from neon_keys.cli import _revoking, cli
from neon_keys.cli._session import Session
from neon_keys.testing import Fault

HOUR = 3_600.0
MINUTE = 60.0


def _deploy(neon: Neon, tmp_path: Path, *, org: bool = False) -> tuple[int, str]:
    """A key named ``deploy`` (the organization's with ``org``) and its token."""
    if org:
        token = neon.world.issue_org_key(neon.org, "deploy")
    else:
        token = neon.world.issue_personal_key(neon.world.seed.admin_id, "deploy")
    info = neon.world.key_for_token(token)
    assert info is not None
    return info.id, token


def _rotate(neon: Neon, tmp_path: Path, key_id: int, grace: str, *extra: str) -> dict[str, Any]:
    """``rotate KEY --grace GRACE`` saving the new secret under ``tmp_path``; the JSON report."""
    target = tmp_path / f"rotated-{key_id}.token"
    result = neon(
        "-o", "json", "rotate", str(key_id), "--grace", grace, "--save", str(target), *extra
    )
    assert result.exit_code == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def _retire(neon: Neon, *args: str) -> dict[str, Any]:
    """``retire ARGS --yes`` as JSON: exit 0, the report."""
    result = neon("-o", "json", "retire", "--yes", *args)
    assert result.exit_code == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def _outcomes(report: dict[str, Any]) -> list[tuple[int, str, str]]:
    return [(key["id"], key["outcome"], key["reason"]) for key in report["keys"]]


def _time(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


def _live(neon: Neon, key_id: int) -> bool:
    return not neon.world.key(key_id).revoked


# -- the grace period, the quiet period, the consumers -------------------------------------


def test_the_old_key_is_kept_until_the_grace_period_is_over(neon: Neon, tmp_path: Path) -> None:
    """retire keeps a replaced key while the grace period runs, saying until when, and
    revokes it once it is over; the replacement stays, and a second run finds nothing."""
    old, _ = _deploy(neon, tmp_path)
    rotated = _rotate(neon, tmp_path, old, "1d")
    new = rotated["new"]["id"]
    assert rotated["retire_after"] == "2025-06-02T12:00:00Z"

    neon.world.advance_clock(DAY - 1)
    report = _retire(neon, "--grace", "1d")
    assert _outcomes(report) == [(old, "kept", "in_grace")]
    (kept,) = report["keys"]
    assert kept["replaced_by"] == new and kept["grace_ends"] == "2025-06-02T12:00:00Z"
    assert _live(neon, old)

    neon.world.advance_clock(1)
    result = neon("retire", "--grace", "1d", "--yes")
    assert result.exit_code == 0, result.stderr
    (header, row) = lines(result.stdout)
    assert header.split() == ["ID", "NAME", "REPLACED", "BY", "OUTCOME", "WHY"]
    assert row.split()[:4] == [str(old), "deploy", str(new), "revoked"]
    assert "its grace period (1d) ended 2025-06-02 12:00 UTC" in row
    assert "1 replaced key: 1 revoked." in result.stderr
    assert not _live(neon, old) and _live(neon, new)

    again = neon("retire", "--grace", "1d", "--yes")
    assert again.exit_code == 0 and "No replaced keys found." in again.stderr


def test_a_consumer_that_switched_lets_the_old_key_go_after_the_quiet_period(
    neon: Neon, tmp_path: Path
) -> None:
    """The service moved to the new key: the old one, unused since, is revoked once the
    quiet period has passed, long before the grace period would end."""
    old, old_token = _deploy(neon, tmp_path)
    neon.use(old_token)  # in service before the rotation
    new = _rotate(neon, tmp_path, old, "7d")["new"]["id"]
    neon.world.advance_clock(HOUR - 1)
    assert _outcomes(_retire(neon, "--grace", "7d", "--quiet", "1h")) == [(old, "kept", "in_grace")]
    neon.world.advance_clock(1)
    assert _outcomes(_retire(neon, "--grace", "7d", "--quiet", "1h")) == [(old, "revoked", "quiet")]
    assert not _live(neon, old) and _live(neon, new)


def test_a_consumer_that_keeps_using_the_old_key_keeps_it_until_the_grace_period_ends(
    neon: Neon, tmp_path: Path
) -> None:
    """A service still on the old key (a use every 40 minutes) never lets it go quiet for an
    hour: retire keeps it, saying when it was last used, until the grace period ends."""
    old, old_token = _deploy(neon, tmp_path)
    _rotate(neon, tmp_path, old, "6h")
    for step in range(1, 9):  # 40 minutes apart, up to 5h20m after the rotation
        neon.world.advance_clock(40 * MINUTE)
        neon.use(old_token)
        report = _retire(neon, "--grace", "6h", "--quiet", "1h")
        assert _outcomes(report) == [(old, "kept", "in_grace")], step
        assert report["keys"][0]["last_used_at"] == neon.world.key(old).last_used_at.strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
    neon.world.advance_clock(39 * MINUTE)
    neon.use(old_token)  # a minute before the grace period ends
    neon.world.advance_clock(MINUTE)  # 6h after the rotation
    assert _outcomes(_retire(neon, "--grace", "6h", "--quiet", "1h")) == [
        (old, "revoked", "grace_over")
    ]
    assert not _live(neon, old)


def test_a_rotation_that_did_not_finish_keeps_the_old_key(neon: Neon, tmp_path: Path) -> None:
    """A failed delivery leaves a replacement never used: the old key is kept whatever the
    grace, and a second rotation then lets retire revoke both older keys."""
    old, _ = _deploy(neon, tmp_path)
    failed = neon("rotate", str(old), "--grace", "1h", "--deliver-cmd", "false")
    assert failed.exit_code == 1
    neon.world.advance_clock(DAY)
    assert _outcomes(_retire(neon, "--grace", "1h")) == [(old, "kept", "no_replacement_in_service")]
    new = _rotate(neon, tmp_path, old, "1h")["new"]["id"]
    neon.world.advance_clock(HOUR)
    outcomes = _outcomes(_retire(neon, "--grace", "1h"))
    assert [outcome[1:] for outcome in outcomes] == [("revoked", "grace_over")] * 2
    assert [k for k in neon.personal_ids() if k != neon.world.seed.admin_key_id] == [new]


def test_dry_run_says_what_is_due_and_revokes_nothing(neon: Neon, tmp_path: Path) -> None:
    """--dry-run reports the due key as due and sends no revoke; no --yes is needed."""
    old, _ = _deploy(neon, tmp_path)
    _rotate(neon, tmp_path, old, "1h")
    neon.world.advance_clock(HOUR)
    neon.world.log.clear()
    result = neon("retire", "--grace", "1h", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "due" in lines(result.stdout)[1] and "1 replaced key: 1 due." in result.stderr
    assert neon.world.log.count("revokeApiKey") == 0 and _live(neon, old)


def test_a_failed_revoke_exits_1_and_says_why(neon: Neon, tmp_path: Path) -> None:
    """A revoke Neon refuses is reported as failed, with its error, and the exit status is 1."""
    old, _ = _deploy(neon, tmp_path)
    _rotate(neon, tmp_path, old, "1h")
    neon.world.advance_clock(HOUR)
    neon.world.faults.inject("revokeApiKey", Fault.status(500), times=None)
    result = neon("-o", "json", "retire", "--grace", "1h", "--yes")
    assert result.exit_code == 1
    (key,) = json.loads(result.stdout)["keys"]
    assert key["outcome"] == "failed" and key["error"]
    assert _live(neon, old)
    (line,) = lines(result.stderr)  # with -o json, one JSON error and no prose
    error = json.loads(line)["error"]
    assert error["kind"] == "partial" and error["message"] == "1 key could not be revoked"


def test_without_yes_it_asks_and_a_no_revokes_nothing(
    neon: Neon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At a terminal, retire asks first, naming the key; answering no revokes nothing."""
    monkeypatch.setattr(_revoking, "stdin_is_terminal", lambda: True)
    old, _ = _deploy(neon, tmp_path)
    _rotate(neon, tmp_path, old, "1h")
    neon.world.advance_clock(HOUR)
    result = neon("retire", "--grace", "1h", input="n\n")
    assert result.exit_code == 1
    assert str(old) in result.stderr and "deploy" in result.stderr
    assert _live(neon, old) and neon.world.log.count("revokeApiKey") == 0


def test_without_yes_and_no_terminal_it_refuses_before_any_request(neon: Neon) -> None:
    """With nobody to confirm (no terminal) and no --yes, retire exits 2 and sends nothing."""
    result = neon("retire", "--grace", "1h")
    assert result.exit_code == 2 and "--yes" in result.stderr
    assert len(neon.world.log) == 0


@pytest.mark.parametrize(
    "args",
    [
        ["--org", "org-cool-breeze-12345678", "--all-orgs"],
        ["--grace", "-1d"],
        ["--quiet", "soon"],
        ["--name", ""],
        ["--org", "Not_An_Org"],
    ],
)
def test_bad_input_is_refused_before_any_request(neon: Neon, args: list[str]) -> None:
    """Contradictory or malformed options exit 2 with nothing sent."""
    result = neon("retire", "--yes", *args)
    assert result.exit_code == 2, result.stderr
    assert len(neon.world.log) == 0


# -- leases ------------------------------------------------------------------------------------


def test_a_lease_rotated_with_grace_is_retired_with_its_generation(
    neon: Neon, tmp_path: Path
) -> None:
    """A lease rotated with --grace stays a lease of the same base name with a fresh expiry;
    retire then revokes the old lease, never the ordinary key named like its base name."""
    ordinary = neon.world.issue_personal_key(neon.world.seed.admin_id, "preview-42")
    neon.use(ordinary)
    made = neon("-o", "json", "create", "preview-42", "--ttl", "2h", "--save", str(tmp_path / "l"))
    assert made.exit_code == 0, made.stderr
    lease = json.loads(made.stdout)
    neon.world.advance_clock(30 * MINUTE)
    rotated = _rotate(neon, tmp_path, lease["id"], "10m")
    new = rotated["new"]
    assert new["base_name"] == "preview-42" and new["name"] != lease["name"]
    # The old lease's lifetime as listed (2h, or a second more: create --ttl rounds its
    # expiry up), counted from the rotation on Neon's clock.
    lifetime = _time(lease["expires_at"]) - _time(lease["created_at"])
    assert datetime.timedelta(hours=2) <= lifetime <= datetime.timedelta(hours=2, seconds=1)
    assert _time(new["created_at"]) == START + datetime.timedelta(minutes=30)
    assert _time(new["expires_at"]) - _time(new["created_at"]) == lifetime
    parsed = LeaseName.parse(new["name"])
    assert parsed is not None and parsed.token != LeaseName.parse(lease["name"]).token  # type: ignore[union-attr]

    neon.world.advance_clock(10 * MINUTE)
    report = _retire(neon, "--grace", "10m", "--name", "preview-42")
    assert _outcomes(report) == [(lease["id"], "revoked", "grace_over")]
    assert report["keys"][0]["replaced_by"] == new["id"]
    ordinary_key = neon.world.key_for_token(ordinary)
    assert ordinary_key is not None and not ordinary_key.revoked
    assert _live(neon, new["id"])


# -- every scope: --all-orgs -------------------------------------------------------------------


def test_all_orgs_retires_personal_keys_and_every_organization(neon: Neon, tmp_path: Path) -> None:
    """--all-orgs covers the caller's personal keys and each organization it belongs to, in
    one table with an ORG column."""
    personal, _ = _deploy(neon, tmp_path)
    org_key, _ = _deploy(neon, tmp_path, org=True)
    _rotate(neon, tmp_path, personal, "1h")
    _rotate(neon, tmp_path, org_key, "1h", "--org", neon.org)
    neon.world.advance_clock(HOUR)
    result = neon("retire", "--all-orgs", "--grace", "1h", "--yes")
    assert result.exit_code == 0, result.stderr
    header, *rows = lines(result.stdout)
    assert header.split()[:2] == ["ORG", "ID"]
    assert [(row.split()[0], int(row.split()[1])) for row in rows] == [
        ("-", personal),
        (neon.org, org_key),
    ]
    assert not _live(neon, personal) and not _live(neon, org_key)


def test_all_orgs_goes_on_past_an_organization_it_cannot_retire(neon: Neon, tmp_path: Path) -> None:
    """An organization whose keys the caller may not manage (a plain member) is named in
    the error, exit 1, while the other scopes are still retired."""
    other = neon.world.add_org(members=[neon.world.seed.admin_id])
    personal, _ = _deploy(neon, tmp_path)
    _rotate(neon, tmp_path, personal, "1h")
    neon.world.advance_clock(HOUR)
    result = neon("-o", "json", "retire", "--all-orgs", "--grace", "1h", "--yes")
    assert result.exit_code == 1
    assert _outcomes(json.loads(result.stdout)) == [(personal, "revoked", "grace_over")]
    error = json.loads(lines(result.stderr)[-1])["error"]
    assert error["kind"] == "partial" and error["exit_code"] == 1
    assert f"organization {other} could not be retired" in error["message"]
    assert "only organization admins" in error["message"]


def test_a_profiles_default_org_does_not_narrow_all_orgs(neon: Neon, tmp_path: Path) -> None:
    """Under a profile whose default is an organization, retire works on that organization,
    and --all-orgs still covers the personal keys too (the default is no --org)."""
    write_config(tmp_path, f'[profiles.work]\norg = "{neon.org}"\n')
    env: dict[str, str | None] = {"XDG_CONFIG_HOME": str(tmp_path), "NEON_KEYS_PROFILE": "work"}
    personal, _ = _deploy(neon, tmp_path)
    org_key, _ = _deploy(neon, tmp_path, org=True)
    _rotate(neon, tmp_path, personal, "1h")
    _rotate(neon, tmp_path, org_key, "1h", "--org", neon.org)
    neon.world.advance_clock(HOUR)
    narrowed = neon("-o", "json", "retire", "--grace", "1h", "--dry-run", env=env)
    assert narrowed.exit_code == 0, narrowed.stderr
    assert [(k["org_id"], k["id"]) for k in json.loads(narrowed.stdout)["keys"]] == [
        (neon.org, org_key)
    ]
    everything = neon("-o", "json", "retire", "--all-orgs", "--grace", "1h", "--dry-run", env=env)
    assert everything.exit_code == 0, everything.stderr
    assert [(k["org_id"], k["id"]) for k in json.loads(everything.stdout)["keys"]] == [
        (None, personal),
        (neon.org, org_key),
    ]


def test_all_orgs_with_an_organization_key_retires_that_organization(
    neon: Neon, tmp_path: Path
) -> None:
    """Called with an organization's key (no personal keys), --all-orgs retires that
    organization's keys and asks for no personal ones."""
    org_key, _ = _deploy(neon, tmp_path, org=True)
    _rotate(neon, tmp_path, org_key, "1h", "--org", neon.org)
    admin_key = neon.world.issue_org_key(neon.org, "admin")
    neon.world.advance_clock(HOUR)
    result = neon("-o", "json", "retire", "--all-orgs", "--grace", "1h", "--yes", key=admin_key)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert [(k["org_id"], k["id"], k["outcome"]) for k in report["keys"]] == [
        (neon.org, org_key, "revoked")
    ]
    assert neon.world.log.count("listApiKeys") == 0


# -- Neon's clock ------------------------------------------------------------------------------


def test_without_neons_clock_retire_fails_and_revokes_nothing(neon: Neon, tmp_path: Path) -> None:
    """Answers without a Date: retire exits 1 saying Neon's time is unknown (a JSON error
    naming ServerTimeUnknownError with -o json), and revokes nothing, although this
    machine's clock (2026 and later) is far past the grace period."""
    old, _ = _deploy(neon, tmp_path)
    _rotate(neon, tmp_path, old, "1h")
    neon.world.log.clear()
    with httpx.Client(transport=DateRewriting(neon.world, None)) as http:
        session = Session(client_options={"backoff": Backoff.immediate(), "http_client": http})
        result = CliRunner().invoke(
            cli,
            ["-o", "json", "retire", "--grace", "1h", "--yes"],
            obj=session,
            env={
                "NEON_API_KEY": neon.world.seed.admin_token,
                "NEON_API_HOST": "http://127.0.0.1:9/api/v2",
            },
        )
    assert result.exit_code == 1, result.output
    error = json.loads(lines(result.stderr)[-1])["error"]
    assert "no readable Date header" in error["message"]
    assert error["library_error"]["type"] == "ServerTimeUnknownError"
    assert neon.world.log.count("revokeApiKey") == 0 and _live(neon, old)
