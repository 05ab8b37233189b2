"""Errors: one line, documented exit codes, tracebacks only with --verbose."""

from __future__ import annotations

import json
import socket

import pytest
from cli_support import Neon, lines
from click.testing import CliRunner
from neon_keys import APITimeoutError
from neon_keys.cli import ExitCode, _identity, cli
from neon_keys.cli._errors import describe
from neon_keys.cli._session import Session
from neon_keys.testing import Fault


def test_exit_codes_are_stable() -> None:
    """The documented exit codes keep their values."""
    assert [int(code) for code in ExitCode] == [0, 1, 2, 3, 4, 129, 130, 143]


def test_missing_api_key_exits_3_without_a_request(neon: Neon) -> None:
    """No --api-key and no NEON_API_KEY: exit 3 with advice, and nothing sent."""
    result = neon("list", env={"NEON_API_KEY": None})
    assert result.exit_code == 3
    assert lines(result.stderr) == [
        "Error: no Neon API key: pass --api-key, set NEON_API_KEY, or use a --profile "
        "with an api_key_command (create a key in the Neon Console: Account settings > API keys)"
    ]
    assert len(neon.world.log) == 0


def test_blank_api_key_counts_as_missing(neon: Neon) -> None:
    """An empty NEON_API_KEY is reported like a missing one."""
    assert neon("whoami", key="  ").exit_code == 3


def test_api_key_option_wins_over_the_environment(neon: Neon) -> None:
    """--api-key is used instead of NEON_API_KEY."""
    result = neon("--api-key", neon.world.seed.member_token, "-o", "json", "whoami")
    assert neon.world.seed.member_id in result.stdout


def test_unknown_api_key_exits_3(neon: Neon) -> None:
    """A key Neon refuses (401) exits 3 with one line that does not show the key."""
    token = "napi_" + "z" * 60
    result = neon("list", key=token)
    assert result.exit_code == 3
    (line,) = lines(result.stderr)
    assert line.startswith("Error: Neon refused the API key:") and "NEON_API_KEY" in line
    assert token not in result.stderr


def test_revoked_api_key_exits_3(neon: Neon) -> None:
    """A revoked key exits 3."""
    token = neon.world.issue_personal_key(neon.world.seed.admin_id, "gone")
    neon.world.revoke(neon.personal_ids()[-1])
    assert neon("whoami", key=token).exit_code == 3


def test_permission_denied_exits_1(neon: Neon) -> None:
    """A member who may not manage org keys gets a one-line 403 and exit 1."""
    result = neon("list", "--org", neon.org, key=neon.world.seed.member_token)
    assert result.exit_code == 1
    assert len(lines(result.stderr)) == 1 and "HTTP 403" in result.stderr


def test_plain_http_to_a_remote_host_is_a_usage_error(neon: Neon) -> None:
    """--api-host over http to a non-loopback host exits 2 before sending the key."""
    result = neon("--api-host", "http://neon.example.com/api/v2", "whoami")
    assert result.exit_code == 2
    assert "--api-host" in result.stderr


@pytest.mark.parametrize("key", ['"napi_quoted_key"', "napi_with space", "napi_accent_\u00e9"])
@pytest.mark.parametrize("source", ["NEON_API_KEY", "--api-key"])
def test_a_malformed_api_key_names_where_the_key_came_from(
    neon: Neon, key: str, source: str
) -> None:
    """A key refused before sending names the source it came from, not the host."""
    if source == "--api-key":
        result = neon("--api-key", key, "whoami", env={"NEON_API_KEY": None})
    else:
        result = neon("whoami", env={"NEON_API_KEY": key})
    assert result.exit_code == 2
    (line,) = lines(result.stderr)
    assert line.endswith(f"({source})") and "--api-host" not in line
    assert key not in line
    assert len(neon.world.log) == 0


@pytest.mark.parametrize("org", ["Org_Upper", "x" * 61, "a b"])
def test_invalid_org_id_exits_2_without_a_request(neon: Neon, org: str) -> None:
    """An --org that breaks the id pattern is refused before any request."""
    assert neon("list", "--org", org).exit_code == 2
    assert len(neon.world.log) == 0


def test_server_error_is_one_line_without_traceback(neon: Neon) -> None:
    """A 5xx after retries is reported in one line, without a traceback, exit 1."""
    neon.world.faults.inject("listApiKeys", Fault.html(502), times=None)
    result = neon("list")
    assert result.exit_code == 1
    (line,) = lines(result.stderr)
    assert "HTTP 502" in line and "Traceback" not in result.stderr


def test_verbose_shows_requests_and_the_traceback(neon: Neon) -> None:
    """--verbose logs each attempt and prints the traceback of a failure."""
    neon.world.faults.inject("listApiKeys", Fault.status(503), times=None)
    result = neon("--verbose", "list")
    assert result.exit_code == 1
    assert result.stderr.count("GET /api_keys -> 503") == 3
    assert "Traceback" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1].startswith("Error: ")


def test_verbose_logging_is_detached_after_the_run(neon: Neon) -> None:
    """The log handler --verbose adds is removed when the command ends."""
    import logging

    before = list(logging.getLogger("neon_keys").handlers)
    neon("--verbose", "whoami")
    assert logging.getLogger("neon_keys").handlers == before


def test_unexpected_errors_are_one_line(neon: Neon, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug surfaces as one line naming the exception, with a hint about --verbose."""

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("oops")

    monkeypatch.setattr(_identity, "auth_record", broken)
    result = neon("whoami")
    assert result.exit_code == 1
    assert lines(result.stderr) == [
        "Error: unexpected error: RuntimeError: oops (run with --verbose for details)"
    ]


def test_unknown_command_is_a_usage_error() -> None:
    """An unknown command exits 2."""
    assert CliRunner().invoke(cli, ["frobnicate"]).exit_code == 2


def test_version_names_the_spec() -> None:
    """--version shows the library version and the pinned spec's release and digest."""
    from neon_keys import __version__
    from neon_keys._spec import SPEC_RELEASE, SPEC_SHA256

    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == (
        f"neon-keys {__version__} (Neon API spec {SPEC_RELEASE}, sha256 {SPEC_SHA256[:12]})\n"
    )


def _dead_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_connection_refused_is_one_line_naming_the_host(neon: Neon) -> None:
    """A dead API host gives one line naming it, with advice, exit 1 and no traceback."""
    host = f"http://127.0.0.1:{_dead_port()}/api/v2"
    result = neon("list", env={"NEON_API_HOST": host})
    assert result.exit_code == 1
    (line,) = lines(result.stderr)
    assert line.startswith(f"Error: cannot reach the Neon API at {host}: GET /api_keys: ")
    assert "--api-host" in line and "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("caller", "args", "code", "status"),
    [
        ("admin", ["list", "--org", "org-nowhere-0000"], 1, "HTTP 404"),
        ("unknown", ["whoami"], 3, "HTTP 401"),
        ("org key", ["list"], 1, "HTTP 403"),
    ],
)
def test_api_refusals_are_one_line_without_traceback(
    neon: Neon, caller: str, args: list[str], code: int, status: str
) -> None:
    """404, 401 and 403 each give one line with the status and their documented exit code."""
    keys = {
        "admin": lambda: neon.world.seed.admin_token,
        "unknown": lambda: "napi_" + "u" * 60,
        "org key": lambda: neon.world.issue_org_key(neon.org, "deploy"),
    }
    result = neon(*args, key=keys[caller]())
    assert result.exit_code == code
    (line,) = lines(result.stderr)
    assert status in line and "Traceback" not in result.stderr


def test_global_options_also_work_after_the_command(neon: Neon) -> None:
    """--output, --api-key and --verbose may follow the command, as they may precede it."""
    result = neon("whoami", "-o", "json", "--api-key", neon.world.seed.member_token, "--verbose")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["account_id"] == neon.world.seed.member_id
    assert "GET /auth -> 200" in result.stderr


def test_an_option_after_the_command_wins(neon: Neon) -> None:
    """Given on both sides, the option after the command is the one used."""
    result = neon("-o", "table", "list", "--output", "json")
    assert json.loads(result.stdout)[0]["name"] == "seed-admin"


# -- messages that help ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "how", [["--timeout", "0.2"], ["whoami", "--timeout", "0.2"], ["env"]], ids=str
)
def test_a_read_timeout_says_how_long_it_waited(neon: Neon, how: list[str]) -> None:
    """A slow Neon gives 'timed out after N s waiting for Neon', not 'cannot reach'."""
    neon.world.faults.inject("getAuthDetails", Fault.delay(1.0, committed=False), times=None)
    env = {"NEON_API_TIMEOUT": "0.2"} if how == ["env"] else {}
    args = ["whoami"] if how == ["env"] else how if how[0] == "whoami" else [*how, "whoami"]
    result = neon(*args, env=env)
    assert result.exit_code == 1
    (line,) = lines(result.stderr)
    assert line.startswith("Error: GET /auth: timed out after 0.2 s waiting for Neon to answer")
    assert line.endswith(
        f"; 3 attempts to {neon.server.base_url}; "
        "wait longer with --timeout SECONDS or NEON_API_TIMEOUT"
    )
    assert "cannot reach" not in line
    neon.world.log.settle()
    assert neon.world.log.count("getAuthDetails") == 3


def test_the_timeout_reaches_the_client() -> None:
    """--timeout sets the client's timeout; without it, the library's default of 30 s."""
    session = Session(api_key="napi_" + "k" * 60, timeout=2.5)
    assert session.client().timeout == 2.5
    assert Session(api_key="napi_" + "k" * 60).client().timeout == 30.0


def test_a_timeout_names_where_how_often_and_how_to_wait_longer() -> None:
    """Any timeout keeps the library's words and adds the API root, the attempts and advice."""
    error = APITimeoutError(
        "GET /auth: could not connect to console.neon.tech: timed out after 30 s",
        method="GET",
        path="/auth",
        request_sent=False,
    )
    error.attempts = 1
    text = describe(error, api_host="https://console.neon.tech/api/v2")
    assert text == (
        "GET /auth: could not connect to console.neon.tech: timed out after 30 s; 1 attempt "
        "to https://console.neon.tech/api/v2; wait longer with --timeout SECONDS or "
        "NEON_API_TIMEOUT"
    )


@pytest.mark.parametrize("bad", ["0", "-1", "inf", "nan", "abc", ""])
def test_a_bad_timeout_is_refused_before_any_request(neon: Neon, bad: str) -> None:
    """--timeout must be a positive, finite number of seconds; else exit 2, nothing sent."""
    result = neon("--timeout", bad, "whoami")
    assert result.exit_code == 2
    assert "seconds" in result.stderr
    assert len(neon.world.log) == 0


def test_a_root_without_api_v2_is_hinted_at_on_404(neon: Neon) -> None:
    """A 404 from an API root that lacks /api/v2 says so, and names Neon's root."""
    root = neon.server.base_url.removesuffix("/api/v2")
    result = neon("--api-host", root, "whoami")
    assert result.exit_code == 1
    (line,) = lines(result.stderr)
    assert "HTTP 404" in line
    assert f"the API root {root} does not end in /api/v2" in line
    assert "https://console.neon.tech/api/v2" in line


def test_a_404_under_the_right_root_has_no_hint(neon: Neon) -> None:
    """A 404 for a missing organization, under a root that ends in /api/v2, says nothing more."""
    result = neon("list", "--org", "org-nowhere-0000")
    assert result.exit_code == 1
    assert "does not end in /api/v2" not in result.stderr


@pytest.mark.parametrize("project", [False, True])
def test_an_org_key_on_personal_keys_is_told_about_org(neon: Neon, project: bool) -> None:
    """403 on personal keys with an organization (or project) key names --org and the org."""
    token = neon.world.issue_org_key(
        neon.org, "automation", project_id=neon.project if project else None
    )
    result = neon("list", key=token)
    assert result.exit_code == 1
    (line,) = lines(result.stderr)
    assert "HTTP 403" in line
    assert f"the API key is a key of organization {neon.org}" in line
    assert f"pass --org {neon.org}" in line


def test_a_403_for_a_personal_key_has_no_org_hint(neon: Neon) -> None:
    """A member refused on an organization's keys gets the 403 alone."""
    result = neon("list", "--org", neon.org, key=neon.world.seed.member_token)
    assert result.exit_code == 1
    assert "--org" not in result.stderr.split("HTTP 403", 1)[1]
