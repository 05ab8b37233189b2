"""``neon-keys revoke``: confirmation, several ids, per-id outcomes, --missing-ok."""

from __future__ import annotations

import datetime
import json

import pytest
from cli_support import Neon, lines
from click.testing import Result
from neon_keys import AuthDetails, PersonalKey
from neon_keys.cli import _caller, _revoking
from neon_keys.testing import Fault


def _personal(neon: Neon, *names: str) -> list[int]:
    for name in names:
        neon.world.issue_personal_key(neon.world.seed.admin_id, name)
    return neon.personal_ids()[1:]


def test_revokes_one_key_with_yes(neon: Neon) -> None:
    """revoke ID --yes revokes the key and reports it."""
    (key_id,) = _personal(neon, "ci")
    result = neon("revoke", str(key_id), "--yes")
    assert result.exit_code == 0
    assert neon.world.key(key_id).revoked
    header, row = lines(result.stdout)
    assert header.split() == ["ID", "NAME", "RESULT"]
    assert row.split() == [str(key_id), "ci", "revoked"]


def test_reports_each_id_and_fails_on_a_missing_one(neon: Neon) -> None:
    """With one unknown id among several, the others are revoked and the exit code is 1."""
    first, second = _personal(neon, "a", "b")
    result = neon("revoke", str(first), "999999", str(second), "--yes")
    assert result.exit_code == 1
    assert neon.world.key(first).revoked and neon.world.key(second).revoked
    rows = lines(result.stdout)[1:]
    assert [row.split()[0] for row in rows] == [str(first), "999999", str(second)]
    assert rows[1].split(None, 2)[2] == "already gone (not found)"
    assert "1 of 3 keys not revoked (already gone: not found in this scope" in result.stderr
    assert "--missing-ok" in result.stderr


def test_missing_ok_treats_not_found_as_success(neon: Neon) -> None:
    """--missing-ok makes a 404 a success."""
    (key_id,) = _personal(neon, "a")
    result = neon("revoke", str(key_id), "999999", "--yes", "--missing-ok")
    assert result.exit_code == 0
    assert lines(result.stdout)[2].split(None, 2)[2] == "already gone"


def test_json_output_has_one_record_per_id(neon: Neon) -> None:
    """--output json prints id, name, outcome, ok and error for each id."""
    (key_id,) = _personal(neon, "a")
    result = neon("-o", "json", "revoke", str(key_id), "999999", "--yes")
    assert result.exit_code == 1
    done, missing = json.loads(result.stdout)
    assert done == {"id": key_id, "name": "a", "outcome": "revoked", "ok": True, "error": None}
    assert missing["outcome"] == "already_gone" and missing["ok"] is False
    assert "404" in missing["error"]


def test_revokes_org_keys(neon: Neon) -> None:
    """--org revokes organization and project-scoped keys."""
    neon.world.issue_org_key(neon.org, "deploy")
    neon.world.issue_org_key(neon.org, "preview", project_id=neon.project)
    ids = neon.org_ids()
    result = neon("revoke", *map(str, ids), "--org", neon.org, "--yes")
    assert result.exit_code == 0
    assert neon.org_ids() == []


def test_repeated_ids_are_revoked_once(neon: Neon) -> None:
    """An id given twice is sent once."""
    (key_id,) = _personal(neon, "a")
    assert neon("revoke", str(key_id), str(key_id), "--yes").exit_code == 0
    assert neon.world.log.count("revokeApiKey") == 1


def test_without_yes_and_without_a_terminal_nothing_is_sent(neon: Neon) -> None:
    """Not on a terminal and without --yes: exit 2 and no request at all."""
    (key_id,) = _personal(neon, "a")
    result = neon("revoke", str(key_id))
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert len(neon.world.log) == 0


def test_asks_on_a_terminal_and_revokes_on_yes(neon: Neon, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal, answering y revokes; the question goes to stderr."""
    monkeypatch.setattr(_revoking, "stdin_is_terminal", lambda: True)
    (key_id,) = _personal(neon, "a")
    result = neon("revoke", str(key_id), input="y\n")
    assert result.exit_code == 0
    assert f"About to revoke 1 key of your personal keys:\n  {key_id}  a\nRevoke it?" in (
        result.stderr
    )
    assert neon.world.key(key_id).revoked


def test_answering_no_revokes_nothing(neon: Neon, monkeypatch: pytest.MonkeyPatch) -> None:
    """Declining the confirmation exits 1 and sends no revoke."""
    monkeypatch.setattr(_revoking, "stdin_is_terminal", lambda: True)
    (key_id,) = _personal(neon, "a")
    result = neon("revoke", str(key_id), input="n\n")
    assert result.exit_code == 1
    assert "nothing was revoked" in result.stderr
    assert neon.world.log.count("revokeApiKey") == 0


@pytest.mark.parametrize(
    "bad",
    ["abc", "0", "1.5", "99999999999999999999", " ", "١٢", "+1", "1e3", "0x10", "1_0", "9" * 5000],
)
def test_invalid_ids_are_refused_before_any_request(neon: Neon, bad: str) -> None:
    """Ids that are not positive 64-bit integers exit 2 and nothing is sent."""
    result = neon("revoke", "5", bad, "--yes")
    assert result.exit_code == 2
    assert "key_id" in result.stderr
    assert len(neon.world.log) == 0


def test_negative_id_is_a_usage_error(neon: Neon) -> None:
    """A negative id exits 2 and nothing is sent."""
    assert neon("revoke", "--yes", "--", "-5").exit_code == 2
    assert len(neon.world.log) == 0


def test_ids_are_required(neon: Neon) -> None:
    """revoke without ids is a usage error."""
    assert neon("revoke", "--yes").exit_code == 2


def test_a_server_failure_is_reported_per_id(neon: Neon) -> None:
    """A 500 on one revoke marks that id failed and the command exits 1."""
    first, second = _personal(neon, "a", "b")
    neon.world.faults.inject("revokeApiKey", Fault.status(500, message="boom"))
    result = neon("revoke", str(first), str(second), "--yes")
    assert result.exit_code == 1
    rows = lines(result.stdout)[1:]
    assert "failed: " in rows[0] and "boom" in rows[0]
    assert rows[1].split()[-1] == "revoked"


def test_a_refused_credential_exits_3(neon: Neon) -> None:
    """When every revoke fails with 401, the exit code is the authentication one."""
    result = neon("revoke", "123", "--yes", key="napi_" + "0" * 60)
    assert result.exit_code == 3


def test_not_found_without_org_suggests_org(neon: Neon) -> None:
    """An org key id revoked without --org is not found, and the error says --org may be missing."""
    neon.world.issue_org_key(neon.org, "deploy")
    (org_key,) = neon.org_ids()
    result = neon("revoke", str(org_key), "--yes")
    assert result.exit_code == 1
    assert "organization keys need --org" in result.stderr
    assert not neon.world.key(org_key).revoked


def test_many_ids_draw_a_progress_bar_on_a_terminal(
    neon: Neon, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Revoking more than ten keys draws a bar on a terminal's stderr, and reports each key."""
    monkeypatch.setattr(_revoking, "stderr_is_terminal", lambda: True)
    ids = _personal(neon, *(f"k{n}" for n in range(11)))
    result = neon("revoke", *map(str, ids), "--yes")
    assert result.exit_code == 0
    assert "Revoking" in result.stderr
    assert [row.split()[-1] for row in lines(result.stdout)[1:]] == ["revoked"] * 11


def test_the_prompt_names_every_key(neon: Neon, monkeypatch: pytest.MonkeyPatch) -> None:
    """The question lists each id with its name, and says which ids are not in the scope."""
    monkeypatch.setattr(_revoking, "stdin_is_terminal", lambda: True)
    first, second = _personal(neon, "deploy", "preview")
    result = neon("revoke", str(first), "77", str(second), input="n\n")
    assert result.exit_code == 1
    assert (
        "About to revoke 3 keys of your personal keys:\n"
        f"  {first}  deploy\n"
        "  77      (not among your personal keys)\n"
        f"  {second}  preview\n"
        "Revoke them? This cannot be undone."
    ) in result.stderr
    assert neon.world.log.count("revokeApiKey") == 0


def test_org_prompt_names_the_organization(neon: Neon, monkeypatch: pytest.MonkeyPatch) -> None:
    """With --org, the question says whose keys they are."""
    monkeypatch.setattr(_revoking, "stdin_is_terminal", lambda: True)
    neon.world.issue_org_key(neon.org, "deploy")
    (key_id,) = neon.org_ids()
    result = neon("revoke", str(key_id), "--org", neon.org, input="n\n")
    assert f"About to revoke 1 key of organization {neon.org}'s keys:\n  {key_id}  deploy" in (
        result.stderr
    )


def test_the_calling_key_needs_including_self(neon: Neon) -> None:
    """Without --including-self, revoking the calling key exits 2 and revokes nothing."""
    (other,) = _personal(neon, "other")
    own = neon.world.seed.admin_key_id
    result = neon("revoke", str(other), str(own), "--yes")
    assert result.exit_code == 2, result.stderr
    assert f'key {own} "seed-admin" may be the key making this call' in result.stderr
    assert "--including-self" in result.stderr and "no key was revoked" in result.stderr
    assert neon.world.log.count("revokeApiKey") == 0
    assert not neon.world.key(own).revoked and not neon.world.key(other).revoked


def test_including_self_revokes_the_calling_key(neon: Neon) -> None:
    """With --including-self the calling key is revoked like any other."""
    own = neon.world.seed.admin_key_id
    result = neon("revoke", str(own), "--yes", "--including-self")
    assert result.exit_code == 0, result.stderr
    assert neon.world.key(own).revoked


def test_the_prompt_warns_about_the_calling_key(
    neon: Neon, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a terminal, --including-self still asks, and the calling key's line says what happens."""
    monkeypatch.setattr(_revoking, "stdin_is_terminal", lambda: True)
    own = neon.world.seed.admin_key_id
    result = neon("revoke", str(own), "--including-self", input="n\n")
    assert f"  {own}  seed-admin  <- may be the key making this call: it will stop working" in (
        result.stderr
    )
    assert not neon.world.key(own).revoked


def test_an_org_key_is_the_caller_only_in_its_own_organization(neon: Neon) -> None:
    """An org key revoking itself needs --including-self; a personal key revoking it does not."""
    token = neon.world.issue_org_key(neon.org, "automation")
    (own,) = neon.org_ids()
    result = neon("revoke", str(own), "--org", neon.org, "--yes", key=token)
    assert result.exit_code == 2 and "may be the key making this call" in result.stderr
    neon.world.issue_org_key(neon.org, "spare")
    spare = neon.org_ids()[-1]
    result = neon("revoke", str(spare), "--org", neon.org, "--yes")
    assert result.exit_code == 0, result.stderr


def test_table_and_json_speak_one_vocabulary(neon: Neon) -> None:
    """Each result word of the table is the JSON outcome of the same id, spaces for underscores."""

    def run(*output: str) -> Result:
        first, second = _personal(neon, "a", "b")[-2:]
        neon.world.faults.inject("revokeApiKey", Fault.status(500, message="boom"))
        return neon(*output, "revoke", str(first), "999999", str(second), "--yes")

    words = [row.split(None, 2)[2] for row in lines(run().stdout)[1:]]
    outcomes = [record["outcome"] for record in json.loads(run("-o", "json").stdout)]
    assert outcomes == ["failed", "already_gone", "revoked"]
    assert [w.split(":")[0].split(" (")[0] for w in words] == [
        o.replace("_", " ") for o in outcomes
    ]


def test_a_key_used_seconds_before_the_call_is_not_taken_for_it(neon: Neon) -> None:
    """A pipeline's temporary key, used and then revoked a few seconds later, needs no flag."""
    token = neon.world.issue_personal_key(neon.world.seed.admin_id, "tmp")
    neon.use(token)
    neon.world.clock.advance(3)
    key_id = neon.world.key_for_token(token).id  # type: ignore[union-attr]
    result = neon("revoke", str(key_id), "--yes")
    assert result.exit_code == 0, result.stderr
    assert neon.world.key(key_id).revoked


_T = datetime.datetime(2025, 6, 1, 12, 0, 0, 900_000, tzinfo=datetime.UTC)


def _used(key_id: int, seconds_ago: float | None) -> PersonalKey:
    used = None if seconds_ago is None else _T - datetime.timedelta(seconds=seconds_ago)
    return PersonalKey(id=key_id, name="k", created_at=_T, created_by=None, last_used_at=used)


@pytest.mark.parametrize(
    ("caller", "scope_org", "ages", "expected"),
    [
        (AuthDetails("user_1", "api_key_user"), None, [0, 2, None], {1}),
        (AuthDetails("user_1", "api_key_user"), None, [0, 0.5, 0.95], {1, 2}),
        (AuthDetails("user_1", "api_key_user"), None, [0, 1], {1}),
        (AuthDetails("user_1", "api_key_user"), None, [5, 0, 9], {2}),
        (AuthDetails("user_1", "api_key_user"), "org-a", [0, 2], set()),
        (AuthDetails("org-a", "api_key_org"), "org-a", [3, 0], {2}),
        (AuthDetails("org-a", "api_key_org"), "org-b", [3, 0], set()),
        (AuthDetails("org-a", "api_key_org"), None, [0], set()),
        (AuthDetails("user_1", "oauth"), None, [0], set()),
        (AuthDetails("user_1", "api_key_user"), None, [None, None], set()),
    ],
)
def test_which_keys_may_be_the_caller(
    caller: AuthDetails,
    scope_org: str | None,
    ages: list[float | None],
    expected: set[int],
) -> None:
    """Only keys of the caller's own scope, used in the second of the newest use, may be it."""
    listing = [_used(number, age) for number, age in enumerate(ages, start=1)]
    assert _caller.calling_keys(caller, scope_org, listing) == expected


def test_a_tie_with_the_caller_is_broken_a_second_later(
    neon: Neon, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key used in the same second as the caller is told apart by waiting a second."""
    token = neon.world.issue_personal_key(neon.world.seed.admin_id, "tmp")
    neon.use(token)  # same (fake) second as the calling key's next uses
    key_id = neon.world.key_for_token(token).id  # type: ignore[union-attr]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        neon.world.clock.advance(seconds)

    monkeypatch.setattr(_caller.time, "sleep", sleep)
    result = neon("revoke", str(key_id), "--yes")
    assert result.exit_code == 0, result.stderr
    assert waits == [1.1] and neon.world.key(key_id).revoked
    # Twice each for the command (the first use of tmp was the test's own GET /auth).
    assert neon.world.log.count("listApiKeys") == 2 and neon.world.log.count("getAuthDetails") == 3


def test_a_tie_that_stays_is_refused(neon: Neon, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the other key is used again meanwhile too, it stays in doubt: --including-self needed."""
    token = neon.world.issue_personal_key(neon.world.seed.admin_id, "busy")
    neon.use(token)
    key_id = neon.world.key_for_token(token).id  # type: ignore[union-attr]

    def sleep(seconds: float) -> None:
        neon.world.clock.advance(seconds)
        neon.use(token)  # someone else's job uses it in that second as well

    monkeypatch.setattr(_caller.time, "sleep", sleep)
    result = neon("revoke", str(key_id), "--yes")
    assert result.exit_code == 2
    assert f'key {key_id} "busy" may be the key making this call' in result.stderr
    assert not neon.world.key(key_id).revoked


def test_no_wait_without_a_tie(neon: Neon, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the caller stands alone, or the tie involves no key to revoke, nothing waits."""
    waits: list[float] = []
    monkeypatch.setattr(_caller.time, "sleep", waits.append)
    (other,) = _personal(neon, "other")
    token = neon.world.issue_personal_key(neon.world.seed.admin_id, "busy")
    neon.use(token)
    assert neon("revoke", str(other), "--yes").exit_code == 0
    assert waits == []
