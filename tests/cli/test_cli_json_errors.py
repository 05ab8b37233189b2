"""With ``--output json``, every failure is one JSON object on stderr, for every exit code."""

from __future__ import annotations

import datetime
import errno
import json
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_support import Neon, lines, write_config
from click.testing import Result
from neon_keys import LeaseName, _bulk, _sinks
from neon_keys.cli import _revoking
from neon_keys.cli._failures import output_requested
from neon_keys.cli._signals import Interrupted
from neon_keys.testing import FakeClock, Fault

ERROR_FIELDS = ["message", "exit_code", "kind", "signal", "library_error"]
"""The fields of every JSON error, in their documented order (docs/cli.md)."""


def _error(result: Result, code: int) -> dict[str, Any]:
    """The JSON error a failed run printed: its exit code is ``code``, stderr one object."""
    assert result.exit_code == code, result.stderr
    (line,) = lines(result.stderr)
    record = json.loads(line)
    assert list(record) == ["error"]
    assert list(record["error"]) == ERROR_FIELDS
    assert record["error"]["exit_code"] == code
    return dict(record["error"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "json", "list", "--bogus"], "No such option '--bogus'"),
        (["list", "--bogus", "-o", "json"], "No such option '--bogus'"),
        (["list", "--kind", "nope", "--output=json"], "Invalid value for '--kind'"),
        (["-ojson", "revoke", "abc", "--yes"], "invalid key_id: must be a positive integer"),
        (["-vo", "json", "revoke", "12"], "revoke needs confirmation: pass --yes"),
        (["-o", "json", "nosuchcommand"], "No such command 'nosuchcommand'"),
    ],
)
def test_usage_errors_are_json_wherever_the_option_is(
    neon: Neon, args: list[str], message: str
) -> None:
    """Exit 2: a usage error is a JSON object even when parsing failed before -o was read."""
    result = neon(*args)
    error = _error(result, 2)
    assert error["kind"] == "usage" and message in error["message"]
    assert error["library_error"] is None and error["signal"] is None
    assert result.stdout == "" and "Usage:" not in result.stderr


def test_refusing_the_calling_key_is_a_usage_error(neon: Neon) -> None:
    """Exit 2 raised by the CLI itself (the calling key spared) is a JSON usage error."""
    error = _error(neon("-o", "json", "revoke", str(neon.world.seed.admin_key_id), "--yes"), 2)
    assert error["kind"] == "usage" and "--including-self" in error["message"]


def test_a_refused_config_file_is_a_usage_error_without_the_key(neon: Neon, tmp_path: Path) -> None:
    """Exit 2 for a config file holding a key: JSON, and the key is nowhere."""
    token = "napi_" + "p" * 60
    write_config(tmp_path, f'[profiles.ci]\napi_key = "{token}"\n')
    result = neon("-o", "json", "--profile", "ci", "list", env={"XDG_CONFIG_HOME": str(tmp_path)})
    error = _error(result, 2)
    assert error["kind"] == "usage" and token not in result.stderr


def test_no_api_key_is_an_auth_error(neon: Neon) -> None:
    """Exit 3 without a key: kind auth, nothing sent."""
    error = _error(neon("-o", "json", "list", env={"NEON_API_KEY": None}), 3)
    assert error["kind"] == "auth" and error["message"].startswith("no Neon API key")
    assert len(neon.world.log) == 0


def test_a_refused_key_carries_neons_answer_but_never_the_key(neon: Neon) -> None:
    """Exit 3 on a 401: the library error's status, method, path and request id; no key."""
    token = "napi_" + "z" * 60
    result = neon("-o", "json", "list", key=token)
    error = _error(result, 3)
    assert error["kind"] == "auth"
    cause = error["library_error"]
    assert cause["type"] == "AuthenticationError"
    assert (cause["status_code"], cause["method"], cause["path"]) == (401, "GET", "/api_keys")
    assert cause["request_id"] and cause["attempts"] == 1
    assert token not in result.stdout + result.stderr


def test_a_server_error_is_an_api_error_with_its_details(neon: Neon) -> None:
    """Exit 1 on a 500: kind api, and what the library error carries."""
    neon.world.faults.inject("listApiKeys", Fault.status(500), times=None)
    error = _error(neon("-o", "json", "list"), 1)
    assert error["kind"] == "api"
    cause = error["library_error"]
    assert cause["type"] == "ServerError" and cause["status_code"] == 500
    assert cause["attempts"] == 3  # the first try and two retries of a GET
    assert set(cause) == {
        "type",
        "message",
        "attempts",
        "status_code",
        "code",
        "request_id",
        "method",
        "path",
    }


def test_an_unreachable_host_is_a_connection_error(neon: Neon) -> None:
    """Exit 1 when Neon cannot be reached: kind connection, request_sent false."""
    result = neon("-o", "json", "whoami", env={"NEON_API_HOST": "http://127.0.0.1:1/api/v2"})
    error = _error(result, 1)
    assert error["kind"] == "connection"
    assert error["library_error"]["request_sent"] is False


def test_a_partial_revoke_is_partial(neon: Neon) -> None:
    """Exit 1 when some keys were not revoked: the outcomes on stdout, kind partial."""
    result = neon("-o", "json", "revoke", "999999", "--yes")
    assert json.loads(result.stdout)[0]["outcome"] == "already_gone"
    assert _error(result, 1)["kind"] == "partial"


def test_findings_are_their_own_kind(neon: Neon) -> None:
    """Exit 1 from audit --fail-on-findings: kind findings, so CI tells it from an outage."""
    neon.world.issue_personal_key(neon.world.seed.admin_id, "idle")
    result = neon("-o", "json", "audit", "--min-age", "0s", "--fail-on-findings")
    assert json.loads(result.stdout)["findings"]
    assert _error(result, 1)["kind"] == "findings"


def test_a_declined_confirmation_is_declined(neon: Neon, monkeypatch: pytest.MonkeyPatch) -> None:
    """Exit 1 when the question is answered no: kind declined."""
    monkeypatch.setattr(_revoking, "stdin_is_terminal", lambda: True)
    neon.world.issue_personal_key(neon.world.seed.admin_id, "a")
    result = neon("-o", "json", "revoke", str(neon.personal_ids()[-1]), input="n\n")
    assert result.stderr.startswith("About to revoke 1 key")  # the question stays text
    error = json.loads(result.stderr.splitlines()[-1])["error"]
    assert (error["kind"], error["exit_code"]) == ("declined", 1)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interruption_is_json_with_its_signal(
    neon: Neon, monkeypatch: pytest.MonkeyPatch, sig: int
) -> None:
    """Exit 130 or 143: kind interrupted, the signal, and what exists in the message."""
    neon.world.issue_personal_key(neon.world.seed.admin_id, "a")
    key_id = neon.personal_ids()[-1]

    def interrupted(_key_id: int, _revoke: Any) -> Any:
        raise Interrupted(sig)

    monkeypatch.setattr(_bulk, "settle", interrupted)
    error = _error(neon("-o", "json", "revoke", str(key_id), "--yes"), 128 + sig)
    assert error["kind"] == "interrupted"
    assert error["signal"] == signal.Signals(sig).name
    assert error["message"].startswith(f"Interrupted by {signal.Signals(sig).name}: ")
    assert f"neon-keys revoke {key_id} --missing-ok" in error["message"]


def test_an_undelivered_secret_is_still_shown_in_plain_text(
    neon: Neon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last resort stays plain text (the one exception); the error after it is JSON and
    does not hold the secret."""

    def full(_path: str, _text: str, *, replace: bool) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_sinks, "write_private", full)
    result = neon("-o", "json", "create", "ci", "--save", str(tmp_path / "ci.token"))
    assert result.exit_code == 1
    *last_resort, final = lines(result.stderr)
    token = last_resort[-1]
    assert last_resort[0].startswith("Error: could not deliver the secret")
    assert neon.world.key_for_token(token) is not None
    error = json.loads(final)["error"]
    assert error["kind"] == "failure" and "it was shown above, once" in error["message"]
    assert token not in final


def test_without_json_errors_stay_one_line_of_text(neon: Neon) -> None:
    """Table output keeps the plain ``Error: ...`` line."""
    result = neon("list", env={"NEON_API_KEY": None})
    assert result.exit_code == 3 and result.stderr.startswith("Error: no Neon API key")


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["list", "-o", "json"], "json"),
        (["-o", "json", "list", "-o", "table"], "table"),
        (["--output=json", "list"], "json"),
        (["-ojson", "list"], "json"),
        (["-yvojson"], "json"),
        (["create", "-o"], None),
        (["create", "--", "-o", "json"], None),
        (["create", "-xo", "json"], None),  # not a bundle of known flags
        (["list"], None),
    ],
)
def test_the_output_asked_for_is_read_from_the_words(
    words: list[str], expected: str | None
) -> None:
    """The command line's last --output wins, in every spelling click accepts."""
    assert output_requested(words) == expected


def test_a_sweep_that_leaves_expired_leases_ends_with_one_json_error(neon: Neon) -> None:
    """sweep --all-orgs: the organization it cannot sweep and the lease it could not revoke
    are one JSON error at the end (kind partial), not lines of prose."""
    world = neon.world
    world.add_org("org-foreign-22222222", members=[world.seed.admin_id])
    expired = LeaseName.new("ci", neon.world.clock.now() - datetime.timedelta(hours=1)).name
    world.issue_org_key(neon.org, expired)
    world.faults.inject("revokeOrgApiKey", Fault.status(500))
    result = neon("-o", "json", "sweep", "--all-orgs", "--grace", "0s")
    assert result.exit_code == 1
    assert [record["outcome"] for record in json.loads(result.stdout)] == ["failed"]
    assert "Error:" not in result.stderr
    error = json.loads(lines(result.stderr)[-1])["error"]
    assert error["kind"] == "partial"
    assert "organization org-foreign-22222222: " in error["message"]
    assert error["message"].endswith("1 expired lease not revoked")


def test_a_lease_exec_could_not_revoke_is_a_json_error_with_the_commands_status(
    neon: Neon, clock: FakeClock
) -> None:
    """exec whose lease cannot be revoked: a JSON error, and the exit code stays the
    command's status."""
    now = datetime.datetime.now(datetime.UTC)  # Neon's clock on this machine's: no re-stamp
    clock.advance((now - clock.now()).total_seconds())
    neon.world.faults.inject("revokeApiKey", Fault.status(500), times=None)
    result = neon("-o", "json", "exec", "--", sys.executable, "-c", "raise SystemExit(4)")
    assert result.exit_code == 4
    error = json.loads(lines(result.stderr)[-1])["error"]
    assert error["exit_code"] == 4 and "revoke" in error["message"]


def test_a_profiles_org_does_not_narrow_all_orgs(neon: Neon, tmp_path: Path) -> None:
    """list and sweep --all-orgs work under a profile with a default org (no conflict)."""
    write_config(tmp_path, f'[profiles.w]\norg = "{neon.org}"\n')
    env: dict[str, str | None] = {"XDG_CONFIG_HOME": str(tmp_path)}
    for command in ("list", "sweep"):
        result = neon("--profile", "w", command, "--all-orgs", env=env)
        assert result.exit_code == 0, result.stderr
