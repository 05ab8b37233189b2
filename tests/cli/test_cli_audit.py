"""``neon-keys audit``: findings, the CI gate, and revoking what was flagged."""

from __future__ import annotations

import datetime
import json

import httpx
import pytest
from cli_support import DAY, Neon, lines
from click.testing import CliRunner, Result
from date_rewriting import DateRewriting
from neon_keys import Backoff, LeaseName
from neon_keys.cli import _revoking, cli
from neon_keys.cli._session import Session
from neon_keys.testing import FakeClock, Fault

HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def scene(neon: Neon, clock: FakeClock) -> dict[str, int]:
    """Personal keys: one stale, one never used, two sharing a name, one healthy."""
    world, admin = neon.world, neon.world.seed.admin_id
    stale = world.issue_personal_key(admin, "stale")
    old_dup = world.issue_personal_key(admin, "dup")
    neon.use(stale)
    neon.use(old_dup)
    world.issue_personal_key(admin, "never")
    clock.advance(120 * DAY)
    new_dup = world.issue_personal_key(admin, "dup")
    neon.use(new_dup)
    neon.use(world.seed.admin_token)
    ids = {info.name: info.id for info in world.personal_keys(admin)}
    ids["old_dup"] = world.key_for_token(old_dup).id  # type: ignore[union-attr]
    ids["new_dup"] = world.key_for_token(new_dup).id  # type: ignore[union-attr]
    return ids


def test_reports_never_used_and_stale_keys_and_shows_retiring_ones(
    neon: Neon, scene: dict[str, int]
) -> None:
    """Each flagged key is listed with its reasons; a key a newer one in use replaced is
    shown as retiring, not flagged as a duplicate or as unused."""
    result = neon("audit")
    assert result.exit_code == 0
    rows = {int(row.split()[0]): row for row in lines(result.stdout)[1:]}
    assert set(rows) == {scene["stale"], scene["never"]}
    assert "last used 120 days ago" in rows[scene["stale"]]
    assert "never used (created 120 days ago)" in rows[scene["never"]]
    assert "2 of 5 keys flagged" in result.stderr
    assert (
        f'Retiring: key {scene["old_dup"]} "dup", replaced by key {scene["new_dup"]}'
        in result.stderr
    )


def test_an_unused_newer_duplicate_is_flagged_not_the_key_in_use(
    neon: Neon, clock: FakeClock
) -> None:
    """A newer key of the same name never used (an unfinished rotation) is the duplicate
    flagged; the older key in use is kept and not called retiring."""
    world, admin = neon.world, neon.world.seed.admin_id
    token = world.issue_personal_key(admin, "ci")
    neon.use(token)
    clock.advance(DAY)
    abandoned = world.key_for_token(world.issue_personal_key(admin, "ci"))
    assert abandoned is not None
    clock.advance(2 * DAY)
    neon.use(world.issue_personal_key(admin, "other"))  # keep "ci" keys apart from the caller
    report = json.loads(neon("-o", "json", "audit").stdout)
    by_id = {f["id"]: [r["code"] for r in f["findings"]] for f in report["findings"]}
    assert by_id[abandoned.id] == ["never_used", "duplicate_name"]
    assert report["retiring"] == []


def test_an_expired_lease_is_flagged_even_when_a_newer_lease_replaced_it(
    neon: Neon, clock: FakeClock
) -> None:
    """A lease past its expiry is flagged (and revoked by --revoke) though a newer lease in
    service replaced it; it is still shown as retiring, as check reports it too."""
    world, admin = neon.world, neon.world.seed.admin_id
    old = world.issue_personal_key(admin, LeaseName.new("job", clock.now() + HOUR).name)
    neon.use(old)
    clock.advance(HOUR.total_seconds() / 2)
    new = world.issue_personal_key(admin, LeaseName.new("job", clock.now() + 2 * HOUR).name)
    neon.use(new)
    clock.advance(HOUR.total_seconds() * 1.5)
    neon.use(world.seed.admin_token)
    old_id = world.key_for_token(old).id  # type: ignore[union-attr]
    report = json.loads(neon("-o", "json", "audit").stdout)
    (flagged,) = report["findings"]
    assert flagged["id"] == old_id
    assert flagged["findings"] == [
        {"code": "expired_lease", "message": "lease expired 1h ago; neon-keys sweep revokes it"}
    ]
    assert [item["id"] for item in report["retiring"]] == [old_id]
    result = neon("audit", "--revoke", "--yes")
    assert result.exit_code == 0, result.stderr
    assert world.key(old_id).revoked
    assert not world.key(world.key_for_token(new).id).revoked  # type: ignore[union-attr]


def test_unused_days_sets_the_threshold(neon: Neon, scene: dict[str, int]) -> None:
    """--unused-days 200 no longer flags a key last used 120 days ago."""
    result = neon("-o", "json", "audit", "--unused-days", "200")
    flagged = {f["id"] for f in json.loads(result.stdout)["findings"]}
    assert flagged == {scene["never"]}


def test_json_report(neon: Neon, scene: dict[str, int]) -> None:
    """--output json gives the settings, the count checked and each finding with codes."""
    result = neon("-o", "json", "audit")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["org_id"] is None and report["unused_days"] == 90 and report["checked"] == 5
    assert report["min_age"] == "1d"
    by_id = {f["id"]: f for f in report["findings"]}
    assert scene["old_dup"] not in by_id
    assert [r["code"] for r in by_id[scene["never"]]["findings"]] == ["never_used"]
    (retiring,) = report["retiring"]
    assert (retiring["id"], retiring["replaced_by"]) == (scene["old_dup"], scene["new_dup"])
    assert by_id[scene["stale"]]["kind"] == "personal"
    assert all(f["revocation"] is None for f in report["findings"])


def test_fail_on_findings_exits_1(neon: Neon, scene: dict[str, int]) -> None:
    """--fail-on-findings turns findings into exit code 1."""
    result = neon("audit", "--fail-on-findings")
    assert result.exit_code == 1
    assert "2 flagged keys still active" in result.stderr


def test_fail_on_findings_passes_when_clean(neon: Neon) -> None:
    """With nothing to flag, --fail-on-findings exits 0."""
    neon("whoami")
    result = neon("audit", "--fail-on-findings")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "0 of 1 key flagged" in result.stderr


def test_revoke_with_yes_revokes_the_flagged_keys(neon: Neon, scene: dict[str, int]) -> None:
    """--revoke --yes revokes every flagged key, reports each, and spares the others (a
    retiring key is left to neon-keys retire)."""
    result = neon("audit", "--revoke", "--yes", "--fail-on-findings")
    assert result.exit_code == 0, result.stderr
    for name in ("stale", "never"):
        assert neon.world.key(scene[name]).revoked
    for name in ("old_dup", "new_dup"):
        assert not neon.world.key(scene[name]).revoked
    assert not neon.world.key(neon.world.seed.admin_key_id).revoked
    outcome_rows = [row for row in lines(result.stdout) if row.rstrip().endswith("revoked")]
    assert len(outcome_rows) == 2


def test_revoke_json_has_each_outcome(neon: Neon, scene: dict[str, int]) -> None:
    """With --output json, each finding carries the outcome of its revocation."""
    report = json.loads(neon("-o", "json", "audit", "--revoke", "--yes").stdout)
    assert {f["revocation"]["outcome"] for f in report["findings"]} == {"revoked"}


def test_revoke_failure_exits_1_with_per_key_outcomes(neon: Neon, scene: dict[str, int]) -> None:
    """A revoke that fails is reported for its key and the command exits 1."""
    neon.world.faults.inject("revokeApiKey", Fault.status(500, message="boom"))
    result = neon("audit", "--revoke", "--yes")
    assert result.exit_code == 1
    assert sum("failed: " in row for row in lines(result.stdout)) == 1
    assert sum(neon.world.key(scene[n]).revoked for n in ("stale", "never")) == 1
    assert "could not be revoked" in result.stderr


def test_revoke_needs_yes_without_a_terminal(neon: Neon, scene: dict[str, int]) -> None:
    """--revoke off a terminal without --yes exits 2 before any request."""
    neon.world.log.clear()
    assert neon("audit", "--revoke").exit_code == 2
    assert len(neon.world.log) == 0


def test_yes_without_revoke_is_a_usage_error(neon: Neon) -> None:
    """--yes alone is refused, so that nobody believes it revoked something."""
    assert neon("audit", "--yes").exit_code == 2


def test_revoke_asks_on_a_terminal(
    neon: Neon, scene: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a terminal the flagged ids are shown in the question; "n" revokes nothing, exit 1."""
    monkeypatch.setattr(_revoking, "stdin_is_terminal", lambda: True)
    result = neon("audit", "--revoke", input="n\n")
    assert result.exit_code == 1
    assert "About to revoke 2 keys of your personal keys:" in result.stderr
    assert f"  {scene['stale']}  stale\n  {scene['never']}  never\n" in result.stderr
    assert "Revoke them? This cannot be undone." in result.stderr
    assert neon.world.log.count("revokeApiKey") == 0


def _many_unused(neon: Neon, clock: FakeClock) -> None:
    for number in range(12):
        neon.world.issue_personal_key(neon.world.seed.admin_id, f"unused-{number}")
    clock.advance(2 * DAY)


def test_many_revocations_draw_a_progress_bar(
    neon: Neon, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above ten flagged keys a bar is drawn on a terminal's stderr; stdout keeps the outcomes."""
    monkeypatch.setattr(_revoking, "stderr_is_terminal", lambda: True)
    _many_unused(neon, clock)
    result = neon("audit", "--revoke", "--yes")
    assert result.exit_code == 0
    assert "Revoking" in result.stderr
    assert "Revoking" not in result.stdout
    assert sum(row.endswith("revoked") for row in lines(result.stdout)) == 12


def test_no_progress_bar_off_a_terminal(neon: Neon, clock: FakeClock) -> None:
    """In a log or a pipe (CI), no progress bar is drawn; each key's outcome is still reported."""
    _many_unused(neon, clock)
    result = neon("audit", "--revoke", "--yes")
    assert result.exit_code == 0
    assert "Revoking" not in result.stderr
    assert sum(row.endswith("revoked") for row in lines(result.stdout)) == 12


def test_no_progress_bar_with_json_output(
    neon: Neon, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --output json, even on a terminal, stderr gets no bar and stdout is one JSON report."""
    monkeypatch.setattr(_revoking, "stderr_is_terminal", lambda: True)
    _many_unused(neon, clock)
    result = neon("-o", "json", "audit", "--revoke", "--yes")
    assert result.exit_code == 0
    assert "Revoking" not in result.stderr
    report = json.loads(result.stdout)
    assert [f["revocation"]["outcome"] for f in report["findings"]] == ["revoked"] * 12


def test_org_audit_covers_project_keys_and_scopes_duplicates(neon: Neon, clock: FakeClock) -> None:
    """Org keys of the same name in different scopes are not duplicates; the table has projects."""
    neon.world.issue_org_key(neon.org, "ci")
    neon.world.issue_org_key(neon.org, "ci", project_id=neon.project)
    clock.advance(2 * DAY)
    result = neon("-o", "json", "audit", "--org", neon.org)
    report = json.loads(result.stdout)
    assert report["org_id"] == neon.org
    codes = [[r["code"] for r in f["findings"]] for f in report["findings"]]
    assert codes == [["never_used"], ["never_used"]]
    table = neon("audit", "--org", neon.org).stdout
    assert "PROJECT" in table and neon.project in table


# -- keys too young to judge ----------------------------------------------------------------


def test_a_key_minted_a_minute_ago_is_not_a_finding(neon: Neon, clock: FakeClock) -> None:
    """A pipeline's fresh, unused key is neither flagged nor revoked by audit --revoke --yes."""
    neon.world.issue_personal_key(neon.world.seed.admin_id, "old-unused")
    clock.advance(3 * DAY)
    fresh = neon.world.issue_personal_key(neon.world.seed.admin_id, "pipeline")
    fresh_id = neon.world.key_for_token(fresh).id  # type: ignore[union-attr]
    clock.advance(60)
    result = neon("audit", "--revoke", "--yes")
    assert result.exit_code == 0, result.stderr
    assert "pipeline" not in result.stdout and "old-unused" in result.stdout
    assert not neon.world.key(fresh_id).revoked
    assert "1 of 3 keys flagged" in result.stderr


@pytest.mark.parametrize(("min_age", "flagged"), [("0s", True), ("30s", True), ("2m", False)])
def test_min_age_sets_the_bound(neon: Neon, clock: FakeClock, min_age: str, flagged: bool) -> None:
    """--min-age takes a duration; a never-used key of exactly that age or older is flagged."""
    neon.world.issue_personal_key(neon.world.seed.admin_id, "fresh")
    clock.advance(60)
    report = json.loads(neon("-o", "json", "audit", "--min-age", min_age).stdout)
    assert report["min_age"] == min_age
    assert ("fresh" in [f["name"] for f in report["findings"]]) is flagged


@pytest.mark.parametrize("bad", ["1 day", "-1d", "1.5h", "1w", "", "1d1d"])
def test_a_bad_min_age_is_refused_before_any_request(neon: Neon, bad: str) -> None:
    """--min-age that is not a duration exits 2 naming the grammar, and nothing is sent."""
    result = neon("audit", "--min-age", bad)
    assert result.exit_code == 2
    assert "such as 90s, 15m, 1h30m or 7d" in result.stderr
    assert len(neon.world.log) == 0


@pytest.mark.parametrize("local_skew_days", [-400, 400])
def test_ages_are_judged_on_neons_clock_not_this_machines(
    neon: Neon, clock: FakeClock, local_skew_days: int
) -> None:
    """A local clock 400 days off flags nothing wrongly and misses nothing: the audit's
    "now" is Neon's, from the Date of the listing's answer."""
    wrong = clock.now() + datetime.timedelta(days=local_skew_days)
    neon.local_clock = lambda: wrong
    neon.world.issue_personal_key(neon.world.seed.admin_id, "young")
    young = neon("-o", "json", "audit", "--fail-on-findings")
    assert young.exit_code == 0, young.stdout
    assert json.loads(young.stdout)["findings"] == []
    clock.advance(120 * DAY)
    old = neon("-o", "json", "audit")
    findings = {
        f["name"]: [x["code"] for x in f["findings"]] for f in json.loads(old.stdout)["findings"]
    }
    assert findings == {"young": ["never_used"]}
    assert "created 120 days ago" in old.stdout


@pytest.mark.parametrize("local_skew_days", [-400, 400])
def test_list_unused_days_is_judged_on_neons_clock(
    neon: Neon, clock: FakeClock, local_skew_days: int
) -> None:
    """``list --unused-days`` measures on Neon's clock too."""
    neon.local_clock = lambda: clock.now() + datetime.timedelta(days=local_skew_days)
    token = neon.world.issue_personal_key(neon.world.seed.admin_id, "busy")
    neon.use(token)
    listed = neon("-o", "json", "list", "--unused-days", "30")
    assert [k["name"] for k in json.loads(listed.stdout)] == []
    clock.advance(31 * DAY)
    listed = neon("-o", "json", "list", "--unused-days", "30")
    assert [k["name"] for k in json.loads(listed.stdout)] == ["busy"]


def _through(neon: Neon, transport: httpx.BaseTransport, *args: str) -> Result:
    """``neon-keys ARGS`` against ``neon``'s world, its answers passing through ``transport``."""
    with httpx.Client(transport=transport) as http:
        session = Session(client_options={"backoff": Backoff.immediate(), "http_client": http})
        return CliRunner().invoke(
            cli,
            list(args),
            obj=session,
            env={"NEON_API_KEY": neon.world.seed.admin_token, "NEON_API_HOST": None},
        )


@pytest.mark.parametrize("org", [False, True])
def test_a_date_far_ahead_of_neons_records_revokes_nothing(
    neon: Neon, scene: dict[str, int], org: bool
) -> None:
    """A Date in year 2300 makes every key look unused: audit --revoke exits 1 with
    ServerTimeUnknownError and revokes nothing, with the caller's keys listed (personal)
    or not (an organization's); audit without --revoke still reports."""
    if org:
        neon.world.issue_org_key(neon.org, "deploy")
    transport = DateRewriting(neon.world, "Mon, 01 Jan 2300 00:00:00 GMT")
    where = ["--org", neon.org] if org else []
    neon.world.log.clear()
    result = _through(neon, transport, "-o", "json", "audit", *where, "--revoke", "--yes")
    assert result.exit_code == 1, result.output
    error = json.loads(lines(result.stderr)[-1])["error"]
    assert error["library_error"]["type"] == "ServerTimeUnknownError"
    assert "audit --revoke judges what is due by Neon's clock" in error["message"]
    assert neon.world.log.count("revokeApiKey") == 0
    assert _through(neon, transport, "audit", *where).exit_code == 0
